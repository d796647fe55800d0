"""`meta fit`: one law fitted on one family, printed."""

from __future__ import annotations

from pathlib import Path

import click

from meta.options import emit_json, open_warehouse, warehouse_option
from meta.params import RegistryChoice
from warehouse.errors import MetaError


@click.command("fit")
@click.option("--family", required=True, help="Family to fit (see 'meta status --families').")
@click.option("--form", type=RegistryChoice("form", "analyses.laws:FORMS"),
              default="chinchilla", show_default=True,
              help="Functional form (forms on N, D or C fit a family's points).")
@click.option("--estimator", type=RegistryChoice("estimator", "analyses.laws:ESTIMATORS"),
              default="huber-lbfgs", show_default=True, help="Estimator.")
@click.option("--grid", type=RegistryChoice("grid", "analyses.laws:GRIDS"), default=None,
              help="Start grid of huber-lbfgs [default: hoffmann].")
@click.option("--where", default=None,
              help="One SQL condition on the perf view's columns, e.g. 'tokens > 1e10' "
                   "(no subqueries).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@warehouse_option
@click.pass_context
def command(ctx, family, form, estimator, grid, where, as_json, warehouse_path: Path) -> None:
    """Fit one law on every perf point of a family and print its parameters.

    Points with a non-positive or missing size, tokens or perf are left out (counted on
    stderr). A fit that is not finite prints its row and exits with status 1.

    \b
    Example:
        meta fit --family chinchilla --where "perf < 5"
        meta fit --family pythia --estimator curvefit-hitchhiker --where "tokens > 1e10" --json
    """
    from analyses.family_fit import fit_family
    from analyses.laws.identify import FITTED

    con = open_warehouse(ctx, warehouse_path, read_only=True)
    fit = fit_family(con, family, form=form, estimator=estimator, grid=grid, where=where)
    if fit.dropped:
        click.echo(f"{fit.dropped} points of {family} left out: a missing, non-positive or "
                   "non-finite size, tokens or perf.", err=True)
    result = fit.result
    if as_json:
        row = result.to_rows()[0]
        row["family"] = row.pop("law")
        row["dropped"] = fit.dropped
        emit_json(row)
    else:
        click.echo(result.report())
    if result.status[0] not in FITTED:
        raise MetaError(f"The fit of {family} failed: status {result.status[0]}.")
