"""`meta similar`: the public families whose laws behave like a family's."""

from __future__ import annotations

from pathlib import Path

import click

from meta.options import emit, emit_json, open_warehouse, warehouse_option


@click.command("similar")
@click.argument("family")
@click.option("--top", type=click.IntRange(min=1), default=10, show_default=True,
              help="How many public families to list.")
@click.option("--runs", type=click.Choice(["best", "all"]), default="best", show_default=True,
              help="Fit each hyperparameter sweep's best run, or every run.")
@click.option("--calibration", "calibration_dir",
              type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder of tables from 'meta calibrate' [default: shipped].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@warehouse_option
@click.pass_context
def command(ctx, family, top, runs, calibration_dir, as_json, warehouse_path: Path) -> None:
    """Rank the public families whose laws are closest to FAMILY's (exponents alpha and beta,
    and how far the largest run is from the law's floor), and name the law whose A and alpha
    a single size would borrow.

    \b
    Example:
        meta similar mine
        meta similar mine --top 5 --json
    """
    import polars as pl

    from analyses.predict.family import similar_to

    con = open_warehouse(ctx, warehouse_path, read_only=True)
    result = similar_to(con, family, runs=runs, calibration_dir=calibration_dir)
    if as_json:
        emit_json(result.to_dict(top))
        return
    law = result.law

    def num(key: str) -> str:
        return "n/a" if law[key] is None else f"{law[key]:.3g}"

    click.echo(f"{family} ({law['loss_kind']}, {law['n_sizes']} sizes): alpha {num('alpha')}, "
               f"beta {num('beta')}, reducible share {num('reducible')}"
               + (f"; not identified: {law['unidentified']}" if law["unidentified"] else ""))
    click.echo(f"nearest public laws (distance over {result.ranked['features'][0]}, each "
               "scaled by its spread over the public families):"
               if result.ranked.height else "no public law to compare with")
    emit(result.ranked.head(top).select(
        "family", "source", "loss_kind", "n_sizes", "alpha", "beta", "reducible", "distance",
        identified=pl.col("unidentified").is_null()), "table")
    b = result.borrow
    if b is not None:
        click.echo(f"a single size would borrow A = {b['A']:.4g} and alpha = {b['alpha']:.4g} "
                   f"from {b['family']} (the nearest identified law of the same loss kind)")
    else:
        click.echo("no identified public law of the same loss kind to borrow A and alpha from")
