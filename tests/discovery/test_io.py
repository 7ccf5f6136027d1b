"""Saving and loading discovery results: PRIM, CART, REDS and Box round-trip exactly, no pickle."""

import ast
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import surrogate as sg
from surrogate.discovery import CART, PRIM, REDS, Box, covering
from surrogate.models import GPRegressor


def mixed(n, seed):
    """Real, integer and categorical (str, bool) columns with a planted box on all three kinds."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "r": rng.uniform(size=n),
        "k": rng.integers(0, 10, n),
        "c": rng.choice(["lo", "mid", "hi", "max"], n),
        "flag": rng.choice([True, False], n),
    })
    y = ((X.k >= 3) & X.c.isin(["mid", "hi"]) & (X.r < 0.8)).to_numpy()
    return X, y, rng


def strict_json(path):
    """Parse with Python's json but refuse NaN/Infinity (which it accepts by default)."""

    def refuse(token):
        raise ValueError(f"non-standard JSON constant {token}")

    return json.loads(Path(path).read_text(), parse_constant=refuse)


def assert_same_box(a, b):
    assert isinstance(a, Box)
    assert a.restricted == b.restricted and a.rules() == b.rules()
    assert (a.coverage, a.density, a.mass, a.n_points) == (b.coverage, b.density, b.mass, b.n_points)
    pd.testing.assert_frame_equal(a.limits, b.limits, check_exact=True)
    pd.testing.assert_frame_equal(a.qp, b.qp, check_exact=True)
    assert a.to_dict() == b.to_dict()


def assert_same_boxes(loaded, original):
    assert len(loaded) == len(original)
    for a, b in zip(loaded, original, strict=True):
        assert_same_box(a, b)


@pytest.mark.parametrize("soft", [False, True])
def test_prim_round_trip_with_integer_categorical_and_soft_labels(tmp_path, soft):
    X, y, rng = mixed(1200, 0)
    labels = np.clip(0.8 * y + rng.uniform(0, 0.2, len(y)), 0, 1) if soft else y
    prim = PRIM(peel_alpha=0.1, objective="lenient2").fit(X, labels)
    final = prim.box()
    assert {"k", "c"} <= set(final.restricted)  # integer and categorical limits are exercised
    assert any(np.isinf(b._lower).any() or np.isinf(b._upper).any() for b in prim.boxes_)

    prim.save(tmp_path)
    loaded = sg.load(tmp_path)

    assert type(loaded) is PRIM and loaded.get_params() == prim.get_params()
    pd.testing.assert_frame_equal(loaded.trajectory_, prim.trajectory_, check_exact=True)
    assert_same_boxes(loaded.boxes_, prim.boxes_)
    assert list(loaded.feature_names_in_) == list(X.columns) and loaded.n_features_in_ == 4
    X_new, _, _ = mixed(500, 1)
    for i in (0, len(prim.boxes_) // 2, None):
        assert np.array_equal(loaded.predict(X_new, i=i), prim.predict(X_new, i=i))
    assert_same_box(loaded.box(min_density=0.9), prim.box(min_density=0.9))
    assert loaded.box(min_density=0.9).evaluate(X_new, labels[:500]) == prim.box(
        min_density=0.9).evaluate(X_new, labels[:500])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays.npz", "meta.json"]
    meta = strict_json(tmp_path / "meta.json")  # strict JSON: infinite limits are strings
    assert meta["schema"] == "surrogate.discovery" and meta["class"] == "PRIM"
    assert "-inf" in meta["boxes"][-1]["lower"] or "inf" in meta["boxes"][-1]["upper"]


def test_cart_round_trip_keeps_boxes_and_drops_the_tree(tmp_path):
    X, y, _ = mixed(800, 2)
    cart = CART(max_depth=4, seed=3).fit(X, y)
    cart.save(tmp_path)
    loaded = sg.load(tmp_path)
    assert type(loaded) is CART and loaded.get_params() == cart.get_params()
    assert_same_boxes(loaded.boxes_, cart.boxes_)
    assert_same_box(loaded.box(), cart.box())
    assert_same_box(loaded.box(min_density=0.5), cart.box(min_density=0.5))
    assert loaded.tree_ is None  # scikit-learn's tree is not saved (it would need pickle)
    strict_json(tmp_path / "meta.json")


def test_box_alone_round_trip_keeps_its_own_points(tmp_path):
    X, _, _ = mixed(1000, 4)
    y = (((X.r < 0.3) & (X.k >= 5)) | ((X.r > 0.7) & (X.c == "mid"))).to_numpy()
    first, second = covering(X, y, min_density=0.5, max_boxes=2)  # second: on the points left
    second.save(tmp_path / "box")
    loaded = sg.load(tmp_path / "box")
    assert_same_box(loaded, second)
    assert np.array_equal(loaded.contains(X), second.contains(X))
    assert np.array_equal(loaded._data[0], second._data[0])
    assert len(loaded._data[2]) == len(X) - first.n_points  # its own data, not the whole set
    strict_json(tmp_path / "box" / "meta.json")


def test_reds_round_trip_with_our_metamodel(tmp_path):
    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.uniform(size=60), "k": rng.integers(0, 4, 60),
                      "c": rng.choice(["p", "q"], 60)})
    y = X.a.to_numpy() - 0.5 + 0.1 * (X.c == "p")
    reds = REDS(n_samples=2000, threshold=(">", 0.0), cv=3, seed=0).fit(X, y)
    assert isinstance(reds.metamodel_, GPRegressor)  # the default metamodel with a threshold

    reds.save(tmp_path)
    loaded = sg.load(tmp_path)

    assert type(loaded) is REDS and loaded.get_params(deep=False).keys() == reds.get_params(
        deep=False).keys()
    assert loaded.threshold == (">", 0.0) and loaded.metamodel is None and loaded.seed == 0
    assert loaded.fidelity_ == reds.fidelity_
    pd.testing.assert_frame_equal(loaded.sample_, reds.sample_, check_exact=True)
    assert np.array_equal(loaded.sample_labels_, reds.sample_labels_)
    assert loaded.distillation_ is None and reds.distillation_.student_ is reds.prim_
    pd.testing.assert_frame_equal(loaded.trajectory_, reds.trajectory_, check_exact=True)
    assert_same_boxes(loaded.prim_.boxes_, reds.prim_.boxes_)
    assert loaded.boxes_ is loaded.prim_.boxes_ and loaded.trajectory_ is loaded.prim_.trajectory_
    assert np.array_equal(loaded.predict(X), reds.predict(X))
    assert isinstance(loaded.metamodel_, GPRegressor)
    features = np.column_stack([X.a, X.k, X.c == "p", X.c == "q"]).astype(float)
    assert np.array_equal(loaded.metamodel_.predict(features), reds.metamodel_.predict(features))
    assert (tmp_path / "metamodel" / "meta.json").is_file()
    strict_json(tmp_path / "meta.json")


def test_reds_given_metamodel_is_restored_as_a_parameter(tmp_path):
    rng = np.random.default_rng(6)
    X = pd.DataFrame(rng.uniform(size=(40, 2)), columns=["a", "b"])
    y = X.a.to_numpy() - X.b.to_numpy()
    reds = REDS(metamodel=GPRegressor(seed=1), n_samples=500, threshold=("<", 0.0), cv=None,
                prim=PRIM(mass_min=0.1), seed=2).fit(X, y)
    reds.save(tmp_path)
    loaded = sg.load(tmp_path)
    assert isinstance(loaded.metamodel, GPRegressor)
    assert loaded.metamodel.get_params() == reds.metamodel.get_params()
    assert loaded.prim.get_params() == reds.prim.get_params() and loaded.fidelity_ is None


def test_reds_with_a_scikit_learn_metamodel_saves_all_but_it_with_a_warning(tmp_path):
    X, y, _ = mixed(200, 7)
    from sklearn.ensemble import HistGradientBoostingClassifier

    reds = REDS(metamodel=HistGradientBoostingClassifier(random_state=0), n_samples=1000, cv=3,
                labels="hard", seed=0).fit(X, y)
    with pytest.warns(UserWarning, match="HistGradientBoostingClassifier.*not saved"):
        reds.save(tmp_path)
    with pytest.warns(UserWarning, match="metamodel_ is None"):
        loaded = sg.load(tmp_path)
    assert loaded.metamodel_ is None and loaded.labels == "hard"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["arrays.npz", "meta.json"]
    assert loaded.fidelity_ == reds.fidelity_
    pd.testing.assert_frame_equal(loaded.sample_, reds.sample_, check_exact=True)
    pd.testing.assert_frame_equal(loaded.trajectory_, reds.trajectory_, check_exact=True)
    assert_same_boxes(loaded.boxes_, reds.boxes_)


@pytest.fixture
def saved_prim(tmp_path):
    X, y, _ = mixed(300, 8)
    PRIM().fit(X, y).save(tmp_path)
    return tmp_path


def test_truncated_meta_json_is_named(saved_prim):
    meta = saved_prim / "meta.json"
    meta.write_text(meta.read_text()[:200])
    with pytest.raises(ValueError, match=r"meta\.json is not valid JSON") as info:
        sg.load(saved_prim)
    assert str(meta) in str(info.value)


def test_truncated_or_pickled_arrays_are_named(saved_prim):
    arrays = saved_prim / "arrays.npz"
    content = arrays.read_bytes()
    arrays.write_bytes(content[: len(content) // 2])
    with pytest.raises(ValueError, match=r"arrays\.npz is not a readable array file") as info:
        sg.load(saved_prim)
    assert str(arrays) in str(info.value)
    # an object array would need unpickling: refused, not loaded
    np.savez(arrays, numeric_0=np.array([{"x": 1}], dtype=object))
    with pytest.raises(ValueError, match=r"arrays\.npz .*never unpickled"):
        sg.load(saved_prim)
    arrays.unlink()
    with pytest.raises(ValueError, match=r"arrays\.npz is missing"):
        sg.load(saved_prim)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m: m["boxes"][0].update(lower=[0.0]), r"meta\.json does not describe a valid saved PRIM"),
        (lambda m: m["boxes"][0].update(allowed=[[99], None]), r"category code index 99"),
        (lambda m: m["domains"][0].update(kinds=["real"] * 4), r"valid saved PRIM"),
        (lambda m: m["params"].update(peel=1), r"valid saved PRIM.*peel"),
        (lambda m: m.update(schema_version=99), r"schema version 99"),
        (lambda m: m.update(**{"class": "os.system"}), r"unknown class 'os.system'"),
    ],
)
def test_wrong_content_is_refused_naming_the_file(saved_prim, edit, message):
    meta_file = saved_prim / "meta.json"
    meta = json.loads(meta_file.read_text())
    edit(meta)
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(ValueError, match=message) as info:
        sg.load(saved_prim)
    assert str(meta_file) in str(info.value)


def test_bad_save_requests_are_refused(tmp_path):
    with pytest.raises(ValueError, match="not fitted"):
        PRIM().save(tmp_path)
    X = pd.DataFrame({"r": np.linspace(0, 1, 40),
                      "when": pd.Series([pd.Timestamp("2020-01-01"), 1.5] * 20, dtype=object)})
    prim = PRIM().fit(X, X.r > 0.5)
    with pytest.raises(TypeError, match="category Timestamp.*parameter 'when'"):
        prim.save(tmp_path / "p")
    assert not (tmp_path / "p" / "meta.json").exists()
    with pytest.raises(ValueError, match="not a saved surrogate or discovery result"):
        sg.load(tmp_path / "nowhere")


def test_models_do_not_import_discovery_at_module_level():
    # the data flow is one way: sg.load reaches discovery only through its lazy, fixed table
    models = Path(sg.__file__).parent / "models"
    for source in models.glob("*.py"):
        for node in ast.parse(source.read_text()).body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [getattr(node, "module", None) or ""] + [a.name for a in node.names]
                assert not any("discovery" in name for name in names), source
