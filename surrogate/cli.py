"""The command line: ``surrogate simulators | study | discover | optimize | distill``.

User mistakes (unknown simulator, invalid configuration, bad option values, missing files) end
with one line on stderr and exit status 2, never a traceback. A study that ran but where a stage
failed (every teacher run, a surrogate, the sensitivity analysis, the optimization, the
discovery) prints one ``error:`` line per failed stage, keeps everything that finished on disk
and exits with status 1; a ``warning:`` line (e.g. many failed teacher runs) does not change the
status.
"""

from __future__ import annotations

import argparse
import re
import sys
import warnings
from pathlib import Path
from typing import Any, NoReturn

from surrogate._cli_distill import DEFAULT_LEAVES, DISTILL_TEACHERS, run_distill
from surrogate._cli_tables import dropped, read_table, successful_runs
from surrogate._config import (
    ConfigError,
    config_from_dict,
    config_from_text,
    parse_outcome,
    read_config,
)

__all__ = ["main"]

_USER_ERRORS = (ConfigError, ValueError, TypeError, FileNotFoundError, KeyError)


class _OneLineParser(argparse.ArgumentParser):
    """Mistakes in the arguments as one line, as every other user error (argparse printed its
    usage block first); ``--help`` shows the usage."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _seed(text: str) -> int:
    """A --seed value: an int >= 0 (checked before any work, as the parser's other errors)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be an int >= 0, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(
        prog="surrogate", description="Fast, trustworthy surrogates and readable rules from "
        "slow simulations.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("simulators", help="list the bundled simulators")

    study = commands.add_parser("study", help="design, runs, surrogates, sensitivity, "
                                "optimization, discovery and a report in one job")
    study.add_argument("target", metavar="SIMULATOR|CONFIG.toml")
    study.add_argument("--n", type=int, help="number of teacher runs (an adaptive design's "
                       "budget)")
    study.add_argument("--design", choices=["lhs", "sobol", "halton", "random"],
                       help="overrides [design] method; on an adaptive configuration, a "
                            "one-shot design of --n (or its budget) runs")
    study.add_argument("--executor", choices=["serial", "processes", "dask"])
    study.add_argument("--address", help="Dask scheduler address (tcp://HOST:PORT)")
    study.add_argument("--workers", type=int, dest="n_workers",
                       help="worker processes (with --executor processes)")
    study.add_argument("--out", type=Path, help="study directory (default: study-SIMULATOR)")
    study.add_argument("--seed", type=_seed, help="overrides the configuration's seed (0)")
    study.add_argument("--quiet", action="store_true", help="no progress messages")
    study.add_argument("--rerun-failed", action="store_true",
                       help="run the failed and timed-out runs of the checkpoint again (after "
                            "fixing their cause); finished runs are kept")

    discover = commands.add_parser("discover", help="scenario discovery on saved runs")
    discover.add_argument("data", metavar="DATA",
                          help="a transfer-set directory, or a .csv / .parquet table")
    discover.add_argument("--outcome", required=True, help="case of interest, e.g. 'stab < 0', "
                          "or over a field of saved runs, e.g. 'max(I) > 0.1'; in a table "
                          "also a True/False column's name or \"stabf == 'stable'\"")
    discover.add_argument("--reds", action="store_true", help="also run REDS (metamodel + PRIM)")
    discover.add_argument("--min-density", type=float, default=0.8,
                          help="the box shown: the one covering most cases among those at least "
                               "this dense (default 0.8)")
    discover.add_argument("--drop", default="", help="comma-separated columns that are not inputs")
    discover.add_argument("--seed", type=_seed, default=0, help="seeds REDS (default 0)")

    optimize = commands.add_parser("optimize", help="Bayesian optimization with the teacher")
    optimize.add_argument("simulator", metavar="SIMULATOR",
                          help="a bundled simulator (`surrogate simulators`); to optimize "
                               "your own, give its study configuration an [optimize] table "
                               "and run `surrogate study`")
    optimize.add_argument("--output", required=True, help="the output to optimize")
    optimize.add_argument("--budget", type=int, required=True,
                          help="teacher runs in all, the initial design included")
    optimize.add_argument("--maximize", action="store_true", help="maximize (default minimize)")
    optimize.add_argument("--seed", type=_seed, default=0, help="default 0")
    optimize.add_argument("--checkpoint", type=Path,
                          help="directory that keeps every run; the same command resumes")

    distill = commands.add_parser("distill", help="distil a teacher fitted on a labelled table "
                                  "into a readable tree or boxes, with its fidelity")
    distill.add_argument("data", metavar="DATA", help="a .csv or .parquet table (Data 1), or a "
                         "transfer-set directory (its design's columns are the inputs)")
    distill.add_argument("--label", required=True,
                         help="the column of class labels (whole numbers or text)")
    distill.add_argument("--teacher", default="rf", help=f"one of {', '.join(DISTILL_TEACHERS)} "
                         "(default rf)")
    distill.add_argument("--student", default="tree", help="tree or boxes (default tree)")
    distill.add_argument("--max-leaves", type=int, default=None,
                         help=f"leaves of the tree student (default {DEFAULT_LEAVES})")
    distill.add_argument("--transfer", default="munge",
                         help="munge, kde, gmm or data (default munge)")
    distill.add_argument("--n", type=int, default=10_000, help="generated transfer-set points")
    distill.add_argument("--test", type=float, default=0.25,
                         help="share of the rows held out to score teacher and students")
    distill.add_argument("--drop", default="", help="comma-separated columns that are not inputs")
    distill.add_argument("--out", type=Path, help="report directory (default: distill-DATA)")
    distill.add_argument("--seed", type=_seed, default=0)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``surrogate`` console script."""
    args = _parser().parse_args(argv)
    try:
        handler = {"simulators": _simulators, "study": _study, "discover": _discover,
                   "optimize": _optimize, "distill": run_distill}[args.command]
        with warnings.catch_warnings():
            warnings.showwarning = _warning_printer(args.command)
            status = handler(args)
    except BrokenPipeError:  # the reader left (e.g. `| head`): nothing more to say
        sys.stderr.close()
        return 0
    except _USER_ERRORS as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"surrogate {args.command}: error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:  # the system's: a directory it may not write, a cluster not there
        print(f"surrogate {args.command}: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"surrogate {args.command}: interrupted (finished runs are checkpointed)",
              file=sys.stderr)
        return 130
    return status or 0


def _warning_printer(command: str) -> Any:
    """``warnings.showwarning`` for the command line: the user's and runtime warnings as one
    line, ``surrogate CMD: warning: message``, not Python's file, line and source form."""
    original = warnings.showwarning

    def show(message: Any, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        if issubclass(category, UserWarning | RuntimeWarning):
            print(f"surrogate {command}: warning: {message}", file=sys.stderr)
        else:
            original(message, category, filename, lineno, file, line)
    return show


def _simulators(args: argparse.Namespace) -> None:
    from surrogate._registry import available
    from surrogate.space import Categorical, Integer, Real

    for name, registry in sorted(available().items()):
        sim = registry.load(name)
        print(f"{name}: outputs {', '.join(sim.outputs)}")
        for field_name, grid in sim.fields.items():
            print(f"    field {field_name}: {len(grid)} points on [{grid[0]:g}, {grid[-1]:g}]")
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
    from surrogate.execute._checkpoint import CheckpointMismatch
    from surrogate.study import run_study

    target = args.target
    if target.lower().endswith(".toml"):  # cfg.TOML too, not a simulator name
        config = read_config(target)
    else:
        text = default_config(target)
        # a dict, not TOML text: a quote or a backslash (C:\\models\\osc.py:f) broke the TOML
        config = config_from_text(text, f"default study of {target}") if text else \
            config_from_dict({"simulator": target}, "the command line")
    for flag, value, least in (("--n", args.n, 2), ("--workers", args.n_workers, 1),
                               ("--seed", args.seed, 0)):
        if value is not None and value < least:
            raise ValueError(f"{flag} must be an integer >= {least}, got {value}")
    if config.method == "adaptive" and args.design is None:  # --n is the adaptive budget
        config = config.with_overrides(adaptive_budget=args.n)
        args.n = None
    elif config.method == "adaptive" and args.n is None:  # a one-shot design of as many runs
        args.n = config.adaptive_budget
    config = config.with_overrides(n=args.n, method=args.design, executor=args.executor,
                                   address=args.address, n_workers=args.n_workers,
                                   seed=args.seed, rerun="failed" if args.rerun_failed else None)
    if config.rerun and config.method == "adaptive":
        raise ValueError("--rerun-failed: an adaptive design does not run failed runs again "
                         "(it steers away from them)")
    if config.executor == "dask" and not config.address:
        raise ValueError("the dask executor needs a scheduler address: --address "
                         'tcp://HOST:PORT, or address = "tcp://HOST:PORT" in the [run] table')
    out = args.out or _default_study_dir(config.simulator)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out}: exists and is not a directory; name a new or existing "
                         "study directory")
    try:
        study = run_study(config, out, verbose=not args.quiet)
    except CheckpointMismatch as exc:  # it says "use a new checkpoint directory": which?
        raise ValueError(f"{exc} (for this study: --out NEW_DIR, or remove {out} to start "
                         "over)") from None
    if args.quiet:
        for warning in study.warnings:
            print(f"surrogate study: warning: {warning}", file=sys.stderr)
    elif study.warnings:  # each was logged as its stage ran: count them, do not repeat them
        print(f"surrogate study: {len(study.warnings)} warning(s), logged above and listed in "
              "the report", file=sys.stderr)
    for failure in study.failures:
        where = failure["stage"] + (f" ({failure['output']})" if "output" in failure else "")
        # the teacher runs' message counts the failed runs itself
        line = failure["error"] if failure["stage"] == "teacher runs" else \
            f"{where} failed: {failure['error']}"
        print(f"surrogate study: error: {line}", file=sys.stderr)
    print(f"report: {(study.directory / 'report.html').resolve()}")
    return 1 if study.failures else 0


def study_name(simulator: str) -> str:
    """The default study directory's name for a simulator spec: a bundled name as it is,
    ``path/osc.py:fn`` -> ``osc-fn``, ``pkg.mod:fn`` -> ``mod-fn`` (two simulators of one file
    or package get two directories).

    Examples
    --------
    >>> [study_name(s) for s in ("dsgc", "models/osc.py:damped", "examples.teacher:prey")]
    ['dsgc', 'osc-damped', 'teacher-prey']
    """
    module, _, attr = simulator.rpartition(":")
    if not module:
        return Path(simulator).stem if simulator.endswith(".py") else simulator
    stem = Path(module).stem if module.endswith(".py") else module.rpartition(".")[2]
    return f"{stem}-{attr}"


def _default_study_dir(simulator: str) -> Path:
    """``study-<study_name>``; an existing directory of the name older versions gave (which
    cut a spec at its first dot) is kept, so that rerunning a study resumes it."""
    new = Path(f"study-{study_name(simulator)}")
    old = Path(f"study-{Path(simulator.replace(':', '-')).stem}")
    return old if old != new and old.is_dir() and not new.exists() else new


def _whole_space(density: float, densest: float, min_density: float) -> str:
    """What a box that restricts nothing says: no box is denser, or the space is dense enough."""
    if densest > density:
        return (f"(the whole space: its density {density:.3f} already reaches --min-density "
                f"{min_density:g}; the densest box's is {densest:.3f}, a higher --min-density "
                f"shows it)")
    return "(the whole space: no box is denser)"


def _discover(args: argparse.Namespace) -> None:
    import numpy as np

    from surrogate.discovery import PRIM, REDS

    if not 0 < args.min_density <= 1:
        raise ValueError(f"--min-density must be in (0, 1], got {args.min_density}")
    path = Path(args.data)
    runs = _transfer_set(path)
    label = _LabelOutcome.parse(args.outcome) if runs is None else None
    outcome = label if label is not None else parse_outcome(args.outcome, "--outcome")
    if runs is not None:  # outputs and fields by name; the inputs are the design's columns
        X, y, field = _runs_outcome(runs, outcome, args.data)
        drop = dropped(X, args)  # inputs left out, as for a table
        X = X.drop(columns=sorted(drop))
    else:
        table, _ = read_table(path)
        X, y = _table_outcome(table, outcome, args)
        field = None
    print(f"{int(y.sum())} of {len(y)} cases satisfy {outcome} (base rate {y.mean():.3f})")
    if not y.any():
        raise ValueError(f"no run meets --outcome {outcome}: there is no case to find a box "
                         "around")
    if args.reds and y.all():
        raise ValueError(f"every run meets --outcome {outcome}: REDS's metamodel needs runs "
                         "on both sides of it")
    models = [("PRIM", PRIM().fit(X, y))]
    if args.reds and field is not None:  # a field surrogate labels fresh points by the outcome
        from surrogate.discovery import FieldOutcomeClassifier

        metamodel = FieldOutcomeClassifier(str(outcome), seed=args.seed)
        models.append(("REDS", REDS(metamodel=metamodel, seed=args.seed).fit(
            X, runs.field(field), space=runs.space)))
    elif args.reds:  # a transfer set's fresh points come from its space, as in the study
        space = runs.space if runs is not None else None
        if space is None:
            print("REDS draws its fresh points uniformly over each input column's range and "
                  "categories (a table has no space; a log-scale parameter is better read from "
                  "a transfer set directory, which keeps its space)")
        models.append(("REDS", REDS(seed=args.seed).fit(X, np.asarray(y, dtype=float),
                                                        space=space)))
    for name, model in models:
        densest = float(model.trajectory_["density"].max())
        box = model.box(min_density=min(args.min_density, densest))
        print(f"{name}: {box.rules() or _whole_space(box.density, densest, args.min_density)}")
        print(f"    coverage {box.coverage:.3f}, density {box.density:.3f}, mass {box.mass:.3f}, "
              f"{box.n_restricted} restricted parameter(s)")
        if densest < args.min_density:
            print(f"    no box reaches --min-density {args.min_density:g}: the densest is shown")
        if name == "REDS":
            fidelity = getattr(model, "fidelity_", None)
            print(f"    (counted on the metamodel's labels of {len(model.sample_)} fresh points, "
                  "not on the runs; metamodel's cross-validated agreement with the runs: "
                  + ("n/a" if fidelity is None else f"{fidelity:.3f}") + ")")


class _LabelOutcome:
    """A table's label column as the case of interest: ``"stable"`` (a True/False or 0/1
    column) or ``"stabf == 'stable'"`` / ``"!="`` (a text column), beside the numeric
    expressions of :func:`surrogate.discovery.parse_outcome`."""

    def __init__(self, column: str, op: str | None, text: str | None) -> None:
        self.column, self.op, self.text = column, op, text
        self.names = (column,)

    @classmethod
    def parse(cls, expression: str) -> _LabelOutcome | None:
        bare = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*", expression)
        if bare:
            return cls(bare.group(1), None, None)
        text = re.fullmatch(r"\s*([A-Za-z_]\w*)\s*(==|!=)\s*(['\"])(.*)\3\s*", expression)
        return cls(text.group(1), text.group(2), text.group(4)) if text else None

    def evaluate(self, table: Any) -> Any:
        import numpy as np
        import pandas as pd

        values = table[self.column]
        if self.op is not None:
            same = values.astype(str).to_numpy() == self.text
            return same if self.op == "==" else ~same
        if pd.api.types.is_bool_dtype(values):
            return values.to_numpy(dtype=bool)
        numbers = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
        if not np.isin(numbers, (0.0, 1.0)).all():
            raise ValueError(f"--outcome {self.column}: the column holds values other than "
                             f"True/False or 0/1; compare it, e.g. '{self.column} > 0.5' or "
                             f"\"{self.column} == 'some text'\"")
        return numbers == 1.0

    def __str__(self) -> str:
        return self.column if self.op is None else f"{self.column} {self.op} {self.text!r}"


def _transfer_set(path: Path) -> Any:
    """The successful runs of a transfer-set directory, else None (a table or nothing)."""
    return successful_runs(path) if path.is_dir() else None


def _runs_outcome(runs: Any, outcome: Any, data: str) -> tuple[Any, Any, str | None]:
    """(inputs, labels, the field the outcome is over or None) of saved runs."""
    import numpy as np

    for name in outcome.names:
        if name not in runs.outputs and name not in runs.fields:
            raise ValueError(f"--outcome: no output or field {name!r} in {data}; outputs: "
                             f"{runs.outputs}, fields: {runs.fields}")
    if hasattr(outcome, "check_scalar"):
        outcome.check_scalar(runs.fields, "--outcome")
    y = np.asarray(outcome.evaluate(runs), dtype=float)
    names = list(outcome.names)
    field = names[0] if len(names) == 1 and names[0] in runs.fields else None
    return runs.X, y, field


def _table_outcome(table: Any, outcome: Any, args: argparse.Namespace) -> tuple[Any, Any]:
    """(inputs, labels) of a table: the inputs are the columns the outcome does not read."""
    import numpy as np

    for name in outcome.names:
        if name not in table.columns:
            raise ValueError(f"--outcome: no column {name!r} in {args.data}; "
                             f"columns: {list(table.columns)}")
    drop = dropped(table, args)
    missing = table[list(outcome.names)].isna().any(axis=1)
    if missing.any():  # failed runs: their outcome is unknown, not "not of interest"
        print(f"{int(missing.sum())} row(s) with {', '.join(outcome.names)} missing (NaN) are "
              "left out: their outcome is unknown")
        table = table[~missing.to_numpy()].reset_index(drop=True)
    inputs = [c for c in table.columns if c not in outcome.names and c not in drop]
    return table[inputs], np.asarray(outcome.evaluate(table), dtype=float)


def _optimize(args: argparse.Namespace) -> None:
    from surrogate._registry import available, load_simulator
    from surrogate.optimize import maximize, minimize

    known = available()
    if args.simulator not in known:
        raise ValueError(f"{args.simulator}: surrogate optimize runs a bundled simulator "
                         f"({sorted(known)}); for your own, write a study configuration "
                         "with an [optimize] table (mode = \"teacher\", budget = N) and run "
                         "`surrogate study CONFIG.toml`")
    sim = load_simulator(args.simulator)
    n_init = 2 * sim.space.dim + 1  # the loop's default initial design (no option here)
    if args.budget < n_init:
        raise ValueError(f"--budget {args.budget}: {args.simulator} needs at least {n_init} "
                         f"(its initial design is 2 * dim + 1 = {n_init} runs)")
    if args.checkpoint is not None:
        try:
            Path(args.checkpoint).expanduser().mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"--checkpoint {args.checkpoint}: cannot be created "
                             f"({exc.strerror or exc})") from None
    run = maximize if args.maximize else minimize
    result = run(sim, output=args.output, budget=args.budget, seed=args.seed,
                 checkpoint=args.checkpoint)
    print(f"best {args.output} = {float(result.y):.6g} after {result.n_evaluations} "
          f"teacher evaluations")
    for name, value in result.x.items():
        print(f"    {name} = {value}")


if __name__ == "__main__":  # python -m surrogate.cli
    raise SystemExit(main())
