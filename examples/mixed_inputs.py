"""
Mixed inputs: integer and categorical parameters in the students
================================================================

A fishery teacher with a real parameter (the growth rate), an integer one (the years
simulated) and a categorical one (the harvest policy). The design holds them with their own
types, the Gaussian process gives the policy its own kernel (two different policies
correlate by a fitted amount, or sit at fitted positions on a line, whichever is likelier),
and Sobol' indices on the surrogate rank all three kinds of input. The figures: cross-validated predictions against the teacher, and the indices.

Run: ``python examples/mixed_inputs.py [--n 120]`` (seconds).
"""

from __future__ import annotations

import argparse

import surrogate as sg
from surrogate import plot

SPACE = sg.Space([
    sg.Real("growth", 0.2, 1.0),                                  # per year
    sg.Integer("years", 5, 30),
    sg.Categorical("policy", ["none", "quota", "proportional"]),  # how the catch is set
])


def fishery(growth: float, years: int, policy: str) -> dict[str, float]:
    """Logistic stock (capacity 1) harvested each year; returns the final stock and catch."""
    stock, catch = 0.5, 0.0
    for _ in range(years):
        stock += growth * stock * (1.0 - stock)
        harvest = {"none": 0.0, "quota": min(0.1, stock), "proportional": 0.3 * stock}[policy]
        stock -= harvest
        catch += harvest
    return {"stock": stock, "catch": catch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=120, help="teacher runs")
    args = parser.parse_args()

    teacher = sg.Simulator(fishery, SPACE, ["stock", "catch"])
    runs = teacher.run(sg.sample(SPACE, args.n, seed=0)).valid()
    print(runs.X.dtypes.to_string())

    model = sg.GPRegressor(seed=0)
    scores = sg.cross_validate(model, runs.X, runs.Y["catch"], cv=5, seed=0)
    print(f"catch: cross-validated Q2 {scores['q2']:.3f}, coverage95 {scores['coverage95']:.2f}")
    plot.parity_predictions(runs.Y["catch"], scores["y_pred"], scores["y_std"],
                            label="catch, 5-fold cross-validated")

    model.fit(runs.X, runs.Y["catch"])
    print(f"levels of the categorical input: {model.categories_}; kernel: {model.categorical_}")
    indices = sg.sobol_indices(model, SPACE, n=512, seed=0)
    print(indices[["S1", "ST"]].round(3).to_string())
    plot.sobol(indices).set_title("Sobol' indices of the catch, on the surrogate")


if __name__ == "__main__":
    main()
