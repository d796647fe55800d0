"""The points each step fits, from one run's rows: the paper's "moving average" and skipping.

``methods/ladder.md`` Secs. 2-3 and quirk 5. Step 1 takes one point per run (the mean of its
last ``window`` rows, with the D of its last row); step 2 takes every row of a run after
skipping the first ceil(skip x rows) and smooths the rest with a trailing mean whose first
windows are partial. Nothing is smoothed in log space.
"""

from __future__ import annotations

import math

import numpy as np


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of points max(0, j - window + 1) ... j for every j (partial windows first).

    Examples
    --------
    >>> trailing_mean(np.array([1.0, 2.0, 3.0, 4.0]), 2).tolist()
    [1.0, 1.5, 2.5, 3.5]
    """
    values = np.asarray(values, float)
    if window <= 1:
        return values.copy()
    sums = np.cumsum(np.insert(values, 0, 0.0))
    j = np.arange(1, values.size + 1)
    start = np.maximum(0, j - window)
    return (sums[j] - sums[start]) / (j - start)


def skipped(n_rows: int, share: float) -> int:
    """Rows the code skips at the start of a run: ceil(share x rows), never the last row (a
    run evaluated once keeps its one row; the paper's runs have dozens).

    Examples
    --------
    >>> skipped(37, 0.1), skipped(73, 0.1), skipped(10, 0.0), skipped(1, 0.1)
    (4, 8, 0, 0)
    """
    return min(math.ceil(share * n_rows - 1e-12), max(n_rows - 1, 0))


def last_mean(values: np.ndarray, window: int) -> float:
    """Mean of the last ``window`` values (all of them when there are fewer): the step-1
    point of a run, and every target's actual value."""
    values = np.asarray(values, float)
    return float(values[-max(window, 1):].mean())


def step2_points(x: np.ndarray, y: np.ndarray, *, skip: float, window: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """One run's step-2 points: skip the first ceil(skip x n) rows, then smooth x and y
    separately with :func:`trailing_mean`."""
    k = skipped(len(x), skip)
    return (trailing_mean(np.asarray(x, float)[k:], window),
            trailing_mean(np.asarray(y, float)[k:], window))
