"""Figures of the guideline report (matplotlib, Agg backend), drawn from the tables' frames.

Every function takes polars frames and a path, writes one PNG and returns its path. ARE is
shown in percent on the paper's colour scale, 0-35% (``magma_r``: light is low); empty cells
are hatched grey.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from analyses.document import save_figure  # noqa: E402

VMAX = 35.0  # percent
CMAP = "magma_r"
OUTLINE = "#1a7f37"  # the frame of a resolved cell
DPI = 110
ESTIMATOR_COLOURS = {"curvefit-hitchhiker": "#1f6feb", "huber-lbfgs": "#d1242f",
                     "best-seen": "#8c959f", "most-trained": "#57606a"}


def _save(fig, path: Path, *, tight: bool = True) -> Path:
    return save_figure(fig, path, dpi=DPI, tight=tight)


def _grid(n: int, cols: int, size: tuple[float, float]):
    rows = max(1, -(-n // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(size[0] * cols, size[1] * rows), squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()


def heatmap(
    ax,
    cells: pl.DataFrame,
    *,
    row: str,
    col: str,
    value: str = "are",
    row_label=str,
    col_label=lambda v: f"{v:g}",
    title: str = "",
    xlabel: str = "fraction of training used (p)",
    ylabel: str = "training models",
    outline: str | None = None,
) -> None:
    """Draw an annotated ARE heatmap of ``cells`` (one row per cell) on ``ax``; a cell whose
    boolean column ``outline`` is true gets a frame."""
    rows = sorted(cells[row].unique().drop_nulls().to_list())
    cols = sorted(cells[col].unique().drop_nulls().to_list())
    grid = np.full((len(rows), len(cols)), np.nan)
    ri, ci = {v: i for i, v in enumerate(rows)}, {v: i for i, v in enumerate(cols)}
    for r, c, v in cells.select(row, col, value).iter_rows():
        if r is not None and c is not None and v is not None:
            grid[ri[r], ci[c]] = 100 * v
    ax.set_facecolor("#eaeef2")
    ax.imshow(np.clip(grid, 0, VMAX), cmap=CMAP, vmin=0, vmax=VMAX, aspect="auto",
              origin="lower", interpolation="nearest")
    small = len(rows) * len(cols) > 120
    for (i, j), v in np.ndenumerate(grid):
        if np.isnan(v):
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, hatch="///",
                                       edgecolor="#c4cbd3", linewidth=0))
            continue
        text = ">999" if v >= 999.5 else f"{v:.0f}" if v >= 10 else f"{v:.1f}"
        ax.text(j, i, text, ha="center", va="center", fontsize=5.5 if small else 8,
                color="white" if v > 0.55 * VMAX else "#1f2328")
    if outline is not None:
        for r, c in cells.filter(pl.col(outline).fill_null(False)).select(row, col).iter_rows():
            ax.add_patch(plt.Rectangle((ci[c] - 0.45, ri[r] - 0.45), 0.9, 0.9, fill=False,
                                       edgecolor=OUTLINE, linewidth=1.6))
    ax.set_xticks(range(len(cols)), [col_label(c) for c in cols], fontsize=8)
    ax.set_yticks(range(len(rows)), [row_label(r) for r in rows], fontsize=8)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.set_ylabel(ylabel, fontsize=9)
    if title:
        ax.set_title(title, fontsize=10)


def _colorbar(fig, axes, label: str) -> None:
    sm = plt.cm.ScalarMappable(cmap=CMAP, norm=plt.Normalize(0, VMAX))
    bar = fig.colorbar(sm, ax=list(axes), shrink=0.8, pad=0.02)
    bar.set_label(label)


def heatmaps(
    panels: Sequence[tuple[str, pl.DataFrame]],
    path: Path,
    *,
    row: str,
    col: str,
    cols: int = 2,
    size: tuple[float, float] = (5.4, 3.6),
    label: str = "ARE (%)",
    **kw,
) -> Path:
    """Several heatmaps (``(title, cells)`` each) side by side with one colour bar,
    ``label``."""
    fig, axes = _grid(len(panels), cols, size)
    for ax, (title, cells) in zip(axes, panels, strict=False):
        heatmap(ax, cells, row=row, col=col, title=title, **kw)
    fig.tight_layout()
    _colorbar(fig, [a for a in axes if a.get_visible()], label)
    return _save(fig, path)


def curves(panels: Sequence[tuple[str, pl.DataFrame]], path: Path, *, cols: int = 5) -> Path:
    """Fitted curves against data: per family the points of every model (the target in
    colour, training models grey) after the law's early-token cut, and the law's prediction
    along each run; the y range follows the points, so a diverging prediction leaves it."""
    fig, axes = _grid(len(panels), cols, (3.3, 2.6))
    for ax, (title, pts) in zip(axes, panels, strict=False):
        cut = pts["min_tokens"].fill_null(0.0)[0] if "min_tokens" in pts.columns else 0.0
        pts = pts.filter((pl.col("tokens") > max(cut, 0.0)) & (pl.col("role") != "other"))
        pts = pts.sort("model_id", "tokens")
        if pts.is_empty():
            ax.set_visible(False)
            continue
        for _, g in pts.group_by("model_id", maintain_order=True):
            target = g["role"][0] == "target"
            colour = "#d1242f" if target else "#8c959f"
            ax.scatter(g["tokens"], g["perf"], s=5 if target else 3, color=colour,
                       alpha=0.9 if target else 0.45, linewidths=0)
            ax.plot(g["tokens"], g["predicted"], color=colour, lw=1.4 if target else 0.7,
                    alpha=0.95 if target else 0.6)
            if target:
                top = g["tokens"].max()
                ax.axvspan(0.7 * top, top, color="#fff8c5", zorder=0)
        lo, hi = pts["perf"].min(), pts["perf"].max()
        pad = 0.08 * (hi - lo) if hi > lo else 0.05 * abs(hi) + 1e-3
        ax.set_ylim(lo - pad, hi + pad)
        ax.set_xscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(title, fontsize=8.5)
        ax.tick_params(labelsize=7)
    fig.supxlabel("tokens (log), after the law's early-token cut; shaded: the target's last "
                  "30%, where ARE is measured", fontsize=9, y=0.005)
    fig.supylabel("perf (loss or log2 perplexity)", fontsize=9, x=0.005)
    # A fixed layout: tight_layout and a tight bounding box would each draw the grid again.
    fig.subplots_adjust(left=0.05, right=0.99, top=0.97, bottom=0.05, wspace=0.28, hspace=0.42)
    return _save(fig, path, tight=False)


def scree(explained: pl.DataFrame, path: Path, *, paper: float) -> Path:
    """Explained variance ratio per component (bars) and cumulative (lines), per estimator,
    for the per-family laws; the paper's 3-component cumulative as a dashed line."""
    df = explained.filter(pl.col("selection") == "full")
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    ests = df["estimator"].unique(maintain_order=True).to_list()
    width = 0.8 / max(len(ests), 1)
    for i, est in enumerate(ests):
        d = df.filter(pl.col("estimator") == est)
        x = d["component"].to_numpy() + (i - (len(ests) - 1) / 2) * width
        colour = ESTIMATOR_COLOURS.get(est)
        ax.bar(x, 100 * d["ratio"].to_numpy(), width=width, color=colour, alpha=0.55,
               label=f"{est} ({d['n_laws'][0]} laws)")
        ax.plot(d["component"], 100 * d["cumulative"], marker="o", color=colour, lw=1.5)
    ax.axhline(100 * paper, ls="--", color="#57606a", lw=1)
    ax.annotate(f"paper: 3 components explain {100 * paper:.2f}%", (1.0, 100 * paper),
                xytext=(0, -12), textcoords="offset points", fontsize=8, color="#57606a")
    ax.set_xticks(range(1, 6))
    ax.set_xlabel("component")
    ax.set_ylabel("variance explained (%)\nbars: each; lines: cumulative")
    ax.set_ylim(0, 102)
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    return _save(fig, path)


def baselines(frame: pl.DataFrame, path: Path, columns: Sequence[str]) -> Path:
    """Grouped horizontal bars: the full-data ARE of each column (baselines and fits) per
    family; bars beyond the axis are clipped and labelled."""
    df = frame.filter(pl.any_horizontal([pl.col(c).is_not_null() for c in columns]))
    fams = df["family"].to_list()
    fig, ax = plt.subplots(figsize=(7.5, 0.1 * len(fams) * len(columns) + 1.0))
    height = 0.8 / len(columns)
    top = float(np.nanmax(100 * df.select(columns).cast(pl.Float64).to_numpy())) if df.height \
        else 10.0
    limit = min(60.0, 1.1 * top) if np.isfinite(top) else 60.0
    y = np.arange(len(fams))
    for i, c in enumerate(columns):
        v = 100 * df[c].cast(pl.Float64).fill_null(np.nan).to_numpy()
        pos = y + (i - (len(columns) - 1) / 2) * height
        ax.barh(pos, np.clip(v, 0, limit), height=height, color=ESTIMATOR_COLOURS.get(c),
                label=c)
        for p, val in zip(pos, v, strict=True):
            if val > limit:
                ax.text(limit, p, f" {val:.0f}", va="center", fontsize=6.5)
    ax.set_yticks(y, fams, fontsize=8)
    ax.set_ylim(len(fams) - 0.5, -0.5)
    ax.set_xlim(0, limit * 1.08)
    ax.set_xlabel("ARE (%) with all smaller models and whole runs")
    ax.legend(fontsize=8, loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def lines(
    series: Sequence[tuple[str, pl.DataFrame, dict]],
    path: Path,
    *,
    x: str,
    xlabel: str,
    hline: float | None = None,
    ylim: float = 40.0,
) -> Path:
    """ARE (%) against ``x`` for several series ``(label, frame with x and are, style)``."""
    fig, ax = plt.subplots(figsize=(6.4, 3.9))
    for label, df, style in series:
        df = df.drop_nulls("are").sort(x)
        ax.plot(df[x], np.clip(100 * df["are"].to_numpy(), 0, ylim), label=label, **style)
    if hline is not None:
        ax.axhline(100 * hline, ls="--", color="#57606a", lw=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("ARE (%)")
    ax.set_ylim(0, ylim)
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    keep = [(h, lab) for h, lab in zip(handles, labels, strict=True) if not lab.startswith("_")]
    if keep:
        ax.legend(*zip(*keep, strict=True), fontsize=8)
    fig.tight_layout()
    return _save(fig, path)
