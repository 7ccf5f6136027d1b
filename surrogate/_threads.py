"""Thread policy for the driver's numerics (BLAS, OpenMP, torch).

Worker processes always run single-threaded (see :mod:`surrogate.execute`). The driver runs the
students: GP and NN fits, predictions on large samples, REDS, Sobol indices. On a small machine that
is also running workers or other jobs, multi-threaded BLAS/OpenMP/torch threads fight for the cores
and spin: measured on 2 shared cores under load, a 200 x 7 GP fit took 26 s with the libraries'
default threads against 0.5 s with one, and REDS 43 s against 2.7 s
(``python -m benchmarks threads --quick``, results/threads-quick.md). A
problem the size of an exact GP gains at most the number of cores from threads, and loses far
more when the cores are busy, so the default is one thread for such problems.

The policy, in the order it is decided:

1. ``set_threads(n)`` (or ``with threads(n):``) sets ``n`` threads for every stage of the package
   in this process; ``set_threads(None)`` leaves the libraries' own settings untouched.
2. Otherwise (``"auto"``, the default) the environment is honoured: ``SURROGATE_NUM_THREADS``, then
   ``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` when set.
3. Otherwise a problem with fewer than :data:`SMALL` training points runs on one thread; a larger
   one keeps the libraries' defaults (all cores).

Limits apply only inside the package's own calls and are restored afterwards: the user's own numpy
and torch code keeps its settings.
"""

from __future__ import annotations

import functools
import inspect
import numbers
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, TypeVar

__all__ = ["SMALL", "get_threads", "set_threads", "threads"]

SMALL = 5_000
"""Below this many training points the driver's numerics run on one thread by default."""

_ENVIRONMENT = ("SURROGATE_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                "MKL_NUM_THREADS")

Setting = int | Literal["auto"] | None
_setting: Setting = "auto"
_controller: tuple[int, Any] | None = None  # (len(sys.modules) when scanned, controller)

F = TypeVar("F", bound=Callable[..., Any])


def _check(n: Any) -> Setting:
    if n is None or n == "auto":
        return n  # type: ignore[no-any-return]
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"threads must be an int >= 1, 'auto' or None, got {n!r}")
    return int(n)


def set_threads(n: Setting = "auto") -> None:
    """Set how many threads the package's numerics use in this process.

    Parameters
    ----------
    n : int, "auto" or None
        An int: that many threads for every fit, prediction and analysis. ``"auto"`` (the
        default policy): the environment variables ``SURROGATE_NUM_THREADS``, then
        ``OMP_NUM_THREADS``, ``OPENBLAS_NUM_THREADS`` or ``MKL_NUM_THREADS`` when set; otherwise
        one thread for problems under 5,000 training points and the libraries' defaults above.
        ``None``: never change the libraries' thread settings.

    Examples
    --------
    >>> import surrogate as sg
    >>> sg.set_threads(2); sg.get_threads()
    2
    >>> sg.set_threads("auto"); sg.get_threads()
    'auto'
    """
    global _setting
    _setting = _check(n)


def get_threads() -> Setting:
    """The current setting of :func:`set_threads` (``"auto"``, ``None`` or an int).

    Examples
    --------
    >>> import surrogate as sg
    >>> with sg.threads(2):
    ...     sg.get_threads()
    2
    """
    return _setting


@contextmanager
def threads(n: Setting) -> Iterator[None]:
    """Use ``n`` threads (as in :func:`set_threads`) inside a ``with`` block, then restore.

    Examples
    --------
    >>> import surrogate as sg
    >>> with sg.threads(1):
    ...     sg.get_threads()
    1
    """
    global _setting
    previous, _setting = _setting, _check(n)
    try:
        yield
    finally:
        _setting = previous


def _from_environment() -> int | None:
    for variable in _ENVIRONMENT:
        value = os.environ.get(variable, "").strip()
        if variable == "OMP_NUM_THREADS":  # OpenMP allows a list, per nesting level: "4,2"
            value = value.split(",")[0].strip()
        if value:
            try:
                return max(1, int(value))
            except ValueError:
                raise ValueError(
                    f"environment variable {variable} must be a whole number of threads, "
                    f"got {value!r}") from None
    return None


def resolve(size: int) -> int | None:
    """Threads for a problem with ``size`` training points; None leaves the libraries alone."""
    if _setting != "auto":
        return _setting
    from_environment = _from_environment()
    if from_environment is not None:
        return from_environment
    return 1 if size < SMALL else None


def _blas_controller() -> Any:
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries, scanned again only after new
    modules were imported (a scan costs ~3 ms; a limit through the cached view ~30 us)."""
    global _controller
    loaded = len(sys.modules)
    if _controller is None or _controller[0] != loaded:
        from threadpoolctl import ThreadpoolController

        _controller = (loaded, ThreadpoolController())
    return _controller[1]


@contextmanager
def limited(size: int) -> Iterator[None]:
    """Apply the policy for a problem of ``size`` points inside the block (nesting is fine)."""
    n = resolve(size)
    if n is None:
        yield
        return
    torch = sys.modules.get("torch")
    torch_before = _enter_blas(n, torch)
    try:
        if torch is not None:
            torch.set_num_threads(n)
        yield
    finally:
        if torch is not None:
            torch.set_num_threads(torch_before)
        _leave_blas()


# The BLAS/OpenMP thread counts are the process's, not a thread's: calls that overlap in time
# (models fitted in a thread pool) must not each save and restore them, or the last to leave
# puts back the limit of another (the user's own NumPy stayed at 1 thread). The first call in
# sets the limit, the last one out restores the user's settings. A library loaded inside the
# block (REDS.fit importing the models, and with them torch's and scikit-learn's OpenMP) is
# limited by the next call that enters: it kept all its threads, as the first call's limit
# knew only the libraries loaded before it.
_blas_lock = threading.Lock()
_blas_depth = 0
_blas_limiters: list[Any] = []  # in the order set; restored in reverse
_blas_scanned: Any = None  # the controller the last limit was set through
# torch's count seeds every new thread's, so a thread that enters while another holds the
# limit reads that limit as its own setting: it restores torch's setting as the first call in
# found it (the threads that came later stayed at 1 thread for good).
_torch_original: int | None = None
_inside = threading.local()  # this thread's depth of limited calls


def _enter_blas(n: int, torch: Any = None) -> int | None:
    """Set the limits if needed; return the torch setting this call restores on leaving."""
    global _blas_depth, _blas_scanned, _torch_original
    with _blas_lock:
        controller = _blas_controller()
        if _blas_depth == 0 or controller is not _blas_scanned:
            _blas_limiters.append(controller.limit(limits=n))
            _blas_scanned = controller
        _blas_depth += 1
        depth = getattr(_inside, "depth", 0)
        _inside.depth = depth + 1
        if torch is None:
            return None
        now = torch.get_num_threads()
        if _torch_original is None:
            _torch_original = now
        return now if depth else _torch_original  # nested in this thread: the outer's limit


def _leave_blas() -> None:
    global _blas_depth, _blas_scanned, _torch_original
    with _blas_lock:
        _blas_depth -= 1
        _inside.depth -= 1
        if _blas_depth == 0:
            _torch_original = None
            while _blas_limiters:  # the latest first: it saw the earlier limits as originals
                _blas_limiters.pop().restore_original_limits()
            _blas_scanned = None


def _size_of(value: Any) -> int:
    try:
        return len(value)
    except TypeError:
        return SMALL  # unknown size: treat as large, never force one thread


def fitted_size(model: Any, *args: Any, **kwargs: Any) -> int:
    """The problem size of a fitted model's predictions: its number of training points."""
    return int(getattr(model, "n_samples_fit_", SMALL))


def _first_argument(method: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """The first argument after ``self`` given by keyword (``fit(X=X, y=y)``), else None."""
    names = list(inspect.signature(method).parameters)[1:2]
    return kwargs.get(names[0]) if names else None


def limits_threads(size: Callable[..., int] | None = None) -> Callable[[F], F]:
    """Decorate a method so that it runs under the policy.

    ``size(self, *args, **kwargs)`` gives the problem's size; by default the length of the first
    argument after ``self`` (the training inputs of ``fit``).
    """

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
            n = size(self, *args, **kwargs) if size is not None else (
                _size_of(args[0]) if args else _size_of(_first_argument(method, kwargs)))
            with limited(n):
                return method(self, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
