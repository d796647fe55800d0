"""The two-step prediction beside the observational one, on the same target models and
benchmarks (issue 15 item 4).

Where a family's largest model is also an ObsScaling model (Pythia-12B-deduped, OPT-66B,
BLOOM-7B1) and a benchmark is in both (ARC-Challenge, WinoGrande), each method predicts that
model's accuracy from smaller models only:

- **two-step** (study ``tasks``, stored): the family's smaller sizes, through its general
  loss; scored against the family source's own evaluation (lm-eval, 0 or 5 shots);
- **observational** (Ruan et al. 2024, :mod:`analyses.observational`): a sigmoid of the
  first principal components of the other standard benchmarks, fitted on the analysis-set
  models trained with less compute than the target (a FLOPs cutoff just below it); scored
  against ObsScaling's evaluation (the Open LLM Leaderboard's shots and metric).

The two evaluations of one benchmark differ (shots, normalisation), so each method is scored
against its own; what compares is the error in accuracy points.
"""

from __future__ import annotations

import duckdb
import polars as pl

from analyses.observational import experiment_for_target, run
from analyses.tasks.run import predictability
from warehouse.errors import MetaError
from warehouse.sql import query

# metrics.task of the two-step task -> ObsScaling's column of the same benchmark
BENCHMARKS = {"arc_challenge": "ARC-C", "winogrande": "Winograd"}

_TARGETS = """
SELECT DISTINCT p.law_id, c.model_id AS target, o.model_id AS obs_model, oc.flops AS obs_flops
FROM predictions p
JOIN checkpoints c USING (checkpoint_id)
JOIN models o ON o.source = 'obsscaling'
    AND lower(split_part(o.model_id, '/', 3)) = lower(split_part(c.model_id, '/', 2))
JOIN checkpoints oc ON oc.model_id = o.model_id
WHERE list_contains(?, p.law_id) AND list_contains(o.tags, 'obs-analysis-set')
"""


def side_by_side(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per target model and shared benchmark, both predictions and their errors.

    Returns
    -------
    pl.DataFrame
        ``target, benchmark, task`` (the two-step task), ``two_step_actual,
        two_step_predicted, two_step_points``, ``obs_metric, obs_actual, obs_predicted,
        obs_points``, ``obs_train`` (models the observational fit used); accuracies and
        errors in points.

    Raises
    ------
    MetaError
        When no stored two-step law has a target that ObsScaling also evaluates (fit them
        with ``meta tasks fit --families``; load source obsscaling).
    """
    laws = predictability(con).filter(
        pl.col("benchmark").is_in(list(BENCHMARKS)),
        pl.col("sizes") == pl.col("sizes").max().over("family"))
    targets = query(con, _TARGETS, [laws["law_id"].to_list()])
    both = laws.join(targets, on="law_id")
    if both.is_empty():
        raise MetaError("No stored two-step law predicts a model that ObsScaling evaluates; "
                        "run 'meta tasks fit --families' with sources pythia and obsscaling "
                        "loaded.")
    rows = []
    for (obs_model, flops), part in both.group_by("obs_model", "obs_flops",
                                                  maintain_order=True):
        for benchmark, metric in BENCHMARKS.items():
            ours = part.filter(pl.col("benchmark") == benchmark)
            if ours.is_empty():
                continue
            result = run(con, experiment_for_target(con, metric),
                         cutoff_flops=flops * (1 - 1e-6))
            fit = result.methods["pc"]
            theirs = fit.predictions.filter(
                pl.col("model") == obs_model.removeprefix("obsscaling/"))
            if theirs.is_empty():
                continue
            obs = theirs.row(0, named=True)
            for r in ours.iter_rows(named=True):
                rows.append({
                    "target": r["target"], "benchmark": benchmark, "task": r["task"],
                    "two_step_actual": r["accuracy"], "two_step_predicted": r["predicted"],
                    "two_step_points": r["abs_points"], "obs_metric": metric,
                    "obs_actual": 100 * obs["y"], "obs_predicted": 100 * obs["y_hat"],
                    "obs_points": 100 * abs(obs["y_hat"] - obs["y"]),
                    "obs_train": fit.n_train,
                })
    return pl.DataFrame(rows).sort("target", "benchmark", "task")
