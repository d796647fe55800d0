"""`meta report tasks`: the task-scaling (model ladder) report (Markdown, HTML, PNG figures)."""

from __future__ import annotations

import time
from pathlib import Path

import click

from meta.options import open_warehouse, warehouse_option
from meta.params import OutputPath


@click.command("tasks")
@click.option("--out", "out_dir", type=OutputPath(folder=True), default=Path("reports/tasks"),
              show_default=True, help="Folder for tasks.md, tasks.html and figures/.")
@click.option("--skip-choices", is_flag=True,
              help="Leave out the comparison of method choices (about a minute on 2 cores).")
@warehouse_option
@click.pass_context
def command(ctx: click.Context, out_dir: Path, skip_choices: bool, warehouse_path: Path) -> None:
    """Write the task-scaling report: the ladder paper's tables reproduced, its 7B and 13B
    predictions, its variants, the two steps per task, the method choices (chosen on an
    internal 3B rung, reported on the targets) and, once meta tasks fit --families has run,
    which tasks are predictable in each family and the observational prediction beside.

    \b
    Example:
        meta report tasks
        meta report tasks --out /tmp/tasks
    """
    from analyses.ladder.report import write_report
    from analyses.tasks.report import predictability_section

    con = open_warehouse(ctx, warehouse_path, read_only=True)
    start = time.perf_counter()
    paths = write_report(con, out_dir, choices=not skip_choices,
                         more=(predictability_section,))
    click.echo(f"wrote {paths[0]}, {paths[1]} and {len(paths) - 2} figures "
               f"({time.perf_counter() - start:.0f} s)", err=True)
