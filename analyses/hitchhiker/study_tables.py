"""The tables of single studies of the guideline report, read from fitted laws: the 10B-token
cut (Sec. 6.1), one model (Sec. 5), scale-up windows (Sec. 7), leave-one-out (App. D), and one
law's curve and stored intervals. Suffixes (Fig. 4) and scale-down (App. C) are heatmaps of
their studies (:func:`analyses.hitchhiker.tables.macro_heatmap`).

As :mod:`analyses.hitchhiker.tables` (its :func:`~analyses.hitchhiker.tables.laws` and
:class:`~analyses.hitchhiker.tables.Selection`): a connection in, a small polars frame out,
nothing written.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from analyses.hitchhiker.aggregate import (
    SCALE_LABELS,
    cell_means,
    full_data,
    macro,
    scale_up_bin,
)
from analyses.hitchhiker.tables import Selection, laws
from warehouse.sql import query


def cut_effect(con, estimator: str, families: tuple[str, ...] = ("OPT", "pythia"), *,
               sel: Selection = Selection()) -> pl.DataFrame:
    """Sec. 6.1: the same laws with and without discarding the first 10B tokens.

    Returns
    -------
    pl.DataFrame
        ``family, study, min_tokens, full`` (ARE with all smaller models and p = 1),
        ``best`` and ``mean`` (over all the family's laws of that study), ``n_scored``,
        ``law_id`` (the law of ``full``).
    """
    parts = []
    for study in ("num-models", "num-models-nocut"):
        df = laws(con, study, estimator, sel=sel).filter(
            pl.col("family").is_in(list(families)))
        if df.is_empty():
            continue
        full = full_data(df).select("family", "law_id", full=pl.col("are"))
        parts.append(
            df.group_by("family")
            .agg(
                study=pl.lit(study),
                min_tokens=pl.col("min_tokens").first(),
                best=pl.col("are").min(),
                mean=pl.col("are").mean(),
                n_scored=pl.col("are").count(),
            )
            .join(full, on="family")
        )
    if not parts:
        return pl.DataFrame(
            schema={"family": pl.String, "study": pl.String, "min_tokens": pl.Float64,
                    "full": pl.Float64, "best": pl.Float64, "mean": pl.Float64,
                    "n_scored": pl.UInt32, "law_id": pl.String}
        )
    return pl.concat(parts).select(
        "family", "study", "min_tokens", "full", "best", "mean", "n_scored", "law_id"
    ).sort("family", "study")


def one_model(con, estimator: str, *, sel: Selection = Selection()) -> pl.DataFrame:
    """Sec. 5 / App. A: one model's curve prefix, with A and alpha borrowed from Muennighoff
    et al., predicting the family's largest model.

    Returns
    -------
    pl.DataFrame
        ``family, in_aggregate, model, num_params, target_params, scale_up, fraction, are``;
        the target itself (scale_up 1) is kept, it predicts its own end.
    """
    df = laws(con, "one-model", estimator, sel=sel)
    sizes = query(con, "SELECT model_id AS model, num_params::DOUBLE AS num_params FROM models")
    return (
        df.rename({"first_model": "model"})
        .join(sizes, on="model", how="left")
        .with_columns(target_params=pl.col("num_params") * pl.col("scale_up"))
        .select("family", "in_aggregate", "model", "num_params", "target_params", "scale_up",
                "fraction", "are")
        .sort("family", "num_params", "fraction")
    )


def one_model_best(con, estimator: str, *, sel: Selection = Selection()) -> pl.DataFrame:
    """Per family and training model (not the target), the best ARE over p, and at p = 1.

    Returns ``family, model, num_params, target_params, scale_up, best, best_fraction,
    at_full`` sorted by family and size.
    """
    df = one_model(con, estimator, sel=sel).filter(pl.col("scale_up") > 1)
    at_full = df.filter(pl.col("fraction") == 1.0).select("family", "model", at_full="are")
    return (
        df.filter(pl.col("are").is_not_null())
        .sort("are")
        .group_by("family", "model", maintain_order=True)
        .first()
        .rename({"are": "best", "fraction": "best_fraction"})
        .join(at_full, on=["family", "model"], how="left")
        .select("family", "model", "num_params", "target_params", "scale_up", "best",
                "best_fraction", "at_full")
        .sort("family", "num_params")
    )


def window_cells(con, estimator: str, *, sel: Selection = Selection()) -> pl.DataFrame:
    """The per-family cells :func:`windows` averages: ``family, in_aggregate, scale,
    fraction, are, n_laws, n_scored``."""
    df = laws(con, "windows", estimator, sel=sel).with_columns(
        scale=scale_up_bin(pl.col("scale_up")))
    return cell_means(df, ["family", "in_aggregate", "scale"], "fraction")


def windows(con, estimator: str, *, sel: Selection = Selection()) -> pl.DataFrame:
    """Fig. 1(a), Sec. 7: windows of 4 consecutive sizes; ARE by scale-up bin x p.

    Returns
    -------
    pl.DataFrame
        ``scale, fraction, are, n_families`` (macro average; the scale bin is a string).
    """
    return windows_of(window_cells(con, estimator, sel=sel))


def windows_of(cells: pl.DataFrame) -> pl.DataFrame:
    """:func:`windows` of cells already read (:func:`window_cells`)."""
    return macro(cells, ["scale", "fraction"]).with_columns(
        order=pl.col("scale").replace_strict(
            {s: i for i, s in enumerate(SCALE_LABELS)}, return_dtype=pl.Int32
        )
    ).sort("order", "fraction").drop("order")


def leave_one_out(con, estimator: str, *, sel: Selection = Selection()) -> pl.DataFrame:
    """App. D: does cross-validation find the model that spoils a law?

    Each smaller model is left out in turn (p = 0.7); the law is scored on the target and on
    the model left out. Per family, the *worst-predicted* model (highest ARE on itself) is
    compared with the *worst-generalising* one (whose removal gives the highest ARE on the
    target; ``experiments/detect_outliers.py``).

    Returns
    -------
    pl.DataFrame
        Per family: ``family, in_aggregate, n_left_out, full`` (ARE with every smaller
        model), ``worst_predicted, worst_generalising, match`` (the two are the same model),
        ``share_worse`` (share of leave-one-out laws with a worse target ARE than ``full``).
    """
    df = laws(con, "leave-one-out", estimator, sel=sel)
    full = df.filter(pl.col("left_out").is_null()).select("family", full="are")
    out = df.filter(pl.col("left_out").is_not_null())
    on_target = out.filter(pl.col("target") != pl.col("left_out"))
    on_self = out.filter(pl.col("target") == pl.col("left_out"))

    def worst(frame: pl.DataFrame, name: str) -> pl.DataFrame:
        return (
            frame.filter(pl.col("are").is_not_null())
            .sort("are", "left_out", descending=[True, False])
            .group_by("family", maintain_order=True)
            .first()
            .select("family", pl.col("left_out").alias(name))
        )

    return (
        on_target.join(full, on="family", how="left")
        .group_by("family", "in_aggregate")
        .agg(
            n_left_out=pl.col("are").count(),
            share_worse=(pl.col("are") > pl.col("full")).filter(pl.col("are").is_not_null())
            .mean(),
        )
        .join(full, on="family", how="left")
        .join(worst(on_self, "worst_predicted"), on="family", how="inner")
        .join(worst(on_target, "worst_generalising"), on="family", how="inner")
        .with_columns(match=pl.col("worst_predicted") == pl.col("worst_generalising"))
        .select("family", "in_aggregate", "n_left_out", "full", "worst_predicted",
                "worst_generalising", "match", "share_worse")
        .sort("family")
    )


_ARE_INTERVALS = """
SELECT i.law_id, i.low, i.high, i.n_resamples, i.seed
FROM law_intervals i
WHERE list_contains(?, i.law_id) AND i.quantity = 'are' AND i.level = ?
QUALIFY row_number() OVER (PARTITION BY i.law_id ORDER BY i.n_resamples DESC, i.seed) = 1
"""


def are_intervals(con, law_ids: list[str], level: float = 0.9) -> pl.DataFrame:
    """The stored interval of each law's ARE over resampled runs (``meta bootstrap``), from
    its bootstrap with the most resamples; laws never bootstrapped have no row.

    Returns
    -------
    pl.DataFrame
        ``law_id, low, high, n_resamples, seed``.
    """
    return query(con, _ARE_INTERVALS, [list(law_ids), level])


_CURVE = """
SELECT p.model_id, p.num_params::DOUBLE AS num_params, p.tokens, p.perf
FROM perf p
WHERE p.family = ? AND p.tokens IS NOT NULL
ORDER BY p.num_params, p.model_id, p.tokens
"""

_PARAMS = """
SELECT l.params.E AS E, l.params.A AS A, l.params.B AS B, l.params.alpha AS alpha,
       l.params.beta AS beta, l.train_spec.target AS target, l.train_spec.models AS models,
       l.train_spec.fraction AS fraction, l.train_spec.min_tokens AS min_tokens
FROM laws l WHERE l.law_id = ?
"""


def fit_curve(con, law_id: str) -> pl.DataFrame:
    """The points of a law's family with the law's prediction at each of them.

    Returns
    -------
    pl.DataFrame
        ``model_id, num_params, tokens, perf, predicted, role, min_tokens`` where ``role``
        is ``target`` (the predicted model), ``train`` (a training model) or ``other``, and
        ``min_tokens`` is the law's early-token cut.
    """
    meta = query(con, _PARAMS, [law_id])
    if meta.is_empty() or meta["E"][0] is None:  # no law, or one without parameters
        return pl.DataFrame()
    row = meta.row(0, named=True)
    family = query(con, "SELECT family FROM laws WHERE law_id = ?", [law_id])["family"][0]
    pts = query(con, _CURVE, [family])
    n = pts["num_params"].to_numpy()
    d = pts["tokens"].cast(pl.Float64).to_numpy()
    with np.errstate(all="ignore"):
        pred = row["E"] + row["A"] / n ** row["alpha"] + row["B"] / d ** row["beta"]
    role = (
        pl.when(pl.col("model_id") == row["target"]).then(pl.lit("target"))
        .when(pl.col("model_id").is_in(row["models"])).then(pl.lit("train"))
        .otherwise(pl.lit("other"))
    )
    return pts.with_columns(
        predicted=pl.Series(pred), role=role, min_tokens=pl.lit(row["min_tokens"])
    ).with_columns(predicted=pl.col("predicted").fill_nan(None))
