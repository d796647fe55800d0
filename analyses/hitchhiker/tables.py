"""The numbers of the Hitchhiker guideline report, read from fitted laws in the warehouse.

Each function takes a connection and returns a small polars frame; none writes. ARE is a
fraction (0.04 is 4%); a law whose fit failed, or that had no training point, has a null ARE
and counts as an empty cell, as the white cells of the paper's figures. The tables of single
studies (the 10B cut, one model, windows, leave-one-out) are in
:mod:`analyses.hitchhiker.study_tables`; suffix and scale-down are :func:`macro_heatmap` of
their studies.

Aggregation follows the released code (:mod:`analyses.hitchhiker.aggregate`): binned
number of models, per-family cells filled along p, then a macro average over the families
that enter averages (:class:`Selection`: the paper's families by default, and only those
with ``families.in_aggregate``, i.e. names without "interv", "5sh" or "v0").

References
----------
Choshen, Zhang & Andreas (2024), "A Hitchhiker's Guide to Scaling Law Estimation", Sec. 3-9
and App. C-D.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analyses.hitchhiker.aggregate import (
    bin_label,
    cell_means,
    fill_empty,
    full_data,
    macro,
    model_bin,
)
from analyses.hitchhiker.conventions import DEFAULT, get_set
from analyses.hitchhiker.paper import PAPER_FAMILIES, WITHIN, model_type, paper_heatmaps
from warehouse.sql import query

CURVEFIT = "curvefit-hitchhiker"
HUBER = "huber-lbfgs"
ESTIMATORS = (CURVEFIT, HUBER)
BASELINES = ("best-seen", "most-trained")

@dataclass(frozen=True)
class Selection:
    """Which fitted laws a table reads, and which families its averages take.

    Attributes
    ----------
    conventions : str
        The convention set the laws were fitted under (``law_sets``; ``corrected``, the
        default, ``released`` or ``corrected+<convention>``).
    identified : bool
        Only the laws that their data identify (``laws.unidentified`` is null).
    families : {"paper", "all"}
        Average the paper's families (:data:`~analyses.hitchhiker.paper.PAPER_FAMILIES`)
        or every family: in both, only those with ``families.in_aggregate``.
    """

    conventions: str = DEFAULT
    identified: bool = False
    families: str = "paper"

    def __post_init__(self):
        get_set(self.conventions)
        if self.families not in ("paper", "all"):
            raise ValueError(f"families must be 'paper' or 'all'; got {self.families!r}.")

    @property
    def fill(self) -> str:
        """How empty heatmap cells are filled under the set (:func:`fill_empty`)."""
        return "released" if "fill-released" in get_set(self.conventions) else "linear"


_LAWS = """
SELECT l.law_id AS law_id, l.study, l.family, l.form, l.estimator, l.status, l.unidentified,
       l.n_points,
       l.train_spec.n_models AS n_models, l.train_spec.fraction AS fraction,
       l.train_spec.min_tokens AS min_tokens, l.train_spec.suffix AS suffix,
       l.train_spec.left_out AS left_out, l.train_spec.target AS target,
       l.train_spec.scale_up AS scale_up, len(l.train_spec.models) AS k,
       list_extract(l.train_spec.models, 1) AS first_model,
       l.train_flops, a.are, a.n_test, f.in_aggregate
FROM laws l
JOIN law_sets s ON s.law_id = l.law_id AND s.conventions = ?
JOIN are a ON a.law_id = l.law_id
JOIN families f ON f.family = l.family
WHERE l.study = ? AND (CAST(? AS VARCHAR) IS NULL OR l.estimator = ?)
ORDER BY l.family, l.estimator, n_models, fraction, suffix, left_out
"""


def laws(con, study: str, estimator: str | None = None, *,
         sel: Selection = Selection()) -> pl.DataFrame:
    """Every law of ``study`` (one estimator, or all) with its training spec and ARE.

    ``sel`` says which laws and families (:class:`Selection`): every function below takes
    it, so that each number of the report can be given under either convention set, with
    and without the laws the data cannot pin down, and over the paper's families or all.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    study : str
        A study of :mod:`analyses.hitchhiker.studies` (``num-models``, ``baselines``, ...).
    estimator : str, optional
        Keep one estimator's laws only.

    Returns
    -------
    pl.DataFrame
        ``law_id, study, family, form, estimator, status, unidentified, n_points, n_models,
        fraction, min_tokens, suffix, left_out, target, scale_up, k, first_model,
        train_flops, are, n_test, in_aggregate``; ``are`` is null for a law that was not
        scored.
    """
    df = query(con, _LAWS, [sel.conventions, study, estimator, estimator])
    if sel.identified:
        df = df.filter(pl.col("unidentified").is_null())
    if sel.families == "paper":
        df = df.with_columns(in_aggregate=pl.col("in_aggregate")
                             & pl.col("family").is_in(list(PAPER_FAMILIES)))
    # A prediction that overflowed is stored as null: a law with no scored test row failed.
    return df.with_columns(are=pl.when(pl.col("n_test") > 0).then(pl.col("are")))


def family_cells(
    con, study: str, estimator: str, *, index: str = "n_models", column: str = "fraction",
    sel: Selection = Selection(),
) -> pl.DataFrame:
    """Per-family ARE grid (e.g. number of models x p): the mean ARE of the laws per cell.

    Returns
    -------
    pl.DataFrame
        ``family, in_aggregate, <index>, <column>, are, n_laws, n_scored``.
    """
    df = laws(con, study, estimator, sel=sel)
    return cell_means(df, ["family", "in_aggregate", index], column)


def heatmap_cells(
    con, study: str, estimator: str, *, column: str = "fraction", fill: str | None = None,
    sel: Selection = Selection(),
) -> pl.DataFrame:
    """The per-family cells :func:`macro_heatmap` averages: laws binned by number of models,
    ARE averaged per (family, bin, ``column``), empty cells filled along ``column``.

    Returns
    -------
    pl.DataFrame
        ``family, in_aggregate, bin, <column>, are, n_laws, n_scored, n_unidentified,
        filled``.
    """
    df = laws(con, study, estimator, sel=sel).with_columns(
        bin=model_bin(pl.col("n_models")))
    cells = cell_means(df.filter(pl.col("n_models") >= 2), ["family", "in_aggregate", "bin"],
                       column)
    return fill_empty(cells, by=["family", "bin"], column=column, how=fill or sel.fill)


def macro_heatmap(
    con,
    study: str,
    estimator: str,
    *,
    column: str = "fraction",
    fill: str | None = None,
    sel: Selection = Selection(),
) -> pl.DataFrame:
    """The paper's aggregate heatmap: binned number of models x ``column``, macro-averaged.

    Laws are binned by ``train_spec.n_models`` (distinct sizes among the training models)
    into 2, ..., 7, 8+; ARE is averaged per (family, bin, column), empty cells are filled
    along ``column`` (:func:`fill_empty`), and the cells are averaged over the families with
    ``in_aggregate``.

    Returns
    -------
    pl.DataFrame
        ``bin, label, <column>, are, n_families, n_scored, n_unidentified`` (laws scored in
        the cell, and how many of them their data cannot identify).
    """
    return heatmap_of(heatmap_cells(con, study, estimator, column=column, fill=fill, sel=sel),
                      column)


def heatmap_of(cells: pl.DataFrame, column: str = "fraction") -> pl.DataFrame:
    """:func:`macro_heatmap` of cells already read (:func:`heatmap_cells`)."""
    out = macro(cells, ["bin", column])
    return out.with_columns(
        label=pl.col("bin").map_elements(bin_label, return_dtype=pl.String)
    ).select("bin", "label", column, "are", "n_families", "n_scored", "n_unidentified")


def type_heatmaps(con, estimator: str = CURVEFIT, *, sel: Selection = Selection()
                  ) -> pl.DataFrame:
    """The ``num-models`` heatmap of each of the paper's model types, and of all its families
    (model type ``all``): :func:`macro_heatmap` over the families of one type.

    Returns
    -------
    pl.DataFrame
        ``model_type, bin, fraction, are, n_families``.
    """
    df = laws(con, "num-models", estimator, sel=sel).with_columns(
        bin=model_bin(pl.col("n_models")), model_type=model_type(pl.col("family")))
    cells = cell_means(df.filter(pl.col("n_models") >= 2),
                   ["family", "in_aggregate", "model_type", "bin"], "fraction")
    cells = fill_empty(cells, by=["family", "bin"], how=sel.fill)
    typed = macro(cells.filter(pl.col("model_type").is_not_null()),
                  ["model_type", "bin", "fraction"])
    every = macro(cells, ["bin", "fraction"]).with_columns(model_type=pl.lit("all"))
    columns = ["model_type", "bin", "fraction", "are", "n_families"]
    return pl.concat([typed.select(columns), every.select(columns)]).drop_nulls("are")


def against_paper(con, estimator: str = CURVEFIT, *, sel: Selection = Selection()
                  ) -> pl.DataFrame:
    """Every populated cell of the paper's heatmaps (:func:`analyses.hitchhiker.paper.
    paper_heatmaps`) beside the warehouse's (:func:`type_heatmaps`).

    Returns
    -------
    pl.DataFrame
        ``model_type, bin, fraction, paper, measured, difference, within`` (``within``:
        the cell is measured and matches within :data:`~analyses.hitchhiker.paper.WITHIN`).
    """
    ours = type_heatmaps(con, estimator, sel=sel).select(
        "model_type", "bin", "fraction", measured="are")
    return (
        paper_heatmaps().rename({"are": "paper"})
        .join(ours, on=["model_type", "bin", "fraction"], how="left")
        .with_columns(difference=pl.col("measured") - pl.col("paper"))
        .with_columns(within=(pl.col("difference").abs() <= WITHIN).fill_null(False))
        .sort("model_type", "bin", "fraction")
    )


def _with_nulls(frame: pl.DataFrame, names: tuple[str, ...] | list[str]) -> pl.DataFrame:
    """``frame`` with a null column for each of ``names`` it lacks (an estimator not fitted)."""
    return frame.with_columns(
        [pl.lit(None, pl.Float64).alias(n) for n in names if n not in frame.columns])


def baselines(con, *, sel: Selection = Selection()) -> pl.DataFrame:
    """The two no-fit baselines beside both fits, per family, on the full training set.

    Sec. 5.2: the best perf seen in training (``best-seen``) and the perf of the most-trained
    model (``most-trained``), scored like a law on the target; the fits are the
    ``num-models`` laws on the same models and p.

    Returns
    -------
    pl.DataFrame
        ``family, in_aggregate, n_models, best-seen, most-trained, curvefit-hitchhiker,
        huber-lbfgs`` (ARE of each, full data), plus ``best-seen (all)`` and
        ``most-trained (all)``: the mean ARE over every training set of the study.
    """
    base = laws(con, "baselines", sel=sel)
    fits = laws(con, "num-models", sel=sel)
    full = full_data(pl.concat([base, fits]))
    wide = full.pivot(on="estimator", index=["family", "in_aggregate"], values="are")
    k = full_data(base).group_by("family").agg(pl.col("n_models").max())
    means = (
        base.group_by("family", "estimator")
        .agg(pl.col("are").mean())
        .pivot(on="estimator", index="family", values="are")
        .rename({b: f"{b} (all)" for b in BASELINES}, strict=False)
    )
    every = [f"{b} (all)" for b in BASELINES]
    wide = _with_nulls(wide, (*BASELINES, *ESTIMATORS))
    means = _with_nulls(means, every)
    return (
        wide.join(k, on="family", how="left")
        .join(means, on="family", how="left")
        .select("family", "in_aggregate", "n_models", *BASELINES, *ESTIMATORS, *every)
        .sort("family")
    )


def best_are(con, estimator: str, study: str = "num-models", *,
             sel: Selection = Selection()) -> pl.DataFrame:
    """The best (lowest) ARE each family reaches in ``study``, and the law that reaches it.

    Returns
    -------
    pl.DataFrame
        ``family, in_aggregate, are, n_models, fraction, n_laws, law_id``, sorted by ARE.
    """
    df = laws(con, study, estimator, sel=sel)
    n = df.group_by("family").agg(n_laws=pl.col("are").count())
    return (
        df.filter(pl.col("are").is_not_null())
        .sort("are")
        .group_by("family", maintain_order=True)
        .first()
        .join(n, on="family")
        .select("family", "in_aggregate", "are", "n_models", "fraction", "n_laws", "law_id")
        .sort("are")
    )


def self_prefix(con, estimator: str, *, sel: Selection = Selection()) -> pl.DataFrame:
    """Sec. 5.1: each model predicting its own last 30% from a prefix p of its run.

    Returns
    -------
    pl.DataFrame
        ``family, in_aggregate, fraction, are, n_models`` (mean over the family's models that
        were scored at that p).
    """
    df = laws(con, "self-prefix", estimator, sel=sel)
    return (
        df.group_by("family", "in_aggregate", "fraction")
        .agg(pl.col("are").mean(), n_models=pl.col("are").count())
        .sort("family", "fraction")
    )


def families_studied(con, *, sel: Selection = Selection()) -> pl.DataFrame:
    """Every scaled family with its model count, whether it has laws and enters aggregates.

    Returns ``family, source, n_models, n_sizes, n_laws, n_scored, in_aggregate``
    (``n_laws``: the family's Hitchhiker laws in the convention set of ``sel``;
    ``n_scored``: those with an ARE).
    """
    return query(
        con,
        """
        WITH set_laws AS (
            SELECT l.family, a.are FROM laws l
            JOIN law_sets s ON s.law_id = l.law_id AND s.conventions = ?
            JOIN are a ON a.law_id = l.law_id
        )
        SELECT f.family, f.source, count(DISTINCT m.model_id) AS n_models,
               count(DISTINCT m.num_params) AS n_sizes,
               (SELECT count(*) FROM set_laws l WHERE l.family = f.family) AS n_laws,
               (SELECT count(l.are) FROM set_laws l WHERE l.family = f.family) AS n_scored,
               f.in_aggregate
        FROM families f JOIN models m USING (family)
        WHERE f.scaled
        GROUP BY ALL ORDER BY f.family
        """,
        [sel.conventions],
    )
