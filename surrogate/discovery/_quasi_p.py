"""Quasi-p-values of a box's restrictions (Bryant & Lempert 2010).

For each restricted bound, drop that bound (back to the data range) and ask with a one-sided
binomial test how likely the box's number of cases of interest is if its points followed the
density of the relaxed box: ``binomtest(H_box, T_box, p=H_j / T_j, alternative="greater")``.
This is how EMA Workbench computes them (``prim_util.calculate_qp``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy.stats import binomtest

if TYPE_CHECKING:
    from surrogate.discovery._box import Box


def quasi_p_values(box: Box, numeric: np.ndarray, codes: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """Quasi-p-values (index: restricted parameters; columns ``lower, upper``)."""
    lower, upper, allowed = box._lower, box._upper, box._allowed
    restricted_num = [int(j) for j in np.flatnonzero(np.isfinite(lower) | np.isfinite(upper))]
    below = {j: numeric[:, j] < lower[j] for j in restricted_num}  # (n,) violations per side
    above = {j: numeric[:, j] > upper[j] for j in restricted_num}
    outside_cat = {
        j: ~np.isin(codes[:, j], list(a)) for j, a in enumerate(allowed) if a is not None
    }
    n_violations = np.zeros(len(y), dtype=np.int32)  # restrictions each point breaks
    for j in restricted_num:
        n_violations += below[j] | above[j]
    for mask in outside_cat.values():
        n_violations += mask
    hits, trials = int(round(box._sum_labels)), box.n_points

    def test(relaxed: np.ndarray) -> float:
        # points in the box with one bound dropped: the box plus those breaking only that bound
        inside = relaxed & (n_violations == 1) | (n_violations == 0)
        p = float(y[inside].sum() / inside.sum())
        return float(binomtest(hits, trials, min(p, 1.0), alternative="greater").pvalue)

    rows = {}
    numeric_names = box._domain.numeric_names
    categorical_names = box._domain.categorical_names
    for name in box.restricted:
        if name in categorical_names:
            rows[name] = (test(outside_cat[categorical_names.index(name)]), np.nan)
            continue
        k = numeric_names.index(name)
        rows[name] = (
            test(below[k] & ~above[k]) if np.isfinite(lower[k]) else np.nan,
            test(above[k] & ~below[k]) if np.isfinite(upper[k]) else np.nan,
        )
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=["lower", "upper"])
    frame.index.name = "parameter"
    return frame.astype(float)
