"""Linear regressions of fitted law parameters on compressibility H (Pandey 2024, Eq. 4).

For every parameter x of the per-corpus laws, x(H) = m_x · H + n_x by ordinary least squares
over the corpora of one run set, with the two-sided p-value of the slope (Student t, n - 2
degrees of freedom; ``scipy.stats.linregress``). The paper regresses the raw parameters (its
Tab. 3); because A and B span orders of magnitude, ``log10_A`` and ``log10_B`` are regressed too
and are what the data-dependent frontier uses (a line in raw A can cross zero).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from warehouse.jsonsafe import finite_or_none

NAMES = ("E", "A", "B", "alpha", "beta", "log10_A", "log10_B")


@dataclass(frozen=True)
class Regression:
    """OLS lines ``x(H) = slope · H + intercept``, one per parameter.

    Attributes
    ----------
    names : tuple of str
        Parameters regressed (``E, A, B, alpha, beta, log10_A, log10_B``).
    slope, intercept : ndarray, shape (n_params,)
    slope_se, intercept_se : ndarray, shape (n_params,)
        Standard errors; NaN with fewer than 3 corpora.
    r : ndarray, shape (n_params,)
        Pearson correlation of x and H.
    p_value : ndarray, shape (n_params,)
        Two-sided p-value of slope = 0; NaN with fewer than 3 corpora.
    n : int
        Corpora used.
    h_min, h_max : float
        Range of H the lines were fitted on.

    Examples
    --------
    >>> h = np.array([0.1, 0.2, 0.3, 0.4])
    >>> p = np.column_stack([1 + h, np.full(4, 10.0), np.full(4, 20.0), 0.5 - h, 0.4 - 0.5 * h])
    >>> reg = regress_on_h(h, p)
    >>> round(float(reg.slope[0]), 6), round(float(reg.crossing("alpha", "beta")), 6)
    (1.0, 0.2)
    """

    names: tuple[str, ...]
    slope: np.ndarray
    intercept: np.ndarray
    slope_se: np.ndarray
    intercept_se: np.ndarray
    r: np.ndarray
    p_value: np.ndarray
    n: int
    h_min: float
    h_max: float

    def line(self, name: str) -> tuple[float, float]:
        """(slope, intercept) of parameter ``name``."""
        i = self.names.index(name)
        return float(self.slope[i]), float(self.intercept[i])

    def at(self, name: str, h) -> np.ndarray:
        """The regressed value of ``name`` at ``h``."""
        m, c = self.line(name)
        return m * np.asarray(h, dtype=float) + c

    def crossing(self, first: str, second: str) -> float:
        """H where the lines of two parameters meet (NaN when parallel)."""
        m1, c1 = self.line(first)
        m2, c2 = self.line(second)
        return (c2 - c1) / (m1 - m2) if m1 != m2 else float("nan")

    def to_rows(self) -> list[dict]:
        """One JSON-able dict per parameter."""
        columns = ("slope", "intercept", "slope_se", "intercept_se", "r", "p_value")
        return [{"param": n, **{c: finite_or_none(getattr(self, c)[i]) for c in columns},
                 "n": self.n}
                for i, n in enumerate(self.names)]


def regress_on_h(h, params) -> Regression:
    """OLS of each Chinchilla parameter (and log10 A, log10 B) on H.

    Parameters
    ----------
    h : array of shape (n_corpora,)
        Compressibility of each corpus.
    params : array of shape (n_corpora, 5)
        ``E, A, B, alpha, beta`` of each corpus's law; rows with a NaN are left out.

    Returns
    -------
    Regression

    References
    ----------
    Pandey 2024, Eq. 4 and Tab. 3.
    """
    h = np.asarray(h, dtype=float)
    params = np.asarray(params, dtype=float).reshape(len(h), 5)
    with np.errstate(divide="ignore", invalid="ignore"):
        X = np.column_stack([params, np.log10(params[:, 1]), np.log10(params[:, 2])])
    ok = np.isfinite(h) & np.isfinite(X).all(1)
    h, X = h[ok], X[ok]
    k = X.shape[1]
    out = {key: np.full(k, np.nan) for key in ("slope", "intercept", "slope_se",
                                                 "intercept_se", "r", "p_value")}
    if len(h) >= 2 and np.ptp(h) > 0:
        for j in range(k):
            if len(h) >= 3:
                fit = stats.linregress(h, X[:, j])
                out["slope"][j], out["intercept"][j] = fit.slope, fit.intercept
                out["slope_se"][j], out["intercept_se"][j] = fit.stderr, fit.intercept_stderr
                out["r"][j], out["p_value"][j] = fit.rvalue, fit.pvalue
            else:
                m = (X[1, j] - X[0, j]) / (h[1] - h[0])
                out["slope"][j], out["intercept"][j] = m, X[0, j] - m * h[0]
    return Regression(NAMES, **out, n=int(len(h)),
                      h_min=float(h.min()) if len(h) else float("nan"),
                      h_max=float(h.max()) if len(h) else float("nan"))
