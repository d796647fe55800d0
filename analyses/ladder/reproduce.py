"""The paper's published tables against the study's numbers, cell by cell.

Which published cell is which computed number (``methods/ladder.md`` Sec. 5 and quirks 1, 2
and 6): every step1/step2/chained table is the 13B-5T target; ``Rel Error`` is signed except
in the chained tables; ``chained_flops_main``'s ``Rel Error`` is the 7B-4T target's;
``variance.csv``'s three ``7B ...`` columns are the 7B-4T step-1, step-2 and chained errors,
its four SD columns the raw last 10 rows of ``1B-10xC`` (:func:`variance`).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from analyses.ladder.data import Run
from analyses.ladder.tasks import VARIANCE_TASKS, Task

RELATIVE = ("Rel Error", "7B Loss Rel Error", "7B Accuracy Rel Error", "7B Stacked Rel Error")
LAST_ROWS = 10  # variance.csv: the raw last 10 rows of 1B-10xC


def variance(run: Run, tasks: tuple[Task, ...] = VARIANCE_TASKS) -> pl.DataFrame:
    """Population SD (ddof 0) and CV of task loss and accuracy over the last 10 raw rows.

    Returns
    -------
    pl.DataFrame
        ``task`` (the display name), ``Loss SD``, ``Loss Rel SD (CV)``, ``Accuracy SD``,
        ``Accuracy Rel SD (CV)``.
    """
    rows = []
    for task in tasks:
        loss = run.series(task, "bpb")[-LAST_ROWS:]
        acc = run.series(task, "acc")[-LAST_ROWS:]
        rows.append({"task": task.label, "Loss SD": float(np.std(loss)),
                     "Loss Rel SD (CV)": float(np.std(loss) / np.mean(loss)),
                     "Accuracy SD": float(np.std(acc)),
                     "Accuracy Rel SD (CV)": float(np.std(acc) / np.mean(acc))})
    return pl.DataFrame(rows)


def computed_cells(results: pl.DataFrame, spread: pl.DataFrame, *, large: str, small: str
                   ) -> pl.DataFrame:
    """The study's value of every published cell: ``result, task, quantity, computed``.

    Parameters
    ----------
    results : pl.DataFrame
        :func:`analyses.ladder.study.run_study`'s results (both targets).
    spread : pl.DataFrame
        :func:`variance` of ``1B-10xC``.
    large, small : str
        The model ids of the 13B-5T and 7B-4T targets.
    """
    chained = pl.col("result").str.starts_with("chained")
    rel = pl.when(chained).then(pl.col("rel_error").abs()).otherwise("rel_error")
    main = results.filter(pl.col("target") == large).select(
        "result", "task", Actual="actual", Pred="predicted", **{"Rel Error": rel},
        **{"Fit Error": "fit_error"},
    )
    flops_7b = results.filter(pl.col("target") == small, pl.col("result") == "chained_flops_main")
    main = main.join(flops_7b.select("result", "task", small_rel=pl.col("rel_error").abs()),
                     on=["result", "task"], how="left").with_columns(
        pl.coalesce("small_rel", "Rel Error").alias("Rel Error")).drop("small_rel")
    cells = main.unpivot(index=["result", "task"], variable_name="quantity",
                         value_name="computed").drop_nulls("computed")
    labels = {t.key: t.label for t in VARIANCE_TASKS}
    seven = results.filter(pl.col("target") == small).with_columns(
        task=pl.col("task").replace_strict(labels, default=None))
    columns = {"step1_main": "7B Loss Rel Error", "step2_main": "7B Accuracy Rel Error",
               "chained_main": "7B Stacked Rel Error"}
    stacked = seven.filter(pl.col("result").is_in(list(columns))).select(
        result=pl.lit("variance"), task="task",
        quantity=pl.col("result").replace_strict(columns),
        computed=pl.when(pl.col("result") == "chained_main").then(pl.col("rel_error").abs())
        .otherwise("rel_error"),
    )
    sd = spread.unpivot(index="task", variable_name="quantity", value_name="computed"
                        ).select(pl.lit("variance").alias("result"), "task", "quantity",
                                 "computed")
    return pl.concat([cells, stacked, sd])


def compare(published: pl.DataFrame, computed: pl.DataFrame) -> pl.DataFrame:
    """Published against computed, per cell: ``result, task, quantity, published, computed,
    abs_diff, rel_diff, tolerance`` (1e-3 absolute for relative errors, 1e-3 relative for
    every other number) and ``within``. A published cell with no computed value is kept
    (computed null, within false)."""
    out = published.select("result", "task", "quantity", pl.col("value").alias("published"))
    out = out.join(computed, on=["result", "task", "quantity"], how="left")
    is_rel = pl.col("quantity").is_in(list(RELATIVE))
    diff = (pl.col("computed") - pl.col("published")).abs()
    return out.with_columns(
        abs_diff=diff, rel_diff=diff / pl.col("published").abs(),
        tolerance=pl.when(is_rel).then(pl.lit("1e-3 absolute"))
        .otherwise(pl.lit("1e-3 relative")),
    ).with_columns(
        within=pl.when(is_rel).then(pl.col("abs_diff") <= 1e-3)
        .otherwise(pl.col("rel_diff") <= 1e-3).fill_null(False)
    ).sort("result", "task", "quantity")


def summary(comparison: pl.DataFrame) -> pl.DataFrame:
    """Per published table: ``result, cells, max_rel_diff`` (of its values: actuals,
    predictions, fit errors, SDs), ``max_abs_diff_rel_error`` (of its relative errors) and
    ``within`` (every cell within its tolerance)."""
    is_rel = pl.col("quantity").is_in(list(RELATIVE))
    return comparison.group_by("result").agg(
        cells=pl.len(),
        max_rel_diff=pl.col("rel_diff").filter(~is_rel).max(),
        max_abs_diff_rel_error=pl.col("abs_diff").filter(is_rel).max(),
        within=pl.col("within").all(),
    ).sort("result")
