"""The warehouse rows of a user family, from its checked runs and values.

The conventions are ``ingest.normalize``'s: checkpoint ids ``<model_id>@step<N>`` (or
``@<D>tokens`` without a step), FLOPs 6·N·D where the files give none (``flops_imputed``),
``max_tokens`` a run's largest tokens. The family is ``origin = 'user'``, ``model_type =
'user'``, ``scaled``, its ``perf_metric`` the chosen loss, and out of the paper's macro
averages unless asked (``in_aggregate``).
"""

from __future__ import annotations

import polars as pl

from ingest.normalize import checkpoint_ids
from ingest.parse import metric_kind
from ingest.runs.options import RunsOptions
from ingest.runs.prepare import F, M, R, S, T, V

MODEL_TYPE = "user"
G, TK = "@gid", "@tk"  # a run's number over all files; tokens as a checkpoint key
FAMILY_COLUMNS = {
    "family": pl.String, "source": pl.String, "model_type": pl.String, "arch": pl.String,
    "data": pl.String, "perf_metric": pl.List(pl.String), "scaled": pl.Boolean,
    "in_aggregate": pl.Boolean, "original_paper": pl.String, "origin": pl.String,
    "target": pl.String,
}


def checkpoint_key(frame: pl.DataFrame) -> pl.Expr:
    """An expression that is equal for two rows exactly when they are one checkpoint of one
    run: run and step packed in one integer where every row has a step below 2**40 (the fast
    case), else the run, step and rounded tokens."""
    steps = frame[S]
    if steps.null_count() == 0 and (steps.len() == 0 or 0 <= steps.min() <= steps.max() < 2**40):
        return pl.col(G).cast(pl.UInt64) * (2**40) + pl.col(S).cast(pl.UInt64)
    return pl.struct(G, S, pl.when(pl.col(S).is_null()).then(pl.col(T).round()))


def derive_tables(options: RunsOptions, runs: pl.DataFrame, points: pl.DataFrame,
                  hyper: pl.DataFrame, loss: str
                  ) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """The rows of ``families, models, checkpoints, metrics, hyperparameters``, and the dry
    run's table of runs.

    Parameters
    ----------
    options : RunsOptions
    runs : pl.DataFrame
        A row per run: ``@gid, @run, size``.
    points : pl.DataFrame
        A row per metric value: ``@gid, @step, @tokens, @flops, @tk, @metric, @value``.
    hyper : pl.DataFrame
        A row per (run, hyperparameter): ``@run, name, value, text``.
    loss : str
        The family's loss metric.
    """
    source, family = options.source, options.family
    model_id = pl.concat_str(pl.lit(f"{source}/"), pl.col(R)).alias("model_id")
    ids = runs.select(G, model_id, pl.col("size").round().cast(pl.Int64).alias("num_params"))
    first = points.select(checkpoint_key(points).is_first_distinct()).to_series()
    points = points.with_columns(
        pl.lit(ids["model_id"]).gather(pl.col(G)).alias("model_id"),
        pl.lit(ids["num_params"]).gather(pl.col(G)).alias("num_params"),
    ).rename({S: "step", T: "tokens", F: "flops"})
    points = checkpoint_ids(points)
    given = pl.col("flops").is_not_null()
    checkpoints = points.filter(first).select(
        "checkpoint_id", pl.lit(source).alias("source"), "model_id", "step", "tokens",
        pl.when(given).then("flops").otherwise(6.0 * pl.col("num_params") * pl.col("tokens"))
        .alias("flops"), (~given & pl.col("tokens").is_not_null()).alias("flops_imputed"),
        pl.lit(None, pl.String).alias("revision"), G)
    kinds = {m: metric_kind(m) for m in points[M].unique().to_list()}
    kinds[loss] = "ppl" if metric_kind(loss) == "ppl" else "loss"
    metrics = points.select(
        pl.lit(source).alias("source"), "checkpoint_id", pl.col(M).alias("metric"),
        pl.col(V).alias("value"), pl.col(M).replace_strict(kinds, return_dtype=pl.String)
        .alias("kind"), pl.lit(None, pl.String).alias("task"), pl.lit(0, pl.Int32).alias(
            "shots"), pl.lit(None, pl.Float64).alias("stderr"))
    per_run = checkpoints.group_by(G).agg(
        pl.len().alias("checkpoints"), pl.col("step").min().alias("first_step"),
        pl.col("step").max().alias("last_step"), pl.col("tokens").max().alias("max_tokens"))
    final = points.filter(pl.col(M) == loss).group_by(G).agg(
        pl.col(V).sort_by("tokens", "step", nulls_last=False).last().alias("final_loss"))
    seeds = hyper.filter((pl.col("name") == "seed") & (pl.col("value") == pl.col("value").round()))
    runs = (runs.join(ids.drop("num_params"), on=G, maintain_order="left")
            .join(per_run, on=G, how="left", maintain_order="left")
            .join(final, on=G, how="left", maintain_order="left")
            .join(seeds.select(R, pl.col("value").cast(pl.Int64).alias("seed")), on=R,
                  how="left", maintain_order="left"))
    models = runs.select(
        "model_id", pl.lit(source).alias("source"), pl.lit(family).alias("family"),
        pl.col("size").round().cast(pl.Int64).alias("num_params"), pl.col("seed").cast(pl.Int32),
        pl.lit(None, pl.Float64).alias("epochs"), "max_tokens", pl.lit(None, pl.String).alias(
            "data"), pl.lit([], pl.List(pl.String)).alias("tags"), pl.lit(None, pl.String).alias(
            "flag"))
    target = None if options.target is None else f"{source}/{options.target}"
    families = pl.DataFrame([{
        "family": family, "source": source, "model_type": MODEL_TYPE, "arch": None,
        "data": None, "perf_metric": [loss], "scaled": True,
        "in_aggregate": options.in_aggregate, "original_paper": None, "origin": "user",
        "target": target}], schema=FAMILY_COLUMNS)
    hyperparameters = hyper.join(runs.select(R, "model_id"), on=R, maintain_order="left").select(
        pl.lit(source).alias("source"), "model_id", "name", "value", "text")
    tables = {"families": families, "models": models, "checkpoints": checkpoints.drop(G),
              "metrics": metrics, "hyperparameters": hyperparameters}
    summary = runs.select(
        pl.col(R).alias("run"), pl.col("size").round().cast(pl.Int64).alias("num_params"),
        "checkpoints", "first_step", "last_step", "max_tokens", "final_loss")
    for name in ("lr", "batch_size", "seed"):
        h = hyper.filter(pl.col("name") == name)
        if h.height:
            summary = summary.join(h.select(pl.col(R).alias("run"), pl.col("value").alias(name)),
                                   on="run", how="left", maintain_order="left")
    return tables, summary.sort("num_params", "run")
