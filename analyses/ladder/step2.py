"""Step 2: task loss -> accuracy, a sigmoid fitted by least squares (one ``curve_fit`` run).

Bhagia et al. 2024, Eq. 2 and ``src/scaling/{fitting_functions,step2}.py``; ``methods/
ladder.md`` Sec. 3. Two forms:

- ``sigmoid``: Acc(x) = a / (1 + exp(-k (x - x0))) + b, a in [-1, 0], b in [0, 1];
- ``log-sigmoid`` (the TaskCE variant): Acc(x) = 1 - |a| ln(1 + exp(k (x - x0))), a <= 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

from analyses.ladder.fitted import LadderFit

MAXFEV = 500_000


def sigmoid(x: np.ndarray, a: float, x0: float, k: float, b: float) -> np.ndarray:
    """a / (1 + exp(-k (x - x0))) + b."""
    return a / (1 + np.exp(-k * (x - x0))) + b


def log_sigmoid(x: np.ndarray, a: float, x0: float, k: float) -> np.ndarray:
    """1 + (-a) ln(1 - sigma(k (x - x0))), written as the code writes it."""
    return 1 + (-a) * np.log(1 - 1 / (1 + np.exp(-k * (x - x0))))


@dataclass(frozen=True)
class Form:
    """A step-2 form: its function, parameter names and the code's bounds.

    Attributes
    ----------
    name : str
        ``sigmoid`` or ``log-sigmoid``.
    function : callable
        ``function(x, *theta)``.
    params : tuple of str
        Parameter names.
    bounds : tuple of (lower, upper) sequences
        As ``curve_fit`` takes them.
    """

    name: str
    function: object
    params: tuple[str, ...]
    bounds: tuple[tuple[float, ...], tuple[float, ...]]

    def p0(self, floor: float) -> tuple[float, ...]:
        """The code's start: (floor - 1, 0.9, 3, 1) for the sigmoid, (-0.1, 0.9, 3) else."""
        return (floor - 1.0, 0.9, 3.0, 1.0) if self.name == "sigmoid" else (-0.1, 0.9, 3.0)

    def predict(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Accuracy at task losses ``x``."""
        return self.function(np.asarray(x, float), *theta)


SIGMOID = Form("sigmoid", sigmoid, ("a", "x0", "k", "b"),
               ((-1.0, 0.0, 0.0, 0.0), (0.0, np.inf, np.inf, 1.0)))
LOG_SIGMOID = Form("log-sigmoid", log_sigmoid, ("a", "x0", "k"),
                   ((-np.inf, 0.0, 0.0), (0.0, np.inf, np.inf)))


def fit_step2(form: Form, x: np.ndarray, y: np.ndarray, *, floor: float,
              ideal: bool = True) -> LadderFit:
    """Fit ``form`` to (task loss, accuracy) points as the paper's code does.

    Parameters
    ----------
    form : Form
        ``SIGMOID`` or ``LOG_SIGMOID``.
    x, y : np.ndarray of shape (n,)
        Smoothed training points.
    floor : float
        The task's chance accuracy (the sigmoid's start a0 = floor - 1).
    ideal : bool, default=True
        Append the ideal point (x = 0, y = 1).

    Returns
    -------
    LadderFit

    Examples
    --------
    >>> x = np.linspace(0.6, 1.8, 40); y = sigmoid(x, -0.7, 1.0, 5.0, 0.95)
    >>> fit = fit_step2(SIGMOID, x, y, floor=0.25, ideal=False)
    >>> bool(np.allclose(fit.predict(x), y, atol=1e-6))
    True
    >>> fit_step2(SIGMOID, x, y, floor=0.25).n_points  # the ideal point (0, 1) appended
    41
    """
    x = np.asarray(x, float)
    y = np.asarray(y, float)
    fx, fy = (np.append(x, 0.0), np.append(y, 1.0)) if ideal else (x, y)
    theta, _ = curve_fit(form.function, fx, fy, p0=form.p0(floor), bounds=form.bounds,
                         maxfev=MAXFEV)
    lo, hi = form.bounds
    at_bound = np.any((theta <= np.asarray(lo)) | (theta >= np.asarray(hi)))
    pred = form.function(x, *theta)
    residual = form.function(fx, *theta) - fy
    return LadderFit(form, np.asarray(theta, float), float(np.sum(residual**2)),
                    "at_bound" if at_bound else "ok", float(np.mean(np.abs(pred - y) / y)),
                    fy.size)
