"""`meta complexity`: data-dependent scaling laws of the PCFG runs (Pandey 2024)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from meta.options import emit_json, open_warehouse, warehouse_option
from meta.params import RegistryChoice

# Start grids of huber-lbfgs, for --grid.
GRID = RegistryChoice("grid", "analyses.laws:GRIDS")


def epsilon_option(f: Callable) -> Callable:
    """``--epsilon``: Eq. 6's weight of the data-dependent law, or 'fit' to choose it."""
    return click.option(
        "--epsilon", default="fit", show_default=True,
        help="Weight of the data-dependent law in the epsilon-adjusted Chinchilla law (Eq. 6): "
             "a number in [0, 1], or 'fit' for the value that best predicts each held-out "
             "corpus (leave-one-corpus-out).")(f)


@click.group("complexity")
def command() -> None:
    """Fit per-corpus laws on the PCFG runs and relate them to gzip compressibility H.

    \b
    Example:
        meta complexity fit
        meta complexity fit --json
    """


@command.command("fit")
@click.option("--family", "families", multiple=True,
              help="A corpus family (repeatable); default every family with an H.")
@click.option("--grid", type=GRID, default="hoffmann", show_default=True,
              help="Start grid of huber-lbfgs.")
@epsilon_option
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@warehouse_option
@click.pass_context
def fit(ctx: click.Context, families: tuple[str, ...], grid: str, epsilon: str, as_json: bool,
        warehouse_path: Path) -> None:
    """Print per-corpus Chinchilla laws, their regressions on H, the frontier and Eq. 6.

    \b
    Example:
        meta complexity fit
        meta complexity fit --family gzipscale-0.12-10M --family gzipscale-0.61-10M --json
        meta complexity fit --epsilon 0.5
    """
    from analyses.complexity import complexity_fit, parse_epsilon
    from analyses.laws import get_grid

    get_grid(grid)
    eps = parse_epsilon(epsilon)
    con = open_warehouse(ctx, warehouse_path, read_only=True)
    result = complexity_fit(con, list(families) or None, grid=grid, epsilon=eps)
    if as_json:
        emit_json(result.to_dict())
    else:
        click.echo(result.report())
