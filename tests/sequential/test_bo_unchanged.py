"""minimize/maximize as clients of the shared loop propose exactly the points they did before."""

import importlib.util
import json
from pathlib import Path

import pytest

from surrogate.sequential._store import LATER_KEYS

HERE = Path(__file__).parent
_spec = importlib.util.spec_from_file_location("bo_cases", HERE / "bo_cases.py")
bo_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bo_cases)

REFERENCE = json.loads((HERE / "bo_reference.json").read_text())


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_same_seed_same_points_as_before_the_shared_loop(name, tmp_path):
    expected = REFERENCE[name]
    checkpoint = tmp_path / "ckpt"
    result = bo_cases.cases()[name](checkpoint=checkpoint)
    got = bo_cases.record(result)
    for column, values in expected["X"].items():  # bit for bit, point by point
        assert got["X"][column] == values, (name, column)
    assert got["Y"] == expected["Y"] and got["status"] == expected["status"]
    assert (got["x"], got["y"], got["feasible"]) == (expected["x"], expected["y"],
                                                      expected["feasible"])
    # the checkpoint keeps its layout and signature, so old checkpoints still resume: only the
    # seed and the teacher's code digest were added, which a signature without them skips
    assert sorted(p.name for p in checkpoint.iterdir()) == expected["layout"]
    stored = json.loads((checkpoint / "optimization.json").read_text())
    assert {k: v for k, v in stored.items() if k not in LATER_KEYS} == expected["signature"]
    assert set(stored) - set(expected["signature"]) <= set(LATER_KEYS)
