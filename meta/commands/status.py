"""`meta status`: what the warehouse holds, per source."""

from __future__ import annotations

from pathlib import Path

import click
import polars as pl

from meta.options import emit, emit_json, open_warehouse, warehouse_option


@click.command("status")
@warehouse_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--families", "show_families", is_flag=True, help="Also list every family.")
@click.pass_context
def command(ctx: click.Context, warehouse_path: Path, as_json: bool, show_families: bool) -> None:
    """Show row counts per source (and family), laws by study, estimator and status, and the
    applied schema migrations.

    \b
    Example:
        meta status
        meta status --families
        meta status --json
    """
    from warehouse.status import summary

    con = open_warehouse(ctx, warehouse_path, read_only=True)
    s = summary(con)
    if as_json:
        emit_json(
            {
                "warehouse": str(warehouse_path),
                "migrations": s["migrations"],
                "totals": s["totals"],
                "sources": s["sources"].to_dicts(),
                "families": s["families"].to_dicts(),
                "laws": s["laws"].to_dicts(),
            }
        )
        return
    click.echo(f"{warehouse_path}: migrations {', '.join(s['migrations'])}")
    emit(s["sources"], "table")
    click.echo()
    emit(pl.DataFrame([s["totals"]]), "table")
    if s["laws"].height:
        click.echo("\nlaws (unidentified: fitted, but their data cannot identify them)")
        emit(s["laws"], "table")
    if show_families:
        click.echo()
        emit(s["families"], "table")
