"""GPClassifier: a planted region, calibrated-looking probabilities, large batched prediction."""

from __future__ import annotations

import time

import numpy as np
import pytest

from surrogate.models import GPClassifier, accuracy, brier


def _disk(Z):
    return (Z[:, 0] - 0.4) ** 2 + (Z[:, 1] - 0.6) ** 2 < 0.08


def test_separates_a_planted_region_and_scales_to_many_points():
    rng = np.random.default_rng(0)
    X = rng.random((300, 3))
    clf = GPClassifier(n_inducing=64, seed=0).fit(X, _disk(X))
    Xt = rng.random((100_000, 3))
    start = time.perf_counter()
    proba = clf.predict_proba(Xt)
    assert time.perf_counter() - start < 20
    assert proba.shape == (100_000, 2)
    truth = _disk(Xt)
    assert accuracy(truth, clf.predict(Xt)) > 0.93
    assert brier(truth.astype(int), proba) < 0.06
    # the irrelevant third input gets the longest length scale
    assert np.argmax(clf.lengthscale_) == 2
    assert 10 < clf.n_iter_ <= 200  # L-BFGS evaluations, at most max_iter


def test_same_seed_same_probabilities():
    X = np.random.default_rng(1).random((80, 2))
    y = _disk(X)
    p1 = GPClassifier(seed=4, max_iter=50).fit(X, y).predict_proba(X)
    p2 = GPClassifier(seed=4, max_iter=50).fit(X, y).predict_proba(X)
    assert np.array_equal(p1, p2)


@pytest.mark.parametrize(("params", "error", "match"), [
    ({"kernel": "linear"}, ValueError, "kernel"),
    ({"n_inducing": 0}, ValueError, "n_inducing"),
    ({"max_iter": 0}, ValueError, "max_iter"),
    ({"learning_rate": 0.0}, ValueError, "learning_rate"),
    # a wrong type is a TypeError, as for every other yes/no option
    ({"additive": "auto"}, TypeError, "additive must be True or False"),
    ({"warp": "yes"}, TypeError, "warp must be True or False"),
])
def test_bad_parameters_name_themselves(params, error, match):
    X = np.random.default_rng(1).random((20, 2))
    with pytest.raises(error, match=match):
        GPClassifier(**params).fit(X, X[:, 0] > 0.5)


def test_one_class_is_a_clear_error():
    X = np.random.default_rng(1).random((20, 2))
    with pytest.raises(ValueError, match="binary"):
        GPClassifier().fit(X, np.ones(20, dtype=bool))


def test_a_0_1_column_that_splits_the_classes_does_not_break_the_fit():
    """The indicator of a level (as REDS one-hot encodes a categorical) that flips the class:
    its length scale heads to 0, which made Kmm indefinite through rounding alone."""
    rng = np.random.default_rng(0)
    x, level = rng.uniform(size=100), rng.integers(0, 3, 100)
    X = np.column_stack([x, np.eye(3)[level]])
    y = (x > 0.5) ^ (level == 2)
    clf = GPClassifier(seed=0).fit(X, y)
    assert clf.score(X, y) > 0.9 and (clf.lengthscale_ >= 1e-3 - 1e-12).all()


def _planted_box(n, seed):
    """A box in 3 of 6 inputs: an "and" of one-input conditions (base rate about 0.25)."""
    X = np.random.default_rng(seed).random((n, 6))
    return X, (X[:, 0] > 0.4) & (X[:, 1] < 0.6) & (X[:, 2] > 0.3)


@pytest.mark.slow  # two classifier fits on 600 points (7 s): the default suite keeps under 10 min
def test_the_additive_part_draws_a_planted_box_sharper_than_the_product_kernel():
    """Held-out accuracy 0.985 against 0.971 with 400 points here; the ARD kernel alone can
    only round the box's edges and corners off."""
    X, y = _planted_box(400, 0)
    Xt, yt = _planted_box(20_000, 1)
    product = GPClassifier(seed=0).fit(X, y)
    additive = GPClassifier(additive=True, seed=0).fit(X, y)
    assert accuracy(yt, additive.predict(Xt)) > accuracy(yt, product.predict(Xt)) + 0.005
    assert product.additive_weight_ == 1.0 and 0.0 <= additive.additive_weight_ < 1.0
    assert np.isfinite(additive.elbo_) and additive.elbo_ < 0
    # the weight's logit stays finite (its prior): L-BFGS had run it to 760, where w is exactly 1
    assert abs(float(additive._svgp.model.additive_logit.detach()[0])) < 30
    # the additive part's length scales: short on the box's inputs, long on the others, and
    # within the bounds
    scales = additive._svgp.additive_lengthscale().detach().numpy()[0]
    assert scales[:3].max() < scales[3:].min() and scales.max() <= 1e3


def test_warping_draws_a_planted_box_sharper_than_the_plain_kernel():
    """Held-out accuracy 0.970 against 0.959 with 200 points here: each input's warping puts
    the box's face on a steep part of its CDF, where the stationary kernel sees a long way."""
    X, y = _planted_box(200, 0)
    Xt, yt = _planted_box(20_000, 1)
    plain = GPClassifier(warp=False, seed=0).fit(X, y)
    warped = GPClassifier(warp=True, seed=0).fit(X, y)
    assert accuracy(yt, warped.predict(Xt)) > accuracy(yt, plain.predict(Xt)) + 0.005
    assert plain.warp_ is None
    assert warped.warp_.shape == (6, 2)  # a, b per input, within the bounds
    assert (warped.warp_ >= 1.0).all() and (warped.warp_ <= np.exp(3.0)).all()
    # a better bound too: the warping is a likelier model of these labels
    assert warped.elbo_ > plain.elbo_


def test_warping_starts_at_the_identity_and_leaves_categories_alone():
    import torch

    from surrogate.models._gp_hyper import Layout
    from surrogate.models._svgp import SVGP

    rng = np.random.default_rng(0)
    Z = torch.as_tensor(np.column_stack([rng.random((8, 2)), rng.integers(0, 3, 8)]))[None]
    U = torch.as_tensor(np.column_stack([rng.random((5, 2)), rng.integers(0, 3, 5)]))
    layout = Layout.of((0, 0, 3))
    plain, warped = SVGP("matern52", Z, layout), SVGP("matern52", Z, layout, warp=True)
    # a = b = 1.13 at the start, near the identity; a = b = 1 as the raw values fall
    start = warped.warp_concentrations().exp()
    assert torch.allclose(start, torch.full_like(start, 1.13), atol=0.01)
    with torch.no_grad():
        warped.model.warp_raw.fill_(-1e4)
    assert torch.allclose(warped.correlation(Z, U), plain.correlation(Z, U), atol=1e-12)
    with torch.no_grad():
        warped.model.warp_raw.fill_(1.0)  # a = b = e: a real warping
    moved = warped.warp(U)
    assert torch.equal(moved[0, :, 2], U[:, 2])  # the codes of the categorical input
    assert not torch.allclose(moved[0, :, :2], U[:, :2])
    assert ((moved[..., :2] >= 0) & (moved[..., :2] <= 1)).all()
    # and a categorical input's warping parameters carry no prior (they do nothing)
    with torch.no_grad():
        warped.model.warp_raw.fill_(-1e4)
        warped.model.warp_raw[..., 2] = 5.0
    assert float(warped.prior_penalty()) == 0.0


def test_a_warped_classifier_with_a_categorical_input_reports_no_warping_for_it():
    import surrogate as sg

    space = sg.Space([sg.Real("x", 0.0, 1.0), sg.Categorical("mode", ["a", "b"])])
    X = sg.sample(space, 80, seed=0)
    y = (X["x"] > 0.5) ^ (X["mode"] == "b")
    clf = GPClassifier(warp=True, max_iter=50, seed=0).fit(X, y)
    assert np.isnan(clf.warp_[1]).all() and np.isfinite(clf.warp_[0]).all()
    assert clf.score(X, y) > 0.9


def test_additive_correlation_is_the_mean_of_one_input_kernels():
    """Against gpytorch's Matern 5/2 kernel of each input alone; categorical input: 1 for one
    level, rho for two."""
    import gpytorch
    import torch

    from surrogate.models._gp_hyper import Layout, additive_correlation

    rng = np.random.default_rng(0)
    A = torch.as_tensor(np.column_stack([rng.random((5, 2)), rng.integers(0, 3, 5)]))
    B = torch.as_tensor(np.column_stack([rng.random((4, 2)), rng.integers(0, 3, 4)]))
    ls = torch.tensor([[0.3, 0.7, 1.0]], dtype=torch.float64)
    layout = Layout.of((0, 0, 3))
    got = additive_correlation("matern52", A, B, ls, layout)[0]
    want = torch.zeros(5, 4, dtype=torch.float64)
    for j in range(2):
        kernel = gpytorch.kernels.MaternKernel(nu=2.5).to(torch.float64)
        kernel.lengthscale = ls[0, j]
        want += kernel(A[:, j:j + 1], B[:, j:j + 1]).to_dense().detach()
    rho = float(layout.rho(ls)[0, 0])
    want += torch.where(A[:, None, 2] == B[None, :, 2], 1.0, rho)
    assert torch.allclose(got, want / 3, atol=1e-12)


def test_files_saved_before_the_warping_default_load_as_they_were_fitted(tmp_path):
    """The default became warp=True: a file whose options predate ``warp`` was fitted without
    it, and a warped file from before a, b >= 1 keeps its own map of the raw parameters."""
    import json

    from surrogate.models import load

    X, y = _planted_box(120, 0)
    plain = GPClassifier(warp=False, max_iter=30, seed=0).fit(X, y)
    plain.save(tmp_path / "plain")
    meta_path = tmp_path / "plain" / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["params"]["warp"]
    meta_path.write_text(json.dumps(meta))
    old = load(tmp_path / "plain")
    assert old.warp is False and old.warp_ is None
    np.testing.assert_allclose(old.predict_proba(X[:20]), plain.predict_proba(X[:20]))

    warped = GPClassifier(max_iter=30, seed=0).fit(X, y)
    assert warped.warp and (warped.warp_ >= 1.0).all()
    warped.save(tmp_path / "warped")
    meta_path = tmp_path / "warped" / "meta.json"
    meta = json.loads(meta_path.read_text())
    del meta["state"]["warp_at_least_one"]
    meta_path.write_text(json.dumps(meta))
    before = load(tmp_path / "warped")  # read with the old map: log a = 3 tanh(raw / 3)
    raw = before._svgp.model.warp_raw.detach().numpy()[0]
    np.testing.assert_allclose(before.warp_, np.exp(3.0 * np.tanh(raw / 3.0)).T)


def test_learns_probabilities_from_class_weighted_duplicates(soft_label_duplicates):
    # each point once per class, weighted by p(x) = 0.2 + 0.6 x (a teacher's soft labels, as
    # distill passes them): the known probability is learnt, not the majority class
    X, y, weight = soft_label_duplicates(300)
    clf = GPClassifier(seed=0).fit(X, y, sample_weight=weight)
    grid = np.linspace(0.05, 0.95, 10)[:, None]
    np.testing.assert_allclose(clf.predict_proba(grid)[:, 1], 0.2 + 0.6 * grid[:, 0], atol=0.05)
    x = X[:300]
    hard = GPClassifier(seed=0).fit(x, x[:, 0] > 0.5)  # hard labels: near 0 or 1 away from 0.5
    assert np.abs(hard.predict_proba(grid)[[0, -1], 1] - [0.0, 1.0]).max() < 0.1


def test_sample_weights_count_as_repeated_rows():
    rng = np.random.default_rng(3)
    X = rng.random((60, 2))
    y = _disk(X)
    grid = rng.random((50, 2))
    plain = GPClassifier(seed=0, max_iter=40).fit(X, y)
    ones = GPClassifier(seed=0, max_iter=40).fit(X, y, sample_weight=np.ones(60))
    np.testing.assert_array_equal(ones.predict_proba(grid), plain.predict_proba(grid))
    weight = rng.integers(0, 3, 60)
    weighted = GPClassifier(seed=0, max_iter=40).fit(X, y, sample_weight=weight)
    order = rng.permutation(np.repeat(np.arange(60), weight))  # each row weight times, shuffled
    repeated = GPClassifier(seed=0, max_iter=40).fit(X[order], y[order])
    np.testing.assert_allclose(weighted.predict_proba(grid), repeated.predict_proba(grid),
                               atol=1e-9)
    assert np.abs(weighted.predict_proba(grid) - plain.predict_proba(grid)).max() > 1e-3


@pytest.mark.parametrize("weight, message", [
    (np.ones(3), "must be 4 finite weights >= 0"),
    ([1, -1, 1, 1], "must be 4 finite weights >= 0"),
    ([1, np.inf, 1, 1], "must be 4 finite weights >= 0"),
    (np.zeros(4), "every weight is zero"),
])
def test_a_bad_sample_weight_is_named(weight, message):
    X = np.array([[0.0], [0.3], [0.6], [0.9]])
    with pytest.raises(ValueError, match=f"sample_weight.*{message}|{message}"):
        GPClassifier(seed=0, max_iter=5).fit(X, [0, 0, 1, 1], sample_weight=weight)
