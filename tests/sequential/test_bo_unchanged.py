"""minimize/maximize as clients of the shared loop propose the points they did before."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from surrogate.sequential._store import LATER_KEYS

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("bo_cases", HERE / "bo_cases.py")
bo_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bo_cases)

REFERENCE = json.loads((HERE / "bo_reference.json").read_text())


# Points depend on the GP's floating-point arithmetic, which differs in the last digits from
# one CPU (and BLAS code path) to another: the initial design is compared bit for bit, later
# points to POINT_TOL of each parameter's range (seen: 1e-7 between two machines), categories
# and integers exactly.
POINT_TOL = 1e-3
# Cases whose later points may move further than that: the constrained bowl's acquisition is
# flat along its constraint near the optimum, so its proposals there moved by 1e-5, then 1.5,
# between two machines. It is checked against its analytic optimum instead: f = x^2 + y^2
# subject to x + y >= 1 is least, 0.5, at (0.5, 0.5).
SENSITIVE = {"constrained bowl": 0.5}
# Cases whose later points changed on purpose after the refactor: since 2026-12-03 the loop's
# GP models a Categorical parameter with the kernel made for categories (its unit-cube cells read
# as levels), where the old loop modelled the cells' centres as ordered numbers. The initial
# design is still compared bit for bit; the search must do at least as well as the old loop's.
MODEL_CHANGED = {"mixed maximize with failures, ucb, batch 2"}


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_same_seed_same_points_as_before_the_shared_loop(name, tmp_path):
    expected = REFERENCE[name]
    checkpoint = tmp_path / "ckpt"
    result = bo_cases.cases()[name](checkpoint=checkpoint)
    got = bo_cases.record(result)
    space = result.history.space
    n_init = 6 if name.startswith("mixed") else 2 * space.dim + 1
    if name not in MODEL_CHANGED:
        assert got["status"] == expected["status"]
    for column, values in expected["X"].items():
        assert got["X"][column][:n_init] == values[:n_init], (name, column)  # bit for bit
        if name in SENSITIVE or name in MODEL_CHANGED:
            continue
        if isinstance(values[0], str) or space[column].__class__.__name__ == "Integer":
            assert got["X"][column] == values, (name, column)
        else:
            span = space[column].high - space[column].low
            np.testing.assert_allclose(got["X"][column], values, rtol=0, atol=POINT_TOL * span,
                                       err_msg=f"{name}: {column}")
    if name in SENSITIVE:
        assert got["feasible"] and SENSITIVE[name] <= got["y"] <= SENSITIVE[name] + 1e-2
    elif name in MODEL_CHANGED:  # these cases maximize
        assert got["status"][:n_init] == expected["status"][:n_init]
        assert got["feasible"] and got["y"] >= expected["y"]
    else:
        assert got["feasible"] == expected["feasible"]
        assert got["y"] == pytest.approx(expected["y"], rel=1e-4, abs=1e-6)
    # the checkpoint keeps its layout and signature, so old checkpoints still resume: only the
    # seed and the teacher's code digest were added, which a signature without them skips,
    # and the lock file its driver holds (an older checkpoint gets one when it resumes)
    names = sorted(p.name for p in checkpoint.iterdir())
    assert "design.lock" in names
    assert [n for n in names if n != "design.lock"] == expected["layout"]
    stored = json.loads((checkpoint / "optimization.json").read_text())
    assert {k: v for k, v in stored.items() if k not in LATER_KEYS} == expected["signature"]
    assert set(stored) - set(expected["signature"]) <= set(LATER_KEYS)
