"""Fidelity figures against hand computations on tiny cases."""

import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor

import surrogate as sg
from surrogate.distillation import agreement, distill, probability_gap, q2

SPACE = sg.Space([sg.Real("x", 0, 1)])


def test_metric_functions_by_hand():
    assert agreement(["a", "b", "b", "c"], ["a", "b", "c", "c"]) == 0.75
    assert q2([0.0, 1.0, 2.0], [0.0, 1.0, 1.0]) == pytest.approx(1 - 1 / 2)
    assert np.isnan(q2([1.0, 1.0], [1.0, 2.0]))
    # two classes: |0.2 - 0.5|; three: 0.5 (|0.1 - 0.3| + |0.9 - 0.2| + |0 - 0.5|) = 0.7
    assert probability_gap([[0.8, 0.2]], [[0.5, 0.5]]) == pytest.approx(0.3)
    assert probability_gap([[0.1, 0.9, 0.0]], [[0.3, 0.2, 0.5]]) == pytest.approx(0.7)
    assert probability_gap([[0.8, 0.2], [0.1, 0.9]], [[0.5, 0.5], [0.1, 0.9]]) \
        == pytest.approx(0.15)


def test_soft_and_hard_fidelity_of_a_prior_student_by_hand():
    # teacher: the case x < 0.5, no predictive distribution, so soft labels are 0/1
    X = pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.6, 0.8]})
    truth = [1, 1, 0, 0, 0]  # 0.3 is truly not a case: the teacher is wrong there
    # 0/1 labels are the case itself; "<" 0.5 would read outputs 0/1 the other way: a warning
    with pytest.warns(UserWarning, match="read as the case of interest"):
        result = distill(lambda p: p["x"], DummyClassifier(strategy="prior"), space=SPACE,
                         transfer="data", data=(X, truth), threshold=("<", 0.5), holdout=0.0,
                         seed=0)
    f = result.fidelity_
    # teacher labels 1, 1, 1, 0, 0: the prior student says p(1) = 3/5 everywhere, class 1
    assert f["metric"] == "agreement"  # the glossary's fidelity, for soft labels too
    assert f["holdout"] is None and f["holdout_gap"] is None and f["n_holdout"] == 0
    assert f["data_gap"] == pytest.approx((3 * 0.4 + 2 * 0.6) / 5)  # 0.48
    assert f["data"] == f["data_agreement"] == pytest.approx(3 / 5)
    assert f["accuracy"] == pytest.approx(2 / 5)
    assert f["teacher_accuracy"] == pytest.approx(4 / 5)
    hard = distill(lambda p: p["x"], DummyClassifier(strategy="prior"), space=SPACE,
                   transfer="data", data=(X, np.array(truth, dtype=bool)),
                   threshold=("<", 0.5), labels="hard", holdout=0.0, seed=0).fidelity_
    assert hard["metric"] == "agreement"
    assert hard["data"] == hard["data_agreement"] == pytest.approx(3 / 5)
    assert hard["data_gap"] is None
    assert hard["accuracy"] == pytest.approx(2 / 5)


def test_holdout_fidelity_is_on_the_points_the_student_never_saw():
    X = pd.DataFrame({"x": [0.1, 0.2, 0.3, 0.6, 0.8]})
    result = distill(lambda p: p["x"], DummyClassifier(strategy="prior"), space=SPACE,
                     transfer="data", data=X, threshold=("<", 0.5), holdout=0.4, seed=1)
    table = result.transfer_set_
    train, held = table[table.use == "train"], table[table.use == "holdout"]
    assert (len(train), len(held)) == (3, 2)
    p_student = train["p(1)"].mean()
    assert result.fidelity_["holdout_gap"] == pytest.approx(
        np.mean(np.abs(held["p(1)"] - p_student)))
    predicted = int(p_student >= 0.5)
    assert result.fidelity_["holdout"] == result.fidelity_["holdout_agreement"] \
        == pytest.approx(np.mean(held.label == predicted))


def test_value_fidelity_and_accuracy_by_hand():
    X = pd.DataFrame({"x": [0.0, 0.25, 0.5, 0.75, 1.0]})
    truth = [0.0, 0.5, 1.0, 1.5, 3.0]  # the teacher (2x) is wrong at x = 1 by 1
    result = distill(lambda p: 2 * p["x"], DummyRegressor(), space=SPACE, transfer="data",
                     data=(X, truth), labels="value", holdout=0.0, seed=0)
    f = result.fidelity_
    # the student predicts the teachers' mean, 1.0: Q² = 0 against the teacher
    assert f["metric"] == "q2" and f["data"] == pytest.approx(0.0)
    assert f["data_agreement"] is None
    sst = 5.3  # sum of (truth - 1.2)^2
    assert f["accuracy"] == pytest.approx(1 - 5.5 / sst)
    assert f["teacher_accuracy"] == pytest.approx(1 - 1.0 / sst)
    assert not hasattr(result, "predict_proba")  # values have no class probabilities


def test_data_1_labels_outside_the_teachers_classes_give_no_accuracy_and_a_warning():
    """A teacher of True/False given Data 1 labelled "s"/"u": every label 'disagreed', and the
    accuracies read 0.0 with no word."""
    from sklearn.tree import DecisionTreeClassifier

    X = pd.DataFrame({"x": np.linspace(0.0, 1.0, 40)})
    teacher = DecisionTreeClassifier(random_state=0).fit(X, X["x"] > 0.5)
    with pytest.warns(UserWarning, match=r"labels \['s', 'u'\] are not among the teacher's "
                                         r"classes \[False, True\]"):
        result = distill(teacher, DummyClassifier(strategy="prior"), transfer="data",
                         data=(X, np.where(X["x"] > 0.5, "s", "u")), holdout=0.0, seed=0)
    assert result.fidelity_["accuracy"] is None and result.fidelity_["teacher_accuracy"] is None
    assert result.fidelity_["data_agreement"] is not None


def test_data_as_a_list_of_x_and_y_is_the_pair():
    """[X, y]: numpy's "inhomogeneous shape" error before."""
    X = pd.DataFrame({"x": np.linspace(0.0, 1.0, 40)})
    y = (X["x"] > 0.5).to_numpy()
    from sklearn.tree import DecisionTreeClassifier

    teacher = DecisionTreeClassifier(random_state=0).fit(X, y)
    pair = distill(teacher, DummyClassifier(), transfer="data", data=(X, y), holdout=0.0, seed=0)
    listed = distill(teacher, DummyClassifier(), transfer="data", data=[X, y], holdout=0.0,
                     seed=0)
    assert listed.fidelity_ == pair.fidelity_ and listed.fidelity_["accuracy"] is not None
