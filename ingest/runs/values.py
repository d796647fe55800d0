"""A file's columns as metrics and hyperparameters.

A numeric column that holds one value per run is a hyperparameter, unless its name says it is
a metric (a loss, perplexity, accuracy ... by ``ingest.parse.metric_kind``) or it is the mapped
loss; a numeric column that varies within a run is a metric. Text that is constant per run is
a text hyperparameter; other text is ignored. The recognised learning rate and batch size are
stored at their peak when they vary (a schedule); a seed, or any column mapped to a
hyperparameter, must hold one value per run.
"""

from __future__ import annotations

import polars as pl

from ingest.parse import metric_kind
from ingest.runs.columns import Cells, show, text
from ingest.runs.identity import FI, PART, RID, F, L, R, S, T
from ingest.runs.mapping import FIELDS, HYPERPARAMETERS, Mapping, loss_rank
from ingest.runs.problems import Problems

M, V, C = "@metric", "@value", "@col"
HP_SCHEMA = {FI: pl.Int32, L: pl.Int64, R: pl.String, "name": pl.String,
             "value": pl.Float64, "text": pl.String}
POINT_SCHEMA = {FI: pl.Int32, L: pl.Int64, RID: pl.UInt32, S: pl.Int64, T: pl.Float64,
                F: pl.Float64, C: pl.String, M: pl.String, V: pl.Float64}
_PEAK = ("lr", "batch_size")  # stored at their maximum when they vary within a run


def classify(df: pl.DataFrame, cells: Cells, columns: list[str], mapping: Mapping,
             problems: Problems) -> tuple[list[str], list[str], list[tuple[str, str]]]:
    """Split ``columns`` into (metrics, hyperparameters, ignored with the reason). A loss
    column with some cells that are not numbers stays a metric, and those cells are named."""
    loss = mapping.columns.get("loss", (None,))[0]
    numeric = []
    for c in columns:
        value, bad = cells.number(c)
        if bad is not None and (c == loss or loss_rank(c) is not None) and (
                value.null_count() < len(value)):
            wrong = df.filter(bad).select(FI, L, pl.col(c).alias("raw"))
            problems.add_rows(wrong, c, lambda r: f"'{r['raw']}' is not a number")
            numeric.append(c)
        elif cells.numeric(c):
            numeric.append(c)
    texts = [c for c in columns if c not in numeric]
    varying = set()
    if columns:
        values = df.select(RID, *[cells.number(c)[0] for c in numeric],
                           *[text(c).alias(c) for c in texts])
        n = values.group_by(RID).agg(pl.all().drop_nulls().n_unique()).select(
            pl.all().exclude(RID).max())
        varying = {c for c in columns if (n[c][0] or 0) > 1}
    metrics, hps, ignored = [], [], []
    for c in numeric:
        if c == loss or c in varying or loss_rank(c) is not None or metric_kind(c) != "other":
            metrics.append(c)
        else:
            hps.append(c)
    for c in texts:
        if text_empty(df, c):
            ignored.append((c, "empty"))
        elif c in varying:
            ignored.append((c, "text that varies within a run"))
        else:
            hps.append(c)
    return metrics, hps, ignored


def text_empty(df: pl.DataFrame, column: str) -> bool:
    """Whether a column has no present cell."""
    return df.select(text(column).is_null().all()).item()


def points(df: pl.DataFrame, cells: Cells, shape: str, metrics: list[str], fields: dict,
           problems: Problems) -> pl.DataFrame:
    """A row per metric value (``POINT_SCHEMA``): long files as they are, wide ones unpivoted."""
    index = [FI, L, RID, S, T, F]
    parts = []
    if shape != "wide":
        column = fields["value"][0] if shape == "long" else None
        value, bad = cells.number(V)
        if bad is not None:
            wrong = df.filter(bad & pl.col(M).is_not_null()).select(
                FI, L, C, pl.col(V).alias("raw"))
            problems.add_rows(wrong, lambda r: column or r[C],
                              lambda r: f"'{r['raw']}' is not a number")
        parts.append(df.with_columns(value.alias(V)).filter(
            pl.col(M).is_not_null() & pl.col(V).is_not_null()).select(*index, C, M, V))
    if metrics:
        wide = df.select(*index, *[cells.number(c)[0] for c in metrics])
        long = wide.unpivot(on=metrics, index=index, variable_name=M, value_name=V)
        parts.append(long.filter(pl.col(V).is_not_null()).select(
            *index, pl.col(M).alias(C), M, V))
    if not parts:
        return pl.DataFrame(schema=POINT_SCHEMA)
    return pl.concat([p.cast(POINT_SCHEMA) for p in parts])


def hyperparameters(df: pl.DataFrame, cells: Cells, runs: pl.DataFrame, fields: dict,
                    columns: list[str], problems: Problems) -> pl.DataFrame:
    """A row per (run, hyperparameter) (``HP_SCHEMA``): the recognised and mapped ones, then
    the file's other per-run columns; a seed or mapped one that changes within a run is named."""
    named = [(f, c) for f, (c, _) in fields.items() if f in HYPERPARAMETERS or f not in FIELDS]
    named += [(c, c) for c in columns]
    if not named:
        return pl.DataFrame(schema=HP_SCHEMA)
    numeric = {name: cells.numeric(column) for name, column in named}
    values = df.select(FI, L, RID, *[
        (cells.number(column)[0] if numeric[name] else text(column)).alias(name)
        for name, column in named])
    aggs = []
    for name, _ in named:
        present = pl.col(name).drop_nulls()
        peak = name in _PEAK and numeric[name]
        aggs += [
            (present.max() if peak else present.first()).alias(name),
            present.n_unique().alias(f"{name}\0n"),
            pl.col(L).filter(pl.col(name).is_not_null()).first().alias(f"{name}\0line"),
        ]
    per_run = values.group_by(RID, maintain_order=True).agg(pl.col(FI).first(), *aggs)
    per_run = per_run.join(runs, on=RID, how="left", maintain_order="left")
    frames = []
    for name, column in named:
        if name not in _PEAK and (per_run[f"{name}\0n"] > 1).any():
            _name_changes(values, runs, name, column, problems)
        v = pl.col(name)
        frames.append(per_run.filter(v.is_not_null()).select(
            FI, pl.col(f"{name}\0line").alias(L), R, pl.lit(name).alias("name"),
            (v if numeric[name] else pl.lit(None)).cast(pl.Float64).alias("value"),
            (pl.lit(None) if numeric[name] else v).cast(pl.String).alias("text")))
    return pl.concat(frames).cast(HP_SCHEMA)


def _name_changes(values: pl.DataFrame, runs: pl.DataFrame, name: str, column: str,
                  problems: Problems) -> None:
    v = values.filter(pl.col(name).is_not_null())
    first = pl.col(name).first().over(RID)
    change = v.with_columns(first.alias("first")).filter(pl.col(name) != pl.col("first"))
    change = change.join(runs, on=RID, maintain_order="left")
    problems.add_rows(change, column, lambda r: (
        f"{name} changes within run '{r[R]}' ({show(r[name])} here, {show(r['first'])} "
        "before); a hyperparameter holds one value per run"))


__all__ = ["C", "HP_SCHEMA", "M", "PART", "POINT_SCHEMA", "V", "classify", "hyperparameters",
           "points"]
