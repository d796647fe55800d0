"""`meta status`: what the warehouse holds, per source."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from meta.options import emit, emit_json, open_warehouse, warehouse_option

if TYPE_CHECKING:
    import polars as pl  # annotations only: `meta --help` does not load polars


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
    import polars as pl

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
    emit(s["sources"].with_columns(pl.col("loaded_at").dt.strftime("%Y-%m-%d %H:%M:%S")),
         "table")
    click.echo()
    emit(pl.DataFrame([s["totals"]]), "table")
    if s["laws"].height:
        click.echo("\nlaws (unidentified: fitted, but their data cannot identify them)")
        emit(s["laws"], "table")
    if show_families:
        click.echo("\nfamilies (agg: in the paper's averages; ckpts: checkpoints; --json adds "
                   "perf_metric)")
        emit(_families_view(s["families"]), "table")


def _families_view(families: pl.DataFrame) -> pl.DataFrame:
    """The families table narrow enough for 100 columns: sizes abbreviated, no perf_metric."""
    import polars as pl

    def size_range(row: dict) -> str:
        low, high = _short(row["min_params"]), _short(row["max_params"])
        return low if low == high else f"{low}-{high}"

    yes = {True: "yes", False: "no", None: ""}
    return pl.DataFrame({
        "family": families["family"],
        "source": families["source"],
        "scaled": [yes[v] for v in families["scaled"]],
        "agg": [yes[v] for v in families["in_aggregate"]],
        "models": families["models"],
        "ckpts": families["checkpoints"],
        "params": [size_range(r) for r in families.iter_rows(named=True)],
    })


def _short(n: float | None) -> str:
    """A parameter count in 3 significant digits: 57.3M, 16.2B, 280M."""
    if n is None:
        return ""
    for scale, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(n) >= scale:
            return f"{n / scale:.3g}{suffix}"
    return f"{n:.3g}"
