"""Sigmoid regressions of a downstream score on capability (or compute) measures.

The released ``fit_multivariate_regression_model`` with a design matrix ``[1, x]``:

- ``"sigmoid"``: y = sigma(alpha + beta'x);
- ``"sigmoid-parametric"`` (fixed height, the code's default branch):
  y = (1 - b) * sigma(alpha + beta'x) + b, b in [0, ``max_floor``] (0.2), i.e.
  y = h * sigma(.) + (1 - h), h in [0.8, 1]: a floor 1 - h and a ceiling fixed at 1.

Losses:

- ``"ols"``: ``scipy.optimize.curve_fit`` (sum of squares, ``maxfev=10000``);
  trust-region-reflective with the bound on b, Levenberg-Marquardt without bounds;
- ``"huber"`` (the code's ``reg_method="robust"``): sum of Huber(delta) residual losses,
  ``scipy.optimize.minimize`` with L-BFGS-B (bounded) or BFGS. The notebooks use delta = 1,
  which on targets in [0, 1] is half the squared error, i.e. least squares by another optimiser.

The start is the code's: alpha = 0, every beta = 0.03, b = 0.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit, minimize

from warehouse.errors import MetaError, UnknownName
from warehouse.validation import POSITIVE_FLOAT, check_fitted, validate

NONLINEARITIES = ("sigmoid", "sigmoid-parametric")
LOSSES = ("ols", "huber")
BETA0 = 0.03


def sigmoid(z):
    """The logistic function ``1 / (1 + exp(-z))`` (0 without a warning where exp overflows)."""
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-z))


@dataclass(frozen=True)
class SigmoidParams:
    """Fitted parameters of one sigmoid regression.

    Attributes
    ----------
    alpha : float
        Intercept of the linear score.
    beta : tuple of float
        Weights of the features (one per column of x).
    floor : float
        b, the floor of the sigmoid; 0 for the plain sigmoid. The height is ``1 - floor``.
    """

    alpha: float
    beta: tuple[float, ...]
    floor: float

    @property
    def height(self) -> float:
        """h = 1 - b."""
        return 1.0 - self.floor

    def score(self, x) -> np.ndarray:
        """The linear score ``alpha + x @ beta`` of rows ``x`` (n, k)."""
        return self.alpha + np.asarray(x, dtype=float) @ np.asarray(self.beta)

    def curve(self, z) -> np.ndarray:
        """y as a function of the linear score z."""
        return self.height * sigmoid(np.asarray(z, dtype=float)) + self.floor

    def to_dict(self) -> dict:
        """JSON-able ``alpha``, ``beta``, ``floor`` and ``height``."""
        return {"alpha": self.alpha, "beta": list(self.beta), "floor": self.floor,
                "height": self.height}


class SigmoidRegression:
    """y = h * sigma(alpha + beta'x) + (1 - h), fitted as the paper's code does.

    Parameters
    ----------
    nonlinearity : {"sigmoid-parametric", "sigmoid"}, default="sigmoid-parametric"
    loss : {"ols", "huber"}, default="ols"
    delta : float, default=1.0
        Huber threshold (``loss="huber"`` only).
    max_floor : float, default=0.2
        Upper bound of the floor b (the code's ``sigmoid_param_range_width``).

    Attributes
    ----------
    params_ : SigmoidParams
    success_ : bool
        The optimiser reported success.
    message_ : str

    Examples
    --------
    >>> import numpy as np
    >>> x = np.linspace(-3, 3, 40)[:, None]
    >>> y = 0.9 * (1 / (1 + np.exp(-(0.5 + 2.0 * x[:, 0])))) + 0.1
    >>> fit = SigmoidRegression().fit(x, y)
    >>> [round(v, 3) for v in (fit.params_.alpha, fit.params_.beta[0], fit.params_.floor)]
    [0.5, 2.0, 0.1]
    """

    def __init__(self, nonlinearity: str = "sigmoid-parametric", *, loss: str = "ols",
                 delta: float = 1.0, max_floor: float = 0.2):
        self.nonlinearity = nonlinearity
        self.loss = loss
        self.delta = delta
        self.max_floor = max_floor

    def _validate(self) -> None:
        if self.nonlinearity not in NONLINEARITIES:
            raise UnknownName("nonlinearity", self.nonlinearity, NONLINEARITIES)
        if self.loss not in LOSSES:
            raise UnknownName("loss", self.loss, LOSSES)
        validate(self, {"delta": POSITIVE_FLOAT})

    def fit(self, x, y) -> SigmoidRegression:
        """Fit on features ``x`` (n, k) and targets ``y`` (n,)."""
        self._validate()
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        if x.shape[0] != y.shape[0] or not np.isfinite(x).all() or not np.isfinite(y).all():
            raise MetaError("SigmoidRegression needs finite x (n, k) and y (n,) of equal length.")
        k = x.shape[1]
        if x.shape[0] < 2:
            raise MetaError(f"SigmoidRegression needs at least 2 training rows; got {x.shape[0]}.")
        design = np.column_stack([np.ones(len(x)), x])
        parametric = self.nonlinearity == "sigmoid-parametric"
        p0 = np.concatenate([[0.0], np.full(k, BETA0), [0.0] if parametric else []])
        lower = np.full(p0.size, -np.inf)
        upper = np.full(p0.size, np.inf)
        if parametric:
            lower[-1], upper[-1] = 0.0, self.max_floor

        def model(X, *p):
            p = np.asarray(p)
            if parametric:
                b = p[-1]
                return (1.0 - b) * sigmoid(X @ p[:-1]) + b
            return sigmoid(X @ p)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            warnings.simplefilter("ignore", RuntimeWarning)
            if self.loss == "ols":
                try:
                    bounds = (lower, upper) if parametric else (-np.inf, np.inf)
                    popt, _ = curve_fit(model, design, y, p0=p0, maxfev=10000, bounds=bounds)
                    self.success_, self.message_ = True, "curve_fit converged"
                except RuntimeError as e:
                    popt, self.success_, self.message_ = p0.copy(), False, str(e)
            else:
                delta = float(self.delta)

                def objective(p):
                    r = model(design, *p) - y
                    a = np.abs(r)
                    return np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta)).sum()

                # The code's bounds are [-inf, inf] for alpha and beta; None means the same to
                # L-BFGS-B (identical iterates; benchmarks/bench_choices.py times both).
                method = "L-BFGS-B" if parametric else "BFGS"
                bounds = [(None, None)] * (p0.size - 1) + [(0.0, self.max_floor)]
                res = minimize(objective, p0, method=method, bounds=bounds if parametric else None)
                popt, self.success_, self.message_ = res.x, bool(res.success), str(res.message)
        floor = float(popt[-1]) if parametric else 0.0
        beta = popt[1:-1] if parametric else popt[1:]
        self.params_ = SigmoidParams(float(popt[0]), tuple(float(b) for b in beta), floor)
        return self

    def predict(self, x) -> np.ndarray:
        """Predicted y of rows ``x`` (n, k)."""
        check_fitted(self, "params_")
        x = np.asarray(x, dtype=float)
        if x.ndim == 1:
            x = x[:, None]
        return self.params_.curve(self.params_.score(x))

    def score_of(self, x) -> np.ndarray:
        """The fitted linear score ``alpha + beta'x`` of rows ``x``."""
        check_fitted(self, "params_")
        x = np.asarray(x, dtype=float)
        return self.params_.score(x[:, None] if x.ndim == 1 else x)


def mse(predicted, actual) -> float:
    """Mean squared error; NaN for no rows."""
    predicted, actual = np.asarray(predicted, float), np.asarray(actual, float)
    return float(np.mean((predicted - actual) ** 2)) if predicted.size else math.nan
