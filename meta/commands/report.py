"""`meta report`: write the reports of the studies (Markdown, HTML and PNG figures)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from meta.options import open_warehouse, warehouse_option
from meta.params import POSITIVE, OutputPath


@click.group("report")
def command() -> None:
    """Write a study's report from the fitted laws in the warehouse.

    \b
    Example:
        meta report guidelines
        meta report guidelines --out reports/guidelines
    """


@command.command("guidelines")
@click.option(
    "--out",
    "out_dir",
    type=OutputPath(folder=True),
    default=Path("reports/guidelines"),
    show_default=True,
    help="Folder for guidelines.md, guidelines.html and figures/.",
)
@warehouse_option
@click.pass_context
def guidelines(ctx: click.Context, out_dir: Path, warehouse_path: Path) -> None:
    """Write the Hitchhiker guideline report: the paper's claims checked, and guidance.

    \b
    Example:
        meta report guidelines
        meta report guidelines --out /tmp/guidelines --warehouse warehouse.duckdb
    """
    from analyses.hitchhiker.report import write_report

    con = open_warehouse(ctx, warehouse_path, read_only=True)
    start = time.perf_counter()
    paths = write_report(con, out_dir)
    click.echo(
        f"wrote {paths[0]}, {paths[1]} and {len(paths) - 2} figures "
        f"({time.perf_counter() - start:.0f} s)",
        err=True,
    )


@command.command("runs")
@click.option("--family", required=True, help="Family whose runs to report (yours or public).")
@click.option("--params", type=POSITIVE, help="Parameters N of the run to predict.")
@click.option("--tokens", type=POSITIVE, help="Training tokens D of the run to predict.")
@click.option("--flops", type=POSITIVE, help="Predict the compute-optimal run of C = 6ND FLOPs.")
@click.option("--runs", type=click.Choice(["best", "all"]), default="best", show_default=True,
              help="Fit each hyperparameter sweep's best run, or every run.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the intervals.")
@click.option("--out", "out_dir", type=OutputPath(folder=True),
              help="Folder for runs.md, runs.html and figures/ [default: reports/runs/FAMILY].")
@warehouse_option
@click.pass_context
def runs(ctx, family, params, tokens, flops, runs, seed, out_dir, warehouse_path) -> None:
    """Write the report of a family's runs: the data, the law against every run, a prediction
    with its interval (default: 4x the largest size), similar public families, and what the
    public evidence says about the design.

    \b
    Example:
        meta report runs --family mine
        meta report runs --family mine --flops 1e22 --out reports/mine
    """
    from analyses.predict.report import runs_report, write

    con = open_warehouse(ctx, warehouse_path, read_only=True)
    report = runs_report(con, family, params=params, tokens=tokens, flops=flops, runs=runs,
                         seed=seed)
    paths = write(report, out_dir or Path("reports/runs") / family)
    click.echo(f"wrote {paths[0]}, {paths[1]} and {len(paths) - 2} figures", err=True)
