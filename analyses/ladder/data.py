"""The ladder's runs as the study reads them from the warehouse: per run, its rows in step
order with N, D, C and the task metrics.

The paper's configs are model tags of source ``olmo-ladder`` (``final:train`` for the 16
fitted runs, ``final:eval`` for the 7B and 13B targets): :func:`tagged` selects by them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

from analyses.ladder.tasks import C4, Task, metrics
from warehouse.errors import MetaError
from warehouse.sql import query

_ROWS = """
SELECT c.model_id, m.num_params::DOUBLE AS num_params, c.checkpoint_id, c.step, c.tokens,
       c.flops, x.metric, x.value
FROM metrics x
JOIN checkpoints c USING (checkpoint_id)
JOIN models m USING (model_id)
WHERE list_contains(?, c.model_id) AND list_contains(?, x.metric)
ORDER BY c.model_id, c.step
"""
_TAGGED = """
SELECT model_id FROM models WHERE list_contains(tags, ?) AND family LIKE 'olmo-ladder%'
ORDER BY num_params, model_id
"""


@dataclass(frozen=True)
class Run:
    """One training run's evaluated rows, in step order.

    Attributes
    ----------
    model_id : str
        The warehouse model.
    num_params : float
        N.
    checkpoints : list of str
        Checkpoint ids, one per row.
    tokens, flops : np.ndarray of shape (rows,)
        D and C = D x FLOPs per token at each row.
    values : dict of str to np.ndarray
        Metric name -> value per row (NaN where a row lacks it).
    """

    model_id: str
    num_params: float
    checkpoints: list[str]
    tokens: np.ndarray
    flops: np.ndarray
    values: dict[str, np.ndarray] = field(repr=False)

    def series(self, task: Task | None, quantity: str) -> np.ndarray:
        """Per row: the task's weighted mean of ``quantity`` (``bpb``, ``acc``, ``taskce`` =
        -soft_log) or, for ``c4``, the C4 loss."""
        if quantity == "c4":
            return self.values[C4]
        name = "soft_log" if quantity == "taskce" else quantity
        columns = task.columns(name)
        missing = [c for c in columns if c not in self.values]
        if missing:
            raise MetaError(f"Run {self.model_id} has no metric {missing[0]!r}; "
                            "load source olmo-ladder with meta ingest.")
        w = np.asarray(task.weights, float)
        mean = sum(wi * self.values[c] for wi, c in zip(w, columns, strict=True)) / w.sum()
        return -mean if quantity == "taskce" else mean


def load_runs(con: duckdb.DuckDBPyConnection, model_ids: Sequence[str],
              tasks: tuple[Task, ...] | None = None) -> dict[str, Run]:
    """The runs ``model_ids`` with every metric the study reads, by model id.

    Raises
    ------
    MetaError
        A model the warehouse does not hold (or holds without the task metrics).
    """
    wanted = metrics() if tasks is None else metrics(tasks)
    df = query(con, _ROWS, [list(model_ids), wanted])
    runs = {}
    for (model,), part in df.group_by("model_id", maintain_order=True):
        wide = part.pivot(on="metric", index=["checkpoint_id", "step", "tokens", "flops",
                                               "num_params"], values="value").sort("step")
        runs[model] = Run(
            model_id=model,
            num_params=float(wide["num_params"][0]),
            checkpoints=wide["checkpoint_id"].to_list(),
            tokens=wide["tokens"].to_numpy().astype(float),
            flops=wide["flops"].to_numpy().astype(float),
            values={m: wide[m].cast(pl.Float64).fill_null(np.nan).to_numpy()
                    for m in wide.columns if m in wanted},
        )
    missing = [m for m in model_ids if m not in runs]
    if missing:
        raise MetaError(f"The warehouse holds no ladder metrics of model '{missing[0]}'; "
                        "load source olmo-ladder with meta ingest.")
    return {m: runs[m] for m in model_ids}


def tagged(con: duckdb.DuckDBPyConnection, tag: str) -> list[str]:
    """The olmo-ladder models carrying ``tag`` (``final:train``, ``size=3B``, ...), smallest
    first.

    Raises
    ------
    MetaError
        When none does (the source is not loaded).
    """
    ids = [r[0] for r in con.execute(_TAGGED, [tag]).fetchall()]
    if not ids:
        raise MetaError(f"No olmo-ladder model is tagged '{tag}'; load source olmo-ladder "
                        "with meta ingest.")
    return ids
