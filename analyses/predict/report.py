"""The report of one family's runs: the data, the fitted law against every run, a prediction
with its interval, the public families that behave alike, and what the public evidence says
about a design like this one (``meta report runs``).

:func:`runs_report` computes everything and returns a :class:`RunsReport`; :func:`write`
renders it (Markdown, HTML and two PNG figures). Nothing here writes to the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from analyses.document import Document, percent, save_figure
from analyses.hitchhiker.protocol import Family
from analyses.predict import calibration
from analyses.predict.design import fit_rows
from analyses.predict.family import (
    FamilyPrediction,
    Similar,
    load_family,
    predict_family,
    similar_to,
)

FIGURES = "figures"
STEP_UP = 4.0  # the default prediction: 4x the largest size, at its tokens per parameter


@dataclass(frozen=True)
class RunsReport:
    """Everything the runs report shows.

    Attributes
    ----------
    runs : pl.DataFrame
        One row per run: ``run, params, final_tokens, final_loss, fitted`` (in the law).
    every : Family
        Every run of the family (the law may fit a sweep's best run only).
    result : FamilyPrediction
    similar : Similar
    design_errors : pl.DataFrame
        Public laws' median absolute error by number of sizes, at this prediction's scale-up
        (``n_sizes, median_abs_error, rows, sources``).
    """

    runs: pl.DataFrame
    every: Family
    result: FamilyPrediction
    similar: Similar
    design_errors: pl.DataFrame


def default_target(family: Family) -> tuple[float, float]:
    """:data:`STEP_UP` times the family's largest size, at its most trained run's tokens per
    parameter."""
    top = family.model_ids[-1]
    return STEP_UP * family.size(top), STEP_UP * family.final(top)[0]


def _runs(f: Family, result: FamilyPrediction) -> pl.DataFrame:
    out = []
    for m in f.model_ids:
        tokens, loss = f.final(m)
        out.append({"run": m.split("/", 1)[-1], "params": f.size(m), "final_tokens": tokens,
                    "final_loss": loss, "fitted": m in result.law.runs})
    return pl.DataFrame(out)


def _label(n_sizes: int) -> str:
    return f"{calibration.SIZES_CAP}+" if n_sizes >= calibration.SIZES_CAP else str(n_sizes)


def _design_errors(scale_up: float, calibration_dir) -> pl.DataFrame:
    table, _, _ = calibration.load(calibration_dir)
    out = []
    for n in range(2, calibration.SIZES_CAP + 1):
        errors, weights, d = calibration.errors_for(table, n, scale_up)
        if errors.size:
            order = np.argsort(np.abs(errors))
            cum = np.cumsum(weights[order]) / weights.sum()
            median = float(np.abs(errors)[order][np.searchsorted(cum, 0.5)])
            out.append({"n_sizes": _label(n),
                        "median_abs_error": median, "rows": d["rows"],
                        "sources": d["sources"]})
    return pl.DataFrame(out)


def runs_report(con: duckdb.DuckDBPyConnection, name: str, *, params: float | None = None,
                tokens: float | None = None, flops: float | None = None, runs: str = "best",
                n_boot: int = 200, seed: int = 0, calibration_dir=None) -> RunsReport:
    """Compute the report of family ``name`` (a prediction at ``params`` x ``tokens``, at the
    compute-optimal run of ``flops``, or by default at :func:`default_target`)."""
    every = load_family(con, name, runs="all")
    if params is None and tokens is None and flops is None:
        params, tokens = default_target(every)
    result = predict_family(con, name, params=params, tokens=tokens, flops=flops, runs=runs,
                            n_boot=n_boot, seed=seed, calibration_dir=calibration_dir)
    near = similar_to(con, name, runs=runs, calibration_dir=calibration_dir)
    return RunsReport(_runs(every, result), every, result, near,
                      _design_errors(result.prediction.scale_up, calibration_dir))


def _plain_y(ax) -> None:
    """Loss ticks as plain numbers on a log axis."""
    from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0)))
    ax.yaxis.set_major_formatter(ScalarFormatter())
    ax.yaxis.set_minor_formatter(NullFormatter())  # a label of size 0 still drew a dot


def _curves_figure(report: RunsReport, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    f, law = report.every, report.result.law
    sizes = sorted({f.size(m) for m in f.model_ids})
    colours = plt.cm.viridis(np.linspace(0, 0.9, len(sizes)))
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    fitted = set(fit_rows(f, list(law.runs)).tolist())
    for m in f.model_ids:
        rows = f.rows([m])
        c = colours[sizes.index(f.size(m))]
        d, y = f.column("tokens", rows), f.column("perf", rows)
        used = np.array([r in fitted for r in rows])
        alpha = 1.0 if m in law.runs else 0.3
        ax.plot(d[used], y[used], "o", ms=3.5, color=c, alpha=alpha)
        ax.plot(d[~used], y[~used], "o", ms=3.5, mfc="none", color=c, alpha=alpha)
        if m in law.runs and used.any():
            grid = np.geomspace(d[used].min(), d.max(), 60)
            ax.plot(grid, law.loss(f.size(m), grid), "-", lw=1.2, color=c)
    for s, c in zip(sizes, colours, strict=True):
        ax.plot([], [], "-o", ms=3.5, color=c, label=f"N = {s:.3g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    used_rows = np.array(sorted(fitted))
    y = f.column("perf", used_rows)
    ax.set_ylim(y.min() / 1.1, y.max() * 1.5)
    ax.set_xlim(f.column("tokens", used_rows).min() / 10, f.column("tokens", used_rows).max() * 1.5)
    _plain_y(ax)
    ax.set_xlabel("tokens D")
    ax.set_ylabel("loss")
    ax.legend(fontsize=8, frameon=False)
    ax.set_title("the fitted law (lines) against every run: filled points were fitted",
                 fontsize=10)
    return save_figure(fig, path, dpi=110, tight=True)


def _prediction_figure(report: RunsReport, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs, pred, law = report.runs, report.result.prediction, report.result.law
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    top = runs.filter(pl.col("fitted")).sort("params", "final_tokens")
    ax.plot(top["params"], top["final_loss"], "o", color="#1f6feb", label="final loss of a run")
    # the law along the runs' own (N, D) and on to the predicted run, log-linear in between
    n = np.log(np.r_[top["params"].to_numpy(), pred.params])
    d = np.log(np.r_[top["final_tokens"].to_numpy(), pred.tokens])
    n, first = np.unique(n, return_index=True)
    grid = np.linspace(n[0], n[-1], 120)
    ax.plot(np.exp(grid), law.loss(np.exp(grid), np.exp(np.interp(grid, n, d[first]))), "-",
            color="#57606a", label="the law, from the runs' tokens to the predicted run's")
    for interval, shade in zip(pred.combined[::-1], (0.15, 0.3), strict=True):
        ax.fill_between([pred.params * 0.93, pred.params * 1.07], interval.low, interval.high,
                        color="#cf222e", alpha=shade, lw=0,
                        label=f"{round(100 * interval.level)}% interval")
    ax.plot([pred.params], [pred.loss], "D", color="#cf222e", label="prediction")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters N")
    ax.set_ylabel("final loss")
    _plain_y(ax)
    ax.legend(fontsize=8, frameon=False)
    return save_figure(fig, path, dpi=110, tight=True)


def _interval_text(intervals) -> str:
    return ", ".join(f"{round(100 * i.level)}%: [{i.low:.4g}, {i.high:.4g}]" for i in intervals)


def write(report: RunsReport, out: Path | str) -> list[Path]:
    """Write ``runs.md``, ``runs.html`` and ``figures/*.png`` into ``out``; returns them."""
    out = Path(out)
    result, law, pred = report.result, report.result.law, report.result.prediction
    name = result.family.name
    d = Document(f"Runs of {name}: the law, a prediction, and how far to trust it")
    sizes = law.design.n_sizes
    d.paragraph(
        f"**{pred.loss:.4g}** is the predicted loss of a run of N = {pred.params:.3g} "
        f"parameters on D = {pred.tokens:.3g} tokens ({pred.scale_up:.3g}x the largest size "
        f"fitted), with an 80% interval of [{pred.combined[0].low:.4g}, "
        f"{pred.combined[0].high:.4g}] and a 95% interval of [{pred.combined[1].low:.4g}, "
        f"{pred.combined[1].high:.4g}]. The law rests on {len(law.runs)} runs of {sizes} "
        f"sizes.")

    d.heading("The runs")
    d.paragraph(f"{report.runs.height} runs; `fitted` marks the runs the law is fitted on "
                "(each hyperparameter sweep's best run: the lowest final loss among runs of "
                "one size and about the same tokens), on their final checkpoint and their "
                "checkpoints from 30% of the run on.")
    d.table(report.runs.sort("params", "final_tokens"))

    d.heading("The law")
    p = law.params
    status = law.status + (f"; **not identified by its data**: {law.unidentified}"
                           if law.unidentified else "; identified by its data")
    d.paragraph(f"L(N, D) = {p['E']:.4g} + {p['A']:.4g} / N^{p['alpha']:.4g} + "
                f"{p['B']:.4g} / D^{p['beta']:.4g} (Huber loss on log loss, L-BFGS from 32 "
                f"starts; status {status}).")
    if law.borrowed_from:
        d.paragraph(f"A single size cannot identify A and alpha: they are borrowed from "
                    f"{law.borrowed_from}, the nearest public law of the same loss kind.")
    d.figure(f"{FIGURES}/curves.png", "Loss against tokens of every run, and the law.")
    _curves_figure(report, out / FIGURES / "curves.png")

    d.heading("The prediction")
    c = pred.calibration
    d.bullets([
        f"combined: {_interval_text(pred.combined)}",
        f"parameters ({pred.n_boot} resamples of the runs, seed {pred.seed}, "
        f"{pred.n_boot_finite} finite): {_interval_text(pred.parameter)}",
        f"extrapolation ({c.get('rows', 0)} public laws of {c.get('families', 0)} families "
        f"and {c.get('sources', 0)} sources with a similar design): "
        f"{_interval_text(pred.extrapolation)}",
    ])
    check = result.calibration_version.get("coverage")
    d.paragraph("The two parts combine as independent errors: each resample's prediction "
                "divided by (1 + a public law's relative error), drawn by Monte Carlo with "
                "every source weighted alike."
                + (f" Left out one at a time, {check['families']} public families' own "
                   f"targets fell inside the nominal 80% interval "
                   f"{percent(check['coverage80'])} of the time (+/- "
                   f"{percent(check['se80'])}) and inside the 95% interval "
                   f"{percent(check['coverage95'])} (+/- {percent(check['se95'])}); "
                   "meta calibrate --coverage." if check else ""), note=True)
    d.figure(f"{FIGURES}/prediction.png", "Final loss of the fitted runs, the law along the "
             "predicted run's tokens per parameter, and the prediction with its intervals.")
    _prediction_figure(report, out / FIGURES / "prediction.png")

    d.heading("Public families that behave alike")
    near = report.similar
    d.table(near.ranked.head(8).select(
        "family", "source", "loss_kind", "n_sizes", "alpha", "beta", "reducible", "distance"))
    if near.borrow is not None:
        d.paragraph(f"With a single size, A = {near.borrow['A']:.4g} and alpha = "
                    f"{near.borrow['alpha']:.4g} would be borrowed from {near.borrow['family']}.")

    d.heading("What the public evidence says about this design")
    errors = report.design_errors
    if errors.height:
        d.paragraph(f"Median absolute error of public laws predicting a target "
                    f"{pred.scale_up:.3g}x beyond their largest size, by the number of sizes "
                    f"fitted (this family has {sizes}):")
        d.table(errors, are=("median_abs_error",))
        typical = dict(zip(errors["n_sizes"], errors["median_abs_error"], strict=True))
        now, more = _label(sizes), _label(sizes + 1)
        if sizes < calibration.SIZES_CAP and now in typical and more in typical:
            d.paragraph(f"Public laws on {now} sizes missed by a median {percent(typical[now])}, "
                        f"on {more} by {percent(typical[more])}; different families fill the "
                        f"rows, so the difference is a hint, not what one more size would do "
                        f"for this family.")
    out.mkdir(parents=True, exist_ok=True)
    md, page = d.write(out, "runs")
    return [md, page, out / FIGURES / "curves.png", out / FIGURES / "prediction.png"]
