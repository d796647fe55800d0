"""The task-scaling report: the ladder paper reproduced, its predictions of the 7B and 13B
targets, its variants, the two steps per task as figures, and which tasks the same method
predicts in other families (:mod:`analyses.tasks.report`).

:func:`write_report` runs :func:`analyses.ladder.run.paper_study` (or takes one) and writes
``tasks.md``, ``tasks.html`` and ``figures/*.png``. Every number shown is computed here from
the warehouse; the published ones come from its ``published`` table.

References
----------
Bhagia et al. 2024, "Establishing Task Scaling Laws via Compute-Efficient Model Ladders"
(arXiv:2412.04403).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import duckdb
import polars as pl

from analyses.document import Document
from analyses.ladder.choices import PAPER, RUNG_TARGETS, ChoiceStudy, choice_study
from analyses.ladder.figures import step1_figure, step2_figure
from analyses.ladder.reproduce import summary
from analyses.ladder.run import LadderStudy, paper_study
from analyses.ladder.tasks import TASKS
from warehouse.errors import MetaError

FIGURES = "figures"
MAIN = [t.key for t in TASKS]
LABELS = {t.key: t.label for t in TASKS}
# variant -> what the report calls it
VARIANTS = {
    "chained_main": "chained: (N, D) -> task bpb -> accuracy (the paper's method)",
    "chained_flops_main": "chained, FLOPs form: C -> task bpb -> accuracy",
    "step2_main": "step 2 alone, from the target's observed task bpb",
    "step2_c4_main": "step 2 alone, from the target's observed C4 loss",
    "step2_taskce_main": "step 2 alone, from the observed TaskCE (last row, log-sigmoid)",
    "step1_acc_main": "single step: power law fitted to accuracy",
}


def _name(target: str) -> str:
    return target.split("/")[-1]


def chained_table(results: pl.DataFrame, target: str) -> pl.DataFrame:
    """Per task, for one target: accuracy, step-1/step-2 signed errors, the chained
    prediction, its unsigned relative error and its error in accuracy points."""
    r = results.filter(pl.col("target") == target, pl.col("task").is_in(MAIN))
    wide = r.pivot(on="result", index="task", values=["predicted", "rel_error", "actual",
                                                      "abs_error"])
    return wide.select(
        task=pl.col("task").replace_strict(LABELS),
        **{"task bpb": "actual_step1_main", "step 1 rel. error": "rel_error_step1_main",
           "accuracy": "actual_chained_main", "step 2 rel. error": "rel_error_step2_main",
           "chained prediction": "predicted_chained_main",
           "chained |rel. error|": pl.col("rel_error_chained_main").abs(),
           "chained error (points)": 100 * pl.col("abs_error_chained_main")},
    )


def variant_table(results: pl.DataFrame, targets: list[str]) -> pl.DataFrame:
    """Mean absolute error in accuracy points over the eight tasks, per variant and target."""
    r = results.filter(pl.col("task").is_in(MAIN), pl.col("result").is_in(list(VARIANTS)))
    means = r.group_by("result", "target").agg(points=100 * pl.col("abs_error").mean())
    wide = means.pivot(on="target", index="result", values="points")
    order = pl.col("result").replace_strict({v: i for i, v in enumerate(VARIANTS)})
    return wide.sort(order).select(
        variant=pl.col("result").replace_strict(VARIANTS),
        **{f"{_name(t)} (points)": t for t in targets},
    )


def reproduction_table(comparison: pl.DataFrame) -> pl.DataFrame:
    """Per published table: cells, the largest differences, whether all are within."""
    return summary(comparison).select(
        table=pl.format("figures/{}.csv", "result"), cells="cells",
        **{"max rel. diff of values": "max_rel_diff",
           "max abs. diff of rel. errors": "max_abs_diff_rel_error",
           "all within tolerance": "within"},
    )


def choices_section(doc: Document, choices: ChoiceStudy) -> None:
    """The method choices: scored on the internal rung, reported on the targets."""
    doc.heading("Improving on the paper's choices")
    doc.paragraph(
        "Three choices the paper fixed: step 1's optimizer (one L-BFGS-B start, or `meta`'s "
        "global-grid Huber fit from Hoffmann's 4,500 starts), the 1xC run of each size (the "
        "plain file, evaluated half as often; the independent rerun; or both) and whether "
        "the 0.5xC runs are added. Each combination is scored on an **internal rung**: fit "
        f"on 190M-1.3B, predict {' and '.join(RUNG_TARGETS)} (mean absolute chained error "
        "in points over the eight tasks). The lowest rung error is the choice (ties: the "
        "fewest changes from the paper). Only then is every combination reported on the "
        "targets, fitted on the paper's four sizes and on all five (3B added).")
    c = choices.chosen
    rung = choices.rung
    paper_rung = rung.filter(pl.col("optimizer") == PAPER.optimizer,
                             pl.col("one_x") == PAPER.one_x, pl.col("half") == PAPER.half)
    t = choices.targets
    cols = [col for col in t.columns if col.endswith(" points") and col != "rung_points"]
    pairs = t.group_by("one_x", "half", "sizes").agg(
        [(pl.col(col).max() - pl.col(col).min()).alias(col) for col in cols])
    differ = pairs.filter(pl.max_horizontal(cols) > 1e-6)
    doc.bullets([
        f"Chosen on the rung: **{c.label}**, {rung['rung_points'][0]:.2f} points against "
        f"{paper_rung['rung_points'][0]:.2f} for the paper's choices.",
        f"The grid fit and the single start give the same predictions in "
        f"{pairs.height - differ.height} of {pairs.height} settings (the single start finds "
        "the global optimum); where they differ ("
        + ("; ".join(f"{r['one_x']} 1xC{', +0.5xC' if r['half'] else ''}, {r['sizes']} sizes"
                     for r in differ.iter_rows(named=True)) or "none")
        + ") the grid's errors are the lower ones."
        if _grid_never_worse(t, cols) else
        "The grid fit's errors are not always the lower ones where it differs from the single "
        "start.",
    ] + [
        f"On the targets with {n} sizes: chosen {_points(choices.targets, c, n)}; the "
        f"paper's choices {_points(choices.targets, PAPER, n)}."
        for n in (4, 5)
    ])
    doc.table(t.rename({"one_x": "1xC", "half": "+0.5xC", "rung_points": "rung points"}))


def _grid_never_worse(table: pl.DataFrame, cols: list[str]) -> bool:
    """Whether the grid fit's target errors are at most the single start's in every setting."""
    key = ["one_x", "half", "sizes"]
    grid = table.filter(pl.col("optimizer") == "grid").select(*key, *cols)
    single = table.filter(pl.col("optimizer") == "single-start").select(*key, *cols)
    both = grid.join(single, on=key, suffix="_single")
    return all((both[c] <= both[f"{c}_single"] + 1e-9).all() for c in cols)


def _points(table: pl.DataFrame, choice, sizes: int) -> str:
    row = table.filter(pl.col("optimizer") == choice.optimizer,
                       pl.col("one_x") == choice.one_x, pl.col("half") == choice.half,
                       pl.col("sizes") == sizes).row(0, named=True)
    return ", ".join(f"{k.removesuffix(' points')} {v:.2f}" for k, v in row.items()
                     if k.endswith(" points") and k != "rung_points")


def write_report(con: duckdb.DuckDBPyConnection, out_dir: Path | str, *,
                 study: LadderStudy | None = None, choices: bool = True,
                 more: Sequence[Callable[[Document, duckdb.DuckDBPyConnection], None]] = ()
                 ) -> list[Path]:
    """Write ``tasks.md``, ``tasks.html`` and the figures into ``out_dir``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A warehouse holding source ``olmo-ladder``.
    out_dir : Path or str
    study : LadderStudy, optional
        A study already run (skips fitting).
    choices : bool, default=True
        Add the method-choice comparison (:func:`choice_study`; about a minute on 2 cores).
    more : sequence of callables, optional
        Sections that other studies add (``(doc, con) -> None``, e.g. the predictability of
        tasks across families, :func:`analyses.tasks.report.predictability_section`).

    Returns
    -------
    list of Path
        The Markdown, the HTML, then every PNG.
    """
    study = study or paper_study(con)
    out = Path(out_dir)
    try:
        (out / FIGURES).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MetaError(f"Cannot write the report into {out}: {e.strerror}.") from None
    targets = [t.model_id for t in study.targets]
    results = study.results
    doc = Document("Task scaling laws from a model ladder (OLMo)")
    doc.paragraph(
        "Bhagia et al. (2024) predict the downstream accuracy of OLMo 2 7B (4T tokens, "
        "annealed) and 13B (5T tokens) from a ladder of small runs, in two steps: a power law "
        "in (N, D) to the task loss (bits per byte of the correct answer), then a sigmoid "
        "from task loss to accuracy. This report reruns their protocol on source "
        "`olmo-ladder` exactly as `methods/ladder.md` describes it, quirks included: "
        f"{len(study.train)} ladder runs fitted (190M to 1.3B at 1, 2, 5 and 10x Chinchilla "
        "tokens, the plain 1xC files), one L-BFGS-B start for step 1 (log-Huber, "
        "delta = 1e-3), one least-squares fit for step 2 on every checkpoint after the first "
        "10% of each run, smoothed by a trailing mean of 5, plus the ideal point (0, 1). "
        "The targets are never fitted: they enter only as the (N, D) or observed loss that a "
        "law is evaluated at."
    )
    doc.heading("The published tables, reproduced")
    doc.paragraph(
        "Every cell of the paper's `figures/*.csv` (loaded as rows of the warehouse's "
        "`published` table) against the number computed here. Tolerance: 1e-3 relative for "
        "values (actuals, predictions, fit errors, SDs) and 1e-3 absolute for relative "
        "errors. The step1/step2/chained tables are the 13B target; `chained_flops_main`'s "
        "`Rel Error` and `variance.csv`'s `7B ...` columns the 7B target."
    )
    doc.table(reproduction_table(study.comparison))
    loose = pl.col("result").is_in(["step1_acc_main", "step2_taskce_main"])
    worst = summary(study.comparison).group_by(loose.alias("loose")).agg(
        pl.max_horizontal("max_rel_diff", "max_abs_diff_rel_error").max())
    worst = dict(worst.iter_rows())
    doc.paragraph(
        "`step1_acc_main` is a fit that fails (a log of negative predictions stops L-BFGS-B "
        "near its start) and `step2_taskce_main` one whose optimizer stops at its tolerance: "
        f"they match to {worst.get(True, float('nan')):.1e}, every other table to "
        f"{worst.get(False, float('nan')):.1e} (relative for values, absolute for relative "
        "errors).", note=True)
    doc.heading("Chained predictions of the two targets")
    for target in targets:
        table = chained_table(results, target)
        mean = table["chained error (points)"].mean()
        doc.heading(f"{_name(target)}: mean absolute chained error {mean:.2f} points", 3)
        doc.table(table, are=("step 1 rel. error", "step 2 rel. error",
                              "chained |rel. error|"))
    doc.heading("Variants")
    doc.paragraph("Mean absolute error in accuracy points over the eight tasks.")
    doc.table(variant_table(results, targets))
    doc.heading("The two steps per task")
    paths = [out / FIGURES / "step1.png", out / FIGURES / "step2.png"]
    tasks = list(TASKS)
    step1_figure(paths[0], study.laws, study.train, study.targets, tasks)
    step2_figure(paths[1], study.laws, study.train, study.targets, tasks)
    doc.figure(f"{FIGURES}/step1.png", "Step 1: task loss (mean of each run's last 5 "
               "evaluations) against training FLOPs, the law along each size's runs; stars: "
               "the targets' actual task loss, circles: the law's prediction.")
    doc.figure(f"{FIGURES}/step2.png", "Step 2: accuracy against task loss (smoothed "
               "checkpoints of the 16 runs), the fitted sigmoid; stars: the targets' observed "
               "(loss, accuracy), circles: the chained prediction.")
    if choices:
        choices_section(doc, choice_study(con))
    for section in more:
        section(doc, con)
    doc.heading("In the warehouse")
    doc.paragraph(
        f"`meta tasks fit` stores the {len(study.laws)} laws (study `ladder`, family "
        "`olmo-ladder`) with their predictions of both targets. Relative errors of laws of "
        "accuracies are in the view `task_are` (with the error in points), those of laws of "
        "losses in `are`; the two never mix. Example: `SELECT * FROM task_are WHERE study = "
        "'ladder' ORDER BY abs_points`."
    )
    return [*doc.write(out, "tasks"), *paths]
