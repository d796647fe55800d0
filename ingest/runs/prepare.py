"""One file to runs: its shape, which column holds what, run identity (``identity``), and
the metrics and hyperparameters it holds (``values``).

Shapes:

- **wide**: a row per checkpoint, a column per metric (CSV exports, W&B API run histories with
  ``_step`` and ``Name``, W&B run tables with one row per run);
- **long**: a row per checkpoint and metric, with a metric-name column (``metric``; ``name`` when
  another column names the run) and a ``value`` column;
- **W&B chart**: the UI's chart export, a ``Step`` column and ``<run> - <metric>`` columns
  (``__MIN``/``__MAX`` columns are dropped; a leading ``Group: `` is taken off the run name).

W&B's bookkeeping columns (``_runtime``, ``_timestamp``, ``State`` ...) are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ingest.runs import identity, values
from ingest.runs.columns import Cells, bookkeeping, scalar, show, text
from ingest.runs.identity import FI, PART, RID, F, L, P, R, S, T
from ingest.runs.mapping import FIELDS, Mapping, key, loss_rank, recognise
from ingest.runs.problems import Problems
from ingest.runs.reading import Table
from ingest.runs.values import HP_SCHEMA, POINT_SCHEMA, C, M, V

NUMERIC_FIELDS = ("params", "step", "tokens", "flops")

__all__ = ["C", "FI", "F", "HP_SCHEMA", "L", "M", "P", "POINT_SCHEMA", "R", "RID", "S", "T",
           "V", "FileReport", "Prepared", "prepare"]


@dataclass(frozen=True)
class FileReport:
    """What was read from one file and how it was understood (the dry run prints it).

    Attributes
    ----------
    name, format : str
        The file as named, and 'CSV', 'TSV', 'Parquet' or 'JSON Lines'.
    shape : str
        'wide', 'long' or 'W&B chart'.
    rows : int
        Data rows read.
    fields : dict of str to (str, str)
        field -> (column, how: 'recognised', '--map' or the mapping file).
    identity : str
        How runs were told apart.
    explicit : bool
        Whether run identity came from the data or the user (not inferred).
    metrics, hyperparameters : tuple of str
        Columns (or, in long form, metric names) loaded as metrics / as hyperparameters.
    ignored : tuple of (str, str)
        Columns left out, and why.
    empty_rows : int
        Rows that hold no metric value (they make no checkpoint).
    """

    name: str
    format: str
    shape: str
    rows: int
    fields: dict[str, tuple[str, str]]
    identity: str
    explicit: bool
    metrics: tuple[str, ...]
    hyperparameters: tuple[str, ...]
    ignored: tuple[tuple[str, str], ...]
    empty_rows: int = 0


@dataclass(frozen=True)
class Prepared:
    """One file's rows in a common form; ``@rid`` numbers the file's runs.

    Attributes
    ----------
    report : FileReport
    runs : pl.DataFrame
        ``@rid, @run, @line``: the file's runs (number, name, first line) in order of
        appearance.
    records : pl.DataFrame
        A row per input row (per value for a W&B chart): ``@fi, @line, @rid, @params, @step,
        @tokens, @flops``, as given.
    points : pl.DataFrame
        A row per metric value (``POINT_SCHEMA``): where it is, its run, step, tokens and
        FLOPs as given, the column it came from (``@col``), ``@metric`` and ``@value``.
    hyperparameters : pl.DataFrame
        A row per (run, hyperparameter) the file holds (``HP_SCHEMA``).
    names : frozenset of str
        What ``--map`` may name here: the columns, and a long file's metric names.
    choices : tuple of str
        The same, in file order, for messages (a W&B chart's metrics, not its headers).
    losses : tuple of (str, int)
        Loss metrics found, with their ``loss_rank``, in file order.
    """

    report: FileReport
    runs: pl.DataFrame
    records: pl.DataFrame
    points: pl.DataFrame
    hyperparameters: pl.DataFrame
    names: frozenset[str]
    choices: tuple[str, ...]
    losses: tuple[tuple[str, int], ...]


def chart_series(columns: list[str]) -> tuple[str, dict[str, tuple[str, str]], list[str]] | None:
    """For a W&B chart export: (x column, {column: (run, metric)}, dropped __MIN/__MAX columns);
    None for any other file."""
    plain = [c for c in columns if " - " not in c]
    if len(plain) != 1 or len(columns) < 2:
        return None
    series, dropped = {}, []
    for c in columns:
        if c == plain[0]:
            continue
        run, _, metric = c.partition(" - ")
        if metric.endswith(("__MIN", "__MAX")):
            dropped.append(c)
            continue
        series[c] = (run.removeprefix("Group: ").strip(), metric.strip())
    return (plain[0], series, dropped) if series else None


def prepare(table: Table, fi: int, mapping: Mapping, run_by: tuple[str, ...],
            problems: Problems) -> Prepared:
    """Read one file's rows into the common form, recording every problem in ``problems``."""
    df = table.frame.with_columns(pl.lit(fi, pl.Int32).alias(FI))
    chart = chart_series(table.columns)
    ignored: list[tuple[str, str]] = []
    if chart:
        x, series, dropped = chart
        ignored += [(c, "W&B min/max band") for c in dropped]
        df = df.unpivot(on=list(series), index=[FI, L, x], variable_name=C, value_name=V)
        df = df.filter(text(V).is_not_null()).with_columns(
            pl.col(C).replace_strict({c: r for c, (r, _) in series.items()}).alias(R),
            pl.col(C).replace_strict({c: m for c, (_, m) in series.items()}).alias(M),
            pl.col(C).alias(PART),
        )
        shape = "W&B chart"
    else:
        shape = "wide"
    fields = _fields([chart[0]] if chart else table.columns, mapping)
    if chart and not {"step", "tokens", "flops"} & set(fields):
        fields["step"] = (chart[0], "W&B chart x axis")
    if not chart and "value" in fields and "metric" not in fields:
        name = recognise([c for c in table.columns if c not in _taken(fields)], "run")
        if name is not None and key(name) == "name":
            fields["metric"] = (name, "recognised: 'name' beside another run column")
    if not chart and {"metric", "value"} <= set(fields):
        shape = "long"
        metric, value = fields["metric"][0], fields["value"][0]
        df = df.with_columns(text(metric).alias(M), pl.lit(value).alias(C),
                             text(metric).alias(PART), pl.col(value).alias(V))
    else:
        fields.pop("metric", None)
        fields.pop("value", None)
    if PART not in df.columns:
        df = df.with_columns(pl.lit("", pl.String).alias(PART))
    cells = Cells(df)
    df = _parse_fields(df, cells, fields, problems)
    df, runs, explicit = identity.identify(df, cells, table, fi, fields, run_by, shape, problems)
    cells = Cells(df)
    if explicit:
        identity.backwards(df, runs, table, fields, problems)
    rest = [c for c in table.columns if c not in _taken(fields) and c not in run_by
            and not (chart and (c in chart[1] or c in chart[2]))]
    ignored += [(c, "export bookkeeping") for c in rest if bookkeeping(c)]
    ignored += [(c, "nested values") for c in rest if not scalar(df.schema[c])]
    rest = [c for c in rest if not bookkeeping(c) and scalar(df.schema[c])]
    metrics, hps, more_ignored = values.classify(df, cells, rest, mapping, problems)
    ignored += more_ignored
    pts = values.points(df, cells, shape, metrics, fields, problems)
    hyper = values.hyperparameters(df, cells, runs, fields, hps, problems)
    metric_names = metrics if shape == "wide" else pts[M].unique(maintain_order=True).to_list()
    names, choices = set(table.columns), list(table.columns)
    if shape != "wide":
        names |= set(metric_names)
        choices = ([chart[0]] if chart else choices) + [
            m for m in metric_names if m not in choices]
    losses = tuple((m, loss_rank(m)) for m in metric_names if loss_rank(m) is not None)
    report = FileReport(
        name=table.name, format=table.format, shape=shape, rows=table.frame.height,
        fields=fields, identity=identity.describe(fields, run_by, shape, table),
        explicit=explicit, metrics=tuple(metric_names),
        hyperparameters=tuple(hyper["name"].unique(maintain_order=True).to_list()),
        ignored=tuple(ignored), empty_rows=_empty_rows(cells, metrics) if shape == "wide" else 0,
    )
    records = df.select(FI, L, RID, P, S, T, F)
    return Prepared(report, runs, records, pts, hyper, frozenset(names), tuple(choices), losses)


def _empty_rows(cells: Cells, metrics: list[str]) -> int:
    """Rows of a wide file with no value in any metric column."""
    if not metrics:
        return 0
    frame = pl.DataFrame([cells.number(c)[0].is_null().alias(c) for c in metrics])
    return int(frame.select(pl.all_horizontal(pl.all()).sum()).item())


def _taken(fields: dict[str, tuple[str, str]]) -> set[str]:
    return {c for c, _ in fields.values()}


def _fields(columns: list[str], mapping: Mapping) -> dict[str, tuple[str, str]]:
    """field -> (column, how): mapped columns this file has, then recognised names."""
    fields = {f: (c, how) for f, (c, how) in mapping.columns.items()
              if c in columns and f != "loss"}
    for name in FIELDS:
        if name not in fields:
            found = recognise([c for c in columns if c not in _taken(fields)], name)
            if found is not None:
                fields[name] = (found, "recognised")
    return fields


def _parse_fields(df: pl.DataFrame, cells: Cells, fields: dict, problems: Problems
                  ) -> pl.DataFrame:
    """Add ``@params, @step, @tokens, @flops`` as numbers; name cells that are not numbers,
    negative values and steps that are not whole numbers."""
    out = {}
    for name, target in zip(NUMERIC_FIELDS, (P, S, T, F), strict=True):
        if name not in fields:
            out[target] = pl.lit(None, pl.Float64)
            continue
        column = fields[name][0]
        value, bad = cells.number(column, sizes=name == "params")
        if bad is not None:
            wrong = df.filter(bad).select(FI, L, pl.col(column).alias("raw"))
            problems.add_rows(wrong, column, lambda r: f"'{r['raw']}' is not a number")
        out[target] = value
        if name == "params":
            continue  # sizes are checked once the runs are known
        if (value < 0).any():
            negative = df.select(FI, L, value.alias("v")).filter(pl.col("v") < 0)
            problems.add_rows(negative, column,
                              lambda r, n=name: f"{n} is negative ({show(r['v'])})")
        if name == "step" and (value != value.round()).any():
            frac = df.select(FI, L, value.alias("v")).filter(pl.col("v") != pl.col("v").round())
            problems.add_rows(frac, column, lambda r: f"step is not a whole number ({r['v']:g})")
    if "tokens_per_step" in fields and "step" in fields:
        column = fields["tokens_per_step"][0]
        per_step, bad = cells.number(column)
        if bad is not None:
            wrong = df.filter(bad).select(FI, L, pl.col(column).alias("raw"))
            problems.add_rows(wrong, column, lambda r: f"'{r['raw']}' is not a number")
        out[T] = pl.coalesce(out[T], out[S] * per_step)
    df = df.with_columns(**out)
    return df.with_columns(pl.col(S).round().cast(pl.Int64, strict=False))
