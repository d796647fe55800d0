"""Step 1: (N, D) -> task loss, a power law fitted with a log-Huber loss (one L-BFGS-B run).

Bhagia et al. 2024, Eq. 1 and ``src/scaling/{fitting_functions,step1}.py``; ``methods/
ladder.md`` Sec. 2. Three forms, evaluated as the code evaluates them:

- ``power``: L(N, D) = exp(a - alpha ln N) + exp(b - beta ln D) + E;
- ``flops``: L(C) = exp(a - alpha ln C) + E, C = D x training FLOPs per token;
- ``accuracy``: Acc(N, D) = -exp(a - alpha ln N) - exp(b - beta ln D) + E (the single-step
  baseline fitted to accuracy, which fails as published).

The objective is sum_i Huber_delta(ln f(x_i) - ln y_i), delta = 1e-3, minimised by one
``scipy.optimize.minimize`` L-BFGS-B run with the analytic gradient from the code's p0. A
handful of laws is fitted (one per task and variant), so each is one scipy call: that is the
protocol being reproduced, not a batch fit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from analyses.ladder.fitted import LadderFit

DELTA = 1e-3


@dataclass(frozen=True)
class Form:
    """A step-1 form: its parameter names, p0, bounds and sign of the power terms.

    Attributes
    ----------
    name : str
        ``power``, ``flops`` or ``accuracy``.
    params : tuple of str
        Parameter names in the order of the code's vector.
    p0 : tuple of float
        The code's starting values.
    bounds : tuple of (float or None, float or None)
        L-BFGS-B bounds per parameter.
    sign : float
        +1 for losses, -1 for the accuracy form (terms subtracted from E).
    """

    name: str
    params: tuple[str, ...]
    p0: tuple[float, ...]
    bounds: tuple[tuple[float | None, float | None], ...]
    sign: float = 1.0

    @property
    def n_inputs(self) -> int:
        """1 for the FLOPs form (C), 2 otherwise (N, D)."""
        return 1 if self.name == "flops" else 2

    def terms(self, theta: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
        """The prediction at ``x`` (n, inputs) and its derivative per parameter (inf or NaN
        where a trial step of the optimizer overflows: the line search backs off)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return self._terms(theta, np.log(x))

    def _terms(self, theta: np.ndarray, logs: np.ndarray
               ) -> tuple[np.ndarray, list[np.ndarray]]:
        if self.n_inputs == 1:
            a, alpha, e = theta
            t = np.exp(a - alpha * logs[:, 0])
            return t + e, [t, -logs[:, 0] * t, np.ones_like(t)]
        a, b, alpha, beta, e = theta
        t1 = np.exp(a - alpha * logs[:, 0])
        t2 = np.exp(b - beta * logs[:, 1])
        s = self.sign
        pred = s * (t1 + t2) + e
        return pred, [s * t1, s * t2, -s * logs[:, 0] * t1, -s * logs[:, 1] * t2,
                      np.ones_like(t1)]

    def predict(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The law at inputs ``x`` of shape (n, 2) for (N, D) or (n, 1) for C."""
        return self.terms(np.asarray(theta, float), np.atleast_2d(np.asarray(x, float)))[0]


POWER = Form("power", ("a", "b", "alpha", "beta", "E"), (3.0, 6.0, 0.1, 0.2, 1.0),
             ((0, None),) * 5)
FLOPS = Form("flops", ("a", "alpha", "E"), (3.0, 0.1, 1.0), ((0, None), (0, 1), (0, None)))
ACCURACY = Form("accuracy", ("a", "b", "alpha", "beta", "E"), (2.0, 2.0, 0.2, 0.2, 1.0),
                ((0, None), (0, None), (0, None), (None, None), (None, None)), sign=-1.0)
FORMS = {f.name: f for f in (POWER, FLOPS, ACCURACY)}


def objective(theta: np.ndarray, form: Form, x: np.ndarray, y: np.ndarray,
              delta: float = DELTA) -> tuple[float, np.ndarray]:
    """Sum of Huber(ln f(x) - ln y) and its gradient (NaN where f(x) <= 0, as the code)."""
    pred, grads = form.terms(theta, x)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        r = np.log(pred) - np.log(y)
        small = np.abs(r) < delta
        loss = np.where(small, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
        dr = np.where(small, r, delta * np.sign(r)) / pred
        return float(loss.sum()), np.array([float((dr * g).sum()) for g in grads])


def fit_step1(form: Form, x: np.ndarray, y: np.ndarray, *, delta: float = DELTA,
              p0: tuple[float, ...] | None = None) -> LadderFit:
    """Fit ``form`` to points ``x`` (n, inputs) and targets ``y`` (n,) as the paper's code.

    Parameters
    ----------
    form : Form
        ``POWER``, ``FLOPS`` or ``ACCURACY``.
    x : np.ndarray of shape (n, 2) or (n, 1)
        (N, D) or C per point.
    y : np.ndarray of shape (n,)
        Task loss (or accuracy) per point.
    delta : float, default=1e-3
        Huber threshold on log residuals.
    p0 : tuple of float, optional
        Start; the code's ``form.p0`` by default.

    Returns
    -------
    LadderFit

    References
    ----------
    Bhagia et al. 2024, Sec. 3.1; ``methods/ladder.md`` Sec. 2.

    Examples
    --------
    >>> n = np.array([1e8, 1e8, 1e9, 1e9]); d = np.array([2e9, 2e10, 2e10, 2e11])
    >>> x = np.column_stack([n, d]); truth = np.array([4.0, 5.0, 0.3, 0.3, 0.5])
    >>> fit = fit_step1(POWER, x, POWER.predict(truth, x))
    >>> bool(np.allclose(fit.predict(x), POWER.predict(truth, x), rtol=1e-3))
    True
    """
    x = np.atleast_2d(np.asarray(x, float))
    y = np.asarray(y, float)
    start = np.array(form.p0 if p0 is None else p0, float)
    res = minimize(objective, start, args=(form, x, y, delta), jac=True, method="L-BFGS-B",
                   bounds=form.bounds,
                   options={"ftol": 0.0, "gtol": 1e-10, "maxiter": 1_000_000})
    theta = np.asarray(res.x, float)
    pred = form.predict(theta, x)
    value = float(res.fun)
    if not np.isfinite(value):
        status = "nan_objective"
    elif res.nit >= 1_000_000:
        status = "max_iter"
    elif any((lo is not None and t == lo) or (hi is not None and t == hi)
             for t, (lo, hi) in zip(theta, form.bounds, strict=True)):
        status = "at_bound"
    else:
        status = "ok"
    return LadderFit(form, theta, value, status, float(np.mean(np.abs(pred - y) / y)), y.size)
