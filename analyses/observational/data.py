"""The model x benchmark matrices the observational analyses use, read from the warehouse.

This is the only module of :mod:`analyses.observational` that queries DuckDB. Everything it
returns is a polars frame with one row per model (or per checkpoint) and one Float64 column
per metric (null where the warehouse has no value).

- :func:`model_table`: ObsScaling models (``obsscaling/<HF id>``, one checkpoint each) with
  ``family`` as upstream spells ``Model Family``, ``num_params`` (N), ``tokens`` (D), ``flops``
  (C, null when upstream gives none), ``tags`` and ``flag``.
- :func:`checkpoint_table`: the warehouse's own training runs (Pythia, OLMo, OPT, the
  over-training grid) with their scores renamed to the ObsScaling benchmark they approximate
  (:data:`CHECKPOINT_BENCHMARKS`), so they can be placed in the same capability space.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import duckdb
import polars as pl

from warehouse.errors import MetaError
from warehouse.sql import query

SOURCE = "obsscaling"
PREFIX = "obsscaling/"
MODEL_TYPES = {"base": "obsscaling-base", "instruct": "obsscaling-instruct"}

# The ObsScaling benchmark each warehouse score stands in for: source -> benchmark ->
# (metric, shots). Protocols differ from the Open LLM Leaderboard v1 (ARC-C 25-shot acc_norm,
# HellaSwag 10-shot acc_norm, Winogrande 5-shot, MMLU 5-shot), so positions are approximate;
# along one run the protocol is fixed, so the trend is not. OPT's own source has no overlapping
# benchmark; the OPT (and BLOOM) final models evaluated with Pythia's harness are in 'pythia'.
CHECKPOINT_BENCHMARKS: dict[str, dict[str, tuple[str, int]]] = {
    "pythia": {
        "ARC-C": ("arc_challenge acc_norm", 0),
        "Winograd": ("winogrande acc", 0),
    },
    "olmo": {
        "HellaSwag": ("downstream/hellaswag_len_norm", 0),
        "Winograd": ("downstream/winogrande_acc", 0),
    },
    "overtrain": {
        "MMLU": ("acc_mmlu", 5),
        "ARC-C": ("acc_arc_challenge", 10),
        "HellaSwag": ("acc_hellaswag", 10),
        "Winograd": ("acc_winogrande", 0),
    },
    "opt": {},
}

_MODELS = """
SELECT m.model_id, substr(m.model_id, {n}) AS model, substr(m.family, {n}) AS family,
       m.num_params::DOUBLE AS num_params, c.tokens, c.flops, m.tags, m.flag
FROM models m JOIN families f USING (family) JOIN checkpoints c USING (model_id)
WHERE m.source = ? AND f.model_type = ?
ORDER BY m.model_id
"""
_VALUES = """
SELECT c.model_id, x.metric, x.value
FROM metrics x JOIN checkpoints c USING (checkpoint_id)
WHERE x.source = ? AND list_contains(?, x.metric)
"""
_CHECKPOINTS = """
SELECT c.checkpoint_id, c.model_id, m.family, c.source, m.num_params::DOUBLE AS num_params,
       c.step, c.tokens, c.flops, x.metric, x.shots, x.value
FROM metrics x JOIN checkpoints c USING (checkpoint_id) JOIN models m USING (model_id)
WHERE x.source = ? AND list_contains(?, x.metric)
"""


def obsscaling_metrics(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every metric name of the obsscaling source."""
    rows = query(con, "SELECT DISTINCT metric FROM metrics WHERE source = ? ORDER BY 1", [SOURCE])
    return rows["metric"].to_list()


def check_metrics(con: duckdb.DuckDBPyConnection, metrics: Sequence[str]) -> None:
    """Raise a one-line error naming the first metric the obsscaling source lacks."""
    known = obsscaling_metrics(con)
    if not known:
        raise MetaError("The warehouse has no obsscaling data. Run 'meta ingest obsscaling'.")
    for m in metrics:
        if m not in known:
            close = difflib.get_close_matches(m, known, n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise MetaError(f"Unknown target '{m}': no obsscaling metric has that name.{hint}")


def model_table(
    con: duckdb.DuckDBPyConnection,
    metrics: Sequence[str],
    *,
    kind: str = "base",
    tags: Sequence[str] | None = None,
    families: Sequence[str] | None = None,
) -> pl.DataFrame:
    """ObsScaling models with the given metrics as columns.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    metrics : sequence of str
        Metric names (upstream column names: ``MMLU``, ``ABench-OA``, ...).
    kind : {"base", "instruct"}, default="base"
        Pretrained base models or chat models.
    tags : sequence of str, optional
        Keep models carrying any of these ``models.tags`` (``obs-analysis-set``,
        ``obs-preregistered``, ``obs-paper-era``).
    families : sequence of str, optional
        Keep models of these upstream families (``Llama-2``, ...).

    Returns
    -------
    polars.DataFrame
        ``model_id``, ``model``, ``family``, ``num_params``, ``tokens``, ``flops``, ``tags``,
        ``flag`` and one Float64 column per metric, one row per model, sorted by model_id.
    """
    if kind not in MODEL_TYPES:
        raise MetaError(f"Unknown model kind '{kind}'. Known model kinds: base, instruct.")
    check_metrics(con, metrics)
    n = len(PREFIX) + 1
    models = query(con, _MODELS.format(n=n), [SOURCE, MODEL_TYPES[kind]])
    if tags is not None:
        models = models.filter(pl.col("tags").list.eval(pl.element().is_in(list(tags))).list.any())
    if families is not None:
        models = models.filter(pl.col("family").is_in(list(families)))
    values = query(con, _VALUES, [SOURCE, list(metrics)])
    wide = values.pivot(on="metric", index="model_id", values="value") if values.height else (
        pl.DataFrame({"model_id": []}, schema={"model_id": pl.String}))
    for m in metrics:
        if m not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(m))
    out = models.join(wide.select("model_id", *metrics), on="model_id", how="left")
    return out.with_columns(pl.col(m).cast(pl.Float64) for m in metrics)


def checkpoint_table(
    con: duckdb.DuckDBPyConnection, sources: Sequence[str] = ("pythia", "olmo", "overtrain", "opt")
) -> pl.DataFrame:
    """Warehouse checkpoints with their scores under ObsScaling benchmark names.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    sources : sequence of str
        Keys of :data:`CHECKPOINT_BENCHMARKS`.

    Returns
    -------
    polars.DataFrame
        ``checkpoint_id``, ``model_id``, ``family``, ``source``, ``num_params``, ``step``,
        ``tokens``, ``flops`` and one Float64 column per benchmark of any mapping (null where
        the checkpoint's source has no such score), one row per checkpoint with at least one
        mapped score.
    """
    frames = []
    benchmarks: list[str] = []
    for source in sources:
        if source not in CHECKPOINT_BENCHMARKS:
            raise MetaError(
                f"Unknown source '{source}' for checkpoint placement. Known sources: "
                f"{', '.join(sorted(CHECKPOINT_BENCHMARKS))}."
            )
        mapping = CHECKPOINT_BENCHMARKS[source]
        benchmarks += [b for b in mapping if b not in benchmarks]
        if not mapping:
            continue
        rows = query(con, _CHECKPOINTS, [source, [m for m, _ in mapping.values()]])
        wanted = pl.DataFrame(
            {"benchmark": list(mapping), "metric": [m for m, _ in mapping.values()],
             "shots": [s for _, s in mapping.values()]},
            schema={"benchmark": pl.String, "metric": pl.String, "shots": pl.Int32},
        )
        rows = rows.join(wanted, on=["metric", "shots"], how="inner")
        if rows.height:
            frames.append(rows.drop("metric", "shots"))
    index = ["checkpoint_id", "model_id", "family", "source", "num_params", "step", "tokens",
             "flops"]
    if not frames:
        schema = {c: pl.String for c in index[:4]} | {c: pl.Float64 for c in index[4:]}
        return pl.DataFrame(schema=schema | {b: pl.Float64 for b in benchmarks})
    long = pl.concat(frames, how="vertical_relaxed")
    wide = long.pivot(on="benchmark", index=index, values="value")
    for b in benchmarks:
        if b not in wide.columns:
            wide = wide.with_columns(pl.lit(None, pl.Float64).alias(b))
    return wide.select(*index, *benchmarks).sort("model_id", "tokens", "step", nulls_last=True)
