"""A study grows (or shrinks) its ``--n`` without repeating a finished teacher run."""

import textwrap

import pandas as pd
import pytest

from surrogate._config import config_from_text
from surrogate.data import TransferSet
from surrogate.design import sample
from surrogate.study import _plan_design, run_study

COUNTING = textwrap.dedent("""
    from pathlib import Path

    def counted(a, b):
        with open(Path(__file__).with_name("calls.txt"), "a") as calls:
            calls.write(f"{a!r} {b!r}\\n")
        return a + 2 * b
""")

CONFIG = textwrap.dedent("""
    simulator = "MODULE:counted"
    outputs = ["y"]
    [[space.parameters]]
    name = "a"
    type = "real"
    low = 0.0
    high = 1.0
    [[space.parameters]]
    name = "b"
    type = "real"
    low = 0.0
    high = 1.0
    [design]
    method = "METHOD"
    n = 10
    [surrogate]
    cv = 2
    [sensitivity]
    n = 0
""")


def _study_design(config, space, directory):
    """The study's design with its record written at once, as a study writes it after its
    runs."""
    plan = _plan_design(config, space, directory)
    plan.write()
    return plan.design


@pytest.mark.parametrize("method", ["lhs", "sobol"])
def test_larger_n_runs_only_the_new_points(tmp_path, monkeypatch, method):
    name = f"grow_{method}"
    (tmp_path / f"{name}.py").write_text(COUNTING)
    monkeypatch.syspath_prepend(str(tmp_path))
    text = CONFIG.replace("MODULE", name).replace("METHOD", method)
    calls = tmp_path / "calls.txt"
    first = run_study(config_from_text(text), tmp_path / "out", verbose=False, progress=False)
    assert len(calls.read_text().splitlines()) == 10
    grown = run_study(config_from_text(text.replace("n = 10", "n = 16")), tmp_path / "out",
                      verbose=False, progress=False)
    assert len(calls.read_text().splitlines()) == 16  # 6 new runs, none repeated
    assert len(grown.runs) == 16 and grown.runs.ok.all()
    pd.testing.assert_frame_equal(grown.runs.X.iloc[:10], first.runs.X)
    assert len(TransferSet.load(tmp_path / "out" / "runs")) == 16
    shrunk = run_study(config_from_text(text.replace("n = 10", "n = 12")), tmp_path / "out",
                       verbose=False, progress=False)
    assert len(calls.read_text().splitlines()) == 16  # every point already ran
    pd.testing.assert_frame_equal(shrunk.runs.X, grown.runs.X.iloc[:12])


def test_another_seed_is_a_new_design(tmp_path):
    from simulators import load

    branin = load("branin")
    base = 'simulator = "branin"\n[design]\nn = 8\nseed = SEED\n[sensitivity]\nn = 0\n'
    first = config_from_text(base.replace("SEED", "0"))
    design = _study_design(first, branin.space, tmp_path)
    branin.run(design, checkpoint=tmp_path / "runs")
    other = config_from_text(base.replace("SEED", "1").replace("n = 8", "n = 12"))
    pd.testing.assert_frame_equal(_study_design(other, branin.space, tmp_path),
                                  sample(branin.space, 12, seed=1))


def test_a_seed_switched_back_and_rerun_keeps_its_own_design(tmp_path):
    # the checkpoint holds both designs' runs; a rerun of seed 1 must not take seed 0's points
    from simulators import load

    branin = load("branin")
    base = 'simulator = "branin"\n[design]\nn = 8\nseed = SEED\n[sensitivity]\nn = 0\n'
    for seed in (0, 1, 1):
        config = config_from_text(base.replace("SEED", str(seed)))
        design = _study_design(config, branin.space, tmp_path)
        pd.testing.assert_frame_equal(design, sample(branin.space, 8, seed=seed))
        branin.run(design, checkpoint=tmp_path / "runs")
    grown = _study_design(config_from_text(base.replace("SEED", "1").replace("n = 8", "n = 10")),
                          branin.space, tmp_path)
    pd.testing.assert_frame_equal(grown.iloc[:8], sample(branin.space, 8, seed=1))
    # the record holds the points: a record cut short draws the design afresh (never the
    # other seed's points from the checkpoint)
    (tmp_path / "design.json").write_text((tmp_path / "design.json").read_text()[:50])
    pd.testing.assert_frame_equal(_study_design(config, branin.space, tmp_path),
                                  sample(branin.space, 8, seed=1))


def test_a_seed_switched_away_and_back_grows_its_own_design(tmp_path, monkeypatch):
    # design.json kept only the latest design: back on seed 0, a larger n drew a new Latin
    # hypercube and ran all of its points again
    (tmp_path / "detour.py").write_text(COUNTING)
    monkeypatch.syspath_prepend(str(tmp_path))
    text = CONFIG.replace("MODULE", "detour").replace("METHOD", "lhs")
    calls = tmp_path / "calls.txt"
    for config in (text, text.replace("[design]", "[design]\nseed = 1")):
        run_study(config_from_text(config), tmp_path / "out", verbose=False, progress=False)
    assert len(calls.read_text().splitlines()) == 20
    grown = run_study(config_from_text(text.replace("n = 10", "n = 13")), tmp_path / "out",
                      verbose=False, progress=False)
    assert len(calls.read_text().splitlines()) == 23  # 3 new runs: seed 0's 10 were kept
    pd.testing.assert_frame_equal(grown.runs.X.iloc[:10], sample(grown.runs.space, 10, seed=0))


def test_a_record_from_before_the_points_were_kept_is_completed(tmp_path):
    import json

    from simulators import load

    branin = load("branin")
    config = config_from_text('simulator = "branin"\n[design]\nn = 8\n[sensitivity]\nn = 0\n')
    branin.run(_study_design(config, branin.space, tmp_path), checkpoint=tmp_path / "runs")
    record = json.loads((tmp_path / "design.json").read_text())["designs"][0]
    del record["points"]  # as written by earlier versions: one record, no list of them
    (tmp_path / "design.json").write_text(json.dumps(record))
    design = _study_design(config, branin.space, tmp_path)  # from the checkpoint, as before
    assert "points" in json.loads((tmp_path / "design.json").read_text())["designs"][0]
    pd.testing.assert_frame_equal(design, sample(branin.space, 8, seed=0))


def test_a_refused_study_leaves_the_design_record_alone(tmp_path, monkeypatch):
    """A config of another space pointed at the directory is refused by the checkpoint, but
    had rewritten design.json first: the next correct rerun drew a new design and repeated
    every finished run."""
    (tmp_path / "refused_grow.py").write_text(COUNTING)
    monkeypatch.syspath_prepend(str(tmp_path))
    text = CONFIG.replace("MODULE", "refused_grow").replace("METHOD", "lhs")
    calls = tmp_path / "calls.txt"
    for config in (text, text.replace("n = 10", "n = 12")):  # a grown design: 10 + 2 points
        run_study(config_from_text(config), tmp_path / "out", verbose=False, progress=False)
    other = text.replace("high = 1.0", "high = 2.0", 1)  # another range of a
    with pytest.raises(ValueError, match="belongs to a different space"):
        run_study(config_from_text(other), tmp_path / "out", verbose=False, progress=False)
    before = len(calls.read_text().splitlines())
    again = run_study(config_from_text(text.replace("n = 10", "n = 12")), tmp_path / "out",
                      verbose=False, progress=False)
    assert len(calls.read_text().splitlines()) == before == 12  # nothing repeated
    assert len(again.runs) == 12
