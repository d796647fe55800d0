"""Improving on the paper's choices, measured: chosen on an internal rung, reported on the
targets.

Three choices the paper fixed (``methods/ladder.md`` Sec. 2 and quirk 3):

- ``optimizer``: step 1's single L-BFGS-B start (``single-start``, the paper's) or ``meta``'s
  global-grid fit (``grid``: :class:`analyses.laws.HuberLBFGS` from Hoffmann's 4,500 starts,
  the same log-Huber objective and Chinchilla form);
- ``one_x``: the 1xC run used per size: the ``plain`` file (the paper's, evaluated half as
  often), the independent ``rerun``, or ``both`` as separate runs;
- ``half``: whether the 0.5xC runs are added.

Every combination is scored on the **internal rung**: fit on the ladder sizes below 3B
(190M-1.3B), predict the two most-trained 3B runs (5xC and 10xC, the nearest analogues of the
over-trained targets), the mean absolute chained error in accuracy points over the eight
tasks. The combination with the lowest rung error is the choice; among combinations within
1e-6 points of it (the grid fit often finds the single start's optimum), the one that changes
fewest of the paper's choices. Then every combination is
reported once on the 7B-4T and 13B-5T targets, fitted on the paper's four sizes and on all five
(the 3B added); the targets never choose anything.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analyses.executor import one_thread
from analyses.ladder import step1
from analyses.ladder.data import Run, load_runs, tagged
from analyses.ladder.points import last_mean
from analyses.ladder.study import STEP1, STEP2, fit_step1, fit_step2, step1_inputs
from analyses.ladder.tasks import TASKS, Task
from analyses.laws import HuberLBFGS, LawBatch
from warehouse.sql import query

RUNG_TARGETS = ("3B-5xC", "3B-10xC")
PAPER_SIZES = ("190M", "370M", "760M", "1B")
ALL_SIZES = (*PAPER_SIZES, "3B")
GRID = "hoffmann"


@dataclass(frozen=True)
class Choice:
    """One combination of the three choices (see the module docstring)."""

    optimizer: str = "single-start"  # single-start | grid
    one_x: str = "plain"  # plain | rerun | both
    half: bool = False  # add the 0.5xC runs

    @property
    def label(self) -> str:
        """A short name: 'single-start, plain 1xC'."""
        return f"{self.optimizer}, {self.one_x} 1xC" + (", +0.5xC" if self.half else "")


PAPER = Choice()
CHOICES: tuple[Choice, ...] = tuple(
    Choice(o, x, h) for o, x, h in itertools.product(("single-start", "grid"),
                                                     ("plain", "rerun", "both"),
                                                     (False, True))
)

_CATALOG = """
SELECT model_id,
       list_filter(tags, lambda t: t LIKE 'size=%')[1][6:] AS size,
       list_filter(tags, lambda t: t LIKE 'multiplier=%')[1][12:] AS multiplier,
       list_contains(tags, 'rerun') AS rerun
FROM models WHERE family = 'olmo-ladder' ORDER BY num_params, model_id
"""


def catalog(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every ladder run's ``model_id, size, multiplier, rerun`` (from its tags)."""
    return query(con, _CATALOG)


def training_runs(cat: pl.DataFrame, sizes: Sequence[str], choice: Choice) -> list[str]:
    """The runs a choice fits at ``sizes``: 1xC per ``one_x``, 2, 5 and 10xC, 0.5xC if
    ``half``."""
    keep = pl.col("multiplier").is_in(["2", "5", "10"])
    if choice.half:
        keep |= pl.col("multiplier") == "0.5"
    one = pl.col("multiplier") == "1"
    keep |= one & {"plain": ~pl.col("rerun"), "rerun": pl.col("rerun"),
                   "both": pl.lit(True)}[choice.one_x]
    return cat.filter(pl.col("size").is_in(list(sizes)) & keep)["model_id"].to_list()


def _grid_step1(problems: list[tuple[list[Run], Task]]) -> list[np.ndarray]:
    """Step-1 task-loss laws of many (runs, task) problems, fitted together by
    :class:`HuberLBFGS`; natural parameters (E, A, B, alpha, beta) per problem."""
    spec = STEP1["step1_main"]
    xs = [[step1_inputs(r, spec.form) for r in runs] for runs, _ in problems]
    ys = [[last_mean(r.series(task, spec.quantity), spec.window) for r in runs]
          for runs, task in problems]
    est = HuberLBFGS(grid=GRID, delta=step1.DELTA).fit(LawBatch.from_ragged(xs, ys))
    return list(est.params_)


def _chinchilla(params: np.ndarray, n: float, d: float) -> float:
    e, a, b, alpha, beta = params
    return float(e + a / n**alpha + b / d**beta)


def chained_errors(train: list[Run], targets: list[Run], tasks: Sequence[Task],
                   optimizers: Sequence[str]) -> pl.DataFrame:
    """The chained prediction of each target and task under each step-1 optimizer, step 2 as
    the paper's ``step2_main``: ``optimizer, task, target, predicted, actual, abs_points``."""
    spec2 = STEP2["step2_main"]
    fits2 = {t.key: fit_step2(train, t, spec2) for t in tasks}
    losses: dict[tuple[str, str], list[float]] = {}
    if "single-start" in optimizers:
        for task in tasks:
            fit = fit_step1(train, task, STEP1["step1_main"])
            losses[("single-start", task.key)] = [
                float(fit.predict(step1_inputs(t, fit.form)[None])[0]) for t in targets]
    if "grid" in optimizers:
        for task, params in zip(tasks, _grid_step1([(train, t) for t in tasks]), strict=True):
            losses[("grid", task.key)] = [_chinchilla(params, t.num_params, t.tokens[-1])
                                          for t in targets]
    rows = []
    for (optimizer, key), values in losses.items():
        task = next(t for t in tasks if t.key == key)
        for target, loss in zip(targets, values, strict=True):
            pred = float(fits2[key].predict(np.array([loss]))[0])
            actual = last_mean(target.series(task, "acc"), spec2.window)
            rows.append({"optimizer": optimizer, "task": key, "target": target.model_id,
                         "predicted": pred, "actual": actual,
                         "abs_points": 100 * abs(pred - actual)})
    return pl.DataFrame(rows)


def score(con: duckdb.DuckDBPyConnection, runs: dict[str, Run], sizes: Sequence[str],
          targets: list[Run], tasks: Sequence[Task] = TASKS) -> pl.DataFrame:
    """Every choice's chained errors at ``sizes`` on ``targets``: the rows of
    :func:`chained_errors` with ``one_x``, ``half`` and ``n_runs``."""
    cat = catalog(con)
    parts = []
    for one_x, half in itertools.product(("plain", "rerun", "both"), (False, True)):
        ids = training_runs(cat, sizes, Choice(one_x=one_x, half=half))
        errors = chained_errors([runs[i] for i in ids], targets, tasks,
                                ("single-start", "grid"))
        parts.append(errors.with_columns(one_x=pl.lit(one_x), half=pl.lit(half),
                                         n_runs=pl.lit(len(ids))))
    return pl.concat(parts)


@dataclass(frozen=True)
class ChoiceStudy:
    """The choices scored on the rung and reported on the targets.

    Attributes
    ----------
    rung : pl.DataFrame
        Per choice: ``optimizer, one_x, half, n_runs, rung_points`` (mean absolute chained
        error over the eight tasks and the 3B targets), best first.
    targets : pl.DataFrame
        Per choice and size set (``sizes``: 4 or 5): the mean absolute chained error of each
        target over the eight tasks (``<target> points``).
    chosen : Choice
        The choice with the lowest rung error.
    """

    rung: pl.DataFrame
    targets: pl.DataFrame
    chosen: Choice


def _mean_by_choice(df: pl.DataFrame, by: Sequence[str]) -> pl.DataFrame:
    return df.group_by("optimizer", "one_x", "half", "n_runs", *by).agg(
        points=pl.col("abs_points").mean())


def choice_study(con: duckdb.DuckDBPyConnection, tasks: Sequence[Task] = TASKS
                 ) -> ChoiceStudy:
    """Score every choice on the internal rung, choose, and report each on the targets."""
    ladder = load_runs(con, catalog(con)["model_id"].to_list(), tuple(tasks))
    external = list(load_runs(con, tagged(con, "final:eval"), tuple(tasks)).values())
    rung_targets = [ladder[f"olmo-ladder/{name}"] for name in RUNG_TARGETS]
    with one_thread():
        rung = score(con, ladder, PAPER_SIZES, rung_targets, tasks)
        on_targets = [score(con, ladder, sizes, external, tasks).with_columns(
            sizes=pl.lit(len(sizes))) for sizes in (PAPER_SIZES, ALL_SIZES)]
    rung = _mean_by_choice(rung, ()).rename({"points": "rung_points"})
    changes = ((pl.col("optimizer") != PAPER.optimizer).cast(pl.Int32)
               + (pl.col("one_x") != PAPER.one_x).cast(pl.Int32)
               + (pl.col("half") != PAPER.half).cast(pl.Int32))
    rung = rung.with_columns(changes=changes).sort(
        pl.col("rung_points").round(6), "changes", "optimizer", "one_x", "half")
    best = rung.row(0, named=True)
    chosen = Choice(best["optimizer"], best["one_x"], best["half"])
    per_target = _mean_by_choice(pl.concat(on_targets), ("sizes", "target"))
    wide = per_target.with_columns(target=pl.col("target").str.split("/").list.last()
                                   + " points").pivot(
        on="target", index=["optimizer", "one_x", "half", "sizes"], values="points")
    names = [f"{t.model_id.split('/')[-1]} points" for t in external]
    wide = wide.join(rung.select("optimizer", "one_x", "half", "rung_points", "changes"),
                     on=["optimizer", "one_x", "half"]).sort(
        "sizes", pl.col("rung_points").round(6), "changes", "optimizer", "one_x", "half")
    wide = wide.select("optimizer", "one_x", "half", "sizes", "rung_points", *names)
    return ChoiceStudy(rung, wide, chosen)
