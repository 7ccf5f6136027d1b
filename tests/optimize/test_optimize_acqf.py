"""The acquisition optimizer on functions with known maximizers, continuous and discrete."""

import numpy as np
import torch

from surrogate.sequential._optimize_acqf import AcquisitionOptimizer, discrete_levels, snap
from surrogate.space import Categorical, Integer, Real, Space


def _peaks(unit: torch.Tensor) -> torch.Tensor:
    """Two Gaussian bumps in [0,1]^2; the global maximum 1.5 sits at (0.8, 0.2)."""
    near = torch.exp(-((unit - torch.tensor([0.2, 0.7])) ** 2).sum(-1) / 0.01)
    far = 1.5 * torch.exp(-((unit - torch.tensor([0.8, 0.2])) ** 2).sum(-1) / 0.005)
    return near + far


def test_finds_the_global_maximum_of_a_two_peak_function():
    space = Space([Real("a", 0, 1), Real("b", 0, 1)])
    point, value = AcquisitionOptimizer(space).maximize(_peaks, np.random.default_rng(0))
    np.testing.assert_allclose(point, [0.8, 0.2], atol=1e-4)
    assert abs(value - 1.5) < 1e-6


def test_discrete_parameters_are_enumerated_not_rounded():
    # optimum: n = 7 (the relaxed maximum 6.6 rounds to a worse cell), c = "z", x = 0.25
    space = Space([Real("x", 0, 1), Integer("n", 0, 9), Categorical("c", ["a", "z", "m"])])
    levels = discrete_levels(space)
    assert levels == {1: 10, 2: 3}
    target_n = (7 + 0.5) / 10

    def acquisition(unit: torch.Tensor) -> torch.Tensor:
        x, n, c = unit[:, 0], unit[:, 1], unit[:, 2]
        bonus = torch.where((c - 0.5).abs() < 1e-9, 1.0, 0.0)  # the middle cell, "z"
        return -(x - 0.25) ** 2 - (n - target_n) ** 2 + bonus

    point, _ = AcquisitionOptimizer(space).maximize(acquisition, np.random.default_rng(1))
    decoded = space.from_unit(point[None, :]).iloc[0]
    assert decoded["n"] == 7 and decoded["c"] == "z"
    assert abs(decoded["x"] - 0.25) < 1e-4


def test_excluded_points_are_never_returned():
    space = Space([Integer("n", 1, 3), Categorical("c", ["a", "b"])])
    every = snap(np.array([[i / 3 + 0.1, j / 2 + 0.1] for i in range(3) for j in range(2)]),
                 discrete_levels(space))

    def acquisition(unit: torch.Tensor) -> torch.Tensor:
        return -((unit - 0.5) ** 2).sum(-1)

    best, _ = AcquisitionOptimizer(space).maximize(acquisition, np.random.default_rng(0))
    rest = every[~np.all(np.isclose(every, best), axis=1)]
    second, _ = AcquisitionOptimizer(space).maximize(
        acquisition, np.random.default_rng(0), exclude=best[None, :])
    assert not np.allclose(second, best)
    assert np.isclose(rest, second).all(axis=1).any()


def test_snap_moves_discrete_coordinates_to_cell_centres():
    unit = np.array([[0.01, 0.99, 0.5], [0.34, 0.0, 0.77]])
    snapped = snap(unit, {0: 3, 1: 2})
    np.testing.assert_allclose(snapped, [[1 / 6, 0.75, 0.5], [0.5, 0.25, 0.77]])


def test_a_box_confines_the_search():
    space = Space([Real("a", 0, 1), Real("b", 0, 1)])
    box = (np.array([0.0, 0.5]), np.array([0.5, 1.0]))  # holds the lower peak only
    point, value = AcquisitionOptimizer(space).maximize(_peaks, np.random.default_rng(0),
                                                        box=box)
    np.testing.assert_allclose(point, [0.2, 0.7], atol=1e-4)
    assert abs(value - 1.0) < 1e-4


def test_every_level_of_a_large_categorical_is_tried():
    # a categorical's levels are unordered: past 64 levels an integer tries its neighbouring
    # cells, a categorical every level (the best one lies far from the candidates' levels)
    k = 100
    space = Space([Real("x", 0.0, 1.0), Categorical("c", [f"L{i}" for i in range(k)])])

    def acquisition(unit: torch.Tensor) -> torch.Tensor:
        level = torch.floor(unit[:, 1] * k).clamp(0, k - 1)
        bonus = (level == 73) & ((unit[:, 0] - 0.9).abs() < 5e-4)  # no candidate lands there
        return -((unit[:, 0] - 0.9) ** 2) + 10.0 * bonus.to(unit.dtype) \
            - 0.01 * (level - 20.0).abs()  # the best candidates lie near level 20

    point, value = AcquisitionOptimizer(space).maximize(acquisition, np.random.default_rng(0))
    assert int(point[1] * k) == 73 and value > 9.0
