"""The registry and the contract every bundled teacher keeps."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import simulators
from surrogate.design import sample
from surrogate.teacher import SimulationError, Simulator

# teachers cheap enough to run on a small design in every test run (lorenz has its own tests)
FAST = [name for name in simulators.available() if name != "lorenz"]


def test_available_lists_every_teacher_sorted():
    names = simulators.available()
    assert names == sorted(names)
    expected = {"lotka_volterra", "sir", "lorenz", "logistic_map", "lake", "dsgc", "branin",
                "hartmann3", "hartmann6", "borehole", "ishigami", "wing_weight", "otl_circuit",
                "piston", "sobol_g"}
    assert set(names) == expected


def test_unknown_name_lists_the_available_ones():
    with pytest.raises(ValueError, match="unknown simulator 'nope'.*branin"):
        simulators.load("nope")


@pytest.mark.parametrize("name", simulators.available())
def test_load_gives_a_vectorized_simulator_that_pickles(name):
    sim = simulators.load(name)
    assert isinstance(sim, Simulator)
    assert sim.vectorized and sim.name == name
    clone = pickle.loads(pickle.dumps(sim))
    assert clone.space == sim.space and clone.outputs == sim.outputs


@pytest.mark.parametrize("name", FAST)
def test_outputs_have_the_declared_shape_and_are_deterministic(name):
    sim = simulators.load(name)
    design = sample(sim.space, 12, seed=3)
    first = sim(design)
    assert list(first.columns) == list(sim.outputs)
    assert first.shape == (12, len(sim.outputs))
    assert np.isfinite(first.to_numpy()).all()
    pd.testing.assert_frame_equal(first, simulators.load(name)(design))


@pytest.mark.parametrize("name", FAST)
def test_a_point_does_not_depend_on_the_rest_of_the_batch(name):
    sim = simulators.load(name)
    design = sample(sim.space, 6, seed=4)
    together = sim(design).to_numpy()
    alone = sim(design.iloc[[2]]).to_numpy()
    np.testing.assert_allclose(alone[0], together[2], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", simulators.available())
def test_out_of_range_and_missing_parameters_are_rejected_by_name(name):
    sim = simulators.load(name)
    design = sample(sim.space, 2, seed=0)
    first = sim.space.parameters[0]
    bad = design.copy()
    bad[first.name] = first.high + 10 * (first.high - first.low)
    with pytest.raises(ValueError, match=rf"column '{first.name}'.*allowed"):
        sim(bad)
    with pytest.raises(ValueError, match=rf"missing column\(s\) \['{first.name}'\]"):
        sim(design.drop(columns=first.name))


def test_a_failed_integration_is_recorded_not_raised():
    from simulators import lotka_volterra

    sim = lotka_volterra.simulator(max_steps=20)  # far too few steps: every run fails
    design = sample(sim.space, 3, seed=0)
    transfer = sim.run(design)
    assert (transfer.status == "failed").all()
    assert transfer.Y.isna().all().all()
    with pytest.raises(SimulationError):
        sim(design)


@pytest.mark.parametrize(
    ("factory", "options", "message"),
    [
        ("lotka_volterra", {"rtol": 0.0}, "rtol must be a positive"),
        ("lotka_volterra", {"dt": 100.0}, "dt must be at most"),
        ("sir", {"max_steps": 0}, "max_steps must be a positive int"),
        ("lorenz", {"window": 200.0}, "need dt <= window <= t_end"),
        ("lake", {"n_samples": 0}, "n_samples must be a positive int"),
        ("lake", {"seed": -1}, "seed must be a non-negative int"),
        ("logistic_map", {"tolerance": 2.0}, "tolerance must be a number in"),
        ("dsgc", {"coupling": -1.0}, "coupling must be a positive"),
        ("dsgc", {"n_starts": 0}, "n_starts must be a positive int"),
        # grids whose spacing would not have been dt: [0, 0.667, 1] for dt=0.3, field_dt=0.6
        ("lotka_volterra", {"t_end": 1.0, "dt": 0.3, "field_dt": 0.6},
         r"t_end must be a whole multiple of dt=0.3, got t_end=1.0"),
        ("sir", {"t_end": 10.0, "dt": 4.0, "field_dt": 4.0}, "t_end must be a whole multiple"),
        ("lorenz", {"t_end": 10.0, "window": 1.0, "dt": 0.4, "field_dt": 0.4},
         "window must be a whole multiple of dt=0.4"),
        ("lotka_volterra", {"t_end": 1e308, "dt": 1e-10}, r"make inf grid steps; at most"),
        ("dsgc", {"damping": True}, "damping must be a positive finite number, got True"),
        ("logistic_map", {"n_average": 0}, "n_average must be a positive int"),
        ("logistic_map", {"n_transient": -1}, "n_transient must be an int >= 0"),
    ],
)
def test_bad_factory_options_raise_a_clear_error(factory, options, message):
    module = getattr(simulators, factory)
    with pytest.raises(ValueError, match=message):
        module.simulator(**options)


@pytest.mark.parametrize(("factory", "options"), [
    ("logistic_map", {"n_transient": np.int64(10), "tolerance": np.float32(1e-3)}),
    ("lake", {"n_samples": np.int64(10), "inertia_threshold": np.float64(0.02)}),
    ("dsgc", {"coupling": np.float32(8.0), "n_starts": np.int64(10)}),
    ("lotka_volterra", {"dt": np.float32(0.5), "max_steps": np.int64(100_000)}),
])
def test_numpy_numbers_are_options_like_python_ones(factory, options):
    """Refused by some factories ("must be a non-negative int, got np.int64(10)") and taken
    by others, e.g. from a parsed config."""
    getattr(simulators, factory).simulator(**options)


@pytest.mark.parametrize(("factory", "options"), [
    ("lake", {"n_samples": 5, "seed": 2}),
    ("dsgc", {"coupling": 4.0}),
    ("logistic_map", {"n_transient": 10}),
    ("lotka_volterra", {"extinction_threshold": 5.0}),
    ("sir", {"rtol": 1e-6}),
])
def test_a_checkpoint_is_not_resumed_by_a_teacher_with_other_options(tmp_path, factory, options):
    """Every option set kept the bare name ("lake"): a checkpoint made with the defaults was
    resumed by lake.simulator(seed=2) or dsgc.simulator(coupling=4.0) without a word, and
    returned the other teacher's outputs."""
    module = getattr(simulators, factory)
    design = sample(module.SPACE, 3, seed=0)
    module.simulator().run(design, checkpoint=tmp_path / "runs", progress=False)
    other = module.simulator(**options)
    assert other.name.startswith(f"{factory}(") and module.simulator().name == factory
    with pytest.raises(ValueError, match="belongs to simulator"):
        other.run(design, checkpoint=tmp_path / "runs", progress=False)


@pytest.mark.parametrize("path", sorted((Path(__file__).parents[2] / "simulators" / "configs")
                                        .glob("*.toml")), ids=lambda p: p.stem)
def test_a_bundled_study_has_cases_on_both_sides_of_its_outcome(path):
    """borehole's "y < 1000" held for every run (its flow lies in [11, 262]): discovery was
    always skipped."""
    import surrogate as sg
    from surrogate._config import read_config
    from surrogate._registry import load_simulator

    config = read_config(path)
    if config.outcome is None:
        pytest.skip("no outcome")
    sim = load_simulator(config.simulator, config.parameters, config.outputs,
                         config.vectorized, config.field_grids)
    runs = sim.run(sg.sample(sim.space, 200, seed=1), progress=False).valid()
    assert 0.1 < float(sg.outcome(str(config.outcome), runs).mean()) < 0.9
