"""``adaptive_sample(sim, output=FIELD, goal="accuracy")``: adaptive transfer sets for a student
of whole trajectories, with analytic trajectories as the truth."""

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.models import FieldGPRegressor
from surrogate.models._field_basis import field_q2
from surrogate.sequential import FieldVarianceReduction, adaptive_sample
from surrogate.space import Real, Space

SQUARE = Space([Real("x1", 0.0, 1.0), Real("x2", 0.0, 1.0)])
T_BUMP = np.linspace(0.0, 1.0, 30)
DECAY = Space([Real("k", 0.1, 3.0), Real("a", 0.5, 2.0)])
T_DECAY = np.linspace(0.0, 5.0, 40)


def _bump(X):
    """A smooth trajectory plus a growing one only near (0.8, 0.8): a localized feature."""
    x1, x2 = X["x1"].to_numpy()[:, None], X["x2"].to_numpy()[:, None]
    bump = 3.0 * np.exp(-((x1 - 0.8) ** 2 + (x2 - 0.8) ** 2) / 0.01)
    y = np.sin(2.0 * T_BUMP + x2) + bump * T_BUMP
    return {"mean": y.mean(axis=1), "y": y}


def _decay(X):
    """y(t) = a exp(-k t), in closed form."""
    k, a = X["k"].to_numpy()[:, None], X["a"].to_numpy()[:, None]
    y = a * np.exp(-k * T_DECAY)
    return {"peak": y.max(axis=1), "y": y}


def _simulator(fn, space, grid, name):
    outputs = ["mean"] if fn is _bump else ["peak"]
    return sg.Simulator(fn, space, outputs, fields={"y": grid}, vectorized=True, name=name)


def _truth(sim, n=1000):
    X = sg.sample(sim.space, n, method="random", seed=99)
    return X, sim.run(X, progress=False).field("y").to_numpy()


@pytest.mark.parametrize("seed", [0, 1])
def test_accuracy_on_a_field_finds_a_localized_feature_that_a_same_size_lhs_misses(seed):
    sim = _simulator(_bump, SQUARE, T_BUMP, "bump")
    X_test, Y_test = _truth(sim)
    result = adaptive_sample(sim, output="y", budget=40, batch_size=5, seed=seed,
                             progress=False)
    adaptive = field_q2(Y_test, result.model.predict(X_test))
    lhs = sim.run(sg.sample(SQUARE, 40, seed=seed), progress=False)
    model = FieldGPRegressor(seed=seed).fit(SQUARE.to_unit(lhs.X), lhs.field("y"))
    same_size = field_q2(Y_test, model.predict(SQUARE.to_unit(X_test)))
    assert adaptive > 0.95 and adaptive > same_size + 0.2
    assert isinstance(result.model.estimator_, FieldGPRegressor)
    assert result.fidelity == "q2_loo" and result.goal == "accuracy"
    # the runs carry the field like any transfer set
    assert result.runs.field("y").shape == (40, len(T_BUMP))


def test_the_stopping_rule_holds_over_the_whole_field_and_agrees_with_held_out_runs():
    sim = _simulator(_decay, DECAY, T_DECAY, "decay")
    result = adaptive_sample(sim, output="y", budget=60, batch_size=3, target=0.999, seed=0,
                             progress=False)
    q2 = result.history["q2_loo"].to_numpy()
    assert result.stopped == "target" and q2[-1] >= 0.999 and (q2[:-1] < 0.999).all()
    assert len(result.runs) < 60
    X_test, Y_test = _truth(sim)
    mean, std = result.model.predict(X_test, return_std=True)
    assert mean.shape == std.shape == Y_test.shape
    assert field_q2(Y_test, mean) > 0.998  # the leave-one-out estimate was honest


def test_leave_one_out_field_q2_by_hand():
    """The fidelity is 1 - (components' LOO errors + truncation) / total, all over the field."""
    sim = _simulator(_decay, DECAY, T_DECAY, "decay")
    runs = sim.run(sg.sample(DECAY, 15, seed=3), progress=False)
    acquisition = FieldVarianceReduction("y", explained_variance=0.99)
    scores = acquisition.targets(runs.field("y").to_numpy())
    gp = sg.GPRegressor(seed=0).fit(DECAY.to_unit(runs.X), scores)
    student = sg.sequential.Student(gp)
    Y = runs.field("y").to_numpy()
    centred = Y - Y.mean(axis=0)
    basis = np.linalg.svd(centred, full_matrices=False)[2][:scores.shape[1]]
    truncation = ((centred - centred @ basis.T @ basis) ** 2).sum()
    loo = 0.0
    for i in range(len(Y)):  # refit with the hyperparameters held: the closed form's meaning
        keep = np.arange(len(Y)) != i
        from surrogate.sequential._student import condition_gp
        held = condition_gp(gp, DECAY.to_unit(runs.X)[keep], scores[keep])
        loo += ((held.predict(DECAY.to_unit(runs.X)[~keep]) - scores[~keep]) ** 2).sum()
    expected = 1.0 - (loo + truncation) / (centred**2).sum()
    assert acquisition.fidelity(student, None) == pytest.approx(expected, rel=1e-6)


def test_a_trajectory_with_nan_fails_its_run_and_the_design_goes_on():
    def fragile(X):
        out = _decay(X)
        out["y"][X["k"].to_numpy() > 2.5, 7] = np.nan
        return out

    sim = sg.Simulator(fragile, DECAY, ["peak"], fields={"y": T_DECAY}, vectorized=True,
                       name="fragile")
    result = adaptive_sample(sim, output="y", budget=24, batch_size=3, seed=1, progress=False)
    failed = ~result.runs.ok
    assert failed.any() and (result.runs.X["k"].to_numpy()[failed] > 2.5).all()
    assert len(result.runs) == 24 and np.isfinite(result.history["q2_loo"].iloc[-1])
    X_test, Y_test = _truth(_simulator(_decay, DECAY, T_DECAY, "decay"), 300)
    assert np.isfinite(result.model.predict(X_test)).all()


def test_resume_repeats_no_finished_run(tmp_path):
    calls = []

    def counted(X):
        calls.extend(map(tuple, X.to_numpy()))
        return _decay(X)

    sim = sg.Simulator(counted, DECAY, ["peak"], fields={"y": T_DECAY}, vectorized=True,
                       name="counted")
    options = {"output": "y", "batch_size": 2, "seed": 0, "progress": False,
               "checkpoint": tmp_path}
    first = adaptive_sample(sim, budget=9, **options)
    assert len(calls) == 9
    more = adaptive_sample(sim, budget=13, **options)
    assert len(calls) == 13 == len(set(calls))  # the 9 finished runs were reloaded
    pd.testing.assert_frame_equal(more.runs.X.iloc[:9], first.runs.X)
    assert np.array_equal(more.runs.field("y").to_numpy()[:9],
                          first.runs.field("y").to_numpy())
    straight = adaptive_sample(_simulator(_decay, DECAY, T_DECAY, "decay2"), budget=13,
                               output="y", batch_size=2, seed=0, progress=False)
    pd.testing.assert_frame_equal(more.runs.X, straight.runs.X)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"goal": "boundary"}, "is a field of simulator 'decay'"),
    ({"threshold": ("<", 0.5)}, "takes goal='accuracy'"),
])
def test_a_field_takes_the_accuracy_goal_only(kwargs, match):
    sim = _simulator(_decay, DECAY, T_DECAY, "decay")
    with pytest.raises(ValueError, match=match):
        adaptive_sample(sim, output="y", budget=10, progress=False, **kwargs)


def test_the_result_model_gives_field_sobol_indices_scores_and_fan_charts():
    """Sobol' indices of ``result.model`` were those of the trajectory's first grid point
    (where every run of the decay starts at ``a``), with no word; ``score`` did not exist."""
    import matplotlib

    matplotlib.use("Agg")
    sim = _simulator(_decay, DECAY, T_DECAY, "decay")
    result = adaptive_sample(sim, output="y", goal="accuracy", budget=16, seed=0)
    model = result.model
    assert model._field_model and model.field_ == "y" and np.array_equal(model.grid_, T_DECAY)
    indices = sg.sobol_indices(model, DECAY, output="y", n=128, seed=0)
    truth = sg.sobol_indices(sim, output="y", n=128, seed=0)
    assert indices.index.equals(truth.index)
    np.testing.assert_allclose(indices.attrs["aggregated"]["ST"],
                               truth.attrs["aggregated"]["ST"], atol=0.05)
    X = sg.sample(DECAY, 100, method="random", seed=1)
    Y = sim.run(X).field("y")
    assert model.score(X, Y) == pytest.approx(field_q2(Y.to_numpy(), model.predict(X)))
    assert model.score(X, Y) > 0.99
    sg.plot.fan(model, X[:2], Y[:2])
    scalar = adaptive_sample(sim, output="peak", goal="accuracy", budget=12, seed=0).model
    with pytest.raises(AttributeError, match="field model"):
        _ = scalar.grid_


def _decays(X):
    t = np.linspace(0.0, 1.0, 6)
    return {"y": X["a"].to_numpy()[:, None] * np.exp(-X["b"].to_numpy()[:, None] * t)}


def test_a_simulator_of_one_field_only_is_modelled_over_it_by_default():
    """Without output= every round failed to fit a student of no outputs ("0 feature(s)") and
    the whole budget went to random points."""
    space = Space([Real("a", 0.5, 1.5), Real("b", 0.0, 2.0)])
    only = sg.Simulator(_decays, space, fields={"y": np.linspace(0.0, 1.0, 6)},
                        vectorized=True)
    result = adaptive_sample(only, budget=12, seed=0, progress=False)
    assert result.model is not None and result.outputs == ["y"]
    assert np.isfinite(result.history["q2_loo"].iloc[-1])
    with pytest.raises(ValueError, match=r"'Y' is not an output .* \(its fields: \['y'\]\)"):
        adaptive_sample(only, budget=12, output="Y", seed=0, progress=False)


def test_minimize_surrogate_takes_a_grid_point_of_the_result_model():
    """The field model named one output, ['y'], but predicted 40 columns: minimize_surrogate
    asked for output= 'y' and then crashed inside (no _predict_torch)."""
    sim = _simulator(_decay, DECAY, T_DECAY, "decay")
    model = adaptive_sample(sim, output="y", goal="accuracy", budget=16, seed=0).model
    for output in (None, "y", 40):
        with pytest.raises(ValueError, match=r"predicts a field on 40 grid points, not one "
                                             r"output: pass output= the index of a grid point "
                                             r"\(0 to 39\)"):
            sg.minimize_surrogate(model, DECAY, output=output, seed=0)
    j = 8  # a exp(-k t) at t_j is least at the corner k = 3, a = 0.5
    result = sg.minimize_surrogate(model, DECAY, output=j, seed=0)
    assert result.output == "y[8]"
    assert result.x["k"] == pytest.approx(3.0, abs=0.05)
    assert result.x["a"] == pytest.approx(0.5, abs=0.05)
    assert result.y == pytest.approx(0.5 * np.exp(-3.0 * T_DECAY[j]), abs=0.05)  # of 0..1.8
    other = Space([Real("k", 0.1, 30.0), Real("a", 0.5, 2.0)])
    with pytest.raises(ValueError, match="space differs from the space the model was fitted"):
        sg.minimize_surrogate(model, other, output=j, seed=0)


def test_the_result_field_model_keeps_the_gp_settings_of_model():
    """The rounds used model=GPRegressor(kernel="rbf"), the returned field model the default
    kernel: its Q² was not the one the design's history reports."""
    sim = _simulator(_decay, DECAY, T_DECAY, "decay")
    template = sg.GPRegressor(kernel="rbf", n_restarts=2)
    model = adaptive_sample(sim, output="y", budget=10, seed=0, model=template).model
    assert model.estimator_.kernel == "rbf" and model.estimator_.n_restarts == 2
    assert model.estimator_.explained_variance == 0.999


def test_trajectories_that_are_all_alike_do_not_stop_a_design():
    """Their leave-one-out Q² read 1, and target= stopped the design after its first round,
    before any run had reached the feature past x = 0.97 (a scalar output reads NaN)."""
    space = Space([Real("x", 0.0, 1.0)])
    grid = np.linspace(0.0, 1.0, 5)
    sim = sg.Simulator(lambda x: {"F": (x > 0.97) * grid}, space, fields={"F": grid})
    result = adaptive_sample(sim, budget=14, target=0.9, seed=0, progress=False)
    assert result.stopped == "budget" and result.history["n_runs"].iloc[-1] == 14
    assert result.history["q2_loo"].isna().all()


def test_a_field_goal_object_is_checked_before_any_run_and_names_its_field():
    """explained_variance=2.0 failed after the whole budget; the result named the scalar
    outputs; a simulator of fields only refused the object."""
    calls = []

    def both(X):
        calls.append(len(X))
        return _decay(X)

    sim = sg.Simulator(both, DECAY, ["peak"], fields={"y": T_DECAY}, vectorized=True)
    with pytest.raises(ValueError, match=r"explained_variance must be a float in \(0, 1\]"):
        adaptive_sample(sim, goal=FieldVarianceReduction("y", explained_variance=2.0),
                        budget=12, seed=0, progress=False)
    with pytest.raises(ValueError, match="name different fields"):
        adaptive_sample(sim, goal=FieldVarianceReduction("y"), output="peak", budget=12)
    with pytest.raises(ValueError, match=r"models the field 'Y', which the teacher does not"):
        adaptive_sample(sim, goal=FieldVarianceReduction("Y"), budget=12)
    with pytest.raises(TypeError, match="error_weight must be True or False"):
        FieldVarianceReduction("y", error_weight="no")
    assert not calls
    result = adaptive_sample(sim, goal=FieldVarianceReduction("y", explained_variance=0.99),
                             budget=12, seed=0, progress=False)
    assert result.outputs == ["y"] and result.model.field_ == "y"
    only = sg.Simulator(_decays, Space([Real("a", 0.5, 1.5), Real("b", 0.0, 2.0)]),
                        fields={"y": np.linspace(0.0, 1.0, 6)}, vectorized=True)
    goal = FieldVarianceReduction("y", explained_variance=0.99)
    result = adaptive_sample(only, goal=goal, budget=12, seed=0, progress=False)
    assert result.outputs == ["y"] and result.model.field_ == "y"


def test_a_field_design_that_runs_its_budget_with_a_target_returns_its_result():
    # the noise check of a scalar target looked the field up among the scalar outputs: a
    # KeyError after the budget was spent, and on every resume
    sim = _simulator(_decay, DECAY, T_DECAY, "decay")
    result = adaptive_sample(sim, output="y", budget=22, target=0.999999999, seed=0,
                             progress=False)
    assert result.stopped == "budget" and len(result.runs) == 22
