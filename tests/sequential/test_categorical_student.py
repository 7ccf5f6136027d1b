"""The loop's student models a Categorical parameter with the kernel made for categories.

The loop moves points in the unit cube, where a categorical parameter of k levels owns k equal
cells. Its GP reads each cell as a level (``fit_gp(..., cells=categorical_cells(space))``), so
it is the package's mixed-input GP, not a continuous kernel over the cells' ordered centres.
"""

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.models import GPRegressor
from surrogate.sequential._student import categorical_cells, condition_gp, fit_gp
from surrogate.space import Categorical, Integer, Real, Space

SLOPES = {"lo": 1.0, "mid": -2.0, "hi": 0.5}
SPACE = Space([Real("x", 0.0, 1.0), Categorical("c", list(SLOPES)), Integer("n", 0, 3)])


def switch(X):
    """A regression whose slope the category sets (the planted switch of issue 13)."""
    slope = X["c"].map(SLOPES).to_numpy(dtype=float)
    return pd.DataFrame({"y": slope * X["x"].to_numpy(dtype=float) + 0.1 * X["n"]},
                        index=X.index)


def _frame(U):
    """The same unit points as a DataFrame whose categorical column holds the cells' codes."""
    codes = np.floor(U[:, 1] * 3).astype(int)
    return pd.DataFrame({"x": U[:, 0], "c": pd.Categorical(codes, categories=[0, 1, 2]),
                         "n": U[:, 2]})


def test_the_cells_gp_is_the_mixed_input_gp():
    X = sg.sample(SPACE, 24, method="lhs", seed=0)
    U = SPACE.to_unit(X)
    y = switch(X)["y"].to_numpy()
    assert categorical_cells(SPACE) == {1: 3}
    gp = fit_gp(U, y, seed=0, cells=categorical_cells(SPACE))
    reference = GPRegressor(seed=0).fit(_frame(U), y)
    probe = SPACE.to_unit(sg.sample(SPACE, 50, method="random", seed=1))
    mean, std = gp.predict(probe, return_std=True)
    ref_mean, ref_std = reference.predict(_frame(probe), return_std=True)
    np.testing.assert_allclose(mean, ref_mean, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(std, ref_std, rtol=1e-9, atol=1e-12)
    assert gp.categorical_ in ("exchangeable", "latent")
    assert gp.categories_ == {1: [0, 1, 2]}
    # the torch path the acquisitions use reads a relaxed coordinate as the cell it lies in
    import torch

    relaxed = probe.copy()
    relaxed[:, 1] = np.floor(probe[:, 1] * 3) / 3 + 0.01  # off the centre, in the same cell
    torch_mean = gp._predict_torch(torch.as_tensor(relaxed))[0][:, 0].detach().numpy()
    np.testing.assert_allclose(torch_mean, mean, rtol=1e-9, atol=1e-12)
    # conditioning on more runs keeps reading the cells
    more = condition_gp(gp, np.vstack([U, probe[:5]]), np.concatenate([y, mean[:5]]))
    np.testing.assert_allclose(more.predict(probe[:5]), mean[:5], atol=1e-6)
    assert np.isnan(more.data_min_[1]) and not np.isnan(more.data_min_[0])


def test_another_template_sees_the_cells_as_numbers():
    X = sg.sample(SPACE, 12, method="lhs", seed=0)
    U = SPACE.to_unit(X)
    plain = fit_gp(U, switch(X)["y"].to_numpy(), seed=0, model=sg.NNRegressor(
        hidden_layers=(8,), n_ensemble=1, max_epochs=5), cells={1: 3})
    assert not getattr(plain, "categories_", {})


@pytest.mark.parametrize("goal", ["accuracy", "optimize"])
def test_a_design_learns_a_categorical_switch(goal):
    sim = sg.Simulator(switch, SPACE, outputs=["y"], vectorized=True, name="switch")
    if goal == "accuracy":
        result = sg.adaptive_sample(sim, goal="accuracy", budget=30, seed=0, progress=False)
    else:
        result = sg.minimize(sim, output="y", budget=20, seed=0)
    held_out = sg.sample(SPACE, 500, method="random", seed=3)
    truth = switch(held_out)["y"].to_numpy()
    assert result.model.estimator_.categorical_ in ("exchangeable", "latent")
    if goal == "accuracy":
        assert result.model.score(held_out, truth) > 0.99
    else:  # least at x = 1 with the steepest negative slope and n = 0: y = -2
        assert result.x["c"] == "mid" and result.y < -1.9


def test_levels_missing_from_the_initial_design_are_proposed_and_saved(tmp_path):
    levels = [f"L{i}" for i in range(6)]
    space = Space([Real("x", 0.0, 1.0), Categorical("c", levels)])

    def teacher(X):
        shift = X["c"].map({level: i for i, level in enumerate(levels)}).to_numpy(dtype=float)
        return pd.DataFrame({"y": np.sin(3 * X["x"].to_numpy(dtype=float) + shift)},
                            index=X.index)

    sim = sg.Simulator(teacher, space, outputs=["y"], vectorized=True, name="levels")
    result = sg.adaptive_sample(sim, goal="accuracy", budget=12, n_init=3, seed=0,
                                progress=False)
    initial = set(result.runs.X["c"][:3])
    assert len(initial) < 6  # some levels unseen by the first student
    assert set(result.runs.X["c"]) - initial  # the design went to them
    path = result.model.save(tmp_path / "model") or tmp_path / "model"
    again = sg.load(path)
    probe = sg.sample(space, 40, method="random", seed=5)
    np.testing.assert_array_equal(again.predict(probe), result.model.predict(probe))
    assert again.estimator_.categories_ == {1: [0, 1, 2, 3, 4, 5]}


def test_a_field_design_reads_the_categories(tmp_path):
    times = np.linspace(0.0, 4.0, 21)
    space = Space([Real("k", 0.5, 2.0), Categorical("form", ["decay", "rise"])])

    def teacher(k, form):
        decay = np.exp(-k * times)
        return {"y": decay if form == "decay" else 1.0 - decay}

    sim = sg.Simulator(teacher, space, fields={"y": times}, name="forms")
    result = sg.adaptive_sample(sim, goal="accuracy", budget=14, seed=0, progress=False)
    model = result.model.estimator_
    assert model.gp_.categorical_ in ("exchangeable", "latent")
    held_out = sg.sample(space, 40, method="random", seed=2)
    truth = np.array([teacher(k, form)["y"] for k, form in held_out.itertuples(index=False)])
    predicted = result.model.predict(held_out)
    assert 1 - ((predicted - truth) ** 2).sum() / ((truth - truth.mean(0)) ** 2).sum() > 0.999
    path = result.model.save(tmp_path / "model") or tmp_path / "model"
    np.testing.assert_array_equal(sg.load(path).predict(held_out), predicted)


def test_a_space_of_categorical_parameters_only():
    # the GP reads every column as a level, so the acquisition has no gradient to relax: the
    # optimizer enumerates the levels (it used to stop on "_score returned values without a
    # gradient" in minimize, adaptive_sample and minimize_surrogate)
    space = Space([Categorical("a", ["p", "q", "r"]), Categorical("b", ["u", "v"])])

    def teacher(X):
        a = X["a"].map({"p": 0.0, "q": 1.0, "r": 3.0}).to_numpy()
        b = X["b"].map({"u": 0.0, "v": 2.0}).to_numpy()
        return pd.DataFrame({"y": a - b}, index=X.index)

    sim = sg.Simulator(teacher, space, outputs=["y"], vectorized=True, name="levels only")
    result = sg.minimize(sim, output="y", budget=8, seed=0)
    assert result.x == {"a": "p", "b": "v"} and result.y == -2.0
    design = sg.adaptive_sample(sim, budget=8, seed=0, progress=False)
    assert len(set(map(tuple, design.runs.X.to_numpy()))) == 6  # every pair of levels
    found = sg.minimize_surrogate(result.model, space, seed=0)
    assert found.x == {"a": "p", "b": "v"}


def test_error_weights_read_the_levels_as_unordered():
    # the accuracy goal weights a reference point by the leave-one-out error of its nearest
    # run; in a categorical column the GP holds level codes, and a run two codes away is no
    # farther than one a code away (it used to be: the codes were read as coordinates)
    from types import SimpleNamespace

    import torch

    from surrogate.models._gp_hyper import correlation
    from surrogate.models._gp_loo import loo_residuals
    from surrogate.sequential._accuracy import _error_weights

    rng = np.random.default_rng(0)
    k = 6
    U = np.column_stack([rng.random(30), (rng.integers(0, 5, 30) + 0.5) / k])  # no run in L5
    y = np.sin(6 * U[:, 0]) + rng.normal(size=k)[np.floor(U[:, 1] * k).astype(int)]
    gp = fit_gp(U, y, seed=0, cells={1: k})
    reference = np.column_stack([np.linspace(0.0, 1.0, 11), np.full(11, 5.5 / k)])
    weights = _error_weights(gp, SimpleNamespace(reference=reference))
    lengthscale = torch.as_tensor(np.exp(np.log(gp._hyper.lengthscale.numpy()).mean(0)))
    with torch.no_grad():
        C = correlation(gp.kernel_, gp._coordinates(torch.as_tensor(reference)), gp._U,
                        lengthscale, gp._layout)
    error = (loo_residuals(gp) ** 2).sum(axis=1) / gp._y_std**2
    expected = 1.0 + error[C.argmax(dim=1).numpy()] / error.mean()
    np.testing.assert_allclose(weights, expected / expected.mean(), rtol=1e-12)
