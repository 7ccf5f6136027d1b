"""
Story 1 on a cluster: the same teacher, its runs spread over a Dask cluster
===========================================================================

Pass the address of a running scheduler (``dask scheduler`` + ``dask worker ...`` on your
machines, with this package installed there), or let the example start a local cluster of worker
processes on 127.0.0.1. Failures are recorded per run and the checkpoint keeps every finished run.

Run: ``python examples/teacher_dask.py [--address tcp://HOST:8786] [--n 200] [--out DIR]``.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import surrogate as sg
from surrogate import plot
from surrogate.models import GPRegressor, cross_validate

try:  # the example's teacher, importable by Dask workers when run from the repository
    from examples.teacher import SPACE, predator_prey
except ImportError:  # run as a script from inside examples/
    from teacher import SPACE, predator_prey  # type: ignore[no-redef]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--address", default=None, help="scheduler address (default: local)")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="surrogate-dask-"))
    out.mkdir(parents=True, exist_ok=True)

    from distributed import Client, LocalCluster

    cluster = None
    if args.address is None:
        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, host="127.0.0.1",
                               dashboard_address=None)
        address = cluster.scheduler_address
    else:
        address = args.address
    try:
        teacher = sg.Simulator(predator_prey, SPACE, ["peak_predators", "mean_predators"])
        design = sg.sample(SPACE, args.n, method="sobol" if args.n & (args.n - 1) == 0 else "lhs",
                           seed=0)
        with Client(address) as client, sg.DaskExecutor(client) as executor:
            print(f"running {args.n} teacher runs on {executor.n_workers} Dask worker thread(s)")
            runs = teacher.run(design, executor=executor, checkpoint=out / "runs", timeout=60)
        print(runs)
        valid = runs.valid()
        scores = cross_validate(GPRegressor(seed=0), valid.X, valid.Y["peak_predators"], seed=0)
        print(f"peak_predators: cross-validated Q2 {scores['q2']:.3f}")
        ax = plot.parity_predictions(valid.Y["peak_predators"], scores["y_pred"],
                                     scores["y_std"], label="runs on Dask, 5-fold cross-validated")
        ax.figure.savefig(out / "parity.png")
    finally:
        if cluster is not None:
            cluster.close()


if __name__ == "__main__":
    main()
