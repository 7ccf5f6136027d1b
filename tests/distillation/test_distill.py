"""distill() end to end: every teacher kind, every generator, bad input, determinism."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

import surrogate as sg
from surrogate.distillation import MUNGE, TRANSFERS, Distillation, distill
from surrogate.testing import TOY_SPACE, toy_simulator

SPACE = sg.Space([sg.Real("a", -1, 1), sg.Real("b", -1, 1)])


def disc(X):
    return (X.a ** 2 + X.b ** 2 < 0.5).astype(int).to_numpy()


@pytest.fixture(scope="module")
def data():
    X = sg.sample(SPACE, 200, seed=0)
    return X, disc(X)


@pytest.fixture(scope="module")
def classifier(data):
    from sklearn.ensemble import RandomForestClassifier

    X, y = data
    return RandomForestClassifier(n_estimators=30, random_state=0).fit(X, y)


@pytest.mark.parametrize("transfer", TRANSFERS)
def test_every_generator_end_to_end(transfer, data, classifier):
    X, y = data
    result = distill(classifier, DecisionTreeClassifier(max_leaf_nodes=12, random_state=0),
                     transfer=transfer, n=1500, data=(X, y), space=SPACE, seed=0)
    table = result.transfer_set_
    n_generated = 0 if transfer == "data" else 1500
    assert (table.source == "generated").sum() == n_generated
    assert (table.source == "data").sum() == len(X)
    pd.testing.assert_frame_equal(SPACE.validate(table[["a", "b"]]), table[["a", "b"]])
    f = result.fidelity_
    assert f["holdout_agreement"] > 0.85 and f["data_agreement"] > 0.85
    assert f["accuracy"] > 0.8 and f["teacher_accuracy"] > 0.95
    assert result.student_size_ <= 12
    test = sg.sample(SPACE, 2000, seed=1)
    assert np.mean(result.predict(test) == disc(test)) > 0.8


def test_simulator_teacher_drops_and_counts_failed_runs():
    sim = toy_simulator("flaky")  # raises for x > 0.8
    result = distill(sim, DecisionTreeClassifier(max_depth=4), output="f", threshold=(">", 0.5),
                     n=150, seed=0)
    runs = result.runs_
    assert len(runs) == 150 and result.n_failed_ == int((runs.X.x > 0.8).sum()) > 0
    assert len(result.transfer_set_) == 150 - result.n_failed_
    assert (result.transfer_set_.x <= 0.8).all()
    np.testing.assert_array_equal(result.transfer_set_["p(1)"],
                                  (runs.valid().Y.f > 0.5).astype(float))
    with pytest.raises(ValueError, match="pass output= one of"):
        distill(sim, DecisionTreeClassifier(), threshold=(">", 0.5), n=10)
    with pytest.raises(ValueError, match="output='h' is not an output"):
        distill(sim, DecisionTreeClassifier(), output="h", threshold=(">", 0.5), n=10)


def test_simulator_teacher_resumes_from_its_checkpoint(tmp_path):
    log = tmp_path / "calls.txt"
    sim = toy_simulator("ok", log=str(log))
    options = dict(output="g", labels="value", n=60, seed=3, checkpoint=tmp_path / "runs")
    first = distill(sim, DecisionTreeRegressor(max_depth=3), **options)
    assert len(log.read_text().splitlines()) == 60
    second = distill(sim, DecisionTreeRegressor(max_depth=3), **options)
    assert len(log.read_text().splitlines()) == 60  # every run came from the checkpoint
    pd.testing.assert_frame_equal(first.transfer_set_, second.transfer_set_)


def test_simulator_teacher_on_worker_processes():
    sim = toy_simulator("flaky")
    serial = distill(sim, DecisionTreeRegressor(max_depth=3), output="f", labels="value",
                     n=40, seed=2)
    pool = distill(sim, DecisionTreeRegressor(max_depth=3), output="f", labels="value",
                   n=40, seed=2, executor=sg.ProcessExecutor(2))
    pd.testing.assert_frame_equal(serial.transfer_set_, pool.transfer_set_)
    assert pool.n_failed_ == serial.n_failed_ > 0


def test_our_gp_regressor_as_a_threshold_teacher_with_prim_student():
    from scipy.stats import norm

    from surrogate.discovery import PRIM

    X = sg.sample(SPACE, 40, seed=4)
    teacher = sg.GPRegressor(seed=0).fit(X, X.a + 0.5 * X.b)
    result = distill(teacher, PRIM(), space=SPACE, n=2000, threshold=(">", 0.5),
                     data=(X, X.a + 0.5 * X.b), seed=0)
    table = result.transfer_set_
    mean, std = teacher.predict(table[["a", "b"]], return_std=True)
    np.testing.assert_allclose(table["p(1)"], 1 - norm.cdf((0.5 - mean) / std), atol=1e-12)
    box = result.student_.box()
    assert "a" in box.restricted and box.density > 0.8
    assert result.fidelity_["accuracy"] > 0.8  # the box against a + b/2 > 0.5 on Data 1


def test_callable_teacher_with_munge_and_a_regression_student(data):
    X, _ = data
    result = distill(lambda p: p["a"] * p["b"], DecisionTreeRegressor(max_depth=12),
                     transfer="munge", space=SPACE, data=X, labels="value", n=3000, seed=5)
    assert result.fidelity_["metric"] == "q2" and result.fidelity_["holdout"] > 0.9
    assert result.runs_ is not None and result.n_failed_ == 0


def test_arrays_in_arrays_out(data, classifier):
    X, y = data
    teacher = LogisticRegression().fit(X.to_numpy(), y)  # fitted without column names
    result = distill(teacher, DecisionTreeClassifier(max_depth=3), transfer="kde",
                     data=(X.to_numpy(), y), n=300, seed=0)
    assert list(result.transfer_set_.columns[:2]) == ["x0", "x1"]
    assert result.predict(X.to_numpy()).shape == (len(X),)
    assert result.predict_proba(X.to_numpy()).shape == (len(X), 2)


def test_same_seed_same_distillation(data, classifier):
    X, y = data
    def run(seed):
        return distill(classifier, DecisionTreeClassifier(max_depth=4, random_state=0),
                       transfer="gmm", n=500, data=(X, y), seed=seed)

    first, again, other = run(7), run(7), run(8)
    pd.testing.assert_frame_equal(first.transfer_set_, again.transfer_set_)
    assert first.fidelity_ == again.fidelity_
    assert not first.transfer_set_.equals(other.transfer_set_)


def test_the_seed_fixes_an_unseeded_student_whatever_the_global_state(data, classifier):
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data
    students = [RandomForestClassifier(n_estimators=5),
                make_pipeline(StandardScaler(), RandomForestClassifier(n_estimators=5)),
                sg.NNClassifier(n_ensemble=1, max_epochs=20)]
    for student in students:
        runs = []
        for global_seed in (1, 2):
            np.random.seed(global_seed)  # noqa: NPY002 - the global state a user may set
            result = distill(classifier, student, n=300, data=(X, y), transfer="munge", seed=0)
            runs.append(result.predict_proba(X))
        np.testing.assert_array_equal(runs[0], runs[1])
    assert students[0].random_state is None  # the user's estimator is left as it was
    seeded = distill(classifier, RandomForestClassifier(n_estimators=5, random_state=3), n=300,
                     data=(X, y), transfer="munge", seed=0)
    assert seeded.student_.random_state == 3  # a set seed is the user's and stays


def test_include_data_and_generator_objects(data, classifier):
    X, y = data
    munge = MUNGE(p=0.3)
    result = distill(classifier, DecisionTreeClassifier(max_depth=4), transfer=munge, n=400,
                     data=(X, y), space=SPACE, include_data=False, seed=0)
    table = result.transfer_set_
    assert (table.use[table.source == "data"] == "unused").all()
    assert result.fidelity_["data"] is not None  # measured on Data 1 even when not learnt
    assert munge.space is None and result.generator_.space == SPACE  # cloned, then given it
    assert result.generator_.p == 0.3


def test_summary_is_readable_and_json_safe(data, classifier):
    X, y = data
    result = distill(classifier, DecisionTreeClassifier(max_leaf_nodes=8), transfer="munge",
                     n=300, data=(X, y), seed=0)
    summary = result.to_dict()
    assert json.loads(json.dumps(summary)) == summary
    assert summary["student_size"] == 8 and summary["n_generated"] == 300
    assert summary["n_train"] + summary["n_holdout"] + summary["n_unused"] \
        == len(result.transfer_set_)
    assert summary["classes"] == [0, 1]
    text = str(result)
    assert "RandomForestClassifier" in text and "DecisionTreeClassifier (size 8)" in text
    f = result.fidelity_
    assert f"fidelity (agreement) on {f['n_holdout']} held-out points: {f['holdout']:.4g} " \
        f"(probability gap {f['holdout_gap']:.4g}, lower is better)" in text
    assert isinstance(result, Distillation) and "Distillation" in repr(result)
    baseline = distill(classifier, DecisionTreeClassifier(max_depth=2), transfer="data",
                       data=(X, y), seed=0)
    assert "transfer set: Data 1's 200 points, soft labels (T = 1)" in str(baseline)


def test_predict_takes_columns_by_name(data, classifier):
    X, y = data
    result = distill(classifier, DecisionTreeClassifier(max_depth=4), transfer="munge", n=300,
                     data=(X, y), seed=0)
    np.testing.assert_array_equal(result.predict(X[["b", "a"]]), result.predict(X))
    np.testing.assert_array_equal(result.predict(X.to_numpy()), result.predict(X))
    with pytest.raises(ValueError, match=r"X lacks the column\(s\) \['b'\]"):
        result.predict(X[["a"]])


def test_bad_input_is_named(data, classifier):
    X, y = data
    student = DecisionTreeClassifier()
    with pytest.raises(NotFittedError, match="teacher LogisticRegression is not fitted"):
        distill(LogisticRegression(), student, space=SPACE, n=10)
    with pytest.raises(ValueError, match="data: y has 199 labels but X has 200 rows"):
        distill(classifier, student, transfer="munge", data=(X, y[:-1]))
    with pytest.raises(ValueError, match="n must be an int >= 1, got 0"):
        distill(classifier, student, space=SPACE, n=0)
    with pytest.raises(ValueError, match="transfer must be one of"):
        distill(classifier, student, transfer="smote", data=X)
    with pytest.raises(TypeError, match="transfer must be one of"):
        distill(classifier, student, transfer=42, data=X)
    with pytest.raises(ValueError, match="space= is required"):
        distill(lambda p: 0.0, student, n=10)
    with pytest.raises(ValueError, match="transfer='munge' learns from Data 1: pass data="):
        distill(classifier, student, transfer="munge", space=SPACE)
    with pytest.raises(ValueError, match="transfer='space' needs a space"):
        distill(classifier, student, data=X)
    with pytest.raises(ValueError, match=r"holdout must be a share in \[0, 1\)"):
        distill(classifier, student, space=SPACE, holdout=1.0)
    with pytest.raises(TypeError, match="teacher must be a surrogate.Simulator"):
        distill(42, student, space=SPACE)
    with pytest.raises(ValueError, match="data: column 'a'"):
        distill(classifier, student, data=X * 3, space=SPACE)  # outside the space
    with pytest.raises(ValueError, match="space= differs from the simulator"):
        distill(toy_simulator(), student, space=SPACE, output="f", threshold=(">", 0))
    assert TOY_SPACE != SPACE
    assert list(classifier.feature_names_in_) == ["a", "b"]
    with pytest.raises(ValueError, match=r"fitted on named columns \['a', 'b'\], but data= has "
                                         "no column names"):
        distill(classifier, student, transfer="munge", data=X.to_numpy(), n=20)


def test_a_student_that_cannot_read_categories_is_refused_before_the_teacher_runs():
    from sklearn.compose import make_column_transformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder
    from sklearn.tree import DecisionTreeRegressor

    space = sg.Space([sg.Real("x", 0, 1), sg.Categorical("c", ["a", "b"])])
    calls = []

    def teacher(x, c):
        calls.append(1)
        return x + (c == "b")

    simulator = sg.Simulator(teacher, space, ["y"])
    with pytest.raises(ValueError, match=r"DecisionTreeRegressor cannot take the categorical "
                                         r"input\(s\) \['c'\]: .*OneHotEncoder"):
        sg.distill(simulator, DecisionTreeRegressor(), labels="value", n=50, seed=0)
    assert calls == []
    encoded = make_pipeline(make_column_transformer((OneHotEncoder(), ["c"]),
                                                    remainder="passthrough"),
                            DecisionTreeRegressor(max_depth=4, random_state=0))
    result = sg.distill(simulator, encoded, labels="value", n=200, seed=0)  # as the error says
    assert result.fidelity_["metric"] == "q2" and result.fidelity_["holdout"] > 0.9


@pytest.mark.parametrize("transfer", [sg.DataGenerator(), MUNGE(p=0.5)])
def test_no_held_out_point_is_a_training_point(transfer, data, classifier):
    # a bootstrap of Data 1, and MUNGE's unchanged points (a share (1 - p)^d), copy Data 1 rows
    # that also train the student: such copies were held out and inflated the fidelity
    X, y = data
    result = distill(classifier, DecisionTreeClassifier(random_state=0), transfer=transfer,
                     n=1000, data=(X, y), labels="hard", seed=0)
    table = result.transfer_set_
    held = table.loc[table.use == "holdout", ["a", "b"]].to_numpy()
    train = table.loc[table.use == "train", ["a", "b"]].to_numpy()
    gap = np.abs(held[:, None, :] - train[None, :, :]).max(axis=2).min(axis=1)
    assert len(held) > 100 and gap.min() > 1e-9
    data_use = table.use[table.source == "data"]
    if isinstance(transfer, sg.DataGenerator):  # every point copies a Data 1 row: some unused
        assert (data_use == "unused").any()
    else:  # the held-out points are drawn among inputs Data 1 has not: all of it trains
        assert (data_use == "train").all()


def test_data_column_order_is_kept_for_an_array_fitted_teacher():
    from sklearn.ensemble import RandomForestRegressor

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.uniform(0, 1, 200), "b": rng.uniform(0, 100, 200)})
    y = 10 * X.a + X.b / 100
    forest = RandomForestRegressor(20, random_state=0).fit(X.to_numpy(), y)  # no names
    space = sg.Space([sg.Real("b", 0, 100), sg.Real("a", 0, 1)])  # another order
    result = distill(forest, DecisionTreeRegressor(max_depth=6), transfer="munge",
                     data=(X, y), space=space, n=500, labels="value", seed=0)
    table = result.transfer_set_
    assert list(table.columns[:2]) == ["a", "b"]
    np.testing.assert_allclose(table.value, forest.predict(table[["a", "b"]].to_numpy()))
    assert result.fidelity_["teacher_accuracy"] > 0.9



def test_predict_takes_the_same_frame_with_integer_column_names(data, classifier):
    X, y = data
    numbered = X.set_axis([0, 1], axis=1)  # columns 0, 1: named '0', '1' in the transfer set
    from sklearn.ensemble import RandomForestClassifier

    teacher = RandomForestClassifier(n_estimators=10, random_state=0).fit(numbered, y)
    result = distill(teacher, DecisionTreeClassifier(max_depth=3), transfer="munge", n=300,
                     data=(numbered, y), seed=0)
    assert result.predict(numbered).shape == (len(X),)


@pytest.mark.parametrize("transfer", ["munge", "kde", "gmm"])
def test_a_boolean_input_stays_boolean_for_a_tree_student(transfer):
    # the generators returned it as object-dtype categories, which a tree refused
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"age": rng.integers(18, 90, 300), "flag": rng.random(300) < 0.4})
    y = ((X.age > 50) & X.flag).astype(int)
    teacher = RandomForestClassifier(30, random_state=0).fit(X, y)
    result = distill(teacher, DecisionTreeClassifier(max_leaf_nodes=8), transfer=transfer,
                     data=(X, y), n=500, seed=0)
    assert result.transfer_set_.flag.dtype == bool
    assert result.fidelity_["holdout_agreement"] > 0.95


def test_a_teacher_whose_predict_gives_0_1_teaches_classes():
    # SPEC 6.1: a fitted estimator with predict only, e.g. a PRIM box (a boolean mask)
    X = sg.sample(SPACE, 300, seed=0)
    box = sg.PRIM().fit(X, disc(X))
    hard = distill(box, DecisionTreeClassifier(max_depth=4), space=SPACE, n=500,
                   labels="hard", seed=0)
    assert hard.fidelity_["holdout"] > 0.9
    assert set(hard.transfer_set_.label) == {0, 1}
    with pytest.warns(UserWarning, match="soft labels are its classes, one-hot"):
        distill(box, DecisionTreeClassifier(max_depth=4), space=SPACE, n=200, seed=0)


def test_a_pipeline_student_learns_soft_labels_through_its_last_step(data, classifier):
    # the pipeline the categorical-input error recommends: its final tree gets the weights
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X, y = data
    student = make_pipeline(StandardScaler(), DecisionTreeClassifier(max_depth=4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "cannot learn soft labels" fallback
        result = distill(classifier, student, transfer="munge", n=400, data=(X, y), seed=0)
    assert result.route_ == "class-weighted duplicates"
    assert result.fidelity_["holdout_agreement"] > 0.85


def test_a_generator_object_left_unseeded_is_seeded_from_distills_seed():
    from surrogate.distillation import GMMGenerator, KDEGenerator

    rng = np.random.default_rng(0)
    X = pd.DataFrame(np.vstack([rng.normal(0, 0.1, (30, 2)), rng.normal(1, 0.1, (30, 2))]),
                     columns=["a", "b"])
    teacher = DecisionTreeClassifier(max_depth=2, random_state=0).fit(X, X.a + X.b > 1)
    for make in (GMMGenerator, KDEGenerator):
        sets = [distill(teacher, DecisionTreeClassifier(max_depth=2), transfer=make(), data=X,
                        n=100, seed=0).transfer_set_ for _ in range(3)]
        for other in sets[1:]:
            pd.testing.assert_frame_equal(sets[0], other)


def test_the_pruned_tree_refusing_categories_is_not_told_to_be_one_of_ours():
    # the refusal said "use one of surrogate's models, PRIM or CART" to sg.PrunedTree, which
    # is one of surrogate's models: it now names the ones that read categories
    space = sg.Space([sg.Real("x", 0, 1), sg.Categorical("c", ["a", "b"])])
    simulator = sg.Simulator(lambda x, c: float(x > 0.5 and c == "b"), space, ["y"])
    with pytest.raises(ValueError, match=r"PrunedTree cannot take the categorical input\(s\) "
                                         r"\['c'\]: PrunedTree reads numbers only; use PRIM, "
                                         r"CART or one of surrogate's GP or NN models"):
        sg.distill(simulator, sg.PrunedTree(4), threshold=(">", 0.5), n=50, seed=0)
