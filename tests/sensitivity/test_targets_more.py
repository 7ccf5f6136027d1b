"""Sensitivity targets a user meets: log-scale parameters in the extrapolation warning, fields
in output errors, a space lacking a model input."""

import warnings

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.space import Real, Space

LOG_SPACE = Space([Real("k", 1e-3, 10.0, log=True), Real("z", 0.0, 1.0)])


def _gp(X):
    return sg.GPRegressor(seed=0).fit(X, np.log10(X.k.to_numpy()) + X.z.to_numpy())


@pytest.mark.parametrize("seed", range(4))
def test_a_design_of_the_space_itself_does_not_warn_on_a_log_parameter(seed):
    """In linear units the gap below the smallest run of k (1e-3 ... 1e-3 * 1.2) looked like
    extrapolation: 47 % of the space's own designs warned."""
    gp = _gp(sg.sample(LOG_SPACE, 100, seed=seed))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        sg.sobol_indices(gp, LOG_SPACE, n=64, seed=0, posterior_samples=0)


def test_decades_below_the_training_data_of_a_log_parameter_warn():
    trained = Space([Real("k", 0.05, 10.0, log=True), Real("z", 0.0, 1.0)])
    gp = _gp(sg.sample(trained, 100, seed=0))
    with pytest.warns(UserWarning, match=r"beyond the data .* for k \(trained on \[0.05"):
        sg.sobol_indices(gp, LOG_SPACE, n=64, seed=0, posterior_samples=0)


def test_a_space_lacking_a_model_input_is_named():
    space = Space([Real("a", 0, 1), Real("b", 0, 1), Real("c", 0, 1)])
    X = sg.sample(space, 40, seed=0)
    gp = sg.GPRegressor(seed=0).fit(X, X.a + X.b)
    with pytest.raises(ValueError, match=r"fitted on input\(s\) \['c'\] that the space lacks"):
        sg.sobol_indices(gp, Space([Real("a", 0, 1), Real("b", 0, 1)]), n=64, seed=0)


T = np.linspace(0.0, 1.0, 5)
SQUARE = Space([Real("a", 0, 1), Real("b", 0, 1)])


@pytest.mark.parametrize("output", [None, "w"])
def test_a_simulator_of_fields_only_names_its_fields(output):
    sim = sg.Simulator(lambda X: {"u": np.outer(X.a, T), "v": np.outer(X.b, T)}, SQUARE,
                       fields={"u": T, "v": T}, vectorized=True)
    with pytest.raises(ValueError, match=r"no scalar outputs, only the fields \['u', 'v'\].*"
                                         r"pass output= one of them"):
        sg.sobol_indices(sim, n=16, seed=0, output=output)
    with pytest.raises(ValueError, match=r"morris screens scalar outputs: use sobol_indices"):
        sg.morris(sim, seed=0, output=output)


def test_outputs_and_fields_are_both_offered():
    sim = sg.Simulator(lambda X: {"s": X.a.to_numpy(), "u": np.outer(X.a, T)}, SQUARE, ["s"],
                       fields={"u": T}, vectorized=True)
    with pytest.raises(ValueError, match=r"output='U' is none of them; pass output= one of "
                                         r"\['s'\] \(or, for indices over time, a field: one of "
                                         r"\['u'\]\)"):
        sg.sobol_indices(sim, n=16, seed=0, output="U")
    assert sg.sobol_indices(sim, n=16, seed=0, output="s").shape[0] == 2


def _field_model():
    times = np.linspace(0.5, 6.0, 6)
    space = Space([Real("a", 0, 1), Real("b", 0, 1)])
    X = sg.sample(space, 30, seed=0)
    Y = np.outer(X["a"], times) + np.outer(X["b"], np.sin(times))
    return space, X, sg.FieldGPRegressor(seed=0).fit(X, Y)


def test_a_field_model_refuses_a_space_with_a_parameter_it_never_saw():
    # it reported index 0 for "c", which the model ignores, where a scalar GP refuses
    _, _, model = _field_model()
    wider = Space([Real("a", 0, 1), Real("b", 0, 1), Real("c", 0, 1)])
    with pytest.raises(ValueError, match=r"parameter\(s\) \['c'\] are not inputs of the "
                                         "FieldGPRegressor"):
        sg.sobol_indices(model, wider, n=64, seed=0)


def test_a_field_model_refuses_posterior_samples_rather_than_ignoring_them():
    space, _, model = _field_model()
    with pytest.raises(ValueError, match="posterior_samples is not available for a field"):
        sg.sobol_indices(model, space, n=64, seed=0, posterior_samples=16)


def test_the_extrapolation_warning_of_a_field_model_points_at_the_callers_line():
    space, _, model = _field_model()
    big = Space([Real("a", 0, 5), Real("b", 0, 1)])
    with pytest.warns(UserWarning, match="beyond") as caught:
        sg.sobol_indices(model, big, n=16, seed=0)
    assert {w.filename for w in caught if "beyond" in str(w.message)} == {__file__}


def test_a_scikit_learn_model_fitted_on_the_columns_in_another_order():
    # the names match the space's, the order does not: scikit-learn refused the space's order
    from sklearn.linear_model import LinearRegression

    space = Space([Real("a", 0, 1), Real("b", 0, 1)])
    X = sg.sample(space, 50, seed=0)
    model = LinearRegression().fit(X[["b", "a"]], 2 * X.a + X.b)
    indices = sg.sobol_indices(model, space, n=256, seed=0)
    np.testing.assert_allclose(indices["S1"], [0.8, 0.2], atol=0.02)
    effects = sg.morris(model, space, seed=0)
    np.testing.assert_allclose(effects["mu_star"], [2.0, 1.0], rtol=1e-6)


def test_a_model_fitted_on_an_array_is_read_without_feature_name_warnings():
    """A model fitted on a plain array was given the design as a DataFrame: scikit-learn
    warned "X has feature names, but ... was fitted without feature names" 2-4 times a call."""
    rng = np.random.default_rng(0)
    t = np.linspace(0, 1, 6)
    X = rng.uniform(0, 1, (20, 2))
    Y = X[:, :1] * t + X[:, 1:] * (1 - t)
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    for model, y in ((sg.FieldGPRegressor(seed=0), Y), (sg.GPRegressor(seed=0), Y[:, 2])):
        model.fit(X, y)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            indices = sg.sobol_indices(model, space, n=16, seed=0)
        assert len(indices) > 0


def test_a_plain_function_may_take_the_parameters_by_keyword():
    # written as a Simulator's function, def f(x, z), it failed inside the library with
    # "f() missing 1 required positional argument: 'z'"
    space = sg.Space([sg.Real("x", 0.0, 1.0), sg.Real("z", 0.0, 1.0)])

    def by_keyword(x, z):
        return x + 2.0 * z

    def by_dict(p):
        return p["x"] + 2.0 * p["z"]

    pd.testing.assert_frame_equal(sg.sobol_indices(by_keyword, space, n=64, seed=0),
                                  sg.sobol_indices(by_dict, space, n=64, seed=0))
    assert sg.minimize(by_keyword, space=space, budget=6, seed=0).y == \
        sg.minimize(by_dict, space=space, budget=6, seed=0).y
    result = sg.adaptive_sample(by_keyword, space=space, budget=6, seed=0, progress=False)
    assert result.runs.Y.iloc[:, 0].tolist() == (result.runs.X.x + 2 * result.runs.X.z).tolist()

    def with_a_default(x, z=1.0):  # also binds one positional argument: it got the dict as x
        return x + 2.0 * z

    pd.testing.assert_frame_equal(sg.sobol_indices(with_a_default, space, n=64, seed=0),
                                  sg.sobol_indices(by_dict, space, n=64, seed=0))
    line = sg.Space([sg.Real("x", 0.0, 1.0)])
    assert sg.minimize(lambda x: (x - 0.3) ** 2, space=line, budget=8, seed=0).y == \
        sg.minimize(lambda p: (p["x"] - 0.3) ** 2, space=line, budget=8, seed=0).y

    def neither(x, y):
        return x

    with pytest.raises(TypeError, match=r"'neither' takes \['x', 'y'\]: a plain function is "
                                        r"called with one point, either as a dict .* or as the "
                                        r"parameters \['x', 'z'\] by keyword"):
        sg.morris(neither, space, seed=0)
