"""The batched Dormand-Prince integrator against SciPy and exact solutions."""

from __future__ import annotations

import numpy as np
import pytest

import surrogate as sg
from simulators._integrate import dopri5, solve_ivp_each


def _decay(t, y, params):
    return -params * y  # dy/dt = -k y, one rate per trajectory and component


def _riccati(t, y, params):
    return y**2  # y(t) = y0 / (1 - y0 t): blows up at t = 1/y0 for y0 > 0


def _oscillator(t, y, params):
    omega = params[:, 0]
    return np.column_stack([y[:, 1], -(omega**2) * y[:, 0]])


def test_exponential_decay_matches_the_exact_solution():
    rates = np.array([[0.1], [1.0], [5.0]])
    t_eval = np.linspace(0.0, 3.0, 31)
    solution = dopri5(_decay, np.ones((3, 1)), rates, t_eval, rtol=1e-10, atol=1e-12)
    exact = np.exp(-rates * t_eval[None, :])
    assert solution.ok.all()
    np.testing.assert_allclose(solution.y[:, :, 0], exact, rtol=1e-8, atol=1e-12)


def test_batch_equals_one_solve_ivp_per_trajectory():
    rng = np.random.default_rng(0)
    omega = rng.uniform(0.5, 3.0, size=(8, 1))
    y0 = rng.normal(size=(8, 2))
    t_eval = np.linspace(0.0, 10.0, 101)
    batch = dopri5(_oscillator, y0, omega, t_eval, rtol=1e-8, atol=1e-10)
    each = solve_ivp_each(_oscillator, y0, omega, t_eval, rtol=1e-8, atol=1e-10)
    assert batch.ok.all() and each.ok.all()
    # the same method and error control: agreement far below the tolerance
    np.testing.assert_allclose(batch.y, each.y, rtol=1e-9, atol=1e-11)
    np.testing.assert_array_equal(batch.n_steps, each.n_steps)


def test_dense_output_is_accurate_between_steps():
    omega = np.array([[2.0]])
    t_eval = np.linspace(0.0, 7.0, 701)  # far finer than the steps taken
    solution = dopri5(_oscillator, np.array([[1.0, 0.0]]), omega, t_eval, rtol=1e-9, atol=1e-12)
    assert solution.n_steps[0] < 700
    np.testing.assert_allclose(solution.y[0, :, 0], np.cos(2.0 * t_eval), atol=1e-7)


def test_a_blow_up_fails_its_row_only():
    y0 = np.array([[1.0], [-1.0]])  # the first blows up at t = 1, the second decays
    t_eval = np.linspace(0.0, 2.0, 5)
    solution = dopri5(_riccati, y0, np.zeros((2, 0)), t_eval)
    assert solution.ok.tolist() == [False, True]
    assert np.isnan(solution.y[0]).all()
    np.testing.assert_allclose(solution.y[1, :, 0], -1.0 / (1.0 + t_eval), rtol=1e-7)


def test_too_many_steps_fail_the_row():
    # a stiff rate needs thousands of explicit steps (stability limit), the mild one ~100
    solution = dopri5(_decay, np.ones((2, 1)), np.array([[1.0], [1e4]]), np.array([0.0, 10.0]),
                      max_steps=1000)
    assert solution.ok.tolist() == [True, False]
    assert np.isnan(solution.y[1]).all()


def test_output_times_after_the_start():
    t_eval = np.array([5.0, 6.0])  # a window that does not include t0 = 0
    solution = dopri5(_decay, np.ones((1, 1)), np.array([[0.5]]), t_eval, rtol=1e-10,
                      atol=1e-14)
    np.testing.assert_allclose(solution.y[0, :, 0], np.exp(-0.5 * t_eval), rtol=1e-8)


def test_an_empty_batch():
    solution = dopri5(_decay, np.ones((0, 1)), np.ones((0, 1)), np.array([0.0, 1.0]))
    assert solution.y.shape == (0, 2, 1) and solution.ok.shape == (0,)


@pytest.mark.parametrize("name", ["sir", "lotka_volterra", "lorenz"])
def test_a_points_result_does_not_depend_on_the_batch_around_it(name):
    # matrix products over the batch rounded each row by its place: Lorenz's z_mean was 23.34
    # in a batch of 3 and 24.19 alone, and serial and process executors disagreed
    import importlib

    # Lorenz over 20 time units: its trajectories part well within that (100 took 20 s)
    module = importlib.import_module(f"simulators.{name}")
    sim = module.simulator(t_end=20.0) if name == "lorenz" else module.simulator()
    design = sg.sample(sim.space, 9, method="random", seed=3)
    together = sim(design).to_numpy()
    for row in (0, 4, 8):
        alone = sim(design.iloc[[row]].reset_index(drop=True)).to_numpy()[0]
        np.testing.assert_array_equal(together[row], alone)
    reversed_rows = sim(design.iloc[::-1].reset_index(drop=True)).to_numpy()[::-1]
    np.testing.assert_array_equal(together, reversed_rows)


def test_a_field_spacing_past_the_run_keeps_its_ends():
    from simulators import sir
    from simulators._integrate import field_points

    # a step past int64 raised numpy's IndexError; 1e300 / 1e-10 an OverflowError
    assert field_points(11, 0.25, 1e19).tolist() == [0, 10]
    assert sir.simulator(field_dt=1000.0).fields["I"].tolist() == [0.0, 365.0]
    with pytest.raises(ValueError, match="field_dt must be a whole multiple of dt=1e-10"):
        sir.simulator(t_end=1e-9, dt=1e-10, field_dt=1e300)
