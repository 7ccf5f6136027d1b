"""The command line: ``surrogate simulators | study | discover | optimize``.

User mistakes (unknown simulator, invalid configuration, bad option values, missing files) end
with one line on stderr and exit status 2, never a traceback. A study that ran but where a stage
failed (every teacher run, a surrogate, the sensitivity analysis, the optimization, the
discovery) prints one ``error:`` line per failed stage, keeps everything that finished on disk
and exits with status 1; a ``warning:`` line (e.g. many failed teacher runs) does not change the
status.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from surrogate._config import ConfigError, config_from_text, parse_outcome, read_config

__all__ = ["main"]

_USER_ERRORS = (ConfigError, ValueError, TypeError, FileNotFoundError, KeyError)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="surrogate", description="Fast, trustworthy surrogates and readable rules from "
        "slow simulations.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("simulators", help="list the bundled simulators")

    study = commands.add_parser("study", help="design, runs, surrogates, sensitivity, "
                                "optimization, discovery and a report in one job")
    study.add_argument("target", metavar="SIMULATOR|CONFIG.toml")
    study.add_argument("--n", type=int, help="number of teacher runs")
    study.add_argument("--design", choices=["lhs", "sobol", "halton", "random"])
    study.add_argument("--executor", choices=["serial", "processes", "dask"])
    study.add_argument("--address", help="Dask scheduler address (tcp://HOST:PORT)")
    study.add_argument("--workers", type=int, dest="n_workers", help="worker processes")
    study.add_argument("--out", type=Path, help="study directory (default: study-SIMULATOR)")
    study.add_argument("--seed", type=int)
    study.add_argument("--quiet", action="store_true", help="no progress messages")

    discover = commands.add_parser("discover", help="scenario discovery on saved runs")
    discover.add_argument("data", metavar="DATA",
                          help="a transfer-set directory, or a .csv / .parquet table")
    discover.add_argument("--outcome", required=True, help="case of interest, e.g. 'stab < 0'")
    discover.add_argument("--reds", action="store_true", help="also run REDS (metamodel + PRIM)")
    discover.add_argument("--min-density", type=float, default=0.8)
    discover.add_argument("--drop", default="", help="comma-separated columns that are not inputs")
    discover.add_argument("--seed", type=int, default=0)

    optimize = commands.add_parser("optimize", help="Bayesian optimization with the teacher")
    optimize.add_argument("simulator", metavar="SIMULATOR")
    optimize.add_argument("--output", required=True)
    optimize.add_argument("--budget", type=int, required=True)
    optimize.add_argument("--maximize", action="store_true")
    optimize.add_argument("--seed", type=int, default=0)
    optimize.add_argument("--checkpoint", type=Path)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``surrogate`` console script."""
    args = _parser().parse_args(argv)
    try:
        handler = {"simulators": _simulators, "study": _study, "discover": _discover,
                   "optimize": _optimize}[args.command]
        status = handler(args)
    except _USER_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"surrogate {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"surrogate {args.command}: interrupted (finished runs are checkpointed)",
              file=sys.stderr)
        return 130
    return status or 0


def _simulators(args: argparse.Namespace) -> None:
    from surrogate._registry import available
    from surrogate.space import Categorical, Integer, Real

    for name, registry in sorted(available().items()):
        sim = registry.load(name)
        print(f"{name}: outputs {', '.join(sim.outputs)}")
        for p in sim.space:
            if isinstance(p, Real):
                scale = ", log" if p.log else ""
                print(f"    {p.name:<12} real in [{p.low:g}, {p.high:g}]{scale}")
            elif isinstance(p, Integer):
                print(f"    {p.name:<12} integer in [{p.low}, {p.high}]")
            elif isinstance(p, Categorical):
                print(f"    {p.name:<12} one of {list(p.categories)}")


def _study(args: argparse.Namespace) -> int:
    from surrogate._registry import default_config
    from surrogate.study import run_study

    target = args.target
    if target.endswith(".toml"):
        config = read_config(target)
    else:
        text = default_config(target)
        config = config_from_text(text, f"default study of {target}") if text else \
            config_from_text(f'simulator = "{target}"')
    for flag, value, least in (("--n", args.n, 2), ("--workers", args.n_workers, 1),
                               ("--seed", args.seed, 0)):
        if value is not None and value < least:
            raise ValueError(f"{flag} must be an integer >= {least}, got {value}")
    config = config.with_overrides(n=args.n, method=args.design, executor=args.executor,
                                   address=args.address, n_workers=args.n_workers,
                                   seed=args.seed)
    if config.executor == "dask" and not config.address:
        raise ValueError("--executor dask needs --address tcp://HOST:PORT")
    out = args.out or Path(f"study-{Path(config.simulator.replace(':', '-')).stem}")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a directory; name a new or existing "
                         "study directory")
    study = run_study(config, out, verbose=not args.quiet)
    for warning in study.warnings:
        print(f"surrogate study: warning: {warning}", file=sys.stderr)
    for failure in study.failures:
        where = failure["stage"] + (f" ({failure['output']})" if "output" in failure else "")
        # the teacher runs' message counts the failed runs itself
        line = failure["error"] if failure["stage"] == "teacher runs" else \
            f"{where} failed: {failure['error']}"
        print(f"surrogate study: error: {line}", file=sys.stderr)
    print(f"report: {(study.directory / 'report.html').resolve()}")
    return 1 if study.failures else 0


def _read_table(path: Path) -> Any:
    import pandas as pd

    if path.is_dir():
        from surrogate.data import TransferSet

        runs = TransferSet.load(path).valid()
        return pd.concat([runs.X, runs.Y], axis=1), list(runs.X.columns)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    if path.suffix == ".csv":
        return pd.read_csv(path), None
    if path.suffix == ".parquet":
        return pd.read_parquet(path), None
    raise ValueError(f"{path}: expected a transfer-set directory, a .csv or a .parquet file")


def _discover(args: argparse.Namespace) -> None:
    import numpy as np

    from surrogate.discovery import PRIM, REDS

    outcome = parse_outcome(args.outcome, "--outcome")
    table, inputs = _read_table(Path(args.data))
    if outcome.output not in table.columns:
        raise ValueError(f"--outcome: no column {outcome.output!r} in {args.data}; "
                         f"columns: {list(table.columns)}")
    drop = {c for c in args.drop.split(",") if c}
    unknown = sorted(drop - set(table.columns))
    if unknown:
        raise ValueError(f"--drop: no column(s) {unknown} in {args.data}")
    if inputs is None:
        inputs = [c for c in table.columns if c != outcome.output and c not in drop]
    if not 0 < args.min_density <= 1:
        raise ValueError(f"--min-density must be in (0, 1], got {args.min_density}")
    X = table[inputs]
    y = np.asarray(outcome.label(table[outcome.output].to_numpy()), dtype=float)
    print(f"{int(y.sum())} of {len(y)} cases satisfy {outcome} (base rate {y.mean():.3f})")
    models = [("PRIM", PRIM().fit(X, y))]
    if args.reds:
        models.append(("REDS", REDS(seed=args.seed).fit(X, y)))
    for name, model in models:
        target = min(args.min_density, float(model.trajectory_["density"].max()))
        box = model.box(min_density=target)
        print(f"{name}: {box.rules()}")
        print(f"    coverage {box.coverage:.3f}, density {box.density:.3f}, mass {box.mass:.3f}, "
              f"{box.n_restricted} restricted parameter(s)")


def _optimize(args: argparse.Namespace) -> None:
    from surrogate._registry import load_simulator
    from surrogate.optimize import maximize, minimize

    sim = load_simulator(args.simulator)
    run = maximize if args.maximize else minimize
    result = run(sim, output=args.output, budget=args.budget, seed=args.seed,
                 checkpoint=args.checkpoint)
    print(f"best {args.output} = {float(result.y):.6g} after {result.n_evaluations} "
          f"teacher evaluations")
    for name, value in result.x.items():
        print(f"    {name} = {value}")


if __name__ == "__main__":  # python -m surrogate.cli
    raise SystemExit(main())
