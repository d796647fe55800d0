"""`meta report complexity`: the data-dependent scaling report (Markdown, HTML, PNG figures)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from meta.commands.complexity import GRID, epsilon_option
from meta.options import open_warehouse, warehouse_option
from meta.params import OutputPath


@click.command("complexity")
@click.option("--out", "out_dir", type=OutputPath(folder=True),
              default=Path("reports/complexity"), show_default=True,
              help="Folder for complexity.md, complexity.html and figures/.")
@click.option("--grid", type=GRID, default="hoffmann", show_default=True,
              help="Start grid of huber-lbfgs.")
@epsilon_option
@warehouse_option
@click.pass_context
def command(ctx: click.Context, out_dir: Path, grid: str, epsilon: str,
            warehouse_path: Path) -> None:
    """Write the gzip/PCFG report: H per corpus, laws, regressions on H, frontier and Eq. 6.

    \b
    Example:
        meta report complexity
        meta report complexity --out /tmp/complexity --grid small --epsilon 0.5
    """
    from analyses.complexity import complexity_fit, grammar_h, parse_epsilon
    from analyses.complexity.report import write_report
    from analyses.laws import get_grid

    get_grid(grid)
    eps = parse_epsilon(epsilon)
    con = open_warehouse(ctx, warehouse_path, read_only=True)
    start = time.perf_counter()
    paths = write_report(complexity_fit(con, grid=grid, epsilon=eps), grammar_h(), out_dir)
    click.echo(f"wrote {paths[0]}, {paths[1]} and {len(paths) - 2} figures "
               f"({time.perf_counter() - start:.0f} s)", err=True)
