"""Runs at the edges of what the executors record: messages with undecodable bytes, integer
parameters of huge ranges on resume, the default worker count."""

import os

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate import Categorical, Integer, Real, Space


def _writes_a_file_with_an_odd_name(x):
    name = b"out\xff.dat".decode("utf-8", "surrogateescape")  # a file name read from disk
    if x > 0.5:
        raise RuntimeError(f"solver failed writing {name}")
    return x


def test_a_failure_message_with_an_undecodable_byte_is_saved(tmp_path):
    # parquet refused the lone surrogate: every save, so every checkpointed campaign, failed
    # at its end, and again on every resumption
    sim = sg.Simulator(_writes_a_file_with_an_odd_name, Space([Real("x", 0, 1)]), ["y"])
    X = pd.DataFrame({"x": [0.2, 0.9]})
    runs = sim.run(X, checkpoint=tmp_path / "ck", progress=False)
    assert runs.status.tolist() == ["ok", "failed"]
    assert runs.error[1] == "RuntimeError: solver failed writing out\\udcff.dat"
    again = sim.run(X, checkpoint=tmp_path / "ck", progress=False)
    assert again.error.tolist() == runs.error.tolist()
    runs.save(tmp_path / "saved")
    assert sg.TransferSet.load(tmp_path / "saved").error.tolist() == runs.error.tolist()


def _by_seed(seed, c):
    return float(seed % 7)


class _Unprintable(RuntimeError):
    def __str__(self):
        raise ValueError("a message built from a freed handle")


def _fails_unprintably(x):
    if x > 0.5:
        raise _Unprintable()
    return x


def _fails_unprintably_in_batches(X):
    if (X["x"] > 0.5).any():
        raise _Unprintable()
    return pd.DataFrame({"y": X["x"]})


@pytest.mark.parametrize("executor", ["serial", "processes"])
@pytest.mark.parametrize("vectorized", [False, True])
def test_a_failure_whose_message_cannot_be_printed_is_recorded(executor, vectorized):
    # str(exc) raised inside the executor: the whole campaign stopped with a ValueError
    space = Space([Real("x", 0, 1)])
    fn = _fails_unprintably_in_batches if vectorized else _fails_unprintably
    sim = sg.Simulator(fn, space, ["y"], vectorized=vectorized, name="unprintable")
    workers = {"n_workers": 1} if executor == "processes" else {}
    runs = sim.run(pd.DataFrame({"x": [0.2, 0.9, 0.3]}), executor=executor, progress=False,
                   **workers)
    assert runs.status.tolist() == ["ok", "failed", "ok"]
    assert runs.error[1].startswith("_Unprintable: (its message could not be read: ValueError")


def test_resume_tells_apart_neighbouring_levels_of_a_huge_integer_range(tmp_path):
    # seeds 1000 and 1001 of 2**50 lay 1e-15 apart on the unit cube, within the match
    # tolerance: the second took the first's outputs from the checkpoint
    sim = sg.Simulator(_by_seed, Space([Integer("seed", 0, 2**50),
                                         Categorical("c", list("ab"))]), ["y"])
    first = sim.run(pd.DataFrame({"seed": [1000], "c": ["a"]}), checkpoint=tmp_path / "ck",
                    progress=False)
    second = sim.run(pd.DataFrame({"seed": [1001], "c": ["a"]}), checkpoint=tmp_path / "ck",
                     progress=False)
    assert first.Y["y"].tolist() == [6.0]
    assert second.Y["y"].tolist() == [0.0]


def test_the_default_worker_count_is_the_cpus_this_process_may_use():
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    with sg.ProcessExecutor() as pool:
        assert pool.n_workers == len(os.sched_getaffinity(0))


def test_integer_categories_past_64_bits_are_refused_where_they_are_made():
    with pytest.raises(ValueError, match=r"'c': integer categories must fit in 64 bits"):
        Categorical("c", [2**64, 1])
    assert Categorical("c", [2**62, 1]).categories == (2**62, 1)


def test_a_factorial_n_far_beyond_the_largest_grid_is_refused_at_once():
    space = Space([Real("x", 0, 1)])
    assert len(sg.sample(space, 10_000, method="factorial")) == 10_000
    with pytest.raises(ValueError, match="more than 10,000,000"):
        sg.sample(space, 10**12, method="factorial")  # counted levels up to n: hours
    mixed = Space([Real("x", 0, 1), Integer("k", 0, 2)])
    design = sg.sample(mixed, 100, method="factorial")
    assert len(design) <= 100 and design["k"].nunique() == 3
    np.testing.assert_allclose(sorted(design["x"].unique())[:2], [0.0, 1 / 32])


def test_a_private_exception_of_a_module_named_like_ours_keeps_its_name():
    # "surrogate_tools" is a user's package: only this package's private classes are renamed
    from surrogate.teacher import describe_exception

    theirs = type("_SolverDiverged", (RuntimeError,), {"__module__": "surrogate_tools.solve"})
    assert describe_exception(theirs("at t=3")) == "_SolverDiverged: at t=3"


def test_rerun_without_a_checkpoint_is_warned_of():
    # it was accepted in silence: a forgotten checkpoint= most likely
    sim = sg.Simulator(lambda x: x, Space([Real("x", 0, 1)]), ["y"])
    with pytest.warns(UserWarning, match=r"rerun='failed' is not used without checkpoint="):
        sim.run([[0.5]], rerun="failed", progress=False)
