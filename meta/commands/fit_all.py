"""`meta fit-all`: the main job — ingest what is missing, fit every study, write the report."""

from __future__ import annotations

import time
from pathlib import Path

import click

from meta.options import open_warehouse, warehouse_option
from meta.params import OutputPath, RegistryChoice


def _progress(start: float):
    """A progress line on stderr: laws done of total, elapsed, ETA."""
    last = [0.0]

    def show(done: int, total: int, what: str) -> None:
        now = time.perf_counter()
        if done < total and now - last[0] < 2.0:
            return
        last[0] = now
        elapsed = now - start
        eta = elapsed / done * (total - done) if done else float("nan")
        click.echo(
            f"  laws {done:,}/{total:,} ({100 * done / total:.0f}%) {what}, "
            f"{elapsed:.0f} s elapsed, ETA {eta:.0f} s",
            err=True,
        )

    return show


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
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (default: the number of cores).",
)
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
@click.option("--no-report", is_flag=True, help="Fit only; write no report.")
@click.option("--verbose", "-v", is_flag=True,
              help="Name the families skipped (and why) and the points left out.")
@warehouse_option
@click.pass_context
def command(
    ctx, studies, estimators, families, jobs, data_root, report_dir, runs, convention_choice,
    no_report, verbose, warehouse_path,
) -> None:
    """Fit every Hitchhiker study into the warehouse (resuming), then write the report.

    With a data root (--data-root or $META_DATA_ROOT), sources missing from the warehouse
    are ingested first. Laws already fitted are kept, not refitted. Where source olmo-ladder
    is loaded and no --study or --estimator narrows the run, the ladder study is fitted too
    (as meta tasks fit).

    \b
    Example:
        meta fit-all --data-root ../shared/data
        meta fit-all --study num-models --estimator huber-lbfgs --family pythia
    """
    import os

    from analyses.hitchhiker.conventions import CHOICES
    from analyses.hitchhiker.run import fit_all
    from analyses.hitchhiker.studies import STUDIES
    from ingest.run import ingest

    con = open_warehouse(ctx, warehouse_path, read_only=False)
    if data_root is not None:
        ingest(con, [], data_root, log=lambda m: click.echo(m, err=True))
    start = time.perf_counter()
    result = fit_all(
        con,
        studies=list(studies) or list(STUDIES),
        estimators=list(estimators) or None,
        families=list(families) or None,
        jobs=jobs or os.cpu_count() or 1,
        runs=runs,
        conventions=CHOICES[convention_choice],
        progress=_progress(start),
    )
    click.echo(
        f"{result.fitted:,} laws fitted, {result.resumed:,} already there "
        f"({result.rejudged:,} with a new status), {result.stale:,} stale removed, "
        f"{len(result.skipped)} family studies skipped ({result.seconds:.0f} s)"
        + ("." if verbose else "; --verbose names them."),
        err=True,
    )
    if verbose:
        for line in result.skipped:
            click.echo(f"  skipped {line}", err=True)
        for family, n in result.dropped.items():
            click.echo(f"  {family}: {n} points left out (a non-positive size or tokens, or "
                       "a non-finite perf)", err=True)
    if not (studies or estimators) and (not families or "olmo-ladder" in families):
        from analyses.ladder.run import fit_ladder, ladder_loaded

        if ladder_loaded(con):
            _, written, deleted = fit_ladder(con)
            click.echo(f"ladder: {written} laws fitted, {deleted} stale removed "
                       "(meta report tasks writes its report)", err=True)
    if not no_report:
        from analyses.hitchhiker.report import write_report

        paths = write_report(con, report_dir)
        click.echo(f"report: {paths[1]} and {paths[0]}", err=True)
