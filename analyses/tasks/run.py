"""The tasks study over the warehouse: fit every eligible family, store the laws (study
``tasks``), and read back which tasks are predictable.

I/O at the edges: :func:`fit_tasks` reads each family, fits it
(:func:`analyses.tasks.study.fit_family`) and writes through :mod:`warehouse.laws`;
:func:`predictability` and :func:`shares` read the view ``task_predictability``, the one
definition of a predictable task.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import polars as pl

from analyses.ladder import store
from analyses.tasks.data import MIN_TRAIN_SIZES, families, load_family
from analyses.tasks.study import fit_family
from warehouse.errors import MetaError
from warehouse.identity import POINT_COLUMNS, data_hash, family_points
from warehouse.laws import delete_unplanned, law_ids, write_laws
from warehouse.sql import query

STUDY = "tasks"


@dataclass(frozen=True)
class TasksFit:
    """What :func:`fit_tasks` did.

    Attributes
    ----------
    families : list of str
        The families fitted.
    laws, written, deleted : int
        Laws the study makes, laws written now (the rest were stored already), and laws of
        the same families and study that it no longer makes, removed.
    seconds : float
        Wall time of the fits.
    """

    families: list[str]
    laws: int
    written: int
    deleted: int
    seconds: float


def _store(con: duckdb.DuckDBPyConnection, family: str) -> tuple[int, int, int, float]:
    runs = load_family(con, family)
    start = time.perf_counter()
    laws = fit_family(runs)
    seconds = time.perf_counter() - start
    points = family_points(con, [family]).filter("usable").select(POINT_COLUMNS)
    laws_df, predictions = store.rows(
        laws, runs.runs, data_hash=data_hash(points), inputs=store.inputs_digest(runs.runs),
        seconds=seconds, study=STUDY, family=family)
    scope = pl.DataFrame({"family": [family], "study": [STUDY]}).join(
        laws_df.select("estimator").unique(), how="cross")
    deleted = delete_unplanned(con, scope, set(laws_df["law_id"]))
    new = laws_df.filter(~pl.col("law_id").is_in(list(law_ids(con))))
    if new.height:
        write_laws(con, new, predictions.filter(pl.col("law_id").is_in(new["law_id"].implode())))
    return laws_df.height, new.height, deleted, seconds


def fit_tasks(con: duckdb.DuckDBPyConnection, names: Sequence[str] | None = None,
              log=None) -> TasksFit:
    """Fit the two-step laws of every eligible family (or those named) and store them.

    Laws already stored with the same id are kept; laws of a fitted family that the study
    no longer makes (fitted on other data) are deleted.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A writable warehouse.
    names : sequence of str, optional
        Families to fit (every family of :func:`analyses.tasks.data.families` by default).
    log : callable, optional
        Called with a line of progress per family.

    Raises
    ------
    MetaError
        A named family that is not eligible, or no eligible family at all.
    """
    eligible = families(con)["family"].to_list()
    unknown = [n for n in names or () if n not in eligible]
    if unknown or not eligible:
        raise MetaError(
            f"Family '{unknown[0]}' has no task accuracies at {MIN_TRAIN_SIZES + 1} or more "
            f"sizes beside a loss. Eligible families: {', '.join(eligible)}." if unknown else
            "No family has task accuracies at several sizes beside a loss; load source "
            "pythia or overtrain with meta ingest.")
    chosen = list(names) if names else eligible
    total = written = deleted = 0
    seconds = 0.0
    for family in chosen:
        n, w, d, s = _store(con, family)
        total, written, deleted, seconds = total + n, written + w, deleted + d, seconds + s
        if log:
            log(f"{family}: {n} laws ({w} new, {d} stale removed, {s:.1f} s)")
    return TasksFit(chosen, total, written, deleted, seconds)


def predictability(con: duckdb.DuckDBPyConnection,
                   names: Sequence[str] | None = None) -> pl.DataFrame:
    """The rows of the view ``task_predictability`` (see ``warehouse/views.sql``) of every
    family, or of those named.

    Raises
    ------
    MetaError
        When no law of study ``tasks`` is stored (``meta tasks fit --families`` fits them).
    """
    df = query(con, "SELECT * FROM task_predictability WHERE ?::VARCHAR[] IS NULL "
                    "OR list_contains(?, family) ORDER BY family, task, sizes",
               [names, names])
    if df.is_empty():
        raise MetaError("The warehouse holds no laws of study 'tasks'; run "
                        "'meta tasks fit --families' first.")
    return df


def shares(table: pl.DataFrame) -> pl.DataFrame:
    """The share of tasks that are predictable from all of a family's training sizes, by
    family and overall (last row, ``family`` = ``all``): ``family, sizes, tasks,
    predictable, share`` and the count passing each criterion."""
    full = table.filter(pl.col("sizes") == pl.col("sizes").max().over("family"))
    criteria = ["within_points", "fits", "above_chance", "beats_baseline"]

    def agg(df: pl.DataFrame) -> list[pl.Expr]:
        return [pl.len().alias("tasks"), pl.col("predictable").sum().alias("predictable"),
                pl.col("predictable").mean().alias("share"),
                *[pl.col(c).fill_null(False).sum().alias(c) for c in criteria]]

    by_family = full.group_by("family").agg(pl.col("sizes").first(), *agg(full)).sort("family")
    overall = full.select(pl.lit("all").alias("family"), pl.lit(None, pl.Int32).alias("sizes"),
                          *agg(full))
    return pl.concat([by_family.with_columns(pl.col("sizes").cast(pl.Int32)), overall])
