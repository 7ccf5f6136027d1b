"""save / load: identical predictions, readable metadata, no unpickling, clear refusals."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from surrogate.models import GPClassifier, GPRegressor, NNClassifier, NNRegressor, load


def _data():
    X = pd.DataFrame(np.random.default_rng(0).random((60, 2)), columns=["tau", "g"])
    y = np.sin(4 * X["tau"]) + X["g"]
    return X, y


MODELS = [
    GPRegressor(seed=0),
    GPRegressor(method="svgp", n_inducing=20, seed=0),
    NNRegressor(n_ensemble=2, max_epochs=30, hidden_layers=(8, 8), seed=0),
    GPClassifier(n_inducing=16, max_iter=30, seed=0),
    GPClassifier(additive=True, n_inducing=16, max_iter=30, seed=0),
    GPClassifier(warp=True, n_inducing=16, max_iter=30, seed=0),
    NNClassifier(n_ensemble=2, max_epochs=30, seed=0),
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: f"{type(m).__name__}")
def test_round_trip_predicts_identically(tmp_path, model):
    X, y = _data()
    target = y > y.median() if hasattr(model, "predict_proba") else y
    model.fit(X, target)
    model.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    assert list(loaded.feature_names_in_) == ["tau", "g"]
    # every learned attribute comes back (GPClassifier's documented n_iter_ did not)
    learned = {k for k in vars(model) if k.endswith("_") and not k.startswith("_")}
    assert learned <= set(vars(loaded)), learned - set(vars(loaded))
    for name in learned:
        if isinstance(getattr(model, name), int | float | str):
            assert getattr(loaded, name) == getattr(model, name), name
    Xt = X.sample(frac=1.0, random_state=1)[["g", "tau"]]  # columns matched by name
    if hasattr(model, "predict_proba"):
        assert np.array_equal(loaded.predict_proba(Xt), model.predict_proba(Xt))
        assert np.array_equal(loaded.classes_, model.classes_)
    else:
        for a, b in zip(loaded.predict(Xt, return_std=True), model.predict(Xt, return_std=True),
                        strict=True):
            assert np.array_equal(a, b)


def test_metadata_is_plain_json(tmp_path):
    X, y = _data()
    GPRegressor(kernel="rbf", seed=0).fit(X, y).save(tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text())
    assert meta["schema"] == "surrogate.models" and meta["schema_version"] == 1
    assert meta["class"] == "GPRegressor"
    assert meta["params"]["kernel"] == "rbf"
    assert meta["feature_names"] == ["tau", "g"]
    assert {"torch", "gpytorch", "numpy"} <= set(meta["versions"])
    assert len(meta["state"]["scalers"]["x_low"]) == 2
    tensors = torch.load(tmp_path / "tensors.pt", weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in tensors.values())


def test_multi_output_and_generator_seed_round_trip(tmp_path):
    X, y = _data()
    Y = pd.DataFrame({"a": y, "b": -y})
    gp = GPRegressor(seed=np.random.default_rng(3)).fit(X, Y)
    gp.save(tmp_path)
    loaded = load(tmp_path)
    assert loaded.outputs_ == ["a", "b"]
    assert np.array_equal(loaded.predict(X), gp.predict(X))


def test_unknown_schema_version_is_refused(tmp_path):
    X, y = _data()
    GPRegressor(seed=0).fit(X, y).save(tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text())
    meta["schema_version"] = 99
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="schema version 99"):
        load(tmp_path)


def test_unknown_class_and_foreign_files_are_refused(tmp_path):
    X, y = _data()
    GPRegressor(seed=0).fit(X, y).save(tmp_path)
    meta = json.loads((tmp_path / "meta.json").read_text())
    meta["class"] = "os.system"
    (tmp_path / "meta.json").write_text(json.dumps(meta))
    with pytest.raises(ValueError, match="unknown model class"):
        load(tmp_path)
    with pytest.raises(ValueError, match="not a saved surrogate"):
        load(tmp_path / "nowhere")
    # the file itself named: it said "no meta.json"
    with pytest.raises(ValueError, match=r"meta.json is a save's meta.json: pass the directory"):
        load(tmp_path / "meta.json")
    (tmp_path / "meta.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load(tmp_path)


class _Payload:
    """An arbitrary object: loading it would need unpickling, which load refuses."""


def test_pickled_objects_are_never_loaded(tmp_path):
    X, y = _data()
    GPRegressor(seed=0).fit(X, y).save(tmp_path)
    torch.save({"U": _Payload()}, tmp_path / "tensors.pt")
    _forget_digest(tmp_path)  # as a crafted file would: the digest alone is no defence
    with pytest.raises(ValueError, match="weights_only"):
        load(tmp_path)


def _forget_digest(path):
    """Remove the tensors' digest from ``meta.json``, as files saved before it was recorded."""
    meta = json.loads((path / "meta.json").read_text())
    meta.pop("tensors_sha256")
    (path / "meta.json").write_text(json.dumps(meta))


def test_unfitted_model_cannot_be_saved(tmp_path):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        GPRegressor().save(tmp_path)


def test_nearly_interpolating_gp_round_trips_bit_for_bit(tmp_path):
    # many points of a smooth function: the posterior variance 1 - |v|^2 is a difference of
    # nearly equal numbers, so any change in rounding (e.g. the Cholesky factor's memory
    # layout) shows in the std by percents
    rng = np.random.default_rng(0)
    X = rng.random((120, 2))
    y = np.sin(3 * X[:, 0]) + np.cos(2 * X[:, 1])
    gp = GPRegressor(kernel="auto", seed=0).fit(X, y)
    gp.save(tmp_path)
    loaded = load(tmp_path)
    Xt = rng.random((500, 2))
    mean, std = gp.predict(Xt, return_std=True)
    assert np.median(std) < 1e-3 * np.std(y)  # the sensitive regime the test is about
    loaded_mean, loaded_std = loaded.predict(Xt, return_std=True)
    assert np.array_equal(loaded_mean, mean)
    assert np.array_equal(loaded_std, std)
    assert np.array_equal(loaded.sample_posterior(Xt[:50], 3, seed=1),
                          gp.sample_posterior(Xt[:50], 3, seed=1))


def test_damaged_or_mixed_saves_and_a_file_as_target_are_named(tmp_path):
    X, y = _data()
    gp = GPRegressor(seed=0).fit(X, y)
    (tmp_path / "afile").write_text("")
    with pytest.raises(ValueError, match="afile is a file; a model is saved into a directory"):
        gp.save(tmp_path / "afile")
    gp.save(tmp_path / "gp")
    NNRegressor(n_ensemble=2, max_epochs=5, seed=0).fit(X, y).save(tmp_path / "nn")
    (tmp_path / "gp" / "tensors.pt").write_bytes((tmp_path / "nn" / "tensors.pt").read_bytes())
    with pytest.raises(ValueError, match="tensors.pt is not the file its meta.json was saved "
                                         "with"):
        load(tmp_path / "gp")
    _forget_digest(tmp_path / "gp")  # a file saved before digests: the keys still tell
    with pytest.raises(ValueError, match=r"tensors.pt lacks .* its meta.json \(a GPRegressor\) "
                                         "needs: the two files come from different saves"):
        load(tmp_path / "gp")
    gp.save(tmp_path / "cut")
    data = (tmp_path / "cut" / "tensors.pt").read_bytes()
    (tmp_path / "cut" / "tensors.pt").write_bytes(data[: len(data) // 2])
    _forget_digest(tmp_path / "cut")
    with pytest.raises(ValueError, match="cannot be read as plain tensors: damaged or truncated"):
        load(tmp_path / "cut")


def test_a_save_that_fails_half_way_leaves_nothing_that_loads(tmp_path, monkeypatch):
    X, y = _data()
    first = GPRegressor(seed=0).fit(X, y)
    first.save(tmp_path / "m")
    second = GPRegressor(seed=1).fit(X[::2], 3 * y[::2])

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(torch, "save", full_disk)
    with pytest.raises(OSError):
        second.save(tmp_path / "m")
    monkeypatch.undo()
    with pytest.raises(ValueError, match="no meta.json"):  # neither the old model nor a mix
        load(tmp_path / "m")
    second.save(tmp_path / "m")  # saving again over the remains works
    assert np.array_equal(load(tmp_path / "m").predict(X), second.predict(X))


def test_files_from_a_newer_version_or_with_bad_options_are_named(tmp_path):
    X, y = _data()
    GPRegressor(seed=0).fit(X, y).save(tmp_path / "m")
    meta_file = tmp_path / "m" / "meta.json"
    meta = json.loads(meta_file.read_text())
    for params, message in [({**meta["params"], "new_option": 1}, "unexpected keyword"),
                            ({**meta["params"], "kernel": "foo"}, "kernel must be one of"),
                            ("not a table", "has no 'params' table")]:
        meta_file.write_text(json.dumps({**meta, "params": params}))
        with pytest.raises(ValueError, match="m") as err:
            load(tmp_path / "m")
        assert message in str(err.value) and str(tmp_path / "m") in str(err.value)
    meta_file.write_text(json.dumps({**meta, "n_features_in": 3}))
    with pytest.raises(ValueError, match="do not describe a valid GPRegressor"):
        load(tmp_path / "m")


@pytest.mark.parametrize("labels", [np.array(["no", "yes"], dtype=object), np.array(["no", "yes"]),
                                    np.array([False, True]), np.array([3, 7])],
                         ids=["object", "unicode", "bool", "int"])
def test_class_labels_keep_their_dtype(tmp_path, labels):
    X, y = _data()
    target = labels[(y > y.median()).astype(int)]
    model = GPClassifier(n_inducing=8, max_iter=5, seed=0).fit(X, target)
    model.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    assert loaded.classes_.dtype == model.classes_.dtype
    assert loaded.predict(X).dtype == model.predict(X).dtype
    assert np.array_equal(loaded.predict(X), model.predict(X))


def test_loading_teacher_runs_as_a_model_points_to_transfer_set_load(tmp_path):
    import surrogate as sg

    space = sg.Space([sg.Real("x", 0, 1)])
    sg.Simulator(lambda x: x, space, ["y"]).run([[0.5]], progress=False).save(tmp_path / "runs")
    with pytest.raises(ValueError, match="holds teacher runs .* surrogate.TransferSet.load"):
        load(tmp_path / "runs")


def test_a_model_whose_categories_have_tuple_labels_is_refused_at_save(tmp_path):
    # it saved, and never loaded: JSON turns ("y", 0) into a list no column matches
    rng = np.random.default_rng(0)
    X = pd.DataFrame({("x", 0): rng.random(30), ("y", 0): rng.choice(["u", "v"], 30)})
    gp = GPRegressor(seed=0, n_restarts=1).fit(X, 3 * X[("x", 0)])
    with pytest.raises(ValueError, match=r"categorical column\(s\) are labelled \[\('y', 0\)\]"):
        gp.save(tmp_path / "m")
    assert not (tmp_path / "m" / "meta.json").exists()


def test_options_holding_numpy_integers_save(tmp_path):
    # fit took hidden_layers=(np.int64(8), np.int64(8)); save refused it "give it as a list"
    X = np.random.default_rng(0).random((30, 2))
    model = NNRegressor(hidden_layers=(np.int64(8), np.int64(8)), n_ensemble=2, max_epochs=5,
                        seed=0).fit(X, X.sum(axis=1))
    model.save(tmp_path / "nn")
    loaded = load(tmp_path / "nn")
    assert loaded.hidden_layers == (8, 8)
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
