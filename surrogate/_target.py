"""One callable shape (STYLE 2): a simulator, a fitted surrogate or a plain function as ``f(X) -> y``.

Optimization, sensitivity analysis and discovery accept any *target*; :func:`as_batch_function`
turns it into a function of a design DataFrame returning a float array of shape (n,).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from surrogate.space import Space, as_space
from surrogate.teacher import Simulator

__all__ = ["as_batch_function", "BatchFunction", "is_fitted_model"]

BatchFunction = Callable[[pd.DataFrame], np.ndarray]


def is_fitted_model(target: Any) -> bool:
    """A fitted estimator: has ``predict`` and learned attributes (names ending in ``_``)."""
    if not hasattr(target, "predict") or isinstance(target, Simulator):
        return False
    return any(k.endswith("_") and not k.startswith("_") for k in vars(target))


def _output_index(names: list[str] | None, output: Any, n_outputs: int, what: str) -> int:
    if n_outputs == 1 and output is None:
        return 0
    if output is None:
        choices = names if names else list(range(n_outputs))
        raise ValueError(f"{what} has {n_outputs} outputs; pass output= one of {choices}")
    if names and output in names:
        return names.index(output)
    if isinstance(output, (int, np.integer)) and not isinstance(output, bool) \
            and 0 <= output < n_outputs:
        return int(output)
    allowed = names if names else list(range(n_outputs))
    raise ValueError(f"output={output!r} is not an output of {what}; allowed: {allowed}")


def as_batch_function(
    target: Any, space: Space | None = None, output: Any = None
) -> tuple[Space, BatchFunction]:
    """The space and a batch function ``f(X: DataFrame) -> ndarray (n,)`` for ``target``.

    Parameters
    ----------
    target : Simulator, fitted surrogate, or callable
        A :class:`~surrogate.Simulator` (its space is used; ``output`` names the output when it
        has several); a fitted model with ``predict`` (``space`` required; ``output`` selects a
        column of a multi-output model, by index or by name when the model has ``outputs_``); or
        a callable taking one point as a dict of parameter values and returning a float
        (``space`` required).
    space : Space, optional
    output : str or int, optional

    Examples
    --------
    >>> from surrogate.space import Real, Space
    >>> space, f = as_batch_function(lambda p: p["x"] ** 2, Space([Real("x", 0, 2)]))
    >>> f(pd.DataFrame({"x": [1.0, 2.0]})).tolist()
    [1.0, 4.0]
    """
    if isinstance(target, Simulator):
        if space is not None and as_space(space) != target.space:
            raise ValueError("space= differs from the simulator's own space; leave it out")
        column = list(target.outputs)[
            _output_index(list(target.outputs), output, len(target.outputs),
                          f"simulator {target.name!r}")
        ]

        def simulate(X: pd.DataFrame) -> np.ndarray:
            return target(X)[column].to_numpy(dtype=float)

        return target.space, simulate
    if space is None:
        raise ValueError("space= is required when the target is a fitted model or a plain "
                         "function (a Simulator carries its own)")
    space = as_space(space)
    if is_fitted_model(target):
        return space, _model_function(target, space, output)
    if callable(target):
        def call(X: pd.DataFrame) -> np.ndarray:
            return np.array([float(target(point)) for point in X.to_dict("records")])

        return space, call
    raise TypeError(
        "target must be a surrogate.Simulator, a fitted model with predict(), or a callable "
        f"taking a dict of parameters; got {type(target).__name__}"
    )


def _model_function(model: Any, space: Space, output: Any) -> BatchFunction:
    names = getattr(model, "outputs_", None)
    names = list(names) if names is not None else None

    def predict(X: pd.DataFrame) -> np.ndarray:
        y = np.asarray(model.predict(X), dtype=float)
        if y.ndim == 1:
            _output_index(names, output, 1, type(model).__name__)
            return y
        return y[:, _output_index(names, output, y.shape[1], type(model).__name__)]

    return predict
