"""Tables for the command line: a CSV, a parquet file or a transfer-set directory read as
one table, and the columns ``--drop`` leaves out (shared by ``discover`` and ``distill``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["read_table", "dropped"]


def successful_runs(path: Path) -> Any:
    """The successful runs of a transfer-set directory; none is an error naming it."""
    from surrogate.data import TransferSet

    runs = TransferSet.load(path).valid()
    if not len(runs):
        raise ValueError(f"{path}: holds no successful runs (columns: "
                         f"{[*map(str, runs.X.columns), *map(str, runs.Y.columns)]})")
    return runs


def read_table(path: Path) -> Any:
    """(table, input columns or None) of a transfer-set directory, a .csv or a .parquet file;
    a table without rows is an error naming the file."""
    import pandas as pd

    if path.is_dir():
        runs = successful_runs(path)
        table, inputs = pd.concat([runs.X, runs.Y], axis=1), list(runs.X.columns)
    elif not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    elif path.suffix == ".csv":
        try:
            table, inputs = pd.read_csv(path), None
            cells = list(pd.read_csv(path, header=None, nrows=1, dtype=str).iloc[0])
            header = [name for name in cells if isinstance(name, str)]
        except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
            why = " ".join(str(exc).split())  # pandas' text may hold line breaks
            raise ValueError(f"{path}: cannot be read as a CSV table ({why})") from None
        unnamed = [i + 1 for i, name in enumerate(cells) if not isinstance(name, str)]
        if unnamed:  # pandas' 'Unnamed: 0', most often an index (to_csv's default): an input
            raise ValueError(f"{path}: column(s) {unnamed} (counting from 1) have no name in the "
                             "header; name them, or write the table without its index "
                             "(DataFrame.to_csv(path, index=False))")
        repeated = sorted({name for name in header if header.count(name) > 1})
        if repeated:  # pandas renames the second 'a' to 'a.1', a name the file does not hold
            raise ValueError(f"{path}: the column name(s) {repeated} head more than one "
                             "column; name each column once")
    elif path.suffix == ".parquet":
        table, inputs = pd.read_parquet(path), None
    else:
        raise ValueError(f"{path}: expected a transfer-set directory, a .csv or a .parquet file")
    if table.empty:
        what = "successful runs" if path.is_dir() else "rows"
        raise ValueError(f"{path}: holds no {what} (columns: {list(map(str, table.columns))})")
    return table, inputs


def dropped(table: Any, args: argparse.Namespace) -> set[str]:
    """The columns named by --drop, or one clear error naming those the table lacks."""
    drop = {c for c in args.drop.split(",") if c}
    unknown = sorted(drop - set(table.columns))
    if unknown:
        raise ValueError(f"--drop: no column(s) {unknown} in {args.data}")
    return drop
