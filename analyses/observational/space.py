"""The base capability space (the paper's Sec 3) and the warehouse's checkpoints placed in it.

:func:`base_space` imputes and PCA's the 8 standard benchmarks of a model set, by default the
paper's 77-model analysis set, with no train/test split: its explained variances are the
paper's (PC-1 ~80%, PC-1..3 ~97%) and its PC-1 is near-linear in log FLOPs within a family.

:func:`place_checkpoints` maps the warehouse's own training runs (Pythia, OLMo, the
over-training grid) into that space. A checkpoint has only the few benchmarks its source
evaluated (:data:`~analyses.observational.data.CHECKPOINT_BENCHMARKS`); the others are filled
exactly as a test model's holes are (the base fit's scaler and rank-1 PCA, iterated), then
projected. With two or four of eight benchmarks, PC-1 is the meaningful coordinate; its
Llama-2-equivalent FLOPs put a checkpoint on the compute axis of the reference family.
Protocols differ from the leaderboard's (shots, normalisation), so absolute positions are
approximate; :attr:`Placement.validation` compares the last checkpoint of each run with the
same model's ObsScaling row where both exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analyses.observational import data
from analyses.observational.equivalent_flops import LogLinear, equivalent_flops, family_trends
from analyses.observational.experiments import BENCHMARKS
from analyses.observational.pca import CapabilitySpace
from warehouse.errors import MetaError

ANALYSIS_SET = "obs-analysis-set"


@dataclass(frozen=True, eq=False)
class BaseSpace:
    """PCA of a model set's benchmark scores.

    Attributes
    ----------
    benchmarks : tuple of str
    tags : tuple of str
        The model set (``models.tags``).
    space : CapabilitySpace
        Fitted on every model of the set (no split).
    table : polars.DataFrame
        ``model``, ``family``, ``num_params``, ``tokens``, ``flops``, the raw benchmark
        scores (null where missing), ``n_imputed`` and ``PC-1 .. PC-p``.
    trends : polars.DataFrame
        Per family with >= 3 models of known FLOPs: the OLS of PC-1 on log10 FLOPs.
    reference : LogLinear or None
        PC-1 against log10 FLOPs over Llama-2 (for Llama-2-equivalent FLOPs of PC-1).
    """

    benchmarks: tuple[str, ...]
    tags: tuple[str, ...]
    space: CapabilitySpace
    table: pl.DataFrame
    trends: pl.DataFrame
    reference: LogLinear | None

    @property
    def explained_variance_ratio(self) -> np.ndarray:
        """Share of variance of every component."""
        return self.space.explained_variance_ratio_

    def loadings(self) -> pl.DataFrame:
        """One row per component: ``component``, ``explained_variance_ratio`` and one column
        per benchmark."""
        comps = self.space.components_
        rows = {"component": [f"PC-{i + 1}" for i in range(comps.shape[0])],
                "explained_variance_ratio": self.explained_variance_ratio.tolist()}
        rows |= {b: comps[:, j].tolist() for j, b in enumerate(self.benchmarks)}
        return pl.DataFrame(rows)

    def to_dict(self) -> dict:
        """JSON-able: ``explained_variance_ratio``, cumulative, loadings, mean, sizes."""
        ratio = self.explained_variance_ratio
        return {
            "models": self.table.height,
            "families": self.table["family"].n_unique(),
            "tags": list(self.tags),
            "benchmarks": list(self.benchmarks),
            "explained_variance_ratio": ratio.tolist(),
            "cumulative_explained_variance_ratio": np.cumsum(ratio).tolist(),
            "components": self.space.components_.tolist(),
            "mean": self.space.pca_.mean_.tolist(),
            "imputed_cells": int(self.table["n_imputed"].sum()),
            "imputation_iterations": self.space.imputer_.n_iter_,
            "family_trends": self.trends.to_dicts(),
        }


def base_space(con: duckdb.DuckDBPyConnection, *, tags: Sequence[str] = (ANALYSIS_SET,),
               benchmarks: Sequence[str] = BENCHMARKS) -> BaseSpace:
    """Impute and PCA the benchmarks of the base models carrying any of ``tags``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    tags : sequence of str, default=("obs-analysis-set",)
        ``obs-analysis-set`` (77 models), ``obs-preregistered`` (20), ``obs-paper-era`` (107).
    benchmarks : sequence of str, default=BENCHMARKS

    Returns
    -------
    BaseSpace
    """
    table = data.model_table(con, list(benchmarks), kind="base", tags=list(tags))
    if table.height < 3:
        raise MetaError(f"Only {table.height} base models carry the tags {', '.join(tags)}.")
    X = table.select(list(benchmarks)).to_numpy().astype(float)
    space = CapabilitySpace(n_components=len(benchmarks)).fit(X)
    scores = space.project(space.train_filled_)
    pcs = {f"PC-{i + 1}": scores[:, i] for i in range(scores.shape[1])}
    table = table.select("model", "family", "num_params", "tokens", "flops", *benchmarks)
    table = table.with_columns(n_imputed=pl.Series(np.isnan(X).sum(axis=1)), **pcs)
    trends = family_trends(table, "PC-1")
    try:
        reference = equivalent_flops(table["PC-1"].to_numpy(), table["family"].to_list(),
                                     table["flops"].fill_null(np.nan).to_numpy())
    except MetaError:
        reference = None
    return BaseSpace(tuple(benchmarks), tuple(tags), space, table, trends, reference)


@dataclass(frozen=True, eq=False)
class Placement:
    """Warehouse checkpoints in a base capability space.

    Attributes
    ----------
    table : polars.DataFrame
        One row per checkpoint: ``checkpoint_id``, ``model_id``, ``family``, ``source``,
        ``num_params``, ``step``, ``tokens``, ``flops``, the mapped benchmark scores,
        ``n_benchmarks`` (observed), ``PC-1 .. PC-3`` and ``equiv_log10_flops`` (Llama-2-
        equivalent log10 FLOPs of PC-1; null without a reference line).
    validation : polars.DataFrame
        The last checkpoint of every run that is also an ObsScaling model: ``model_id``,
        ``obs_model``, ``n_benchmarks``, ``pc1_placed``, ``pc1_obs`` (the ObsScaling row,
        with all the benchmarks it has, projected with the same fit) and ``difference``.
    sources : tuple of str
    n_out_of_range : int
        Scores outside [0, 1] treated as missing.
    runs : polars.DataFrame
        :func:`run_trends` of ``table``: PC-1 along every run with >= 5 checkpoints.
    """

    table: pl.DataFrame
    validation: pl.DataFrame
    sources: tuple[str, ...]
    n_out_of_range: int = 0
    runs: pl.DataFrame | None = None


def _match(model_id: str, names: dict[str, str]) -> str | None:
    """The ObsScaling model of a warehouse run: same name after the organisation, optionally
    with '-hf' (``pythia/pythia-1b-deduped`` -> ``EleutherAI/pythia-1b-deduped``,
    ``olmo/OLMo-7B`` -> ``allenai/OLMo-7B-hf``)."""
    short = model_id.split("/", 1)[-1].lower()
    return names.get(short) or names.get(short + "-hf")


def place_checkpoints(con: duckdb.DuckDBPyConnection, space: BaseSpace, *,
                      sources: Sequence[str] = ("pythia", "olmo", "overtrain", "opt"),
                      n_components: int = 3, min_benchmarks: int = 1) -> Placement:
    """Place every checkpoint of ``sources`` that has a mapped benchmark in ``space``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    space : BaseSpace
    sources : sequence of str
        Keys of :data:`~analyses.observational.data.CHECKPOINT_BENCHMARKS` (``opt`` has no
        overlapping benchmark and contributes nothing).
    n_components : int, default=3
    min_benchmarks : int, default=1
        Checkpoints with fewer observed benchmarks are left out. A score outside [0, 1] is
        not an accuracy (OLMo's HellaSwag has a few such values upstream) and counts as
        missing.

    Returns
    -------
    Placement
    """
    ck = data.checkpoint_table(con, sources)
    cols = [b for b in space.benchmarks]
    for b in cols:
        if b not in ck.columns:
            ck = ck.with_columns(pl.lit(None, pl.Float64).alias(b))
    X = ck.select(cols).to_numpy().astype(float) if ck.height else np.empty((0, len(cols)))
    with np.errstate(invalid="ignore"):
        bad = (X < 0) | (X > 1)
    X = np.where(bad, np.nan, X)
    observed = (~np.isnan(X)).sum(axis=1)
    keep = observed >= min_benchmarks
    ck, X, observed = ck.filter(pl.Series(keep)), X[keep], observed[keep]
    scores = space.space.transform(X) if len(X) else np.empty((0, len(cols)))
    pcs = {f"PC-{i + 1}": scores[:, i] for i in range(min(n_components, scores.shape[1]))}
    equiv = (space.reference.log10_flops(scores[:, 0]) if space.reference is not None and len(X)
             else np.full(len(X), np.nan))
    table = ck.with_columns(n_benchmarks=pl.Series(observed, dtype=pl.Int64), **pcs,
                            equiv_log10_flops=pl.Series(equiv))
    obs = data.model_table(con, cols, kind="base")
    names = {m.split("/", 1)[-1].lower(): m for m in obs["model"].to_list()}
    obs_pc1 = space.space.transform(obs.select(cols).to_numpy().astype(float))[:, 0]
    pc1 = dict(zip(obs["model"].to_list(), obs_pc1.tolist(), strict=True))
    rows = []
    if table.height:
        last = table.sort("tokens", "step", nulls_last=True).group_by(
            "model_id", maintain_order=True).last()
        for r in last.iter_rows(named=True):
            obs = _match(r["model_id"], names)
            if obs is not None:
                rows.append({"model_id": r["model_id"], "obs_model": obs,
                             "n_benchmarks": r["n_benchmarks"], "pc1_placed": r["PC-1"],
                             "pc1_obs": pc1[obs], "difference": r["PC-1"] - pc1[obs]})
    schema = {"model_id": pl.String, "obs_model": pl.String, "n_benchmarks": pl.Int64,
              "pc1_placed": pl.Float64, "pc1_obs": pl.Float64, "difference": pl.Float64}
    validation = pl.DataFrame(rows, schema=schema).sort("model_id")
    return Placement(table, validation, tuple(sources), int(bad.sum()), run_trends(table))


def run_trends(table: pl.DataFrame, *, min_checkpoints: int = 5) -> pl.DataFrame:
    """Per training run with at least ``min_checkpoints`` placed checkpoints: how PC-1 moves.

    Returns
    -------
    polars.DataFrame
        ``model_id``, ``source``, ``n``, ``first_tokens``, ``last_tokens``, ``pc1_first``,
        ``pc1_last`` and ``spearman`` (rank correlation of PC-1 with tokens).
    """
    from scipy.stats import spearmanr

    rows = []
    if table.height:
        for (model_id,), g in table.filter(pl.col("tokens").is_not_null()).group_by(
                "model_id", maintain_order=True):
            if g.height < min_checkpoints:
                continue
            g = g.sort("tokens", "step", nulls_last=True)
            rho = spearmanr(g["tokens"].to_numpy(), g["PC-1"].to_numpy()).statistic
            rows.append({"model_id": model_id, "source": g["source"][0], "n": g.height,
                         "first_tokens": g["tokens"][0], "last_tokens": g["tokens"][-1],
                         "pc1_first": g["PC-1"][0], "pc1_last": g["PC-1"][-1],
                         "spearman": float(rho)})
    schema = {"model_id": pl.String, "source": pl.String, "n": pl.Int64,
              "first_tokens": pl.Float64, "last_tokens": pl.Float64, "pc1_first": pl.Float64,
              "pc1_last": pl.Float64, "spearman": pl.Float64}
    return pl.DataFrame(rows, schema=schema).sort("model_id")
