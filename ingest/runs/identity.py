"""Which run each row belongs to, and steps that go backwards within a run.

Run identity, in order of precedence:

1. ``--run-by COLS``: the columns' values joined as ``col=value,col=value`` (whole numbers
   without '.0', so CSV and Parquet name a run alike);
2. a W&B chart export: the ``<run>`` of each ``<run> - <metric>`` column;
3. the run column (``run``, ``run_id``, ``run_name``, ``name``, or ``--map run=COLUMN``);
4. otherwise inferred: **in file order, a new run starts where the step goes backwards (the
   tokens where there is no step, else the FLOPs) or the size changes**; runs are named
   ``<file stem>#1``, ``#2`` ... In long form the rule runs within each metric, so a file
   sorted by metric finds the same runs as one sorted by checkpoint.

Where identity is explicit (1-3), a step (or tokens) below the run's previous one in the
same file is an error.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.runs.columns import Cells, show, text
from ingest.runs.problems import Problems
from ingest.runs.reading import Table

FI, L, R, RID, PART = "@fi", "@line", "@run", "@rid", "@part"
P, S, T, F = "@params", "@step", "@tokens", "@flops"


def identify(df: pl.DataFrame, cells: Cells, table: Table, fi: int, fields: dict,
             run_by: tuple[str, ...], shape: str, problems: Problems
             ) -> tuple[pl.DataFrame, pl.DataFrame, bool]:
    """Add ``@rid`` (a run's number in this file) to ``df``.

    Returns
    -------
    df : pl.DataFrame
        With ``@rid``; rows whose run name is empty are dropped (and named in ``problems``).
    runs : pl.DataFrame
        ``@rid, @run, @line``: the file's runs in order of appearance, with their first line.
    explicit : bool
        Whether identity came from the data or the user rather than the inference rule.
    """
    if run_by:
        missing = [c for c in run_by if c not in df.columns]
        for c in missing:
            problems.add(fi, "header", c, "no such column (--run-by); the columns are: "
                         f"{', '.join(table.columns)}")
        if missing:  # the rows cannot be told apart: their checks would only echo this
            problems.check()
        parts = []
        for c in run_by:
            value = _number_text(pl.col(c).cast(pl.Float64)) if cells.numeric(c) else text(c)
            parts.append(pl.concat_str(pl.lit(f"{c}="), value.fill_null("")))
        return _named(df.with_columns(pl.concat_str(parts, separator=",").alias(R)))
    if shape == "W&B chart":
        return _named(df)
    if "run" in fields:
        column = fields["run"][0]
        df = df.with_columns(text(column).alias(R))
        empty = df.filter(pl.col(R).is_null()).select(FI, L)
        problems.add_rows(empty, column, lambda r: "the run name is empty")
        return _named(df.filter(pl.col(R).is_not_null()))
    return _inferred(df, table, fields, shape)


def _named(df: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, bool]:
    df = df.with_columns(pl.col(R).cast(pl.Categorical).to_physical().alias(RID))
    runs = df.select(RID, R, L).unique(RID, keep="first", maintain_order=True)
    return df.drop(R), runs, True


def _inferred(df: pl.DataFrame, table: Table, fields: dict, shape: str
              ) -> tuple[pl.DataFrame, pl.DataFrame, bool]:
    order = S if "step" in fields else T if "tokens" in fields else F

    def previous(column: str) -> pl.Expr:
        shifted = pl.col(column).shift(1)
        return shifted.over(PART) if shape == "long" else shifted

    new = ((pl.col(order) < previous(order)) | (pl.col(P) != previous(P))).fill_null(False)
    number = new.cast(pl.UInt32).cum_sum()
    df = df.with_columns((number.over(PART) if shape == "long" else number).alias(RID))
    stem = Path(table.name).stem
    runs = df.select(RID, L).unique(RID, keep="first", maintain_order=True).select(
        RID, pl.format(f"{stem}#{{}}", pl.col(RID) + 1).alias(R), L)
    return df, runs, False


def _number_text(value: pl.Expr) -> pl.Expr:
    """Numbers as run-name text: whole numbers without '.0'."""
    whole = value.cast(pl.Int64, strict=False)
    return pl.when(whole == value).then(whole.cast(pl.String)).otherwise(value.cast(pl.String))


def backwards(df: pl.DataFrame, runs: pl.DataFrame, table: Table, fields: dict,
              problems: Problems) -> None:
    """Name rows whose step (tokens where there is no step) is below the run's previous one."""
    name = "step" if "step" in fields else "tokens" if "tokens" in fields else None
    if name is None:
        return
    col = S if name == "step" else T
    prev = pl.col(col).shift(1).forward_fill().over(RID, PART)
    bad = df.filter(pl.col(col) < prev)
    if bad.is_empty():
        return
    last_line = pl.when(pl.col(col).is_not_null()).then(pl.col(L)).shift(1).forward_fill()
    rows = df.with_columns(prev.alias("prev"), last_line.over(RID, PART).alias("prev_line")
                           ).filter(pl.col(col) < pl.col("prev")).join(runs, on=RID).select(
        FI, L, R, pl.col(col).alias("v"), "prev", "prev_line")
    unit = table.unit
    problems.add_rows(rows, fields[name][0], lambda r: (
        f"{name} goes backwards in run '{r[R]}' ({show(r['v'])} after {show(r['prev'])} at "
        f"{unit} {r['prev_line']})"))


def describe(fields: dict, run_by: tuple[str, ...], shape: str, table: Table) -> str:
    """How a file's runs were told apart, for the dry run."""
    if run_by:
        return f"--run-by {','.join(run_by)} (values joined as col=value,...)"
    if shape == "W&B chart":
        return "W&B chart columns '<run> - <metric>'"
    if "run" in fields:
        column, how = fields["run"]
        return f"run column '{column}' ({how})"
    order = "step" if "step" in fields else "tokens" if "tokens" in fields else "flops"
    stem = Path(table.name).stem
    per = " within each metric" if shape == "long" else ""
    return (f"inferred: in file order{per}, a new run starts where {order} goes backwards or "
            f"the size changes; runs named {stem}#1, {stem}#2, ...")
