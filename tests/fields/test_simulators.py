"""The bundled ODE and difference-equation teachers expose their trajectories as fields.

Each field is checked against the teacher's own scalar outputs, which are computed from the same
trajectories (the scalar outputs and their own tests are unchanged), and against conservation
laws. (The Dask path with fields is tested in tests/execute/test_dask.py, on its cluster.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import simulators
from simulators import lake, lorenz, lotka_volterra, sir
from surrogate.design import sample


def test_sir_fields_are_shares_that_add_up_and_agree_with_the_outputs():
    sim = sir.simulator()
    design = sample(sim.space, 12, seed=0)
    runs = sim.run(design, progress=False)
    assert runs.fields == ["S", "I", "R"] and runs.ok.all()
    grid = runs.grids["I"]
    assert len(grid) == 184 and grid[0] == 0.0 and grid[-1] == 365.0 and grid[1] == 2.0
    S, infected, R = (runs.field(f).to_numpy() for f in ("S", "I", "R"))
    np.testing.assert_allclose(S + infected + R, 1.0, atol=1e-9)
    # final_size is 1 - S(t_end) / N: exactly the last point of the S field
    np.testing.assert_allclose(1.0 - S[:, -1], runs.Y["final_size"], rtol=1e-12)
    # the peak read on the fine output grid is at least the field's maximum on the coarse one
    peak = runs.Y["peak_infected"].to_numpy() / design["population"].to_numpy()
    assert (infected.max(axis=1) <= peak * (1 + 1e-12)).all()
    np.testing.assert_allclose(infected[:, 0], design["initial_infected"] / design["population"])


def test_sir_field_grid_follows_field_dt_and_refuses_other_steps():
    sim = sir.simulator(t_end=10.0, dt=0.5, field_dt=1.5)
    assert sim.fields["I"].tolist() == [0.0, 1.5, 3.0, 4.5, 6.0, 7.5, 9.0, 10.0]
    with pytest.raises(ValueError, match="field_dt must be a whole multiple of dt"):
        sir.simulator(dt=0.25, field_dt=0.3)


def test_lotka_volterra_fields_agree_with_the_outputs():
    sim = lotka_volterra.simulator()
    runs = sim.run(sample(sim.space, 10, seed=1), progress=False)
    assert runs.fields == ["prey", "predator"] and len(runs.grids["prey"]) == 101
    prey, predator = runs.field("prey").to_numpy(), runs.field("predator").to_numpy()
    np.testing.assert_array_equal(prey[:, -1], runs.Y["prey_final"])
    np.testing.assert_array_equal(predator[:, -1], runs.Y["predator_final"])
    assert (predator.max(axis=1) <= runs.Y["predator_max"].to_numpy()).all()
    np.testing.assert_array_equal(prey[:, 0], runs.X["prey0"])


def test_lorenz_fields_settle_on_the_fixed_point():
    sim = lorenz.simulator(t_end=30.0, window=2.0)
    runs = sim.run(pd.DataFrame([[10.0, 5.0, 8 / 3]], columns=sim.space.names), progress=False)
    assert runs.fields == ["x", "y", "z"] and len(runs.grids["z"]) == 21
    np.testing.assert_allclose(runs.field("z").to_numpy(), 4.0, rtol=1e-6)  # z* = rho - 1
    np.testing.assert_allclose(runs.field("x").to_numpy(), np.sqrt(8 / 3 * 4.0), rtol=1e-6)


def test_lake_pollution_field_agrees_with_max_p():
    sim = lake.simulator(n_samples=20, seed=3)
    runs = sim.run(sample(sim.space, 8, seed=2), progress=False)
    P = runs.field("P")
    assert P.shape == (8, 100) and P.columns.tolist() == list(range(100))
    np.testing.assert_array_equal(P.to_numpy().max(axis=1), runs.Y["max_P"])
    assert (P.iloc[:, 0] == 0.0).all()  # X_0 = 0


@pytest.mark.parametrize("name", ["sir", "lotka_volterra", "lorenz", "lake"])
def test_the_registered_teachers_keep_their_outputs_and_pickle_with_their_fields(name):
    import pickle

    sim = simulators.load(name)
    assert sim.fields and sim.outputs
    clone = pickle.loads(pickle.dumps(sim))
    assert list(clone.fields) == list(sim.fields)
    for field in sim.fields:
        np.testing.assert_array_equal(clone.fields[field], sim.fields[field])
