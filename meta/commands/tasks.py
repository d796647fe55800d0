"""`meta tasks`: task-level scaling laws from the OLMo model ladder (fit, predict)."""

from __future__ import annotations

from pathlib import Path

import click

from meta.options import emit, format_options, open_warehouse, resolve_format, warehouse_option
from meta.params import POSITIVE

RESULT_COLUMNS = ("result", "task", "target", "actual", "predicted", "rel_error", "abs_error")


@click.group("tasks")
def command() -> None:
    """Task-level scaling: predict a large model's downstream accuracy from a model ladder.

    \b
    Example:
        meta tasks fit
        meta tasks predict --params 13.2e9 --tokens 5e12
    """


@command.command("fit")
@click.option("--families", "across", is_flag=True,
              help="Instead of the ladder paper's study: the same two steps over every family "
                   "with task accuracies at several sizes (study tasks); prints the share of "
                   "predictable tasks per family.")
@click.option("--family", "names", multiple=True,
              help="With --families: fit only this family (repeatable).")
@format_options
@warehouse_option
@click.pass_context
def fit(ctx, across, names, fmt, as_json, out, warehouse_path: Path) -> None:
    """Fit the ladder paper's step-1, step-2 and chained laws on its 16 ladder runs, predict
    its 7B and 13B targets, store the laws (study ladder) and print every prediction; with
    --families, predict each family's largest model on every task instead (study tasks).

    \b
    Example:
        meta tasks fit
        meta tasks fit --format csv --out ladder.csv
        meta tasks fit --families --family overtrain-C4
    """
    if names and not across:
        raise click.UsageError("--family needs --families.")
    con = open_warehouse(ctx, warehouse_path, read_only=False)
    if across:
        _fit_families(con, names, fmt, as_json, out)
        return
    from analyses.ladder.reproduce import summary
    from analyses.ladder.run import fit_ladder

    study, written, deleted = fit_ladder(con)
    emit(study.results.select(RESULT_COLUMNS), resolve_format(fmt, as_json), out)
    within = summary(study.comparison)
    click.echo(
        f"{written} ladder laws written, {len(study.laws) - written} already there, "
        f"{deleted} stale removed; published cells reproduced: "
        f"{int(study.comparison['within'].sum())} of {study.comparison.height} "
        f"({within.filter(~within['within']).height} tables with a cell outside tolerance)",
        err=True,
    )


def _fit_families(con, names, fmt, as_json, out) -> None:
    from analyses.tasks.run import fit_tasks, predictability, shares

    done = fit_tasks(con, names or None, log=lambda line: click.echo(line, err=True))
    emit(shares(predictability(con, done.families)), resolve_format(fmt, as_json), out)
    click.echo(f"{done.written} task laws written, {done.laws - done.written} already there, "
               f"{done.deleted} stale removed ({done.seconds:.0f} s of fits); the view "
               "task_predictability holds every verdict", err=True)


@command.command("predict")
@click.option("--params", type=POSITIVE, help="Parameters N of the model to predict.")
@click.option("--tokens", type=POSITIVE, help="Training tokens D of the model to predict.")
@click.option("--flops-per-token", type=POSITIVE,
              help="Training FLOPs per token (adds the FLOPs-chained accuracy).")
@format_options
@warehouse_option
@click.pass_context
def predict(ctx, params, tokens, flops_per_token, fmt, as_json, out,
            warehouse_path: Path) -> None:
    """Each task's task loss and accuracy at (N, D) from the stored ladder laws; without N
    and D, the stored predictions of the 7B and 13B targets.

    \b
    Example:
        meta tasks predict
        meta tasks predict --params 13.2e9 --tokens 5e12 --flops-per-token 9.1e10 --json
    """
    from analyses.ladder.run import predict_at, stored_predictions

    if (params is None) != (tokens is None):
        raise click.UsageError("Give both --params and --tokens, or neither.")
    if flops_per_token is not None and params is None:
        raise click.UsageError("--flops-per-token needs --params and --tokens.")
    con = open_warehouse(ctx, warehouse_path, read_only=True)
    if params is None:
        rows = stored_predictions(con).drop("law_id")
    else:
        rows = predict_at(con, params, tokens, flops_per_token)
    emit(rows, resolve_format(fmt, as_json), out)
