"""The ladder report's figures: step 1 and step 2 per task, the targets marked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from analyses.document import save_figure
from analyses.ladder.data import Run
from analyses.ladder.points import last_mean, step2_points
from analyses.ladder.study import STEP1, STEP2, Law, step1_inputs
from analyses.ladder.tasks import Task

DPI = 110
SIZE_COLOURS = ("#8c2d04", "#d95f0e", "#238b45", "#2c7fb8", "#6a51a3")
TARGET_COLOURS = ("#e7298a", "#525252")


def _coefficients(laws: Sequence[Law], name: str, task: Task) -> list[float]:
    law = next(x for x in laws if x.name == name and x.task == task.key)
    return list(law.coefficients.values())


def _grid(tasks: Sequence[Task]):
    import matplotlib.pyplot as plt

    cols = 4
    rows = -(-len(tasks) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
    for ax in axes.flat[len(tasks):]:
        ax.set_visible(False)
    return fig, axes.flat


def step1_figure(path: Path, laws: Sequence[Law], train: Sequence[Run],
                 targets: Sequence[Run], tasks: Sequence[Task]) -> Path:
    """Task loss against training FLOPs: the fitted points by size, the law along each
    size's runs and out to the targets, each target's actual (filled) and prediction (open)."""
    from analyses.ladder import step1

    spec = STEP1["step1_main"]
    fig, axes = _grid(tasks)
    sizes = sorted({r.num_params for r in train})
    for ax, task in zip(axes, tasks, strict=False):
        theta = _coefficients(laws, "step1_main", task)
        for colour, size in zip(SIZE_COLOURS, sizes, strict=False):
            runs = [r for r in train if r.num_params == size]
            c = np.array([r.flops[-1] for r in runs])
            y = [last_mean(r.series(task, spec.quantity), spec.window) for r in runs]
            ax.scatter(c, y, s=18, color=colour, label=f"{size / 1e6:.0f}M")
            d = np.geomspace(min(r.tokens[-1] for r in runs) / 2,
                             max(t.tokens[-1] for t in targets), 60)
            ax.plot(d * runs[0].flops[-1] / runs[0].tokens[-1],
                    step1.POWER.predict(theta, np.column_stack([np.full_like(d, size), d])),
                    color=colour, lw=0.8, alpha=0.7)
        for colour, t in zip(TARGET_COLOURS, targets, strict=False):
            c = t.flops[-1]
            actual = last_mean(t.series(task, spec.quantity), spec.window)
            pred = step1.POWER.predict(theta, step1_inputs(t, spec.form)[None])[0]
            name = t.model_id.split("/")[-1]
            ax.scatter([c], [actual], marker="*", s=90, color=colour, label=f"{name} actual")
            ax.scatter([c], [pred], marker="o", s=50, facecolors="none", edgecolors=colour,
                       label=f"{name} predicted")
        ax.set_xscale("log")
        ax.set_title(task.label, fontsize=10)
        ax.set_xlabel("training FLOPs", fontsize=8)
        ax.set_ylabel("task loss (bits per byte)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    return save_figure(fig, path, dpi=DPI)


def step2_figure(path: Path, laws: Sequence[Law], train: Sequence[Run],
                 targets: Sequence[Run], tasks: Sequence[Task]) -> Path:
    """Accuracy against task loss: the smoothed training points by size, the sigmoid, each
    target's observed (loss, accuracy) (filled) and its chained prediction (open)."""
    from analyses.ladder import step1, step2

    spec = STEP2["step2_main"]
    fig, axes = _grid(tasks)
    sizes = sorted({r.num_params for r in train})
    for ax, task in zip(axes, tasks, strict=False):
        theta = _coefficients(laws, "step2_main", task)
        for colour, size in zip(SIZE_COLOURS, sizes, strict=False):
            for i, r in enumerate(r for r in train if r.num_params == size):
                x, y = step2_points(r.series(task, spec.quantity), r.series(task, "acc"),
                                    skip=spec.skip, window=spec.window)
                ax.scatter(x, y, s=3, color=colour, alpha=0.5,
                           label=f"{size / 1e6:.0f}M" if i == 0 else None)
        lo = min(last_mean(t.series(task, spec.quantity), spec.window) for t in targets)
        grid = np.linspace(0.8 * lo, max(ax.get_xlim()[1], lo), 200)
        ax.plot(grid, step2.sigmoid(grid, *theta), color="black", lw=1)
        step1_theta = _coefficients(laws, "step1_main", task)
        chained = next(x for x in laws if x.name == "chained_main" and x.task == task.key)
        for colour, t in zip(TARGET_COLOURS, targets, strict=False):
            x = last_mean(t.series(task, spec.quantity), spec.window)
            y = last_mean(t.series(task, "acc"), spec.window)
            loss = step1.POWER.predict(step1_theta, step1_inputs(t, step1.POWER)[None])
            name = t.model_id.split("/")[-1]
            ax.scatter([x], [y], marker="*", s=90, color=colour, label=f"{name} actual")
            ax.scatter(loss, [chained.predictions[t.model_id][1]], marker="o", s=50,
                       facecolors="none", edgecolors=colour, label=f"{name} chained")
        ax.set_title(task.label, fontsize=10)
        ax.set_xlabel("task loss (bits per byte)", fontsize=8)
        ax.set_ylabel("accuracy", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    return save_figure(fig, path, dpi=DPI)
