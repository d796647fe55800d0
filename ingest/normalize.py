"""Validate a loader's frames and derive the warehouse tables from them.

Every check that names a file and line lives here, once, for all loaders: sizes that are not
finite positive counts, negative or non-finite steps, tokens and FLOPs, non-finite values,
values outside the range of their kind (:data:`DOMAINS`) or the narrower scale a loader
gives a metric (a percentage, a chance-normalised score), unknown kinds, dangling references,
duplicate values and checkpoints whose tokens disagree between metrics.

A value that upstream publishes outside its kind's range on purpose (an artefact the loader
documents, such as t5-pile's negative training accuracy) is kept when the loader gives its
point a ``flag`` (the reason); the model's ``models.flag`` then says how many such values it
holds and why. Nothing else out of range is loaded.
"""

from __future__ import annotations

import math

import polars as pl

from ingest.base import (
    CHANCE_SCHEMA,
    FAMILY_SCHEMA,
    KINDS,
    MODEL_SCHEMA,
    POINT_SCHEMA,
    PUBLISHED_SCHEMA,
    READING_SCHEMA,
    SourceData,
    conform,
)
from warehouse.errors import BadRow, CorruptInput

# The Hitchhiker code leaves families whose names contain these out of macro averages.
NOT_AGGREGATED = r"interv|5sh|v0"

# kind -> (lowest, highest, what a value of that kind is). Kinds not listed (score: benchmark
# scores on scales from chance-normalised, which can be negative, to 0-100; other: learning
# rates, compressibility, domain weights ...) only have to be finite.
DOMAINS: dict[str, tuple[float, float, str]] = {
    "loss": (0.0, math.inf, "a loss"),
    "bpb": (0.0, math.inf, "a bits-per-byte value"),
    "ppl": (1.0, math.inf, "a perplexity"),
    "byte_ppl": (1.0, math.inf, "a perplexity"),
    "acc": (0.0, 1.0, "an accuracy"),
    "acc_norm": (0.0, 1.0, "a normalised accuracy"),
    "em": (0.0, 1.0, "an exact-match rate"),
    "f1": (0.0, 1.0, "an F1 score"),
    "error": (0.0, 1.0, "an error rate"),
}


def _span(lo: float, hi: float) -> str:
    if math.isinf(lo):
        return f"at most {hi:g}"
    return f"at least {lo:g}" if math.isinf(hi) else f"between {lo:g} and {hi:g}"


def _first_bad(df: pl.DataFrame, mask: pl.Expr, reason: str, column: str | None = None) -> None:
    """Raise BadRow for the first row of ``df`` where ``mask`` holds."""
    bad = df.filter(mask)
    if bad.height:
        r = bad.row(0, named=True)
        detail = f" ({r[column]:g})" if column and r[column] is not None else ""
        raise BadRow(r["file"], r["row"], f"{reason}{detail}")


def _no_duplicates(df: pl.DataFrame, key: list[str], what: str) -> None:
    """Raise BadRow at the second row of ``df`` that repeats ``key``, naming the first."""
    repeat = ~pl.struct(key).is_first_distinct()
    bad = df.filter(repeat)
    if bad.height:
        r = bad.row(0, named=True)
        first = df.filter(pl.all_horizontal([pl.col(k) == r[k] for k in key])).row(0, named=True)
        value = ", ".join(str(r[k]) for k in key)
        raise BadRow(
            r["file"], r["row"], f"{what} ({value}) also at {first['file']}, line {first['row']}"
        )


def check_models(models: pl.DataFrame, families: pl.DataFrame) -> None:
    """Sizes finite positive counts, epochs finite and positive, ids unique, families known."""
    _first_bad(models, pl.col("model_id").is_null(), "model id is empty")
    _first_bad(models, pl.col("num_params") < 0, "num_params is negative", "num_params")
    _first_bad(models, pl.col("num_params") == 0, "num_params is zero")
    _first_bad(models, pl.col("num_params").is_nan(), "num_params is not a number")
    _first_bad(models, pl.col("num_params").is_infinite(), "num_params is not finite")
    _first_bad(
        models, pl.col("num_params").round() < 1, "num_params is not a positive count",
        "num_params",
    )
    _first_bad(models, pl.col("epochs") <= 0, "epochs is not positive", "epochs")
    _first_bad(models, ~pl.col("epochs").is_finite(), "epochs is not finite", "epochs")
    _no_duplicates(models, ["model_id"], "model id appears twice")
    known = families["family"]
    _first_bad(models, ~pl.col("family").is_in(known.implode()), "family is not declared")


def _bounds() -> tuple[pl.Expr, pl.Expr]:
    """The range of each point: its kind's (:data:`DOMAINS`), narrowed by the point's own
    ``lo``/``hi`` where the loader gives them (a loader cannot widen it)."""
    lo = pl.col("kind").replace_strict(
        {k: d[0] for k, d in DOMAINS.items()}, default=-math.inf, return_dtype=pl.Float64
    )
    hi = pl.col("kind").replace_strict(
        {k: d[1] for k, d in DOMAINS.items()}, default=math.inf, return_dtype=pl.Float64
    )
    return pl.max_horizontal(lo, pl.col("lo")), pl.min_horizontal(hi, pl.col("hi"))


def out_of_domain() -> pl.Expr:
    """Whether a point's value lies outside its range (its kind's, or its own narrower one)."""
    lo, hi = _bounds()
    return (pl.col("value") < lo) | (pl.col("value") > hi)


def check_points(points: pl.DataFrame, models: pl.DataFrame) -> None:
    """Non-negative, finite steps, tokens and FLOPs; finite values within the range of their
    kind (unless flagged); finite, non-negative standard errors; known kinds and models."""
    for column in ("step", "tokens", "flops"):
        _first_bad(points, pl.col(column) < 0, f"{column} is negative", column)
        if column != "step":
            _first_bad(points, pl.col(column).is_nan(), f"{column} is not a number")
            _first_bad(points, pl.col(column).is_infinite(), f"{column} is not finite")
    _first_bad(points, ~pl.col("kind").is_in(sorted(KINDS)), "metric kind is unknown")
    check_values(points)
    _first_bad(points, pl.col("stderr") < 0, "stderr is negative", "stderr")
    _first_bad(points, ~pl.col("stderr").is_finite(), "stderr is not finite", "stderr")
    _first_bad(points, pl.col("shots") < 0, "shots is negative", "shots")
    _first_bad(
        points, ~pl.col("model_id").is_in(models["model_id"].implode()), "model is not declared"
    )


def check_values(points: pl.DataFrame) -> None:
    """Every value finite and within its range (its kind's, or the loader's narrower scale),
    unless its point carries a ``flag``; a loader may call this on values it reads but does
    not keep (repeats), so that damage there is not passed over either."""
    _first_bad(points, ~pl.col("value").is_finite(), "value is not finite", "value")
    lo, hi = _bounds()
    bad = points.filter(out_of_domain() & pl.col("flag").is_null()).with_columns(
        _lo=lo, _hi=hi
    )
    if bad.height:
        r = bad.row(0, named=True)
        if r["kind"] in DOMAINS and (r["_lo"], r["_hi"]) == DOMAINS[r["kind"]][:2]:
            what = f"{DOMAINS[r['kind']][2]} (kind {r['kind']}) is"
        else:
            what = "its scale is"
        raise BadRow(
            r["file"], r["row"],
            f"{r['metric']} is {r['value']:g}, but {what} {_span(r['_lo'], r['_hi'])}",
        )


def kept_out_of_domain(points: pl.DataFrame) -> pl.DataFrame:
    """Per model, a sentence on the values kept outside their kind's range (``model_id``,
    ``note``): '196 of 204 values of accuracy are outside the range of their kind, kept:
    <the loader's reason>' (the count out of all values of those metrics)."""
    out = out_of_domain() & pl.col("flag").is_not_null()
    kept = points.filter(out).group_by("model_id", "flag", maintain_order=True).agg(
        pl.len().alias("k"), pl.col("metric").unique(maintain_order=True)
    )
    n = (
        kept.select("model_id", "flag", "metric").explode("metric")
        .join(points.select("model_id", "metric"), on=["model_id", "metric"])
        .group_by("model_id", "flag").agg(pl.len().alias("n"))
    )
    notes = kept.join(n, on=["model_id", "flag"], maintain_order="left").select(
        "model_id",
        note=pl.format(
            "{} of {} values of {} are outside the range of their kind, kept: {}",
            "k", "n", pl.col("metric").list.join(", "), "flag",
        ),
    )
    return notes.group_by("model_id", maintain_order=True).agg(pl.col("note").str.join("; "))


def checkpoint_ids(points: pl.DataFrame) -> pl.DataFrame:
    """Add ``checkpoint_id``: '<model>@step<N>', '<model>@<D>tokens' or '<model>@final'."""
    return points.with_columns(
        checkpoint_id=pl.when(pl.col("step").is_not_null())
        .then(pl.format("{}@step{}", "model_id", "step"))
        .when(pl.col("tokens").is_not_null())
        .then(pl.format("{}@{}tokens", "model_id", pl.col("tokens").round().cast(pl.Int64)))
        .otherwise(pl.format("{}@final", "model_id"))
    )


def check_published(published: pl.DataFrame) -> pl.DataFrame:
    """Published results with every value finite and each (result, task, quantity) once,
    as ``published`` rows (without ``source``)."""
    published = conform(published, PUBLISHED_SCHEMA)
    for column in ("result", "task", "quantity"):
        _first_bad(published, pl.col(column).is_null(), f"{column} is empty")
    finite = pl.col("value").is_finite().fill_null(False)
    _first_bad(published, ~finite, "value is not a finite number")
    _no_duplicates(published, ["result", "task", "quantity"], "a published value appears twice")
    return published.select("result", "task", "quantity", "value")


def check_readings(readings: pl.DataFrame, points: pl.DataFrame) -> pl.DataFrame:
    """Readings as ``readings`` rows (without ``source``): each of a value the points hold,
    finite, and numbered once."""
    readings = checkpoint_ids(conform(readings, READING_SCHEMA))
    known = points.select("checkpoint_id", "metric").unique()
    orphan = readings.join(known, on=["checkpoint_id", "metric"], how="anti")
    if orphan.height:
        r = orphan.row(0, named=True)
        raise BadRow(r["file"], r["row"], f"a reading of {r['metric']} at "
                                          f"{r['checkpoint_id']} has no value in the points")
    _first_bad(readings, ~pl.col("value").is_finite().fill_null(False),
               "a reading is not a finite number")
    _no_duplicates(readings, ["checkpoint_id", "metric", "reading"], "a reading appears twice")
    return readings.select("checkpoint_id", "metric", "reading", "value")


def check_chance(chance: pl.DataFrame) -> pl.DataFrame:
    """Chance levels in [0, 1], each task once, as ``task_chance`` rows (without
    ``source``)."""
    chance = conform(chance, CHANCE_SCHEMA)
    _first_bad(chance, pl.col("task").is_null(), "task is empty")
    inside = pl.col("chance").is_between(0.0, 1.0).fill_null(False)
    _first_bad(chance, ~inside, "chance level is outside [0, 1]", "chance")
    _no_duplicates(chance, ["task"], "a task's chance level appears twice")
    return chance.select("task", "chance", "origin")


def normalize(source: str, data: SourceData) -> dict[str, pl.DataFrame]:
    """Check a loader's frames and return the rows of ``families, models, checkpoints,
    metrics`` (and ``published`` for a source that ships its authors' results).

    FLOPs missing upstream are filled with 6·N·D and flagged (``flops_imputed``); a model's
    ``max_tokens`` is its largest checkpoint's tokens.

    Raises
    ------
    BadRow
        The first invalid value, naming its file and line.
    """
    families = conform(data.families, FAMILY_SCHEMA).with_columns(
        perf_metric=pl.col("perf_metric").fill_null(pl.lit([], pl.List(pl.String))),
        scaled=pl.col("scaled").fill_null(True),
    )
    families = families.with_columns(
        in_aggregate=pl.col("scaled") & ~pl.col("family").str.contains(NOT_AGGREGATED)
        & pl.col("in_aggregate").fill_null(True),
        source=pl.lit(source),
    )
    models = conform(data.models, MODEL_SCHEMA).with_columns(
        tags=pl.col("tags").fill_null(pl.lit([], pl.List(pl.String)))
    )
    points = conform(data.points, POINT_SCHEMA).filter(pl.col("value").is_not_null())
    points = points.with_columns(pl.col("shots").fill_null(0))
    if not models.height or not points.height:
        raise CorruptInput(
            f"Source '{source}' read {data.n_files} file(s) but found no "
            f"{'models' if not models.height else 'values'}; an input has lost its rows."
        )
    check_models(models, families)
    check_points(points, models)
    notes = kept_out_of_domain(points)
    if notes.height:
        models = models.join(notes, on="model_id", how="left").with_columns(
            flag=pl.when(pl.col("note").is_null()).then("flag")
            .otherwise(pl.concat_str("flag", "note", separator="; ", ignore_nulls=True))
        ).drop("note")
    points = checkpoint_ids(points)

    _no_duplicates(points, ["checkpoint_id", "metric", "shots"], "a value appears twice")

    params = models.select("model_id", "num_params")
    checkpoints = (
        points.group_by("checkpoint_id", maintain_order=True)
        .agg(
            pl.col("model_id", "step", "revision", "file", "row").first(),
            pl.col("tokens").first(),
            pl.col("flops").first(),
            (pl.col("tokens").n_unique() > 1).alias("tokens_disagree"),
            (pl.col("flops").n_unique() > 1).alias("flops_disagree"),
        )
        .join(params, on="model_id", how="left")
    )
    _first_bad(
        checkpoints, pl.col("tokens_disagree"), "tokens differ between metrics of one checkpoint"
    )
    _first_bad(
        checkpoints, pl.col("flops_disagree"), "flops differ between metrics of one checkpoint"
    )
    imputed = (
        pl.col("flops").is_null()
        & pl.col("tokens").is_not_null()
        & pl.col("num_params").is_not_null()
    )
    checkpoints = checkpoints.with_columns(
        flops=pl.when(imputed).then(6 * pl.col("num_params") * pl.col("tokens")).otherwise("flops"),
        flops_imputed=imputed,
        source=pl.lit(source),
    )
    max_tokens = checkpoints.group_by("model_id").agg(max_tokens=pl.col("tokens").max())
    models = models.join(max_tokens, on="model_id", how="left").with_columns(
        source=pl.lit(source), num_params=pl.col("num_params").round().cast(pl.Int64)
    )
    tables = {
        "families": families.select(
            "family",
            "source",
            "model_type",
            "arch",
            "data",
            "perf_metric",
            "scaled",
            "in_aggregate",
            "original_paper",
        ),
        "models": models.select(
            "model_id",
            "source",
            "family",
            "num_params",
            "seed",
            "epochs",
            "max_tokens",
            "data",
            "tags",
            "flag",
        ),
        "checkpoints": checkpoints.select(
            "checkpoint_id",
            "source",
            "model_id",
            "step",
            "tokens",
            "flops",
            "flops_imputed",
            "revision",
        ),
        "metrics": points.with_columns(source=pl.lit(source)).select(
            "source", "checkpoint_id", "metric", "value", "kind", "task", "shots", "stderr"
        ),
    }
    if data.published is not None:
        tables["published"] = check_published(data.published).select(
            pl.lit(source).alias("source"), pl.all()
        )
    if data.readings is not None:
        tables["readings"] = check_readings(data.readings, points).select(
            pl.lit(source).alias("source"), pl.all()
        )
    if data.chance is not None:
        tables["task_chance"] = check_chance(data.chance).select(
            pl.lit(source).alias("source"), pl.all()
        )
    return tables
