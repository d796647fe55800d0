"""`meta obs`: observational scaling laws (Ruan, Maddison & Hashimoto 2024) on the warehouse."""

from __future__ import annotations

from pathlib import Path

import click

from meta.options import (
    emit,
    emit_json,
    format_options,
    open_warehouse,
    resolve_format,
    warehouse_option,
)
from meta.params import FiniteFloat, RegistryChoice

EXPERIMENT = RegistryChoice("experiment", "analyses.observational.experiments:EXPERIMENTS")


def _y_range(ctx: click.Context, param: click.Parameter, value):
    """``--y-range LO HI`` with LO below HI."""
    if value is not None and not value[0] < value[1]:
        raise click.BadParameter(f"LO must be below HI; got {value[0]:g} {value[1]:g}.",
                                 ctx, param)
    return value


@click.group("obs")
def command() -> None:
    """Observational scaling laws: benchmark PCA, sigmoid predictions, checkpoint placement.

    \b
    Example:
        meta obs pca
        meta obs fit --target word_unscrambling_2_exact_match
        meta obs experiments
    """


@command.command("pca")
@click.option("--tag", "tags", multiple=True,
              help="Model set by models.tags (repeatable) [default: obs-analysis-set].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@warehouse_option
@click.pass_context
def pca(ctx, tags, as_json, warehouse_path: Path) -> None:
    """Print the explained variance and loadings of the PCA of the 8 standard benchmarks.

    \b
    Example:
        meta obs pca
        meta obs pca --json
        meta obs pca --tag obs-analysis-set --tag obs-preregistered
    """
    from analyses.observational.space import ANALYSIS_SET, base_space

    con = open_warehouse(ctx, warehouse_path, read_only=True)
    space = base_space(con, tags=tags or (ANALYSIS_SET,))
    if as_json:
        emit_json(space.to_dict())
        return
    ratio = space.explained_variance_ratio
    click.echo(
        f"{space.table.height} models, {space.table['family'].n_unique()} families "
        f"({', '.join(space.tags)}); {int(space.table['n_imputed'].sum())} missing cells imputed"
    )
    click.echo(
        f"PC-1 explains {ratio[0]:.1%}; PC-1..3 explain {ratio[:3].sum():.1%} of the variance."
    )
    click.echo()
    emit(space.loadings(), "table")
    click.echo()
    click.echo("PC-1 against log10 FLOPs within families (>= 3 models):")
    emit(space.trends, "table")


def _target_options(f):
    f = click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Seed of the bootstrap.")(f)
    f = click.option("--bootstrap", "n_bootstrap", type=click.IntRange(min=0), default=0,
                     show_default=True,
                     help="Resamples of training models for prediction intervals (0: none).")(f)
    f = click.option("--y-range", nargs=2, type=FiniteFloat(), default=None, metavar="LO HI",
                     callback=_y_range,
                     help="Min-max normalise the target: (y - LO) / (HI - LO), LO < HI.")(f)
    f = click.option("--components", "n_components", type=click.IntRange(min=1), default=3,
                     show_default=True, help="K, the principal components regressed on.")(f)
    return click.option("--cutoff-flops", type=FiniteFloat(min=0, min_open=True), default=None,
                        help="Train on models with FLOPs <= X (e.g. 8.4e22); others are test.")(f)


@command.command("fit")
@click.option("--target", default=None, help="Metric to predict (an obsscaling column).")
@click.option("--experiment", type=EXPERIMENT, default=None,
              help="A named experiment ('meta obs experiments' lists them).")
@_target_options
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@warehouse_option
@click.pass_context
def fit(ctx, target, experiment, cutoff_flops, n_components, y_range, n_bootstrap, seed,
        as_json, warehouse_path: Path) -> None:
    """Fit the 3-PC sigmoid and the FLOPs and size baselines for one target; print their MSE.

    \b
    Example:
        meta obs fit --target word_unscrambling_2_exact_match
        meta obs fit --target leaderboard_gpqa --cutoff-flops 1.68e23 --json
        meta obs fit --experiment agents/agentbench --bootstrap 200
    """
    from analyses.observational import experiments as ex
    from analyses.observational.results import run

    if (target is None) == (experiment is None):
        raise click.UsageError("Give exactly one of --target and --experiment.")
    con = open_warehouse(ctx, warehouse_path, read_only=True)
    exp = (ex.get_experiment(experiment) if experiment else
           ex.experiment_for_target(con, target, y_range=tuple(y_range) if y_range else None))
    result = run(con, exp, cutoff_flops=cutoff_flops, n_components=n_components,
                    n_bootstrap=n_bootstrap, seed=seed)
    if as_json:
        emit_json(result.to_dict())
        return
    e = result.experiment
    click.echo(f"{e.name}: {e.title}")
    click.echo(f"  target {e.target}" + (f", min-max {e.y_range}" if e.y_range else "")
               + f"; models: {e.models} ({result.data.table.height}); split: "
               + e.split.describe())
    click.echo(f"  fit: {e.nonlinearity}, {e.loss}; features: {', '.join(e.features)}")
    click.echo()
    table = result.mse_table().drop("dropped")
    emit(table, "table")
    for note in result.notes:
        click.echo(f"note: {note}")
    if result.bootstrap is not None:
        b = result.bootstrap
        click.echo(
            f"\nbootstrap ({b.n_resamples} resamples, seed {b.seed}): {b.coverage:.0%} of "
            f"{b.table.height} test models inside their {b.level:.0%} prediction interval"
        )


@command.command("experiments")
@format_options
def experiments(fmt, as_json, out) -> None:
    """List the named experiments: target, model set, split and fit.

    \b
    Example:
        meta obs experiments
        meta obs experiments --format csv
    """
    import polars as pl

    from analyses.observational.experiments import EXPERIMENTS

    rows = [{"experiment": e.name, "target": e.target, "models": e.models,
             "features": len(e.features), "split": e.split.describe(),
             "y_range": str(e.y_range) if e.y_range else "",
             "fit": f"{e.nonlinearity}/{e.loss}"} for e in EXPERIMENTS.values()]
    emit(pl.DataFrame(rows), resolve_format(fmt, as_json), out)


@command.command("place")
@click.option("--source", "sources", multiple=True,
              type=RegistryChoice("source", "analyses.observational.data:CHECKPOINT_BENCHMARKS"),
              help="Source whose checkpoints are placed (repeatable) [default: all].")
@format_options
@warehouse_option
@click.pass_context
def place(ctx, sources, fmt, as_json, out, warehouse_path: Path) -> None:
    """Place the warehouse's own checkpoints in the capability space of the 77 base models.

    \b
    Example:
        meta obs place --source pythia
        meta obs place --format csv --out placed.csv
    """
    from analyses.observational.space import base_space, place_checkpoints

    con = open_warehouse(ctx, warehouse_path, read_only=True)
    space = base_space(con)
    placed = place_checkpoints(con, space, **({"sources": sources} if sources else {}))
    columns = ["checkpoint_id", "source", "step", "tokens", "flops", "n_benchmarks", "PC-1",
               "PC-2", "PC-3", "equiv_log10_flops"]
    emit(placed.table.select(columns), resolve_format(fmt, as_json), out)
