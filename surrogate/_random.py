"""Randomness: every random step in the package takes ``seed`` and normalizes it here.

One helper, one convention (STYLE 11): ``seed`` is ``None``, an ``int`` or a
``numpy.random.Generator``; nothing touches global random state.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from surrogate._checks import is_int

SeedLike = int | np.random.Generator | None


def as_generator(seed: SeedLike) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` for ``seed``.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        An int gives a fresh generator seeded with it; a generator is returned as is
        (so a caller can thread one stream through several steps); None gives an
        unpredictable generator.

    Examples
    --------
    >>> bool(as_generator(0).integers(10) == as_generator(0).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if is_int(seed):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative int, got {seed}")
        return np.random.default_rng(int(seed))
    raise TypeError(
        f"seed must be an int, a numpy.random.Generator or None, got {type(seed).__name__}"
    )


def child_seed(rng: np.random.Generator) -> int:
    """Draw an int seed from ``rng`` for a library that wants an int (torch, SALib, scipy)."""
    return int(rng.integers(0, 2**31 - 1))


def spawned(rng: np.random.Generator) -> np.random.Generator:
    """An independent child of ``rng`` that leaves ``rng``'s own stream where it was (numpy's
    ``Generator.spawn``): for a step added beside others whose draws must not shift. A
    generator that cannot spawn (its bit generator has no seed sequence) gives a child seeded
    by one draw.

    Examples
    --------
    >>> a, b = as_generator(0), as_generator(0)
    >>> _ = spawned(a).random()
    >>> bool(a.random() == b.random())
    True
    """
    try:
        return rng.spawn(1)[0]
    except TypeError:
        return np.random.default_rng(child_seed(rng))


def seed_unset(student: Any, rng: np.random.Generator) -> None:
    """Give each unset ``seed`` / ``random_state`` of an estimator (a pipeline's steps too) a
    seed drawn from ``rng`` (in the order of the parameters' names), so that the seed of what
    uses it (distillation, REDS, an automatic student) fixes it too. Set ones are the user's
    and stay; nothing is drawn for an estimator that has none (PRIM)."""
    get_params = getattr(student, "get_params", None)
    if get_params is None:
        return
    unset = sorted(key for key, value in get_params(deep=True).items()
                   if value is None and key.rsplit("__", 1)[-1] in ("seed", "random_state"))
    if unset:
        student.set_params(**{key: child_seed(rng) for key in unset})


def seeded_clone(estimator: Any, rng: np.random.Generator) -> Any:
    """A clone of a user's estimator whose unset ``seed`` / ``random_state`` is drawn from
    ``rng`` (:func:`seed_unset`); one that cannot be cloned goes as it is."""
    from sklearn.base import clone

    try:
        estimator = clone(estimator)
    except TypeError:
        return estimator
    seed_unset(estimator, rng)
    return estimator
