"""DSGC against the published UCI data (Arzamasov et al.) and its own invariances."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from simulators import dsgc
from surrogate.design import sample

UCI_SAMPLE = Path("..") / "shared" / "data" / "dsgc_uci_sample.csv"


@pytest.fixture(scope="module")
def uci():
    if not UCI_SAMPLE.exists():
        pytest.skip(f"UCI sample {UCI_SAMPLE} not found (run the tests from the repository root)")
    return pd.read_csv(UCI_SAMPLE)


def test_all_published_rows_are_reproduced_to_1e_10(uci):
    assert len(uci) == 40
    np.testing.assert_allclose(uci["p1"], -(uci["p2"] + uci["p3"] + uci["p4"]), atol=1e-12)
    out = dsgc.simulator()(uci.drop(columns=["p1", "stab", "stabf"]))
    np.testing.assert_allclose(out["stab"], uci["stab"], rtol=0, atol=1e-10)
    np.testing.assert_array_equal(out["stable"] == 1.0, uci["stabf"] == "stable")


def test_chunking_does_not_change_the_result(uci):
    design = uci[list(dsgc.SPACE.names)]
    whole = dsgc.simulate(design)
    pieces = dsgc.simulate(design, chunk=7)
    np.testing.assert_array_equal(whole, pieces)


def test_starting_points_are_the_halton_box():
    starts = dsgc.starting_points()
    assert starts.shape == (100,)
    assert starts[0] == -20 - 15j  # the unscrambled sequence starts at the box corner
    assert starts.real.min() >= -20 and starts.real.max() <= 10
    assert starts.imag.min() >= -15 and starts.imag.max() <= 15


def test_the_rightmost_root_solves_the_characteristic_equation(uci):
    # the determinant of the full 8 x 8 matrix J + J_D(lambda) - lambda I vanishes at the root
    row = uci.iloc[0]
    tau = row[[f"tau{j}" for j in range(1, 5)]].to_numpy(float)
    gamma = row[[f"g{j}" for j in range(1, 5)]].to_numpy(float)
    power = row[[f"p{j}" for j in range(1, 5)]].to_numpy(float)
    stab = dsgc.simulate(pd.DataFrame([row[list(dsgc.SPACE.names)]]))[0, 0]
    # the root itself: Newton on the same function from points on the line Re = stab
    z = stab + 1j * np.linspace(0.1, 15, 300)
    arguments = (np.tile(tau, (300, 1)), np.tile(gamma, (300, 1)),
                 np.tile(8 * np.sqrt(1 - (power[1:] / 8) ** 2), (300, 1)), 0.1, 2.0)
    with np.errstate(all="ignore"):
        for _ in range(30):
            z = z - dsgc._newton_step(z, *arguments)
    root = z[np.nanargmin(np.abs(z.real - stab))]
    c = 8 * np.cos(np.arcsin(power[1:] / 8))  # star: node 1 linked to 2, 3, 4
    coupling = np.zeros((4, 4))
    coupling[0, 1:] = coupling[1:, 0] = c
    coupling -= np.diag(coupling.sum(axis=1))
    delayed = np.diag(gamma / 2 * (np.exp(-root * (tau + 2)) - np.exp(-root * tau)))
    jacobian = np.block([[np.zeros((4, 4)), np.eye(4)],
                         [coupling + delayed, -0.1 * np.eye(4)]])
    assert abs(root.real - stab) < 1e-8
    smallest = np.linalg.svd(jacobian - root * np.eye(8), compute_uv=False)[-1]
    assert smallest < 1e-8


def test_impossible_power_flow_is_a_failed_run():
    sim = dsgc.simulator(coupling=1.0)  # lines too weak to carry up to 2 units of power
    design = sample(sim.space, 4, seed=0)
    design["p2"] = -1.5
    transfer = sim.run(design)
    assert (transfer.status == "failed").all()


@pytest.mark.slow
def test_more_newton_steps_find_no_further_right_root():
    design = sample(dsgc.SPACE, 300, seed=5)
    default = dsgc.simulate(design)
    longer = dsgc.simulate(design, max_iterations=400)
    np.testing.assert_allclose(default, longer, rtol=0, atol=1e-12)
