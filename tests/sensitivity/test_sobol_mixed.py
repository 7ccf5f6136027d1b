"""Sobol' indices of surrogates fitted on a space with a categorical parameter: the model gets
the categories as the space defines them, and the indices match the analytic ones."""

import numpy as np
import pytest

import surrogate as sg

SLOPES = {"a": 1.0, "b": -2.0, "c": 0.5}
SPACE = sg.Space([sg.Real("x", 0.0, 1.0), sg.Categorical("scheme", list(SLOPES)),
                  sg.Real("z", 0.0, 1.0)])


def _switch(X):
    """f = s(scheme) x + z^2: the scheme sets the slope (an interaction with x)."""
    return X["scheme"].map(SLOPES).to_numpy(float) * X["x"].to_numpy() + X["z"].to_numpy() ** 2


def _analytic():
    """S1 and ST of ``_switch`` for x, z ~ U(0, 1) and the scheme uniform on its 3 levels."""
    s = np.array(list(SLOPES.values()))
    var_s, mean_s, mean_s2 = s.var(), s.mean(), (s**2).mean()
    v_x = mean_s**2 / 12  # Var(E[f | x]) = E[s]^2 Var(x)
    v_s = var_s / 4  # Var(E[f | s]) = Var(s) E[x]^2
    v_z = 1 / 5 - 1 / 9  # Var(z^2)
    v_xs = (mean_s2 / 3 - mean_s**2 / 4) - v_x - v_s  # Var(s x) minus its main effects
    total = v_x + v_s + v_z + v_xs
    return (np.array([v_x, v_s, v_z]) / total,
            np.array([v_x + v_xs, v_s + v_xs, v_z]) / total)


@pytest.mark.parametrize("model", [sg.GPRegressor(seed=0),
                                   sg.NNRegressor(n_ensemble=3, seed=0)], ids=str)
def test_sobol_on_a_mixed_input_surrogate_matches_the_analytic_indices(model):
    X = sg.sample(SPACE, 100, seed=0)
    model.fit(X, _switch(X))
    indices = sg.sobol_indices(model, SPACE, n=2048, seed=0)
    s1, st = _analytic()
    assert indices.index.tolist() == ["x", "scheme", "z"]
    # Monte Carlo error of 2,048 base samples: a few hundredths (the *_conf columns)
    np.testing.assert_allclose(indices["S1"], s1, atol=0.03)
    np.testing.assert_allclose(indices["ST"], st, atol=0.03)
    assert indices.loc["scheme", "ST"] > indices.loc["scheme", "S1"] + 0.1  # the interaction
    if hasattr(model, "sample_posterior"):  # the GP's posterior spread is small with 100 runs
        assert (indices["ST_gp_std"] < 0.02).all()


def test_a_category_the_model_never_saw_is_a_clear_error():
    X = sg.sample(SPACE, 60, seed=1)
    gp = sg.GPRegressor(seed=0).fit(X, _switch(X))
    wider = sg.Space([sg.Real("x", 0.0, 1.0), sg.Categorical("scheme", ["a", "b", "c", "d"]),
                      sg.Real("z", 0.0, 1.0)])
    with pytest.raises(ValueError, match=r"column 'scheme' has categories not seen at fit: "
                                         r"'d'; the known levels are \['a', 'b', 'c'\]"):
        sg.sobol_indices(gp, wider, n=64, seed=0)


def test_morris_still_refuses_the_categorical_parameter_of_a_surrogate():
    X = sg.sample(SPACE, 40, seed=2)
    gp = sg.GPRegressor(seed=0).fit(X, _switch(X))
    with pytest.raises(ValueError, match=r"categorical parameter\(s\) \['scheme'\]"):
        sg.morris(gp, SPACE, seed=0)
