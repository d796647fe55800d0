"""The observational report's figures (matplotlib, Agg): each function draws one PNG.

Every function takes fitted objects (no warehouse access) and a path, and returns the path.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import polars as pl

from analyses.document import save_figure
from analyses.observational.experiments import FLOPS_UNIT, LOG_EPS, SIZE_UNIT
from analyses.observational.methods import MethodFit
from analyses.observational.results import ExperimentResult
from analyses.observational.space import BaseSpace, Placement

TRAIN, TEST = "#2f6db3", "#c8372d"
PAPER_PC1, PAPER_TOP3 = 0.80, 0.97


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 10, "axes.spines.top": False, "axes.spines.right": False})
    return plt


def _save(fig, path: Path) -> Path:
    return save_figure(fig, path, dpi=100)


def scree(space: BaseSpace, path: Path) -> Path:
    """Explained variance per component (bars) and cumulative (line), with the paper's
    ~80% (PC-1) and ~97% (PC-1..3) marked."""
    plt = _plt()
    ratio = space.explained_variance_ratio
    k = np.arange(1, ratio.size + 1)
    fig, ax = plt.subplots(figsize=(6.2, 3.8))
    ax.bar(k, ratio, color="#8aa9d6", label="per component")
    ax.plot(k, np.cumsum(ratio), "o-", color="#1f2328", label="cumulative")
    for v, text in ((PAPER_PC1, "paper: PC-1 ~80%"), (PAPER_TOP3, "paper: PC-1..3 ~97%")):
        ax.axhline(v, ls=":", color="#888", lw=1)
        ax.text(ratio.size + 0.45, v, text, va="center", ha="right", fontsize=8, color="#555",
                backgroundcolor="white")
    for i in range(3):
        ax.annotate(f"{np.cumsum(ratio)[i]:.1%}", (k[i], np.cumsum(ratio)[i]),
                    textcoords="offset points", xytext=(4, -12), fontsize=8)
    ax.set_xticks(k, [f"PC-{i}" for i in k])
    ax.set_ylim(0, 1.05)
    ax.set_ylabel("explained variance ratio")
    ax.set_title(f"PCA of {len(space.benchmarks)} benchmarks, {space.table.height} models")
    ax.legend(loc="center right", fontsize=8)
    fig.tight_layout()
    return _save(fig, path)


def loadings(space: BaseSpace, path: Path, n_components: int = 3) -> Path:
    """Heatmap of the first ``n_components`` loadings."""
    plt = _plt()
    comps = space.space.components_[:n_components]
    fig, ax = plt.subplots(figsize=(7.2, 0.55 * n_components + 1.4))
    lim = np.abs(comps).max()
    ax.imshow(comps, cmap="coolwarm", vmin=-lim, vmax=lim, aspect="auto")
    for (i, j), v in np.ndenumerate(comps):
        ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=8)
    ratio = space.explained_variance_ratio
    ax.set_yticks(range(n_components), [f"PC-{i + 1} ({ratio[i]:.0%})" for i in
                                        range(n_components)])
    ax.set_xticks(range(len(space.benchmarks)), space.benchmarks, rotation=30, ha="right")
    ax.set_title("PCA loadings (centred, unscaled accuracies)")
    fig.tight_layout()
    return _save(fig, path)


def pc1_vs_flops(space: BaseSpace, path: Path) -> Path:
    """PC-1 against log10 FLOPs, one panel per family with known FLOPs, with its OLS line."""
    plt = _plt()
    t = space.table.filter(pl.col("flops").is_not_null())
    fams = [f for f in t["family"].unique(maintain_order=True).to_list()
            if t.filter(pl.col("family") == f).height >= 2]
    cols = 6
    rows = math.ceil(len(fams) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(2.3 * cols, 2.0 * rows), sharey=True,
                             squeeze=False)
    lo, hi = t["PC-1"].min(), t["PC-1"].max()
    for ax, fam in zip(axes.flat, fams, strict=False):
        g = t.filter(pl.col("family") == fam)
        x, y = np.log10(g["flops"].to_numpy()), g["PC-1"].to_numpy()
        ax.scatter(x, y, s=14, color=TRAIN)
        if len(x) >= 2 and np.ptp(x) > 0:
            slope, icpt = np.polyfit(x, y, 1)
            xs = np.linspace(x.min(), x.max(), 10)
            ax.plot(xs, slope * xs + icpt, color="#555", lw=1)
            r2 = np.corrcoef(x, y)[0, 1] ** 2 if len(x) > 2 else float("nan")
            ax.set_title(f"{fam}" + (f" (R²={r2:.2f})" if r2 == r2 else ""), fontsize=8)
        else:
            ax.set_title(fam, fontsize=8)
        ax.set_ylim(lo - 0.1, hi + 0.1)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(fams):]:
        ax.axis("off")
    fig.supxlabel("log10 training FLOPs")
    fig.supylabel("PC-1")
    fig.tight_layout()
    return _save(fig, path)


def _method_axes(ax, result: ExperimentResult, fit: MethodFit) -> None:
    """One panel: y against the method's x, train and test points, the fitted curve."""
    p = fit.predictions
    if fit.method == "pc":
        line = result.equivalent
        if line is not None:
            x = line.log10_flops(p["z"].to_numpy())
            to_z = line.score
            label = f"log10 {result.experiment.ref_family}-equivalent FLOPs"
        else:
            x, to_z, label = p["z"].to_numpy(), (lambda v: v), "linear score α + βᵀS"
    else:
        col, unit = ("flops", FLOPS_UNIT) if fit.method == "flops" else ("num_params", SIZE_UNIT)
        x = np.log10(p[col].cast(pl.Float64).to_numpy())
        a, b = fit.params.alpha, fit.params.beta[0]

        def to_z(v, a=a, b=b, unit=unit):
            return a + b * np.log(10.0 ** np.asarray(v) / unit + LOG_EPS)

        label = "log10 training FLOPs" if fit.method == "flops" else "log10 parameters"
    test = p["test"].to_numpy()
    y = p["y"].to_numpy()
    ax.scatter(x[~test], y[~test], s=16, color=TRAIN, label=f"train ({(~test).sum()})")
    ax.scatter(x[test], y[test], s=26, marker="X", color=TEST, label=f"test ({test.sum()})")
    if fit.method == "pc" and result.bootstrap is not None:
        b = result.bootstrap.table.join(p.select("model", pl.Series("x", x)), on="model")
        ax.vlines(b["x"], b["pred_lo"], b["pred_hi"], color=TEST, alpha=0.35, lw=1)
    finite = np.isfinite(x)
    if finite.any():
        lo, hi = x[finite].min(), x[finite].max()
        pad = 0.08 * (hi - lo or 1)
        xs = np.linspace(lo - pad, hi + pad, 200)
        ax.plot(xs, fit.params.curve(to_z(xs)), color="#1f2328", lw=1.5)
    mse = fit.test_mse
    title = {"pc": f"{len(fit.features)} PCs", "flops": "training FLOPs", "size": "model size"}
    ax.set_title(f"{title[fit.method]}: test MSE "
                 + (f"{mse:.2e}" if mse == mse else "n/a (no test model)"), fontsize=9)
    ax.set_xlabel(label, fontsize=8)
    ax.legend(fontsize=7, loc="upper left")


def experiment_fit(result: ExperimentResult, path: Path) -> Path:
    """Three panels: the sigmoid of size, of FLOPs, and of the PCs (on the f-equivalent
    FLOPs axis), with train and test models and the bootstrap prediction intervals."""
    plt = _plt()
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 3.7), sharey=True)
    for ax, name in zip(axes, ("size", "flops", "pc"), strict=True):
        _method_axes(ax, result, result.methods[name])
    exp = result.experiment
    ylabel = exp.target if exp.y_range is None else f"({exp.target} − {exp.y_range[0]:.3g}) / " \
        f"{exp.y_range[1] - exp.y_range[0]:.3g}"
    axes[0].set_ylabel(ylabel if len(ylabel) < 45 else "processed target", fontsize=8)
    fig.suptitle(exp.title, fontsize=11)
    fig.tight_layout()
    return _save(fig, path)


def weights(results: list[ExperimentResult], benchmarks: tuple[str, ...], path: Path) -> Path:
    """The benchmark-weight view: beta' V_K of every experiment, each row scaled to unit norm."""
    plt = _plt()
    m = np.full((len(results), len(benchmarks)), np.nan)
    for i, r in enumerate(results):
        w = np.array([r.weights.get(b, r.weights.get("Winogrande") if b == "Winograd" else
                                    np.nan) for b in benchmarks], dtype=float)
        norm = np.sqrt(np.nansum(w**2))
        m[i] = w / norm if norm > 0 else w
    fig, ax = plt.subplots(figsize=(8.5, 0.36 * len(results) + 1.4))
    ax.imshow(np.ma.masked_invalid(m), cmap="coolwarm", vmin=-1, vmax=1, aspect="auto")
    for (i, j), v in np.ndenumerate(m):
        if v == v:
            ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=7)
    ax.set_yticks(range(len(results)), [r.experiment.name for r in results], fontsize=8)
    ax.set_xticks(range(len(benchmarks)), benchmarks, rotation=30, ha="right", fontsize=8)
    ax.set_title("Benchmark weights βᵀV_K (each row / its L2 norm; blank: not a feature)",
                 fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def checkpoints(space: BaseSpace, placement: Placement, path: Path) -> Path:
    """Left: PC-1 against log10 training FLOPs for the ObsScaling models (grey) and the
    warehouse's runs (lines: Pythia-deduped and OLMo; dots: over-training grid). Right: their
    Llama-2-equivalent FLOPs against actual FLOPs."""
    plt = _plt()
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(13, 4.6))
    obs = space.table.filter(pl.col("flops").is_not_null())
    ax.scatter(np.log10(obs["flops"].to_numpy()), obs["PC-1"].to_numpy(), s=12, color="#bbb",
               label="ObsScaling models (77)")
    if space.reference is not None:
        xs = np.linspace(20, 25.5, 10)
        ax.plot(xs, space.reference.score(xs), ls="--", color="#888", lw=1,
                label="Llama-2 line (f-equivalent FLOPs)")
    t = placement.table.filter((pl.col("flops") > 0) & pl.col("flops").is_not_null())
    runs = [m for m in t["model_id"].unique(maintain_order=True).to_list()
            if re.fullmatch(r"pythia/pythia-[\d.]+[mb]-deduped|olmo/.+", m)]
    cmap = plt.get_cmap("viridis")
    runs = sorted(runs, key=lambda m: (m.startswith("olmo"), t.filter(
        pl.col("model_id") == m)["num_params"][0] or 0))
    for i, m in enumerate(runs):
        g = t.filter(pl.col("model_id") == m).sort("tokens")
        color = cmap(i / max(len(runs) - 1, 1))
        x = np.log10(g["flops"].to_numpy())
        ax.plot(x, g["PC-1"].to_numpy(), "-", lw=1.2, color=color, label=m.split("/", 1)[1])
        bx.plot(x, g["equiv_log10_flops"].to_numpy(), "-", lw=1.2, color=color)
    ot = t.filter(pl.col("source") == "overtrain")
    if ot.height:
        ax.scatter(np.log10(ot["flops"].to_numpy()), ot["PC-1"].to_numpy(), s=10, marker="^",
                   color="#d1812c", label="over-training grid (final)")
        bx.scatter(np.log10(ot["flops"].to_numpy()), ot["equiv_log10_flops"].to_numpy(), s=10,
                   marker="^", color="#d1812c")
    ax.set_xlabel("log10 training FLOPs")
    ax.set_ylabel("PC-1 (placed from the benchmarks each source has)")
    ax.legend(fontsize=6.5, ncol=2, loc="upper left")
    lims = [17, 24.5]
    bx.plot(lims, lims, ls=":", color="#888", lw=1)
    bx.set_xlim(*lims)
    bx.set_xlabel("log10 training FLOPs")
    bx.set_ylabel("log10 Llama-2-equivalent FLOPs (from PC-1)")
    bx.set_title("below the diagonal: less capability per FLOP than Llama-2", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
