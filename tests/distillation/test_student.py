"""Students: every kind learns the soft labels by its own route, and is read back right."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import surrogate as sg
from surrogate.discovery import CART, PRIM
from surrogate.distillation import distill

SPACE = sg.Space([sg.Real("a", 0, 1), sg.Real("b", 0, 1), sg.Real("c", 0, 1)])


@pytest.fixture(scope="module")
def data():
    X = sg.sample(SPACE, 300, seed=0)
    y = ((X.a > 0.5) & (X.b < 0.6)).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def soft_teacher(data):
    X, y = data
    return LogisticRegression(C=3.0).fit(X, y)


def train_rows(result):
    return result.transfer_set_[result.transfer_set_.use == "train"]


def test_soft_labels_give_the_hard_routes_student_when_the_teacher_is_certain(data):
    X, y = data
    certain = DecisionTreeClassifier(random_state=0).fit(X, y)  # pure leaves: probabilities 0/1
    test = sg.sample(SPACE, 2000, seed=9)
    assert set(np.unique(certain.predict_proba(test))) == {0.0, 1.0}
    students = {}
    for labels in ("soft", "hard"):
        result = distill(certain, DecisionTreeClassifier(max_depth=5, random_state=0),
                         space=SPACE, n=1000, data=(X, y), labels=labels, seed=3)
        students[labels] = result
    assert students["soft"].route_ == "class-weighted duplicates"
    assert students["hard"].route_ == "classes"
    soft, hard = students["soft"].student_.tree_, students["hard"].student_.tree_
    np.testing.assert_array_equal(soft.feature, hard.feature)
    np.testing.assert_array_equal(soft.threshold, hard.threshold)
    np.testing.assert_array_equal(students["soft"].predict(test), students["hard"].predict(test))


def test_soft_labels_weight_the_duplicates(soft_teacher):
    # one point per class with weight p: a depth-0 tree predicts the weighted class shares
    result = distill(soft_teacher, DecisionTreeClassifier(max_depth=1, min_samples_leaf=10**6),
                     space=SPACE, n=200, seed=1, holdout=0.0)
    table = result.transfer_set_
    expected = table[["p(0)", "p(1)"]].to_numpy().mean(axis=0)
    np.testing.assert_allclose(result.student_.predict_proba(table[["a", "b", "c"]])[0], expected)


def test_a_regressor_student_fits_the_probability_of_the_positive_class(soft_teacher):
    result = distill(soft_teacher, DecisionTreeRegressor(), space=SPACE, n=300, seed=2)
    assert result.route_ == "probabilities"
    rows = train_rows(result)
    np.testing.assert_allclose(result.student_.predict(rows[["a", "b", "c"]]), rows["p(1)"])
    np.testing.assert_allclose(result.predict_proba(rows[["a", "b", "c"]]),
                               rows[["p(0)", "p(1)"]].to_numpy())
    assert (result.predict(rows[["a", "b", "c"]]) == rows.label).all()


def test_prim_takes_the_soft_labels_directly(soft_teacher):
    result = distill(soft_teacher, PRIM(), space=SPACE, n=1000, seed=4)
    assert result.route_ == "probabilities"
    rows = train_rows(result)
    direct = PRIM().fit(rows[["a", "b", "c"]].reset_index(drop=True), rows["p(1)"].to_numpy())
    pd.testing.assert_frame_equal(result.student_.trajectory_, direct.trajectory_)
    box = result.student_.box()
    test = sg.sample(SPACE, 500, seed=5)
    assert (result.predict(test) == box.contains(test).astype(int)).all()  # inside: the case
    assert result.student_size_ == box.n_restricted
    assert {"a", "b"} <= set(box.restricted)


def test_cart_leaves_give_the_probability_of_the_case(soft_teacher):
    result = distill(soft_teacher, CART(mass_min=0.05, seed=0), space=SPACE, n=1000, seed=6)
    test = sg.sample(SPACE, 500, seed=7)
    leaf_share = result.student_.tree_.predict_proba(test.to_numpy())[:, 1]  # CART's own tree
    np.testing.assert_allclose(result.predict_proba(test)[:, 1], leaf_share)
    assert result.student_size_ == len(result.student_.boxes_)


def test_a_classifier_without_sample_weight_gets_hard_labels_with_a_warning(soft_teacher):
    with pytest.warns(UserWarning, match="takes no sample_weight"):
        result = distill(soft_teacher, KNeighborsClassifier(n_neighbors=1), space=SPACE,
                         n=200, seed=8)
    rows = train_rows(result)
    assert result.route_ == "classes (no sample_weight)"
    assert (result.predict(rows[["a", "b", "c"]]) == rows.label).all()


def test_the_student_is_cloned_and_must_have_fit(soft_teacher):
    student = DecisionTreeClassifier(max_depth=2)
    result = distill(soft_teacher, student, space=SPACE, n=100, seed=0)
    assert not hasattr(student, "tree_") and hasattr(result.student_, "tree_")
    with pytest.raises(TypeError, match="student must be an estimator with fit"):
        distill(soft_teacher, object(), space=SPACE, n=100)
    with pytest.raises(TypeError, match=r"an estimator instance, e.g. DecisionTreeClassifier\(\)"):
        distill(soft_teacher, DecisionTreeClassifier, space=SPACE, n=100)


def test_students_that_cannot_take_the_labels_are_refused(data):
    X, _ = data
    three = np.where(X.a < 0.3, 0, np.where(X.a < 0.6, 1, 2))
    teacher = LogisticRegression().fit(X, three)
    with pytest.raises(ValueError, match="two classes.*the teacher has 3 classes"):
        distill(teacher, PRIM(), space=SPACE, n=200)
    # refused before the teacher runs: a student learning a case of interest, value labels
    calls = []

    def teacher_fn(p):
        calls.append(1)
        return p["a"]

    for student in (DecisionTreeClassifier(), PRIM()):
        with pytest.raises(ValueError, match=rf"student {type(student).__name__} learns a case "
                                             r"of interest \(classes or boxes\)"):
            distill(teacher_fn, student, space=SPACE, n=50, labels="value")
    assert calls == []


@pytest.mark.parametrize("model", [sg.NNClassifier(n_ensemble=2, seed=0),
                                   sg.GPClassifier(seed=0)], ids=["nn", "gp"])
def test_our_classifiers_learn_the_teachers_probabilities(soft_teacher, model):
    # knowledge distillation proper: the student's cross-entropy against the teacher's
    # probabilities (each took the hard labels, with a warning, before it had sample_weight)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        result = distill(soft_teacher, model, space=SPACE, n=400, seed=4)  # (cloned)
    assert result.route_ == "class-weighted duplicates"
    test = sg.sample(SPACE, 500, seed=11)
    teacher = soft_teacher.predict_proba(test)[:, 1]
    student = result.predict_proba(test)[:, 1]
    assert np.mean(np.abs(student - teacher)) < 0.03
    hard = distill(soft_teacher, model, space=SPACE, n=400, seed=4, labels="hard")
    # the hard labels' student is sure where the teacher is not
    assert np.mean(np.abs(hard.predict_proba(test)[:, 1] - teacher)) > \
        2 * np.mean(np.abs(student - teacher))
