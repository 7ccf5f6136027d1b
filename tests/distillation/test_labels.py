"""Labels: temperature, thresholds, and the teacher's answers reaching the transfer set intact."""

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import surrogate as sg
from surrogate.distillation import distill, tempered
from surrogate.distillation._labels import case_probability


@pytest.fixture(scope="module")
def three_classes():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.uniform(-1, 1, (300, 2)), columns=["a", "b"])
    y = np.select([X.a > 0.3, X.b > 0.0], ["hi", "mid"], "lo")
    return X, y, LogisticRegression().fit(X, y)


def test_temperature_one_gives_the_teachers_probabilities_exactly(three_classes):
    X, y, teacher = three_classes
    result = distill(teacher, DecisionTreeClassifier(max_depth=3), transfer="munge",
                     data=(X, y), n=200, seed=0)
    table = result.transfer_set_
    inputs = table[["a", "b"]]
    columns = [f"p({c})" for c in teacher.classes_]
    np.testing.assert_array_equal(table[columns].to_numpy(), teacher.predict_proba(inputs))
    assert (table.label == teacher.predict(inputs)).all()


def test_large_temperature_flattens_and_keeps_the_order(three_classes):
    X, _, teacher = three_classes
    proba = teacher.predict_proba(X)
    spread = [np.ptp(tempered(proba, t), axis=1).mean() for t in (1.0, 2.0, 10.0, 1e4)]
    assert all(a > b for a, b in zip(spread, spread[1:], strict=False))  # flatter and flatter
    np.testing.assert_allclose(tempered(proba, 1e6), 1 / 3, atol=1e-5)  # T -> inf: uniform
    hot = tempered(proba, 5.0)
    assert (hot.argmax(axis=1) == proba.argmax(axis=1)).all()
    np.testing.assert_allclose(hot.sum(axis=1), 1.0)
    # softmax(log p / T) by hand for one row
    row = proba[0]
    np.testing.assert_allclose(hot[0], row ** 0.2 / (row ** 0.2).sum())
    sharp = tempered(np.array([[0.5, 0.3, 0.2]]), 0.01)  # T -> 0: the teacher's class, one-hot
    np.testing.assert_allclose(sharp, [[1.0, 0.0, 0.0]], atol=1e-12)


def test_temperature_reaches_the_transfer_set(three_classes):
    X, y, teacher = three_classes
    result = distill(teacher, DecisionTreeClassifier(max_depth=3), transfer="data",
                     data=(X, y), temperature=3.0, seed=0)
    table = result.transfer_set_
    columns = [f"p({c})" for c in teacher.classes_]
    expected = tempered(teacher.predict_proba(table[["a", "b"]]), 3.0)
    np.testing.assert_allclose(table[columns].to_numpy(), expected)


def test_gaussian_threshold_gives_the_probability_of_the_case():
    np.testing.assert_allclose(
        case_probability(np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 2.0]), ("<", 0.0)),
        [0.5, norm.cdf(-1.0), norm.cdf(1.0)])
    np.testing.assert_allclose(
        case_probability(np.array([1.0]), np.array([0.5]), (">=", 0.0)), [norm.cdf(2.0)])


def test_regressor_teacher_with_return_std_gives_soft_threshold_labels():
    rng = np.random.default_rng(1)
    X = pd.DataFrame(rng.uniform(0, 1, (40, 2)), columns=["a", "b"])
    teacher = GaussianProcessRegressor(alpha=1e-4).fit(X, X.a - X.b)
    space = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1)])
    result = distill(teacher, DecisionTreeClassifier(max_depth=4), space=space, n=300,
                     threshold=("<", 0.0), seed=0)
    table = result.transfer_set_
    mean, std = teacher.predict(table[["a", "b"]], return_std=True)
    np.testing.assert_allclose(table["p(1)"], norm.cdf((0.0 - mean) / std), rtol=1e-9)
    np.testing.assert_allclose(table["p(0)"] + table["p(1)"], 1.0)
    assert (table.label == (mean < 0)).all()  # the class: the more probable side
    hard = distill(teacher, DecisionTreeClassifier(max_depth=4), space=space, n=300,
                   threshold=("<", 0.0), labels="hard", seed=0)
    assert list(hard.transfer_set_.columns) == ["a", "b", "label", "source", "use"]
    assert (hard.transfer_set_.label == (teacher.predict(hard.transfer_set_[["a", "b"]]) < 0)).all()


def test_a_teacher_without_a_distribution_gives_hard_soft_labels():
    space = sg.Space([sg.Real("x", -1, 1)])
    result = distill(lambda p: p["x"], DecisionTreeRegressor(max_depth=2), space=space, n=50,
                     threshold=(">", 0.0), seed=0)
    assert "soft labels (all 0/1: the teacher gives no probability)" in str(result)
    table = result.transfer_set_
    np.testing.assert_array_equal(table["p(1)"], (table.x > 0).astype(float))


def test_label_choices_that_do_not_fit_the_teacher_are_refused(three_classes):
    X, y, teacher = three_classes
    student = DecisionTreeClassifier()
    with pytest.raises(ValueError, match="labels='value' is for a teacher that gives values"):
        distill(teacher, DecisionTreeRegressor(), transfer="data", data=X, labels="value")
    with pytest.raises(ValueError, match="a classifier teacher already gives classes"):
        distill(teacher, student, transfer="data", data=X, threshold=("<", 0))
    space = sg.Space([sg.Real("x", -1, 1)])
    with pytest.raises(ValueError, match="pass labels='value'.*or threshold="):
        distill(lambda p: p["x"], student, space=space, n=20)
    with pytest.raises(ValueError, match="give one or the other"):
        distill(lambda p: p["x"], DecisionTreeRegressor(), space=space, n=20, labels="value",
                threshold=("<", 0))
    for bad in [("=", 0.0), ("<",), ("<", np.nan), "< 0", ("<", "0")]:
        with pytest.raises(ValueError, match="threshold must be"):
            distill(lambda p: p["x"], student, space=space, n=20, threshold=bad)
    for bad in [0, -1.0, np.inf, True]:
        with pytest.raises(ValueError, match="temperature must be a finite number > 0"):
            distill(teacher, student, transfer="data", data=X, temperature=bad)
    with pytest.raises(ValueError, match="labels must be one of"):
        distill(teacher, student, transfer="data", data=X, labels="probabilities")


class _Even:
    """A plain predictor (no scikit-learn base, no fit): 0.5 for x < 0.5, else 0.9."""

    classes_ = np.array([0, 1])

    def predict_proba(self, X):
        p = np.where(np.asarray(X)[:, 0] < 0.5, 0.5, 0.9)
        return np.column_stack([1 - p, p])


class _Line:
    """A plain regressor object with predict only."""

    def predict(self, X):
        return np.asarray(X)[:, 0] - 0.5


def test_a_tie_goes_to_the_case_of_interest_and_plain_objects_teach():
    space = sg.Space([sg.Real("x", 0, 1)])
    result = distill(_Even(), DecisionTreeClassifier(max_depth=1), space=space, n=200,
                     labels="hard", seed=0)
    assert (result.transfer_set_["label"] == 1).all()  # 0.5 reads as the case, as in REDS
    line = distill(_Line(), DecisionTreeRegressor(max_depth=3), space=space, n=200,
                   labels="value", seed=0)
    assert line.fidelity_["holdout"] > 0.9
