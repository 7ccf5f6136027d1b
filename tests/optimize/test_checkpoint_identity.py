"""An optimization checkpoint belongs to one teacher and one seed: another (an edited function
of the same name, another seed) is refused, as adaptive designs refuse it; a checkpoint written
before the signature recorded them still resumes."""

import json

import pytest

from surrogate.optimize import minimize
from surrogate.space import Real, Space

SPACE = Space([Real("x", 0, 1), Real("y", 0, 1)])


def near_low(p):
    return float((p["x"] - 0.2) ** 2 + (p["y"] - 0.2) ** 2)


def edited(p):  # the same function edited: given its name below, its runs are not these
    return float((p["x"] - 0.8) ** 2 + (p["y"] - 0.8) ** 2)


edited.__name__ = edited.__qualname__ = "near_low"


def test_another_teacher_or_seed_is_refused_and_an_older_checkpoint_resumes(tmp_path):
    options = {"space": SPACE, "seed": 0, "checkpoint": tmp_path / "ck"}
    first = minimize(near_low, budget=8, **options)
    with pytest.raises(ValueError, match=r"differs in \['code'\]"):
        minimize(edited, budget=10, **options)
    with pytest.raises(ValueError, match=r"differs in \['seed'\]"):
        minimize(near_low, budget=10, **{**options, "seed": 1})
    # a signature without the keys (written before they were recorded) resumes
    path = tmp_path / "ck" / "optimization.json"
    stored = json.loads(path.read_text())
    del stored["seed"], stored["code"]
    path.write_text(json.dumps(stored))
    again = minimize(near_low, budget=8, **options)
    assert again.history.X.equals(first.history.X)
