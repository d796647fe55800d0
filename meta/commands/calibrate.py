"""`meta calibrate`: recompute the table that calibrates `meta predict`'s intervals."""

from __future__ import annotations

from pathlib import Path

import click

from meta.options import emit_json, open_warehouse, warehouse_option
from meta.params import OutputPath


@click.command("calibrate")
@click.option("--out", type=OutputPath(folder=True),
              help="Folder to write calibration.csv/.json [default: the one meta ships].")
@click.option("--coverage", "check", is_flag=True,
              help="Also check the intervals: leave each public family out and predict it.")
@click.option("--boot", "n_boot", type=click.IntRange(min=1), default=100, show_default=True,
              help="Resamples of runs per family in the coverage check.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the check.")
@click.option("--json", "as_json", is_flag=True, help="Print the coverage as JSON.")
@warehouse_option
@click.pass_context
def command(ctx, out, check, n_boot, seed, as_json, warehouse_path: Path) -> None:
    """Fit the calibration laws of every public family and write the table `meta predict`
    reads: how far laws of each design (sizes, scale-up, share seen) missed their target.

    \b
    Example:
        meta calibrate --out my-calibration --coverage
    """
    from analyses.predict import calibration
    from warehouse.identity import families_digest

    con = open_warehouse(ctx, warehouse_path, read_only=True)
    table = calibration.compute(con)
    laws = calibration.public_laws(con)
    meta = calibration.save(table, laws, families_digest(con, laws["family"].to_list()), out)
    folder = meta.parent
    click.echo(f"{table.height} calibration laws of {table['family'].n_unique()} families "
               f"({table['source'].n_unique()} sources) and {laws.height} family laws: "
               f"{folder}", err=True)
    if not check:
        return
    cover = calibration.coverage(con, table, n_boot=n_boot, seed=seed)
    cover.write_csv(folder / "coverage.csv")
    summary = calibration.summarize(cover)
    calibration.record_coverage(summary, folder)
    if as_json:
        emit_json(summary)
        return
    click.echo(f"leave-one-family-out: {summary['families']} families, {summary['sources']} "
               "sources (each predicted with the calibration of the other sources)")
    if summary["no_prediction"]:
        click.echo(f"  no finite prediction (not counted): {', '.join(summary['no_prediction'])}")
    for q in (80, 95):
        click.echo(f"  nominal {q}%: covered {100 * summary[f'coverage{q}']:.1f}% "
                   f"(+/- {100 * summary[f'se{q}']:.1f}), sources weighted alike "
                   f"{100 * summary[f'coverage{q}_by_source']:.1f}%")
