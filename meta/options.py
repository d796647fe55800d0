"""Options shared by several commands, and the one way rows leave the CLI."""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from meta.params import OutputPath
from warehouse.errors import MetaError
from warehouse.jsonsafe import dumps, json_safe

FORMATS = ("table", "csv", "json", "parquet")

if TYPE_CHECKING:
    import polars as pl  # annotations only: `meta --help` does not load polars


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path``; an OS error is one ``MetaError`` sentence."""
    try:
        path.write_text(text)
    except OSError as e:
        raise MetaError(f"Cannot write {path}: {e.strerror}.") from None


def warehouse_option(f: Callable) -> Callable:
    """``--warehouse FILE``: $META_WAREHOUSE, then ./warehouse.duckdb."""
    return click.option(
        "--warehouse",
        "warehouse_path",
        envvar="META_WAREHOUSE",
        default="warehouse.duckdb",
        show_default=True,
        type=click.Path(dir_okay=False, path_type=Path),
        help="DuckDB warehouse file (env: META_WAREHOUSE).",
    )(f)


def executor_options(f: Callable) -> Callable:
    """``--jobs N``, ``--executor local|ray``, ``--address ADDR``: where chunks are fitted
    (:mod:`analyses.executor`); builds ``jobs`` (default: the cores) for the command."""
    f = click.option(
        "--address", default=None, metavar="ADDR",
        help="A Ray cluster to run on (ray://HOST:10001, HOST:6379 or auto); --executor ray "
             "only. Without it, a local Ray instance of --jobs CPUs.")(f)
    f = click.option(
        "--executor", type=click.Choice(["local", "ray"]), default="local", show_default=True,
        help="Local worker processes, or Ray tasks (pip install 'meta-scaling[ray]').")(f)
    return click.option(
        "--jobs", type=click.IntRange(min=1), default=os.cpu_count() or 1,
        show_default="the number of cores",
        help="Worker processes (local), or the CPUs of a local Ray instance.")(f)


def progress_printer(noun: str) -> Callable[..., None]:
    """A progress line on stderr, at most every 2 s: ``noun`` done of total, elapsed, ETA.

    The ETA extrapolates the share done: ``work`` (the share of the estimated work done)
    where the caller knows it, else ``done / total``.
    """
    start = time.perf_counter()
    last = [0.0]

    def show(done: int, total: int, what: str, work: float | None = None) -> None:
        now = time.perf_counter()
        if done < total and now - last[0] < 2.0:
            return
        last[0] = now
        elapsed = now - start
        share = work if work is not None else done / total if total else 1.0
        eta = elapsed * max(0.0, 1 - share) / share if share > 0 else float("nan")
        count = (f"{done:,}/{total:,}, {100 * share:.0f}% of the work" if work is not None
                 else f"{done:,}/{total:,} ({100 * share:.0f}%)")
        click.echo(f"  {noun} {count}, {what}, {elapsed:.0f} s elapsed, "
                   f"ETA {duration(eta)}", err=True)

    return show


def duration(seconds: float) -> str:
    """``42 s``, ``12 min``, ``2.7 h``; ``unknown`` for NaN.

    Examples
    --------
    >>> [duration(s) for s in (42.4, 725, 9720, float("nan"))]
    ['42 s', '12 min', '2.7 h', 'unknown']
    """
    if seconds != seconds:
        return "unknown"
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 7200 else f"{seconds / 3600:.1f} h"


def data_root_option(f: Callable) -> Callable:
    """``--data-root DIR``: $META_DATA_ROOT."""
    return click.option(
        "--data-root",
        envvar="META_DATA_ROOT",
        required=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Folder holding the upstream data (env: META_DATA_ROOT).",
    )(f)


def format_options(f: Callable) -> Callable:
    """``--format table|csv|json|parquet``, ``--json`` (same as --format json), ``--out FILE``."""
    f = click.option(
        "--out", type=OutputPath(), help="Write to FILE (its folder must exist)."
    )(f)
    f = click.option("--json", "as_json", is_flag=True, help="Same as --format json.")(f)
    return click.option(
        "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
        help="Output format; csv and json keep every digit, table rounds to 6.",
    )(f)


def open_warehouse(ctx: click.Context, path: Path, *, read_only: bool):
    """Connect and close the connection when the command ends (the file lock is released)."""
    import warehouse

    con = warehouse.connect(path, read_only=read_only)
    ctx.call_on_close(con.close)
    return con


def _table(df: pl.DataFrame) -> str:
    cells = [[_cell(v) for v in row] for row in df.iter_rows()]
    header = df.columns
    widths = [max([len(h)] + [len(r[j]) for r in cells]) for j, h in enumerate(header)]
    numeric = [df.schema[c].is_numeric() for c in header]

    def line(values: Sequence[str]) -> str:
        return "  ".join(
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), rule, *(line(r) for r in cells)]) + "\n"


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _exact(value: object) -> object:
    """``value`` as JSON and CSV can carry it without losing digits: a DECIMAL becomes a float
    when the float is the same number, else its exact text."""
    if isinstance(value, Decimal):
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else str(value)
    if isinstance(value, dict):
        return {k: _exact(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_exact(v) for v in value]
    return value


def _csv_cell(value: object) -> str:
    """A CSV field with every digit: ``repr`` of floats, JSON text of lists and structs."""
    value = _exact(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | dict):
        return json.dumps(json_safe(value), default=str, separators=(",", ":"))
    return str(value)


def emit(df: pl.DataFrame, fmt: str, out: Path | None = None) -> None:
    """Write ``df`` as a table, CSV, JSON (a list of objects) or Parquet to stdout or ``out``.

    CSV and JSON keep full precision (the shortest text that reads back as the same float);
    the table rounds floats to 6 significant digits for reading.
    """
    if fmt == "parquet":
        if out is None:
            raise MetaError("--format parquet needs --out FILE.")
        try:
            df.write_parquet(out)
        except OSError as e:
            raise MetaError(f"Cannot write {out}: {e.strerror}.") from None
        return
    if fmt == "json":
        text = dumps(_exact(df.to_dicts())) + "\n"
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(df.columns)
        writer.writerows([_csv_cell(v) for v in r] for r in df.iter_rows())
        text = buf.getvalue()
    else:
        text = _table(df)
    if out is None:
        sys.stdout.write(text)
    else:
        write_text(out, text)


def emit_json(document: object) -> None:
    """Print one JSON document on stdout and nothing else."""
    sys.stdout.write(dumps(document) + "\n")


def resolve_format(fmt: str, as_json: bool) -> str:
    """``--json`` wins over ``--format``."""
    return "json" if as_json else fmt
