"""`meta report observational`: the observational scaling report (Markdown, HTML, PNG)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from meta.options import open_warehouse, warehouse_option
from meta.params import OutputPath, RegistryChoice


@click.command("observational")
@click.option("--out", "out_dir", type=OutputPath(folder=True),
              default=Path("reports/observational"), show_default=True,
              help="Folder for observational.md, observational.html and figures/.")
@click.option("--bootstrap", "n_bootstrap", type=click.IntRange(min=0), default=100,
              show_default=True, help="Bootstrap resamples per experiment (0: none).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the bootstrap.")
@click.option("--experiment", "experiments", multiple=True,
              type=RegistryChoice("experiment", "analyses.observational.experiments:EXPERIMENTS"),
              help="Only these experiments (repeatable; 'meta obs experiments' lists them).")
@warehouse_option
@click.pass_context
def observational(ctx: click.Context, out_dir: Path, n_bootstrap: int, seed: int,
                  experiments: tuple[str, ...], warehouse_path: Path) -> None:
    """Write the observational scaling report: capability space, predictions, checkpoints.

    \b
    Example:
        meta report observational
        meta report observational --out /tmp/obs --bootstrap 0
        meta report observational --experiment agents/agentbench --experiment agents/agentboard
    """
    from analyses.observational.report import write_report

    con = open_warehouse(ctx, warehouse_path, read_only=True)
    start = time.perf_counter()
    paths = write_report(con, out_dir, n_bootstrap=n_bootstrap, seed=seed,
                         experiments=experiments or None,
                         progress=lambda line: click.echo(f"  {line}", err=True))
    click.echo(f"wrote {paths[0]}, {paths[1]} and {len(paths) - 2} figures "
               f"({time.perf_counter() - start:.0f} s)", err=True)


command = observational
