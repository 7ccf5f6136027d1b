"""PRIM and Box: planted boxes are recovered, statistics are right, bad input is refused."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from surrogate.discovery import PRIM, Box
from surrogate.discovery._peel import objective, sorted_quantile


def uniform(n, d, seed):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(size=(n, d)), columns=[f"x{i}" for i in range(d)]), rng


def test_planted_real_box_is_recovered():
    X, _ = uniform(4000, 5, 0)
    y = (X.x0 > 0.3) & (X.x0 < 0.8) & (X.x3 < 0.5)
    box = PRIM().fit(X, y).box(min_density=0.99)
    assert set(box.restricted) >= {"x0", "x3"}
    limits = box.limits
    assert limits.loc["x0", "lower"] == pytest.approx(0.3, abs=0.03)
    assert limits.loc["x0", "upper"] == pytest.approx(0.8, abs=0.03)
    assert limits.loc["x3", "upper"] == pytest.approx(0.5, abs=0.03)
    assert box.coverage > 0.9


def test_planted_integer_and_categorical_box_is_recovered():
    rng = np.random.default_rng(1)
    n = 3000
    X = pd.DataFrame({
        "r": rng.uniform(size=n),
        "k": rng.integers(0, 10, n),
        "c": rng.choice(["low", "mid", "high", "max"], n),
    })
    y = (X.k >= 3) & (X.k <= 6) & X.c.isin(["mid", "max"])
    box = PRIM().fit(X, y).box(min_density=1.0)
    assert set(box.restricted) == {"k", "c"}
    assert box.limits.loc["k", "lower"] == 3 and box.limits.loc["k", "upper"] == 6
    assert box.limits.loc["c", "lower"] == frozenset({"mid", "max"})
    assert box.coverage == 1.0 and box.density == 1.0
    assert box.rules() == "3 <= k <= 6 and c in ['max', 'mid']"
    # integer limits are whole numbers and select exactly the same points
    assert np.array_equal(box.contains(X), y.to_numpy())


def test_trajectory_columns_and_monotone_peeling():
    X, rng = uniform(2000, 4, 2)
    y = (X.x0 < 0.5) ^ (rng.uniform(size=2000) < 0.1)
    prim = PRIM().fit(X, y)
    trajectory = prim.trajectory_
    assert list(trajectory.columns) == ["coverage", "density", "mass", "n_restricted"]
    assert len(trajectory) == len(prim.boxes_)
    first = trajectory.iloc[0]
    assert first.coverage == 1 and first.mass == 1 and first.n_restricted == 0
    assert first.density == pytest.approx(y.mean())
    assert (trajectory.mass >= 0.05).all()
    # statistics agree with direct counts on the data
    for box in prim.boxes_[::7]:
        inside = box.contains(X)
        assert box.mass == inside.mean()
        assert box.density == pytest.approx(y[inside].mean())
        assert box.coverage == pytest.approx(y[inside].sum() / y.sum())


def test_box_selection_and_predict():
    X, _ = uniform(2000, 3, 3)
    y = (X.x0 < 0.4) & (X.x1 > 0.2)
    prim = PRIM().fit(X, y)
    assert prim.box() is prim.boxes_[-1]
    assert prim.box(0).n_restricted == 0
    assert prim.box(-2) is prim.boxes_[-2]
    chosen = prim.box(min_density=0.9)
    dense = [b for b in prim.boxes_ if b.density >= 0.9]
    assert chosen.coverage == max(b.coverage for b in dense)
    assert np.array_equal(prim.predict(X), prim.box().contains(X))
    assert np.array_equal(prim.predict(X, i=0), np.ones(len(X), bool))
    with pytest.raises(ValueError, match="no box reaches density"):
        noise = np.random.default_rng(0).uniform(size=len(X)) < 0.3
        PRIM().fit(X, noise).box(min_density=0.99)
    with pytest.raises(IndexError):
        prim.box(len(prim.boxes_))
    with pytest.raises(ValueError, match="either i or min_density"):
        prim.box(1, min_density=0.5)


def test_soft_labels_density_is_mean_label():
    X, rng = uniform(3000, 3, 4)
    p = np.where((X.x0 > 0.5) & (X.x1 > 0.5), 0.9, 0.1)
    prim = PRIM().fit(X, p)
    box = prim.box()
    inside = box.contains(X)
    assert box.density == pytest.approx(p[inside].mean())
    assert box.coverage == pytest.approx(p[inside].sum() / p.sum())
    assert set(box.restricted) == {"x0", "x1"}
    # soft labels that are exact 0/1 give the same trajectory as the booleans
    hard = (X.x0 > 0.5) & (X.x1 > 0.5)
    pd.testing.assert_frame_equal(PRIM().fit(X, hard.astype(float)).trajectory_,
                                  PRIM().fit(X, hard).trajectory_)


def test_array_input_gets_names():
    X, _ = uniform(1000, 2, 5)
    prim = PRIM().fit(X.to_numpy(), X.x1.to_numpy() > 0.7)
    assert prim.box().restricted == ("x1",)
    assert list(prim.feature_names_in_) == ["x0", "x1"]


def test_constant_column_is_never_restricted():
    X, _ = uniform(1000, 2, 6)
    X["const"] = 1.0
    X["label"] = "same"
    prim = PRIM().fit(X, X.x0 > 0.6)
    assert all("const" not in b.restricted and "label" not in b.restricted for b in prim.boxes_)


def test_box_is_immutable_and_serializable():
    X, _ = uniform(1000, 2, 7)
    box = PRIM().fit(X, X.x0 > 0.6).box()
    with pytest.raises(ValueError):
        box._lower[0] = 0.0
    data = json.loads(json.dumps(box.to_dict()))
    assert data["restricted"] == ["x0"]
    assert data["limits"]["x0"]["lower"] == pytest.approx(0.6, abs=0.03)
    assert "upper" not in data["limits"]["x0"]
    assert str(box).startswith("x0 >= 0.6")
    assert "coverage" in repr(box)
    assert isinstance(box, Box)


def test_evaluate_on_other_data():
    X, _ = uniform(2000, 2, 8)
    box = PRIM().fit(X, X.x0 > 0.5).box()
    X_new, _ = uniform(1000, 2, 9)
    stats = box.evaluate(X_new, X_new.x0 > 0.5)
    inside = box.contains(X_new)
    assert stats["mass"] == inside.mean()
    assert stats["density"] == pytest.approx((X_new.x0[inside] > 0.5).mean())
    assert stats["coverage"] == pytest.approx((X_new.x0[inside] > 0.5).sum() / (X_new.x0 > 0.5).sum())


def test_quasi_p_values_flag_the_real_restriction():
    X, _ = uniform(3000, 3, 10)
    box = PRIM().fit(X, (X.x0 > 0.5) & (X.x1 < 0.5)).box()
    qp = box.qp
    assert list(qp.columns) == ["lower", "upper"]
    assert qp.loc["x0", "lower"] < 1e-10 and np.isnan(qp.loc["x0", "upper"]) or "x0" in qp.index
    assert qp.loc["x1", "upper"] < 1e-10


def test_sdtoolkit_quantile():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert sorted_quantile(values, 0.05) == 1.5  # between the two smallest
    assert sorted_quantile(values, 0.95) == 4.5
    ties = np.array([1.0, 1.0, 1.0, 2.0, 3.0])
    assert sorted_quantile(ties, 0.05) == 1.5  # walks up to the next distinct value
    assert sorted_quantile(np.array([1.0, 2.0, 3.0, 3.0, 3.0]), 0.95) == 2.5
    assert sorted_quantile(np.full(4, 7.0), 0.05) == 7.0


def test_objectives():
    # old box 10 points 2 cases; new box 8 points 2 cases
    assert objective("lenient1", 10, 2.0, 8, 2.0) == pytest.approx((0.25 - 0.2) / 2)
    assert objective("lenient2", 10, 2.0, 8, 2.0) == pytest.approx(8 * (0.25 - 0.2) / 2)
    assert objective("original", 10, 2.0, 8, 2.0) == 0.25
    assert objective("lenient1", 10, 2.0, 10, 2.0) == 0.0


@pytest.mark.parametrize(
    ("y", "match"),
    [
        (np.r_[np.zeros(99), 2.0], r"\[0, 1\]"),
        (np.r_[np.zeros(99), -1], r"\[0, 1\]"),
        (np.zeros(100), "no case of interest"),
        (np.r_[np.ones(99), np.nan], "missing"),
        (np.ones(50), "50 values"),
    ],
)
def test_bad_labels(y, match):
    X, _ = uniform(100, 2, 11)
    with pytest.raises(ValueError, match=match):
        PRIM().fit(X, y)


def test_bad_experiments():
    X, _ = uniform(100, 2, 12)
    X.loc[3, "x1"] = np.nan
    with pytest.raises(ValueError, match="1 row"):
        PRIM().fit(X, X.x0 > 0.5)
    with pytest.raises(ValueError, match="2-D"):
        PRIM().fit(np.arange(10.0), np.ones(10))
    dates = pd.DataFrame({"t": pd.date_range("2020", periods=10)})
    with pytest.raises(TypeError, match="dtype"):
        PRIM().fit(dates, np.ones(10))


@pytest.mark.parametrize(
    "params",
    [{"peel_alpha": 0}, {"peel_alpha": 0.6}, {"paste_alpha": -1}, {"mass_min": 1.0},
     {"objective": "greedy"}],
)
def test_bad_settings(params):
    X, _ = uniform(100, 2, 13)
    with pytest.raises(ValueError, match=next(iter(params))):
        PRIM(**params).fit(X, X.x0 > 0.5)


def test_sklearn_clone_and_params():
    from sklearn.base import clone

    prim = PRIM(peel_alpha=0.1, objective="original")
    assert clone(prim).get_params() == prim.get_params()


def test_lazy_bucket_sort_gives_the_same_trajectory(monkeypatch):
    """Large data sorts columns lazily by value ranges; force that path on small data."""
    import surrogate.discovery._sorted as sorted_columns

    rng = np.random.default_rng(14)
    n = 6000
    X = pd.DataFrame({"r": rng.uniform(size=n), "t": np.round(rng.normal(size=n), 1),
                      "e": rng.exponential(size=n) ** 3, "k": rng.integers(-5, 5, n),
                      "c": rng.choice(list("abc"), n)})
    y = (X.r > 0.5) & (X.t < 0.3) & (X.c != "a") ^ (rng.uniform(size=n) < 0.05)
    eager = PRIM().fit(X, y)
    monkeypatch.setattr(sorted_columns, "LAZY_ABOVE", 0)
    lazy = PRIM().fit(X, y)
    pd.testing.assert_frame_equal(eager.trajectory_, lazy.trajectory_)
    assert [b.rules(12) for b in eager.boxes_] == [b.rules(12) for b in lazy.boxes_]


def test_labels_with_another_index_are_warned_of_and_read_by_position():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(200, 2)), columns=["a", "b"])
    y = (X.a > 0.5)[::-1].reset_index(drop=True)[::-1]  # same values, reversed index
    with pytest.warns(UserWarning, match="read by position"):
        PRIM().fit(X, y)
    with pytest.raises(ValueError, match=r"got values in \[0, 1.0000001\]"):
        PRIM().fit(X, np.where(X.a > 0.5, 1.0000001, 0.0))
    with pytest.raises(TypeError, match="1 missing value"):
        PRIM().fit(X, pd.Series([True] * 199 + [None], dtype=object))


def test_an_identifier_column_is_warned_of():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(size=(200, 2)), columns=["a", "b"])
    X["name"] = [f"run{i}" for i in range(200)]
    with pytest.warns(UserWarning, match=r"column 'name' has 200 distinct values in 200 rows"):
        PRIM().fit(X, X.a > 0.5)


def test_rules_of_a_one_value_range_and_an_exact_query():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(size=600) * 1000 + 2000, "k": rng.integers(0, 5, 600)})
    y = (X.a > 2300.123456) & (X.k == 2)
    chosen = PRIM().fit(X, y).box()
    assert "k == 2" in chosen.rules()
    assert len(X.query(chosen.rules(17))) == int(chosen.contains(X).sum())


def test_rules_of_large_values_on_a_small_range_still_restrict():
    # a time stamp of 1.7e9 spanning an hour: 4 significant digits wrote "t >= 1.7e+09", a
    # rule that restricts nothing beside a box of density 1
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"t": 1.7e9 + 3600 * rng.random(1000), "b": rng.random(1000)})
    y = ((X.t > 1.7e9 + 1800) & (X.b < 0.5)).to_numpy()
    box = PRIM().fit(X, y).box()
    assert box.density == 1.0
    queried = X.query(box.rules())  # differs only at points within rounding of a limit
    assert abs(len(queried) - box.n_points) <= 3 and y[queried.index].all()
    assert "b <= 0.4967" in box.rules()  # a unit-range parameter keeps its 4 digits


def test_rules_quote_a_column_named_by_a_keyword():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"lambda": rng.uniform(size=1000), "b": rng.uniform(size=1000)})
    chosen = PRIM().fit(X, (X["lambda"] > 0.6) & (X.b < 0.5)).box()
    assert chosen.rules().startswith("`lambda` >= ")
    assert len(X.query(chosen.rules(17))) == int(chosen.contains(X).sum())


def test_the_study_and_prim_choose_the_same_box_on_a_tie_of_coverage():
    """Peeling keeps the coverage while it sheds non-cases: the study took the first (widest)
    box of a tie, PRIM.box(min_density=) the denser one, so report and `discover` differed."""
    from surrogate.discovery._prim import best_covering
    from surrogate.study._discover import _choose_box

    assert best_covering([0.9, 0.9, 0.8], [0.7, 0.8, 0.95], 0.6) == 1
    assert best_covering([0.9, 0.8], [float("nan"), 0.5], 0.6) is None
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.uniform(size=(60, 3)), columns=["a", "b", "c"])
    y = ((X.a > 0.3) & (X.b < 0.7)).to_numpy() | (rng.uniform(size=60) < 0.1)
    prim = PRIM().fit(X, y)
    trajectory = prim.trajectory_
    ties = trajectory.groupby("coverage")["density"].nunique()
    assert (ties > 1).any()  # the data holds a tie of coverage
    for min_density in (0.5, 0.7, 0.8):
        if (trajectory["density"] >= min_density).any():
            assert _choose_box(prim, X, y.astype(float), min_density).rules() \
                == prim.box(min_density=min_density).rules()


def test_an_array_of_a_space_with_a_categorical_gives_the_dataframes_boxes():
    import surrogate as sg

    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1), sg.Categorical("c", ["u", "v"])])
    X = sg.sample(space, 400, method="random", seed=0)
    y = ((X["a"] < 0.3) & (X["b"] > 0.5)).to_numpy()
    A = X.to_numpy()  # dtype object: numbers and strings
    frame_box, array_box = PRIM().fit(X, y).box(min_density=0.9), \
        PRIM().fit(A, y).box(min_density=0.9)
    assert frame_box.rules() == "a <= 0.3167 and b >= 0.4973"
    assert array_box.rules() == "x0 <= 0.3167 and x1 >= 0.4973"
    cart = sg.CART(seed=0).fit(A, y).box()
    assert cart.density == sg.CART(seed=0).fit(X, y).box().density == 1.0
    fitted = PRIM().fit(X, y)
    assert fitted.box().contains(A).sum() == fitted.box().contains(X).sum()
    assert sg.pr_auc(fitted, A, y) == sg.pr_auc(fitted, X, y)


def test_an_array_of_another_width_than_at_fit_is_refused_not_read_by_position():
    # an extra leading column (a run id) was read as the first input: 70 % of rows agreed
    import scipy.sparse

    from surrogate.discovery import CART, PRIM

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(300, 2))
    y = (X[:, 0] > 0.7) & (X[:, 1] < 0.5)
    prim = PRIM().fit(X, y)
    wide = np.hstack([np.arange(300)[:, None] / 300, X])
    with pytest.raises(ValueError, match=r"X has 3 columns, but 2 were fitted"):
        prim.predict(wide)
    # a DataFrame with other names says which columns it has
    with pytest.raises(ValueError, match=r"got \['a', 'b'\]"):
        prim.predict(pd.DataFrame(X, columns=["a", "b"]))
    for model in (prim, CART().fit(X, y)):
        with pytest.raises(ValueError, match=r"X has 3 columns, but 2 were fitted"):
            model.box().contains(wide)
        with pytest.raises(ValueError, match=r"a sparse matrix: pass X.toarray\(\)"):
            type(model)().fit(scipy.sparse.csr_matrix(X), y)


def test_a_box_around_a_handful_of_cases_is_warned_of():
    # 2 cases among 6 runs: density and coverage 1 for a box no limit of which is significant
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.random((6, 3)), columns=["a", "b", "c"])
    y = np.array([1, 1, 0, 0, 0, 0])
    with pytest.warns(UserWarning, match=r"PRIM on 2 case\(s\) of interest among 6 runs"):
        PRIM().fit(X, y)
    X = pd.DataFrame(rng.random((200, 2)), columns=["a", "b"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        PRIM().fit(X, X["a"] > 0.5)
