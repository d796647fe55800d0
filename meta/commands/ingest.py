"""`meta ingest`: load upstream sources into the warehouse."""

from __future__ import annotations

from pathlib import Path

import click

from meta.commands.ingest_runs import ingest_group
from meta.options import data_root_option, open_warehouse, warehouse_option


@click.command("ingest")
@click.argument("sources", nargs=-1)
@data_root_option
@warehouse_option
@click.option("--force", is_flag=True, help="Reload even when the inputs are unchanged.")
@click.option(
    "--no-verify",
    is_flag=True,
    help="Load input files that differ from their folder's MANIFEST.tsv.",
)
@click.pass_context
def command(
    ctx: click.Context,
    sources: tuple[str, ...],
    data_root: Path,
    warehouse_path: Path,
    force: bool,
    no_verify: bool,
) -> None:
    """Load SOURCES (all when none are named) from the data root into the warehouse.

    Each source is written in one transaction; a source whose input files and loader are
    unchanged is skipped.

    \b
    Example:
        meta ingest --data-root ../shared/data
        meta ingest pythia obsscaling --force
    """
    from ingest import get_loader
    from ingest.run import ingest

    for name in sources:
        get_loader(name)
    con = open_warehouse(ctx, warehouse_path, read_only=False)
    results = ingest(
        con,
        sources,
        data_root,
        force=force,
        verify=not no_verify,
        log=lambda m: click.echo(m, err=True),
    )
    loaded = sum(r.status == "loaded" for r in results)
    click.echo(f"{loaded} source(s) loaded, {len(results) - loaded} unchanged.", err=True)


# `meta ingest runs FILE...` beside it; any other first argument is this command.
command = ingest_group(command)
