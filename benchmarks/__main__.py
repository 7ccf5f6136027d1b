"""``python -m benchmarks NAME [--quick] [--part PART]``: run one benchmark module (or one part
of it) and write its results.

Each benchmark is a module ``benchmarks/NAME.py`` with ``DESCRIPTION`` (one line) and
``run(quick: bool) -> tuple[dict, str]`` returning the JSON payload and a markdown table.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from pathlib import Path

from benchmarks._common import machine_info, pin_threads, write_results


def _available() -> list[str]:
    here = Path(__file__).resolve().parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("name", nargs="?", help=f"one of: {', '.join(_available())}")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    parser.add_argument("--threads", type=int, default=1, help="numerical threads (default 1)")
    parser.add_argument("--part", help="one part of a benchmark that has parts (its PARTS); "
                        "results go to results/NAME-PART.*")
    args = parser.parse_args(argv)
    if args.name not in _available():
        parser.error(f"unknown benchmark {args.name!r}; choose one of: {', '.join(_available())}")
    threads = pin_threads(args.threads)
    module = importlib.import_module(f"benchmarks.{args.name}")
    parts = getattr(module, "PARTS", None)
    if args.part is not None and (parts is None or args.part not in parts):
        parser.error(f"--part {args.part!r}: benchmark {args.name} has "
                     + (f"the parts {', '.join(parts)}" if parts else "no parts"))
    if args.part is None:
        payload, table = module.run(quick=args.quick)
    else:
        payload, table = module.run(quick=args.quick, parts=[args.part])
    payload = {
        "name": args.name,
        "description": getattr(module, "DESCRIPTION", ""),
        "command": "python -m benchmarks " + " ".join(sys.argv[1:] if argv is None else argv),
        "quick": args.quick,
        "machine": machine_info(threads),
        **payload,
    }
    suffix = ("" if args.part is None else f"-{args.part}") + ("-quick" if args.quick else "")
    path = write_results(args.name + suffix, payload, table)
    print(table)
    print(f"results written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
