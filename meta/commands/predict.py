"""`meta predict`: the loss of a larger run from a family's runs, with an honest interval."""

from __future__ import annotations

from pathlib import Path

import click

from meta.options import emit_json, open_warehouse, warehouse_option
from meta.params import POSITIVE

# a 95% interval's 2.5% tails hold no resample below 1 / 0.025 resamples
MIN_BOOT = 40


def _interval(intervals) -> str:
    return "   ".join(f"{round(100 * i.level)}% [{i.low:.4g}, {i.high:.4g}]" for i in intervals)


def _levels_coincide(intervals) -> str:
    """Which bounds the narrowest and widest levels share ("lower", "upper", "lower and upper"
    or ""): an empirical quantile of few distinct values lands on the same extreme value at
    both levels."""
    narrow, wide = intervals[0], intervals[-1]
    return " and ".join(side for side, same in (("lower", narrow.low == wide.low),
                                                ("upper", narrow.high == wide.high)) if same)


@click.command("predict")
@click.option("--family", required=True, help="Family whose runs predict (yours or public).")
@click.option("--params", type=POSITIVE, help="Parameters N of the run to predict.")
@click.option("--tokens", type=POSITIVE, help="Training tokens D of the run to predict.")
@click.option("--flops", type=POSITIVE,
              help="Instead of N and D: predict the compute-optimal run of C = 6ND FLOPs.")
@click.option("--runs", type=click.Choice(["best", "all"]), default="best", show_default=True,
              help="Fit each hyperparameter sweep's best run, or every run.")
@click.option("--boot", "n_boot", type=click.IntRange(min=1), default=200, show_default=True,
              help="Resamples of runs for the parameter part of the interval.")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of the resampling and of the interval's Monte Carlo.")
@click.option("--calibration", "calibration_dir",
              type=click.Path(file_okay=False, exists=True, path_type=Path),
              help="Folder of a calibration table from 'meta calibrate' [default: shipped].")
@click.option("--finals-only", is_flag=True,
              help="Fit each run's final checkpoint only (default: also those from 30% of the "
                   "run on, as the calibration laws).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@warehouse_option
@click.pass_context
def command(ctx, family, params, tokens, flops, runs, n_boot, seed, calibration_dir,
            finals_only, as_json, warehouse_path: Path) -> None:
    """Predict the loss of a run from a family's runs, with an interval that says how far
    the number can be trusted.

    The interval has two parts: the law refitted on resamples of the runs (parameter
    uncertainty), and how far public laws of a similar design (as many sizes, as far an
    extrapolation) missed their own targets; they combine as independent errors.

    \b
    Example:
        meta predict --family mine --params 7e9 --tokens 1.4e11
        meta predict --family mine --flops 1e22 --json
    """
    from analyses.predict.family import predict_family

    if n_boot < MIN_BOOT:
        click.echo(f"Warning: --boot {n_boot} is too few resamples for a 95% interval (its "
                   f"2.5% tails need at least {MIN_BOOT}); the parameter part is rough.",
                   err=True)
    con = open_warehouse(ctx, warehouse_path, read_only=True)
    result = predict_family(con, family, params=params, tokens=tokens, flops=flops, runs=runs,
                            n_boot=n_boot, seed=seed, calibration_dir=calibration_dir,
                            finals_only=finals_only)
    if as_json:
        emit_json(result.to_dict())
        return
    law, pred = result.law, result.prediction
    p = law.params
    sizes = sorted({result.family.size(m) for m in law.runs})
    which = "every run" if runs == "all" else "each sweep's best"
    n = law.design.n_sizes
    span = f"{sizes[0]:.3g} parameters" if n == 1 else \
        f"{sizes[0]:.3g} to {sizes[-1]:.3g} parameters"
    click.echo(f"{family}: {len(law.runs)} runs fitted ({which}), {n} size"
               f"{'' if n == 1 else 's'} ({span}), {law.n_points} points")
    notes = [f"status {law.status}"]
    if law.borrowed_from:
        notes.append(f"A and alpha borrowed from {law.borrowed_from}")
    if law.unidentified:
        notes.append(f"not identified: {law.unidentified}")
    click.echo(f"law: L = {p['E']:.4g} + {p['A']:.4g} / N^{p['alpha']:.4g} + {p['B']:.4g} / "
               f"D^{p['beta']:.4g}   ({'; '.join(notes)})")
    what = "the compute-optimal run of " if result.optimal else "a run of "
    click.echo(f"{what}N = {pred.params:.4g}, D = {pred.tokens:.4g} (C = {result.flops:.3g}; "
               f"{pred.scale_up:.3g}x the largest size fitted):")
    click.echo(f"  loss {pred.loss:.4g}   {_interval(pred.combined)}")
    click.echo(f"    parameters: {pred.n_boot} resamples of runs (seed {pred.seed}, "
               f"{pred.n_boot_finite} finite): {_interval(pred.parameter)}")
    c = pred.calibration
    if c.get("rows"):
        low, high = c["n_sizes"]
        cap = "+" if high == 5 else ""
        fitted = f"{low}{cap}" if low == high else f"{low}-{high}{cap}"
        window = (f"a scale-up within {c['scale_window']:g}x of {pred.scale_up:.3g}x"
                  if c["scale_window"] else "any scale-up")
        click.echo(f"    extrapolation: {c['rows']} public laws ({c['families']} families, "
                   f"{c['sources']} sources; {fitted} sizes, {window}): "
                   f"{_interval(pred.extrapolation)}")
    else:
        click.echo("    extrapolation: no calibration rows; the interval is the parameter part "
                   "only")
    levels = f"{round(100 * pred.parameter[0].level)}% and " \
        f"{round(100 * pred.parameter[-1].level)}%"
    if pred.n_boot_finite and (same := _levels_coincide(pred.parameter)):
        click.echo(f"note: the parameter part's {levels} {same} bounds coincide: the "
                   f"resamples of {len(law.runs)} runs take too few distinct values to "
                   "separate the levels.")
    if c.get("rows") and (same := _levels_coincide(pred.extrapolation)):
        click.echo(f"note: the extrapolation part's {levels} {same} bounds coincide: the most "
                   f"extreme errors of the calibration laws ({c['sources']} sources, each "
                   "weighing the same) carry too much weight to separate the levels.")
    if n < 3:
        click.echo(f"note: with {n} size{'' if n == 1 else 's'} the resamples of runs cannot "
                   "move A and alpha; their uncertainty is in the extrapolation part only.")
    if pred.scale_up < 1:
        click.echo("note: the predicted run is smaller than the largest fitted size; the "
                   "extrapolation part comes from laws that predicted larger runs.")
    if result.decaying:
        click.echo(f"note: {len(result.decaying)} fitted runs have a decaying learning-rate "
                   "schedule, so their intermediate checkpoints are not finished runs of that "
                   "length; --finals-only fits their final checkpoints only.")
