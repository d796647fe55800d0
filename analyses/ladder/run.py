"""The ladder study over the warehouse: read the paper's runs, fit, compare with the published
tables, store the laws; and predictions from the stored laws.

I/O at the edges: :func:`paper_study` reads, :func:`fit_ladder` also writes (through
:mod:`warehouse.laws`); the computation is :func:`analyses.ladder.study.run_study`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analyses.ladder import step1, step2, store
from analyses.ladder.data import Run, load_runs, tagged
from analyses.ladder.reproduce import compare, computed_cells, variance
from analyses.ladder.study import Law, run_study
from analyses.ladder.tasks import VARIANCE_TASKS
from warehouse.errors import MetaError
from warehouse.identity import POINT_COLUMNS, data_hash, family_points
from warehouse.laws import delete_unplanned, law_ids, write_laws
from warehouse.sql import query

CONFIG = "final"  # the paper's configs/final.json


@dataclass(frozen=True)
class LadderStudy:
    """The paper's protocol run on the warehouse.

    Attributes
    ----------
    laws : list of Law
        Every fitted law, with its predictions of the targets.
    results : pl.DataFrame
        One row per (variant, task, target); see :func:`run_study`.
    comparison : pl.DataFrame
        Every published cell beside the computed one (:func:`reproduce.compare`).
    train, targets : list of Run
        The runs fitted and predicted (targets smallest first: 7B-4T, 13B-5T).
    inputs : str
        Digest of every row the study read.
    seconds : float
        Wall time of the fits.
    """

    laws: list[Law]
    results: pl.DataFrame
    comparison: pl.DataFrame
    train: list[Run]
    targets: list[Run]
    inputs: str
    seconds: float


def paper_study(con: duckdb.DuckDBPyConnection, *, config: str = CONFIG) -> LadderStudy:
    """Fit the paper's laws on its training runs (tag ``<config>:train``), predict its targets
    (``<config>:eval``) and set the published tables beside the results."""
    train = load_runs(con, tagged(con, f"{config}:train"))
    targets = load_runs(con, tagged(con, f"{config}:eval"))
    spread_id = tagged(con, "final_variance:eval")[0]
    spread_run = load_runs(con, [spread_id])[spread_id]
    start = time.perf_counter()
    laws, results = run_study(list(train.values()), list(targets.values()), VARIANCE_TASKS)
    seconds = time.perf_counter() - start
    small, large = list(targets)[0], list(targets)[-1]
    cells = computed_cells(results, variance(spread_run), large=large, small=small)
    published = query(con, "SELECT * FROM published WHERE source = 'olmo-ladder'")
    inputs = store.inputs_digest([*train.values(), *targets.values()])
    return LadderStudy(laws, results, compare(published, cells), list(train.values()),
                       list(targets.values()), inputs, seconds)


def ladder_loaded(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the warehouse holds source ``olmo-ladder`` (``meta fit-all`` then fits it)."""
    return bool(con.execute("SELECT count(*) FROM sources WHERE source = 'olmo-ladder'"
                            ).fetchone()[0])


def fit_ladder(con: duckdb.DuckDBPyConnection) -> tuple[LadderStudy, int, int]:
    """Run :func:`paper_study` and store its laws and predictions (study ``ladder``).

    Laws already stored with the same id are kept; ladder laws the study no longer makes
    (fitted on other data) are deleted.

    Returns
    -------
    study : LadderStudy
    written, deleted : int
        Laws written now, and stale ladder laws removed.
    """
    study = paper_study(con)
    points = family_points(con, [store.FAMILY]).filter("usable").select(POINT_COLUMNS)
    if points.is_empty():
        raise MetaError("Family 'olmo-ladder' has no usable points; load source olmo-ladder "
                        "with meta ingest.")
    laws, predictions = store.rows(study.laws, study.train,
                                   data_hash=data_hash(points), inputs=study.inputs,
                                   seconds=study.seconds)
    scope = laws.select("family", "study", "estimator").unique()
    deleted = delete_unplanned(con, scope, set(laws["law_id"]))
    new = laws.filter(~pl.col("law_id").is_in(list(law_ids(con))))
    if new.height:
        write_laws(con, new, predictions.filter(pl.col("law_id").is_in(new["law_id"].implode())))
    return study, new.height, deleted


_STORED = """
SELECT l.law_id, json_extract_string(l.settings, '$.variant') AS variant,
       json_extract_string(l.settings, '$.task') AS task, l.form, l.quantity, l.status,
       l.coefficients, m.model_id AS target, p.predicted, p.actual
FROM laws l JOIN predictions p USING (law_id)
JOIN checkpoints c USING (checkpoint_id) JOIN models m USING (model_id)
WHERE l.study = 'ladder'
ORDER BY variant, task, m.num_params
"""


def stored_predictions(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The stored ladder laws' predictions of the targets: ``law_id, variant, task, form,
    quantity, status, target, predicted, actual, rel_error``.

    Raises
    ------
    MetaError
        When no ladder law is stored (``meta tasks fit`` stores them).
    """
    df = query(con, _STORED)
    if df.is_empty():
        raise MetaError("The warehouse holds no ladder laws; run 'meta tasks fit' first.")
    return df.drop("coefficients").with_columns(
        rel_error=(pl.col("predicted") - pl.col("actual")) / pl.col("actual"))


def predict_at(con: duckdb.DuckDBPyConnection, num_params: float, tokens: float,
               flops_per_token: float | None = None) -> pl.DataFrame:
    """Each task's step-1 task loss and chained accuracy at (N, D) from the stored laws.

    Parameters
    ----------
    num_params, tokens : float
        N and D of the model to predict.
    flops_per_token : float, optional
        Training FLOPs per token; with it, the FLOPs-chained accuracy at C = D x it too.

    Returns
    -------
    pl.DataFrame
        ``task, task_loss, accuracy`` (and ``accuracy_flops``).

    Raises
    ------
    MetaError
        When no ladder law is stored (``meta tasks fit`` stores them).
    """
    laws = query(con, "SELECT json_extract_string(settings, '$.variant') AS variant, "
                      "json_extract_string(settings, '$.task') AS task, coefficients "
                      "FROM laws WHERE study = 'ladder' AND form LIKE 'chained-%'")
    if laws.is_empty():
        raise MetaError("The warehouse holds no ladder laws; run 'meta tasks fit' first.")
    laws = {(v, t): dict(c) for v, t, c in laws.iter_rows()}
    rows = []
    for task in sorted({t for _, t in laws}):
        c = laws[("chained_main", task)]
        loss = step1.POWER.predict([c[f"step1.{p}"] for p in step1.POWER.params],
                                   np.array([[num_params, tokens]]))
        acc = step2.sigmoid(loss, *(c[f"step2.{p}"] for p in step2.SIGMOID.params))
        row = {"task": task, "task_loss": float(loss[0]), "accuracy": float(acc[0])}
        if flops_per_token is not None:
            f = laws[("chained_flops_main", task)]
            flops_loss = step1.FLOPS.predict([f[f"step1.{p}"] for p in step1.FLOPS.params],
                                             np.array([[tokens * flops_per_token]]))
            row["accuracy_flops"] = float(step2.sigmoid(
                flops_loss, *(f[f"step2.{p}"] for p in step2.SIGMOID.params))[0])
        rows.append(row)
    return pl.DataFrame(rows)
