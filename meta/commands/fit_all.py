"""`meta fit-all`: the main job — ingest what is missing, fit every study, write the report."""

from __future__ import annotations

from pathlib import Path

import click

from meta.commands.bootstrap import run_bootstrap
from meta.options import executor_options, open_warehouse, progress_printer, warehouse_option
from meta.params import OutputPath, RegistryChoice


@click.command("fit-all")
@click.option(
    "--study", "studies", multiple=True,
    type=RegistryChoice("study", "analyses.hitchhiker.studies:STUDIES"),
    help="Study to run (repeatable; all by default).",
)
@click.option(
    "--estimator",
    "estimators",
    multiple=True,
    type=RegistryChoice("estimator", "analyses.laws:ESTIMATORS"),
    help="Estimator to fit with (repeatable; all by default).",
)
@click.option("--family", "families", multiple=True, help="Family (repeatable; all by default).")
@click.option(
    "--data-root",
    envvar="META_DATA_ROOT",
    type=click.Path(file_okay=False, path_type=Path),
    help="Upstream data, to ingest sources missing from the warehouse.",
)
@click.option(
    "--report",
    "report_dir",
    type=OutputPath(folder=True),
    default=Path("reports/guidelines"),
    show_default=True,
    help="Where the guideline report is written.",
)
@click.option("--runs", type=click.Choice(["best", "all"]), default="best", show_default=True,
              help="Study each hyperparameter sweep's best run (lowest final loss), or every "
                   "run (a family's laws of the other setting are replaced).")
@click.option(
    "--conventions", "convention_choice", default="all", show_default=True,
    type=RegistryChoice("convention choice", "analyses.hitchhiker.conventions:CHOICES"),
    help="How the data is shaped: 'corrected' (meta's own handling), 'released' (as the "
         "released Hitchhiker code, quirks included), 'both', 'sensitivity' (corrected and "
         "each released convention alone) or 'all'; a law no convention changes is fitted "
         "once.",
)
@click.option("--bootstrap", "n_resamples", type=click.IntRange(min=1), default=None,
              metavar="N", help="Then bootstrap every fitted law with N resamples of its runs "
                                "(as meta bootstrap -n N).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the bootstrap.")
@executor_options
@click.option("--no-report", is_flag=True, help="Fit only; write no report.")
@click.option("--verbose", "-v", is_flag=True,
              help="Name the families skipped (and why) and the points left out.")
@warehouse_option
@click.pass_context
def command(
    ctx, studies, estimators, families, data_root, report_dir, runs, convention_choice,
    n_resamples, seed, jobs, executor, address, no_report, verbose, warehouse_path,
) -> None:
    """Fit every Hitchhiker study into the warehouse (resuming), then write the report.

    With a data root (--data-root or $META_DATA_ROOT), sources missing from the warehouse
    are ingested first. Laws already fitted are kept, not refitted; with --bootstrap, so
    are intervals already computed. Where source olmo-ladder is loaded and no --study or
    --estimator narrows the run, the ladder study is fitted too (as meta tasks fit).

    \b
    Example:
        meta fit-all --data-root ../shared/data
        meta fit-all --study num-models --estimator huber-lbfgs --family pythia
        meta fit-all --bootstrap 200 --executor ray --address auto
    """
    from analyses.executor import check
    from analyses.hitchhiker.conventions import CHOICES
    from analyses.hitchhiker.run import fit_all
    from analyses.hitchhiker.studies import STUDIES
    from ingest.run import ingest

    check(executor, jobs=jobs, address=address)  # before the warehouse is opened or loaded
    con = open_warehouse(ctx, warehouse_path, read_only=False)
    if data_root is not None:
        ingest(con, [], data_root, log=lambda m: click.echo(m, err=True))
    chosen = {"studies": list(studies) or list(STUDIES), "estimators": list(estimators) or None,
              "families": list(families) or None, "runs": runs}
    engine = {"jobs": jobs, "executor": executor, "address": address}
    result = fit_all(con, **chosen, **engine, conventions=CHOICES[convention_choice],
                     progress=progress_printer("laws"))
    click.echo(
        f"{result.fitted:,} laws fitted, {result.resumed:,} already there "
        f"({result.rejudged:,} with a new status), {result.stale:,} stale removed, "
        f"{len(result.skipped)} family studies skipped, {len(result.unfitted)} "
        f"famil{'y' if len(result.unfitted) == 1 else 'ies'} with a study in which no law "
        f"could be fitted ({result.seconds:.0f} s)"
        + ("." if verbose else "; --verbose names them."),
        err=True,
    )
    if verbose:
        for line in result.skipped:
            click.echo(f"  skipped {line}", err=True)
        for line in result.unfitted:
            click.echo(f"  no law fitted: {line}", err=True)
        if any("too_few_points" in line for line in result.unfitted):
            click.echo("  (too_few_points: fewer points than parameters after the study's cuts; "
                       "most studies keep only checkpoints after 10B tokens, as the paper's, "
                       "while num-models-nocut keeps them all)", err=True)
        for family, n in result.dropped.items():
            click.echo(f"  {family}: {n} points left out (a non-positive size or tokens, or "
                       "a non-finite perf)", err=True)
    if not (studies or estimators) and (not families or "olmo-ladder" in families):
        from analyses.ladder.run import fit_ladder, ladder_loaded

        if ladder_loaded(con):
            _, written, deleted = fit_ladder(con)
            click.echo(f"ladder: {written} laws fitted, {deleted} stale removed "
                       "(meta report tasks writes its report)", err=True)
    if n_resamples is not None:
        run_bootstrap(con, chosen, engine, n_resamples, seed)
    if not no_report:
        from analyses.hitchhiker.report import write_report

        paths = write_report(con, report_dir)
        click.echo(f"report: {paths[1]} and {paths[0]}", err=True)
