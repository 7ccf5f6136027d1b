"""Sobol' indices on a Gaussian-process surrogate, and the spread over its posterior functions."""

import math

import numpy as np
import pytest

import surrogate as sg

GPRegressor = pytest.importorskip("surrogate.models").GPRegressor

from surrogate.sensitivity import sobol_indices  # noqa: E402


@pytest.fixture(scope="module")
def space():
    return sg.Space([sg.Real(name, -math.pi, math.pi) for name in ("x1", "x2", "x3")])


def ishigami(X):
    x1, x2, x3 = (X[name].to_numpy() for name in ("x1", "x2", "x3"))
    return np.sin(x1) + 7.0 * np.sin(x2) ** 2 + 0.1 * x3**4 * np.sin(x1)


@pytest.fixture(scope="module")
def gp200(space):
    X = sg.sample(space, 200, seed=0)
    # Ishigami is analytic: the squared-exponential kernel that "auto" selects fits it best
    return GPRegressor(kernel="auto", seed=0).fit(X, ishigami(X))


def test_ishigami_from_200_teacher_runs_within_003(gp200, space, ishigami_indices):
    result = sobol_indices(gp200, space, n=4096, seed=0)
    s1, st = ishigami_indices
    np.testing.assert_allclose(result["S1"], s1, atol=0.03)
    np.testing.assert_allclose(result["ST"], st, atol=0.03)
    assert list(result.columns) == ["S1", "S1_conf", "ST", "ST_conf", "S1_gp_std", "ST_gp_std"]
    # the posterior design: largest power of two with at most 2048 points (256 * 5 = 1280)
    assert result.attrs["posterior_samples"] == 64 and result.attrs["posterior_n"] == 256
    assert (result[["S1_gp_std", "ST_gp_std"]] > 0).all().all()


def test_spread_shrinks_with_more_teacher_runs(gp200, space):
    X = sg.sample(space, 40, seed=1)
    gp40 = GPRegressor(kernel="auto", seed=0).fit(X, ishigami(X))
    few = sobol_indices(gp40, space, n=512, seed=0, posterior_samples=32)
    many = sobol_indices(gp200, space, n=512, seed=0, posterior_samples=32)
    columns = ["S1_gp_std", "ST_gp_std"]
    assert few[columns].to_numpy().sum() > 3 * many[columns].to_numpy().sum()


def test_posterior_samples_off_and_bad(gp200, space):
    result = sobol_indices(gp200, space, n=64, seed=0, posterior_samples=0)
    assert "S1_gp_std" not in result.columns
    with pytest.raises(ValueError, match="posterior_samples"):
        sobol_indices(gp200, space, n=64, posterior_samples=-3)


def test_second_order_spread(gp200, space):
    result = sobol_indices(gp200, space, n=128, seed=0, second_order=True, posterior_samples=16)
    assert set(result.attrs["S2_gp_std"]) == set(result.attrs["S2"])
    assert all(value >= 0 for value in result.attrs["S2_gp_std"].values())


class _EnsembleLike:
    """A different surrogate kind: posterior draws from another fitted model's samples."""

    def __init__(self, gp):
        self.gp_ = gp

    def predict(self, X):
        return self.gp_.predict(X)

    def sample_posterior(self, X, n_samples, *, seed=None):
        return self.gp_.sample_posterior(X, n_samples, seed=seed)[..., 0]  # (S, n): 2-D


def test_any_model_with_sample_posterior(gp200, space):
    other = sobol_indices(_EnsembleLike(gp200), space, n=128, seed=0, posterior_samples=16)
    gp = sobol_indices(gp200, space, n=128, seed=0, posterior_samples=16)
    assert other.attrs["posterior_n"] == 128
    np.testing.assert_allclose(other.to_numpy(), gp.to_numpy())
