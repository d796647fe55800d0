"""The compute-optimal frontier of Chinchilla laws and where it crosses the 1:1 line.

Minimising ``L = E + A/N^alpha + B/D^beta`` under ``C = 6 N D`` gives (Hoffmann et al. 2022,
Eq. 4; Pandey 2024, Eq. 2)

    N_opt(C) = G · (C/6)^a,   D_opt(C) = G^-1 · (C/6)^b,
    G = (alpha A / (beta B))^(1/(alpha+beta)),  a = beta/(alpha+beta),  b = alpha/(alpha+beta).

Chinchilla's "1:1" frontier scales parameters and data equally, a = b = 1/2, which holds
exactly when alpha = beta. A corpus whose a < 1/2 puts more of each extra FLOP into data
(the frontier "moves toward data"). The crossing of the 1:1 line is found two ways:

- between corpora: linear interpolation of each corpus's a against H where it passes 1/2;
- on the data-dependent law (Eq. 5): where the regression lines alpha(H) and beta(H) meet
  (on Eq. 6's blend of it with Hoffmann's law: ``BlendedLaw.crossing`` of
  :mod:`analyses.complexity.blend`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyses.complexity.regression import Regression
from warehouse.jsonsafe import finite_or_none

ONE_TO_ONE = 0.5


def optimal_allocation(params, compute) -> tuple[np.ndarray, np.ndarray]:
    """N_opt and D_opt of Chinchilla laws at compute budgets (Eq. 2).

    Parameters
    ----------
    params : array of shape (n_laws, 5) or (5,)
        ``E, A, B, alpha, beta``.
    compute : array of shape (n_c,)
        FLOPs C (= 6 N D).

    Returns
    -------
    n_opt, d_opt : ndarray, shape (n_laws, n_c)

    Examples
    --------
    >>> n, d = optimal_allocation([1.69, 406.4, 410.7, 0.34, 0.28], [5.76e23])
    >>> f"{n[0, 0]:.3g}", bool(np.isclose(6 * n[0, 0] * d[0, 0], 5.76e23))
    ('3.22e+10', True)
    """
    p = np.atleast_2d(np.asarray(params, dtype=float))
    c = np.atleast_1d(np.asarray(compute, dtype=float))[None, :]
    _, A, B, alpha, beta = (p[:, i:i + 1] for i in range(5))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        g = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
        n_opt = g * (c / 6.0) ** (beta / (alpha + beta))
    return n_opt, (c / 6.0) / n_opt


def exponent(params) -> np.ndarray:
    """``a = beta / (alpha + beta)``, the exponent of N_opt in C, per law."""
    p = np.atleast_2d(np.asarray(params, dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        return p[:, 4] / (p[:, 3] + p[:, 4])


def crossings(h, values, level: float = ONE_TO_ONE) -> list[float]:
    """H values where ``values`` (ordered by H) cross ``level``, by linear interpolation.

    Examples
    --------
    >>> crossings([0.1, 0.3, 0.5], [0.6, 0.55, 0.35])
    [0.35]
    """
    h = np.asarray(h, dtype=float)
    v = np.asarray(values, dtype=float)
    ok = np.isfinite(h) & np.isfinite(v)
    order = np.argsort(h[ok])
    h, v = h[ok][order], v[ok][order] - level
    out = []
    for i in range(len(h) - 1):
        if v[i] == 0:
            out.append(float(h[i]))
        elif v[i] * v[i + 1] < 0:
            out.append(float(h[i] - v[i] * (h[i + 1] - h[i]) / (v[i + 1] - v[i])))
    if len(v) and v[-1] == 0:
        out.append(float(h[-1]))
    return [round(x, 12) for x in out]


@dataclass(frozen=True)
class Frontier:
    """Compute-optimal allocation of one run set's corpora.

    Attributes
    ----------
    h : ndarray, shape (n_corpora,)
        Compressibility of each corpus.
    exponent : ndarray, shape (n_corpora,)
        ``a = beta/(alpha+beta)`` of each corpus's law (N_opt ∝ C^a); 1/2 is the 1:1 line.
    exponent_slope : float
        OLS slope of ``a`` on H; negative means the frontier moves toward data as H rises.
    crossings : list of float
        H where the per-corpus ``a`` crosses 1/2 (linear interpolation between corpora).
    regression_crossing : float
        H where the regression lines alpha(H) and beta(H) meet (a(H) = 1/2 on Eq. 5's law);
        NaN without a regression.
    compute : ndarray, shape (n_c,)
        FLOPs at which ``n_opt`` and ``d_opt`` are given.
    n_opt, d_opt : ndarray, shape (n_corpora, n_c)
        Eq. 2 per corpus.
    """

    h: np.ndarray
    exponent: np.ndarray
    exponent_slope: float
    crossings: list[float]
    regression_crossing: float
    compute: np.ndarray
    n_opt: np.ndarray
    d_opt: np.ndarray

    @property
    def toward_data(self) -> bool:
        """True when N_opt's exponent falls as H rises (more data per FLOP at higher H)."""
        return bool(self.exponent_slope < 0)

    def to_dict(self) -> dict:
        """JSON-able fields."""
        def nums(a):
            return [finite_or_none(x) for x in np.ravel(a)]

        return {
            "h": nums(self.h),
            "exponent_n": nums(self.exponent),
            "exponent_slope": finite_or_none(self.exponent_slope),
            "toward_data": self.toward_data,
            "crossings": self.crossings,
            "regression_crossing": finite_or_none(self.regression_crossing),
            "compute": nums(self.compute),
            "n_opt": [nums(r) for r in self.n_opt],
            "d_opt": [nums(r) for r in self.d_opt],
        }


def frontier(h, params, regression: Regression | None = None,
             compute=(1e15, 1e17, 1e19, 1e21)) -> Frontier:
    """The frontier of each corpus's law and its crossings of the 1:1 line.

    Parameters
    ----------
    h : array of shape (n_corpora,)
    params : array of shape (n_corpora, 5)
        ``E, A, B, alpha, beta`` per corpus.
    regression : Regression, optional
        Regression of the parameters on H (for the Eq. 5 crossing).
    compute : sequence of float
        FLOPs at which N_opt and D_opt are tabulated.

    Returns
    -------
    Frontier
    """
    h = np.asarray(h, dtype=float)
    params = np.asarray(params, dtype=float).reshape(len(h), 5)
    a = exponent(params)
    ok = np.isfinite(a) & np.isfinite(h)
    slope = float(np.polyfit(h[ok], a[ok], 1)[0]) if ok.sum() >= 2 and np.ptp(h[ok]) > 0 \
        else float("nan")
    n_opt, d_opt = optimal_allocation(params, compute)
    cross = regression.crossing("alpha", "beta") if regression is not None else float("nan")
    return Frontier(h, a, slope, crossings(h, a), cross, np.asarray(compute, dtype=float),
                    n_opt, d_opt)
