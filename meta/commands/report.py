"""`meta report`: write the reports of the studies (Markdown, HTML and PNG figures)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from meta.options import open_warehouse, warehouse_option
from meta.params import OutputPath


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
