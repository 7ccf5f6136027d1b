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


def test_a_batch_does_not_spend_two_runs_on_one_point():
    # Kriging believer left batch mates within 1e-3 of each other (15 pairs over 3 seeds)
    import numpy as np

    import simulators

    branin = simulators.load("branin")
    result = minimize(branin, budget=25, batch_size=4, seed=0)
    unit = np.asarray(branin.space.to_unit(result.history.X))
    batch = np.r_[np.zeros(5, int), 1 + np.arange(len(unit) - 5) // 4]
    for b in np.unique(batch[5:]):
        members = unit[batch == b]
        gaps = np.abs(members[:, None, :] - members[None, :, :]).max(axis=2)
        assert gaps[np.triu_indices(len(members), 1)].min() > 1e-3
    assert result.y < 0.397887 + 0.05


def test_an_unseeded_checkpoint_is_not_continued_by_a_seed(tmp_path):
    # its runs are not those seed 0 would choose: resuming would pass them off as seed 0's
    options = {"space": SPACE, "checkpoint": tmp_path / "ck"}
    minimize(near_low, budget=7, n_init=5, seed=None, **options)
    with pytest.raises(ValueError, match=r"differs in \['seed'\]"):
        minimize(near_low, budget=9, n_init=5, seed=0, **options)
    minimize(near_low, budget=8, n_init=5, seed=None, **options)  # unseeded again: resumes


@pytest.mark.parametrize("damage", ["truncated", "list", "empty", "no meta"])
def test_a_damaged_checkpoint_names_its_file(tmp_path, damage):
    options = {"space": SPACE, "seed": 0, "checkpoint": tmp_path / "ck"}
    minimize(near_low, budget=7, n_init=5, **options)
    signature = tmp_path / "ck" / "optimization.json"
    if damage == "truncated":
        signature.write_text(signature.read_text()[:20])
    elif damage == "list":
        signature.write_text("[1, 2]")
    elif damage == "empty":
        signature.write_text("")
    else:
        (tmp_path / "ck" / "init" / "meta.json").unlink()
    where = "init" if damage == "no meta" else "optimization.json"
    with pytest.raises(ValueError, match=f"{where}.*damaged|damaged.*{where}"):
        minimize(near_low, budget=8, n_init=5, **options)


def _shifted(p, c):
    return float((p["x"] - c) ** 2 + p["y"] ** 2)


def _make(c):
    return lambda p: float((p["x"] - c) ** 2 + p["y"] ** 2)


def test_teachers_that_differ_in_bound_or_captured_values_are_refused(tmp_path):
    """A plain-callable partial was named "partial" whatever its arguments, and a closure's
    fingerprint ignored what it captured: the other teacher resumed the first's runs and
    reported them as its optimum."""
    import functools

    options = {"space": SPACE, "seed": 0, "budget": 8}
    minimize(functools.partial(_shifted, c=0.5), checkpoint=tmp_path / "p", **options)
    with pytest.raises(ValueError, match=r"differs in \['simulator'\]"):
        minimize(functools.partial(_shifted, c=-1.5), checkpoint=tmp_path / "p", **options)
    minimize(_make(0.5), checkpoint=tmp_path / "c", **options)
    with pytest.raises(ValueError, match=r"differs in \['code'\]"):
        minimize(_make(-1.5), checkpoint=tmp_path / "c", **options)


def test_a_teacher_counting_its_calls_in_a_closure_resumes(tmp_path):
    """What a teacher changes as it runs (a nonlocal counter, a list) is not its identity."""
    count, seen = 0, []

    def counted(p):
        nonlocal count
        count += 1
        seen.append(p["x"])
        return near_low(p)

    options = {"space": SPACE, "seed": 0, "checkpoint": tmp_path / "ck"}
    minimize(counted, budget=8, **options)
    minimize(counted, budget=10, **options)
    assert count == 10 == len(seen)  # the 8 finished runs reloaded, 2 new


def test_a_checkpoint_without_the_warp_resumes_only_with_warp_off(tmp_path):
    # a checkpoint written before the warp existed (or with warp=False) ran unwarped: resuming
    # it with the warp would mix two searches, so it is refused, naming the option
    options = {"space": SPACE, "seed": 0, "checkpoint": tmp_path / "ck"}
    first = minimize(near_low, budget=8, warp=False, **options)
    assert "warp" not in json.loads((tmp_path / "ck" / "optimization.json").read_text())
    with pytest.raises(ValueError, match=r"differs in \['warp'\]"):
        minimize(near_low, budget=10, **options)
    again = minimize(near_low, budget=10, warp=False, **options)
    assert again.history.X.iloc[:8].equals(first.history.X)
