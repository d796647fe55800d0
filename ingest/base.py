"""What every loader shares: its description, the frames it returns, and helpers for them.

A loader is one module with ``SOURCE = SourceInfo(...)`` and ``load(data_root) -> SourceData``.
It reads upstream files in their original format (``ingest.readers``, the values in them parsed
by ``ingest.parse``) and returns three frames; it never sees the warehouse.
``ingest.normalize`` validates them and derives the warehouse tables.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import polars as pl

from ingest.parse import metric_kind
from warehouse.errors import BadRow


@dataclass(frozen=True)
class SourceInfo:
    """Provenance of one source.

    Attributes
    ----------
    name : str
        Registry key and the ``sources.source`` value.
    citation, upstream, license : str
        Paper, ``repository@commit`` and licence of the upstream files.
    files : tuple of str
        Glob patterns, relative to the data root, of every file the loader reads; their bytes
        make the source's content hash.
    """

    name: str
    citation: str
    upstream: str
    license: str
    files: tuple[str, ...]


# Column types of the frames a loader returns. Columns a loader leaves out are added as nulls
# (or the default named in ingest.normalize).
FAMILY_SCHEMA: dict[str, pl.DataType] = {
    "family": pl.String,
    "model_type": pl.String,
    "arch": pl.String,
    "data": pl.String,
    "perf_metric": pl.List(pl.String),
    "scaled": pl.Boolean,
    # False keeps a scaled family out of the Hitchhiker macro averages (null: the default
    # rule of ingest.normalize); a loader can narrow that rule, never widen it.
    "in_aggregate": pl.Boolean,
    "original_paper": pl.String,
}
MODEL_SCHEMA: dict[str, pl.DataType] = {
    "model_id": pl.String,
    "family": pl.String,
    "num_params": pl.Float64,
    "seed": pl.Int64,
    "epochs": pl.Float64,
    "data": pl.String,
    "tags": pl.List(pl.String),
    "flag": pl.String,
    "file": pl.String,
    "row": pl.Int64,
}
POINT_SCHEMA: dict[str, pl.DataType] = {
    "model_id": pl.String,
    "step": pl.Int64,
    "tokens": pl.Float64,
    "flops": pl.Float64,
    "revision": pl.String,
    "metric": pl.String,
    "value": pl.Float64,
    "kind": pl.String,
    "task": pl.String,
    "shots": pl.Int64,
    "stderr": pl.Float64,
    "lo": pl.Float64,
    "hi": pl.Float64,
    "flag": pl.String,
    "file": pl.String,
    "row": pl.Int64,
}
# Numbers the source's authors published from its data: one row per (result table, task,
# column), ``file``/``row`` saying where each was read.
PUBLISHED_SCHEMA: dict[str, pl.DataType] = {
    "result": pl.String,
    "task": pl.String,
    "quantity": pl.String,
    "value": pl.Float64,
    "file": pl.String,
    "row": pl.Int64,
}
# Readings a loader averaged into one value (a digitised curve's repeated readings at one x),
# kept as read: one row per reading, numbered from 1 in file order.
READING_SCHEMA: dict[str, pl.DataType] = {
    "model_id": pl.String,
    "step": pl.Int64,
    "tokens": pl.Float64,
    "metric": pl.String,
    "reading": pl.Int64,
    "value": pl.Float64,
    "file": pl.String,
    "row": pl.Int64,
}
# Chance levels of a source's downstream tasks: one row per task (``metrics.task``), the
# accuracy of a random answer and where that level comes from.
CHANCE_SCHEMA: dict[str, pl.DataType] = {
    "task": pl.String,
    "chance": pl.Float64,
    "origin": pl.String,
    "file": pl.String,
    "row": pl.Int64,
}
KINDS = frozenset(
    {"loss", "ppl", "acc", "acc_norm", "error", "bpb", "byte_ppl", "em", "f1", "score", "other"}
)


@dataclass(frozen=True)
class SourceData:
    """The frames one loader returns.

    Attributes
    ----------
    families : pl.DataFrame
        One row per family (``FAMILY_SCHEMA``).
    models : pl.DataFrame
        One row per trained model (``MODEL_SCHEMA``); ``file``/``row`` say where it was read.
    points : pl.DataFrame
        One row per (checkpoint, metric) value (``POINT_SCHEMA``), long format; a checkpoint is
        identified by ``model_id`` and ``step`` (or ``tokens`` where there is no step). Rows
        with a null ``value`` are dropped; ``file``/``row`` say where each value was read.
        ``lo``/``hi`` (optional) narrow the range a value must lie in below that of its
        kind (``ingest.normalize.DOMAINS``) where the loader knows the metric's scale (a
        percentage, a chance-normalised score at most 1). ``flag`` (null for almost every
        value) says why a value that upstream publishes outside its range is kept; it is
        not stored per value but summed up in the model's ``flag``. None of the three is
        written to the warehouse.
    n_files : int
        Number of input files read.
    published : pl.DataFrame, optional
        Results the source's authors published from this data (``PUBLISHED_SCHEMA``), for
        the analyses that reproduce them; None for a source that ships none.
    readings : pl.DataFrame, optional
        The readings behind values the loader averaged (``READING_SCHEMA``; a checkpoint is
        named as in ``points``); None for a source that averages nothing.
    chance : pl.DataFrame, optional
        The chance level of each downstream task (``CHANCE_SCHEMA``), for the analyses that
        ask whether a task's accuracy is above it; None where no level is known.
    """

    families: pl.DataFrame
    models: pl.DataFrame
    points: pl.DataFrame
    n_files: int
    published: pl.DataFrame | None = None
    readings: pl.DataFrame | None = None
    chance: pl.DataFrame | None = None


def first_bad(df: pl.DataFrame, mask: pl.Expr, reason: str | pl.Expr) -> None:
    """Raise BadRow at the first row of ``df`` (which has ``file`` and ``row``) where ``mask``
    holds; ``reason`` is a sentence, or an expression that formats one from the row."""
    reason = pl.lit(reason) if isinstance(reason, str) else reason
    bad = df.filter(mask).select("file", "row", reason.alias("_reason"))
    if bad.height:
        r = bad.row(0, named=True)
        raise BadRow(r["file"], r["row"], r["_reason"])


def require_constant(df: pl.DataFrame, column: str, *, per: str, reason: str | pl.Expr) -> None:
    """Raise BadRow at the first row of ``df`` whose ``per`` group holds more than one value of
    ``column`` (a model whose rows disagree on its size, say); ``reason`` as in ``first_bad``."""
    first_bad(df, pl.col(column).n_unique().over(per) > 1, reason)


def unpivot(
    frame: pl.DataFrame,
    metrics: Sequence[str],
    *,
    index: Sequence[str],
    kind: Callable[[str], str] = metric_kind,
    task: Callable[[str], str | None] = lambda m: None,
    shots: int = 0,
) -> pl.DataFrame:
    """Wide metric columns to long point rows: one row per (record, metric) with a value."""
    long = frame.unpivot(on=list(metrics), index=list(index), variable_name="metric")
    long = long.filter(pl.col("value").is_not_null())
    names = long["metric"].unique().to_list()
    return long.with_columns(
        kind=pl.col("metric").replace_strict({m: kind(m) for m in names}, return_dtype=pl.String),
        task=pl.col("metric").replace_strict({m: task(m) for m in names}, return_dtype=pl.String),
        shots=pl.lit(shots, pl.Int64),
    )


def frame(rows: list[dict] | dict[str, list], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A frame with exactly ``schema``'s columns; absent columns are null."""
    df = pl.DataFrame(rows)
    return conform(df, schema)


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select ``schema``'s columns in order, cast, and add absent ones as nulls."""
    return df.select(
        [
            (pl.col(c).cast(t) if c in df.columns else pl.lit(None, t)).alias(c)
            for c, t in schema.items()
        ]
    )
