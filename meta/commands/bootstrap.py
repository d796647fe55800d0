"""`meta bootstrap`: intervals for the laws already fitted (resuming)."""

from __future__ import annotations

import click

from meta.options import (
    duration,
    executor_options,
    open_warehouse,
    progress_printer,
    warehouse_option,
)
from meta.params import RegistryChoice


def _estimate(work) -> None:
    """The work, on stderr, before it starts."""
    click.echo(
        f"bootstrap: {work.laws:,} laws to do ({work.done:,} already done), "
        f"{work.laws - work.too_few_runs:,} of them refitted x {work.n_resamples} resamples = "
        f"{work.refits:,} fits; {work.too_few_runs:,} have fewer than 3 runs (no interval). "
        f"Estimated from the laws' own fit times: {duration(work.core_seconds)} of one core, "
        f"about {duration(work.seconds)} on {work.workers} "
        f"worker{'s' if work.workers != 1 else ''}.",
        err=True,
    )


def run_bootstrap(con, chosen: dict, engine: dict, n_resamples: int, seed: int) -> None:
    """Bootstrap the laws of ``chosen`` (studies, estimators, families, runs) on ``engine``
    (jobs, executor, address), with the estimate, progress and a summary on stderr."""
    from analyses.hitchhiker.bootstrap import bootstrap_all

    result = bootstrap_all(con, **chosen, **engine, n_resamples=n_resamples, seed=seed,
                           estimate=_estimate, progress=progress_printer("laws"))
    click.echo(
        f"{result.bootstrapped:,} laws bootstrapped ({result.too_few_runs:,} with too few "
        f"runs, {result.no_fit:,} without a converged resample), {result.resumed:,} already "
        f"there, {result.orphans:,} intervals of removed laws deleted ({result.seconds:.0f} s). "
        "Intervals: law_intervals, law_bootstraps.",
        err=True,
    )


@click.command("bootstrap")
@click.option("--study", "studies", multiple=True,
              type=RegistryChoice("study", "analyses.hitchhiker.studies:STUDIES"),
              help="Study whose laws to bootstrap (repeatable; all by default).")
@click.option("--estimator", "estimators", multiple=True,
              type=RegistryChoice("estimator", "analyses.laws:ESTIMATORS"),
              help="Estimator (repeatable; all by default).")
@click.option("--family", "families", multiple=True, help="Family (repeatable; all by default).")
@click.option("--runs", type=click.Choice(["best", "all"]), default="best", show_default=True,
              help="The runs setting the laws were fitted with (as fit-all's).")
@click.option("-n", "--resamples", "n_resamples", type=click.IntRange(min=1), default=200,
              show_default=True, help="Resamples of each law's runs.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the resamples (with each law's id).")
@executor_options
@warehouse_option
@click.pass_context
def command(ctx, studies, estimators, families, runs, n_resamples, seed, jobs, executor,
            address, warehouse_path) -> None:
    """Bootstrap intervals of the fitted laws' parameters and ARE (resuming).

    Each law is refitted from its estimator's start grid on resamples of its training runs
    (runs drawn with replacement, all their checkpoints kept); 80, 90 and 95% intervals go
    to the table law_intervals, with the seed and resample count. Laws that already have
    intervals of the same resamples and seed are skipped.

    \b
    Example:
        meta bootstrap -n 200 --seed 0
        meta bootstrap --study num-models --family pythia -n 50 --executor ray
    """
    from analyses.hitchhiker.studies import STUDIES

    con = open_warehouse(ctx, warehouse_path, read_only=False)
    chosen = {"studies": list(studies) or list(STUDIES), "estimators": list(estimators) or None,
              "families": list(families) or None, "runs": runs}
    run_bootstrap(con, chosen, {"jobs": jobs, "executor": executor, "address": address},
                  n_resamples, seed)
