"""The families the study reads, and each family's runs: per evaluated checkpoint, the family's
general loss and every task accuracy.

A family's runs are its models, and those of ``<family>-rest`` where a source keeps the other
runs of the same grid apart from the scaled family (overtrain: the runs that are not the
largest multiplier of their shape). The general loss is the ``perf`` view (the family's loss
columns; log2 of perplexities). A task is one accuracy metric (kind ``acc``) at one number of
shots whose benchmark has a chance level in ``task_chance``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analyses.ladder.data import Run
from warehouse.errors import MetaError
from warehouse.sql import query

LOSS = "loss"  # the key of the general loss in Run.values
MIN_TRAIN_SIZES = 3  # the fewest sizes a law is fitted on (step 1 has five parameters)

_FAMILIES = """
WITH runs AS (
    SELECT f.family, m.model_id, m.num_params
    FROM families f
    JOIN models m ON m.family = f.family OR m.family = f.family || '-rest'
    WHERE f.scaled AND len(f.perf_metric) > 0
),
scored AS (
    SELECT DISTINCT r.family, r.num_params
    FROM runs r
    JOIN checkpoints c USING (model_id)
    JOIN metrics x USING (checkpoint_id)
    JOIN task_chance t ON t.source = x.source AND t.task = x.task
    WHERE x.kind = 'acc'
)
SELECT family, count(*) AS sizes FROM scored
GROUP BY family HAVING count(*) > ?
ORDER BY family
"""
_ROWS = """
SELECT m.model_id, m.num_params::DOUBLE AS num_params, c.checkpoint_id, c.step,
       c.tokens::DOUBLE AS tokens, c.flops::DOUBLE AS flops, p.perf,
       x.metric || ' @' || x.shots AS key, x.metric, x.shots, x.task AS benchmark, t.chance,
       x.value
FROM models m
JOIN checkpoints c USING (model_id)
JOIN perf p USING (checkpoint_id)
JOIN metrics x USING (checkpoint_id)
JOIN task_chance t ON t.source = x.source AND t.task = x.task
WHERE (m.family = ? OR m.family = ? || '-rest') AND x.kind = 'acc'
  AND isfinite(p.perf) AND p.perf > 0 AND c.tokens > 0
ORDER BY m.model_id, c.tokens, c.step
"""


@dataclass(frozen=True)
class Task:
    """One accuracy metric at one number of shots.

    Attributes
    ----------
    key : str
        ``<metric> @<shots>``: the key of its values in ``Run.values``.
    metric : str
        The metric's name in ``metrics``.
    shots : int
        In-context examples.
    benchmark : str
        ``metrics.task``, whose chance level it has.
    chance : float
        Accuracy of a random answer (``task_chance``); step 2 starts from it.
    """

    key: str
    metric: str
    shots: int
    benchmark: str
    chance: float


@dataclass(frozen=True)
class FamilyRuns:
    """A family's runs and tasks, as the study reads them.

    Attributes
    ----------
    family : str
        The family.
    runs : list of Run
        Every run, smallest first; ``values`` holds :data:`LOSS` and each task's key.
    tasks : list of Task
        Every task that some run was evaluated on.
    """

    family: str
    runs: list[Run]
    tasks: list[Task]


def families(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """The families with a general loss and task accuracies at more than
    :data:`MIN_TRAIN_SIZES` sizes: ``family, sizes``."""
    return query(con, _FAMILIES, [MIN_TRAIN_SIZES])


def load_family(con: duckdb.DuckDBPyConnection, family: str) -> FamilyRuns:
    """One family's runs with their general loss and accuracies at every checkpoint that has
    both.

    Raises
    ------
    MetaError
        When the family has no such checkpoint (unknown, no loss, or no task with a chance
        level).
    """
    df = query(con, _ROWS, [family, family])
    if df.is_empty():
        known = ", ".join(families(con)["family"])
        raise MetaError(f"Family '{family}' has no checkpoint with both a loss and a task "
                        f"accuracy of known chance level. Known families: {known or 'none'}.")
    tasks = [Task(*row) for row in df.select("key", "metric", "shots", "benchmark", "chance")
             .unique().sort("key").iter_rows()]
    runs = []
    for (model,), part in df.group_by("model_id", maintain_order=True):
        wide = part.pivot(on="key", index=["checkpoint_id", "step", "tokens", "flops",
                                           "num_params", "perf"], values="value",
                          sort_columns=True).sort("tokens", "step", nulls_last=True)
        values = {t.key: wide[t.key].cast(pl.Float64).fill_null(np.nan).to_numpy()
                  for t in tasks if t.key in wide.columns}
        values[LOSS] = wide["perf"].to_numpy().astype(float)
        runs.append(Run(model_id=model, num_params=float(wide["num_params"][0]),
                        checkpoints=wide["checkpoint_id"].to_list(),
                        tokens=wide["tokens"].to_numpy().astype(float),
                        flops=wide["flops"].to_numpy().astype(float), values=values))
    runs.sort(key=lambda r: (r.num_params, r.tokens[-1], r.model_id))
    return FamilyRuns(family, runs, tasks)
