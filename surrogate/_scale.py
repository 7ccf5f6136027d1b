"""Exact rescaling by powers of two, for sums of squares that must neither overflow nor
underflow (outputs of 1e160 or 1e-300).

Multiplying by a power of two changes only the exponent of a float, so a result computed on
rescaled values and scaled back is the one computed on the values themselves, bit for bit,
wherever the latter neither overflows nor underflows.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["binary_exponent"]


def binary_exponent(values: Any) -> int:
    """The ``e`` with ``max |values|`` in ``[2**(e-1), 2**e)``; 0 when ``values`` are empty,
    all zero or not all finite (nothing to rescale). ``np.ldexp(values, -e)`` lies in (-1, 1).

    Examples
    --------
    >>> binary_exponent([3.0, -5.0]), binary_exponent([]), binary_exponent([0.0, np.inf])
    (3, 0, 0)
    """
    array = np.asarray(values, dtype=float)
    largest = float(np.abs(array).max()) if array.size else 0.0
    return int(np.frexp(largest)[1]) if 0.0 < largest < np.inf else 0
