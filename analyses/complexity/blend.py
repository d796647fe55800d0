"""The ε-adjusted Chinchilla law (Pandey 2024, Eq. 6) and a choice of ε from the runs.

Eq. 6 blends Hoffmann et al.'s constants x' with the data-dependent law of Eq. 5, whose
parameters are the OLS lines x(H) = m_x·H + n_x of :mod:`analyses.complexity.regression`:

    L(N, D, H) = E_ε + A_ε / N^alpha_ε + B_ε / D^beta_ε,
    x_ε = (1 - ε)·x' + ε·x(H)                        for x in E, alpha, beta (the paper's form),
    A_ε = A'^(1 - ε) · A(H)^ε,   A(H) = 10^(m·H + n) of the log10 A line   (B likewise).

**A and B are blended on the log scale**, not as the paper prints them, for three reasons:

- the per-corpus A and B span up to seven orders of magnitude, so their raw OLS lines are set by
  the largest values and cross zero inside the fitted range of H (on the paper's own runs the raw
  B line is negative at its H = 0.61 corpus); the log10 lines, which the frontier already uses,
  are positive everywhere;
- the arithmetic blend (1 - ε)·406.4 + ε·A(H) with A(H) near 1e10 is A(H) for any ε above
  1e-6, so ε would act on A, B as a switch; blended on the log scale, log A_ε - alpha_ε·log N
  (the log of the N term, the parameterisation that ``huber-lbfgs`` fits) is linear in ε, as
  E_ε, alpha_ε and beta_ε are;
- both forms agree at ε = 0 (Hoffmann's law) and ε = 1 (Eq. 5 with the log10 lines).

A blended parameter that is not a positive finite number (the domain of the ``chinchilla``
form: an extrapolated line can make E, alpha or beta negative) is NaN, and so is every loss
predicted from it.

The paper gives no value of ε. :func:`study_epsilon` chooses one from the runs: the ε on a
0.01 grid of [0, 1] (:data:`EPSILON_GRID`) whose law, with regressions fitted without corpus
k, best predicts corpus k's final losses (mean absolute relative error over every run of every
held-out corpus: leave-one-corpus-out). Because ε is then tuned on those same held-out
errors, the study also re-chooses ε without each corpus (an inner leave-one-corpus-out over
the others) and scores corpus k with it: the held-out error of the whole procedure.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from analyses.complexity.frontier import exponent, optimal_allocation
from analyses.complexity.regression import Regression, regress_on_h
from analyses.laws import get_form
from warehouse.errors import MetaError
from warehouse.validation import Constraint, interval, is_real, validate

# Hoffmann et al. 2022, Approach 3 (Eq. 10): E', A', B', alpha', beta'.
HOFFMANN = (1.69, 406.4, 410.7, 0.34, 0.28)
# The ε searched by study_epsilon: 0, 0.01, ..., 1 (i / 100 is the nearest double to each).
EPSILON_GRID = np.arange(101) / 100
_FORM = get_form("chinchilla")
_LINEAR = ((0, "E"), (3, "alpha"), (4, "beta"))
_SCALE = ((1, "A"), (2, "B"))


_CONSTRAINTS = {
    "epsilon": interval(float, 0, 1, closed="both"),
    "chinchilla": Constraint("5 positive numbers E, A, B, alpha, beta",
                             lambda v: isinstance(v, tuple | list) and len(v) == 5
                             and all(is_real(x) and 0 < x < math.inf for x in v)),
}


def parse_epsilon(value) -> float | None:
    """The ``--epsilon`` option: a number in [0, 1], or ``'fit'`` (and None) to choose it.

    Examples
    --------
    >>> parse_epsilon("0.25"), parse_epsilon("fit")
    (0.25, None)
    """
    if value is None or value == "fit":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not 0 <= number <= 1:
        raise MetaError(f"--epsilon must be a number in [0, 1] or 'fit'; got {value!r}.")
    return number


@dataclass(frozen=True)
class BlendedLaw:
    """Eq. 6: Hoffmann's law blended with weight ε into the regression lines on H.

    Parameters
    ----------
    regression : Regression
        The lines x(H) of one run set (:func:`~analyses.complexity.regression.regress_on_h`);
        ``E``, ``alpha``, ``beta``, ``log10_A`` and ``log10_B`` are used.
    epsilon : float
        Weight of the data-dependent law, in [0, 1]: 0 is Hoffmann's law whatever the
        regression, 1 is Eq. 5.
    chinchilla : tuple of 5 float, default=HOFFMANN
        ``E', A', B', alpha', beta'``, each a positive finite number.

    Examples
    --------
    >>> h = np.array([0.1, 0.3, 0.5])
    >>> reg = regress_on_h(h, np.column_stack([1 + h, 10 ** (4 - 2 * h), np.full(3, 1e3),
    ...                                        0.6 - 0.4 * h, np.full(3, 0.4)]))
    >>> law = BlendedLaw(reg, 0.5)
    >>> [round(float(x), 4) for x in law.params_at(0.5)]
    [1.595, 637.4951, 640.8588, 0.37, 0.34]
    >>> round(law.crossing, 4)  # 0.17 + 0.5 (0.6 - 0.4 H) = 0.14 + 0.5 · 0.4
    0.65
    """

    regression: Regression
    epsilon: float
    chinchilla: tuple[float, ...] = HOFFMANN

    def __post_init__(self) -> None:
        validate(self, _CONSTRAINTS)

    def params_at(self, h) -> np.ndarray:
        """``E, A, B, alpha, beta`` of the blended law at ``h``; shape ``h.shape + (5,)``.

        Entries that are not positive and finite are NaN.
        """
        h = np.asarray(h, dtype=float)
        prime = np.asarray(self.chinchilla, dtype=float)
        e = float(self.epsilon)
        if e == 0:
            return np.broadcast_to(prime, h.shape + (5,)).copy()
        out = np.empty(h.shape + (5,))
        with np.errstate(over="ignore", invalid="ignore"):
            for i, name in _LINEAR:
                out[..., i] = (1 - e) * prime[i] + e * self.regression.at(name, h)
            for i, name in _SCALE:
                out[..., i] = prime[i] ** (1 - e) * (10.0 ** self.regression.at(
                    f"log10_{name}", h)) ** e
            return np.where(np.isfinite(out) & (out > 0), out, np.nan)

    def predict(self, n, d, h) -> np.ndarray:
        """Eq. 6's loss at parameters ``n``, tokens ``d`` and compressibility ``h`` (broadcast).

        Examples
        --------
        >>> reg = regress_on_h([0.1, 0.5], np.ones((2, 5)))
        >>> round(float(BlendedLaw(reg, 0.0).predict(70e9, 1.4e12, 0.3)), 4)
        1.9366
        """
        n, d, h = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (n, d, h)))
        params = self.params_at(h.ravel())
        return _FORM.predict(params, n.ravel()[:, None], d.ravel()[:, None])[:, 0].reshape(
            n.shape)

    def allocation(self, h, compute) -> tuple[np.ndarray, np.ndarray]:
        """N_opt and D_opt (Eq. 2) of the blended law at each ``h``: shape (n_h, n_c) each."""
        return optimal_allocation(self.params_at(np.atleast_1d(h)), compute)

    def exponent_at(self, h) -> np.ndarray:
        """``a = beta_ε / (alpha_ε + beta_ε)`` at each ``h`` (N_opt ∝ C^a; 1/2 is 1:1)."""
        return exponent(self.params_at(np.atleast_1d(h)))

    @property
    def crossing(self) -> float:
        """H where the blended frontier crosses the 1:1 line (alpha_ε(H) = beta_ε(H)).

        Both are lines in H; NaN when they are parallel (always at ε = 0, as Hoffmann's
        alpha' ≠ beta') or meet where they are not positive.
        """
        e = float(self.epsilon)
        m_a, n_a = self.regression.line("alpha")
        m_b, n_b = self.regression.line("beta")
        slope = e * (m_a - m_b)
        if not (math.isfinite(slope) and slope != 0):
            return float("nan")
        h = -((1 - e) * (self.chinchilla[3] - self.chinchilla[4]) + e * (n_a - n_b)) / slope
        return float(h) if np.isfinite(self.params_at(h)[3:]).all() else float("nan")


def _are(predicted, loss) -> float:
    """Mean absolute relative error of ``predicted`` against ``loss`` (NaN if any is NaN)."""
    loss = np.asarray(loss, dtype=float)
    return float(np.mean(np.abs(np.asarray(predicted) - loss) / loss))


def _held_out(h, params, points, members, grid, prime) -> np.ndarray:
    """Mean ARE of each corpus k of ``members`` at each ε of ``grid``, the regression fitted on
    the other members: shape (len(grid), len(members))."""
    out = np.full((len(grid), len(members)), np.nan)
    for j, k in enumerate(members):
        rest = [i for i in members if i != k]
        reg = regress_on_h(h[rest], params[rest])
        n, d, loss = points[k]
        for i, e in enumerate(grid):
            out[i, j] = _are(BlendedLaw(reg, float(e), prime).predict(n, d, h[k]), loss)
    return out


def _argmin(curve) -> float:
    """The ε of :data:`EPSILON_GRID` with the lowest error (ε = 0 is always finite)."""
    return float(EPSILON_GRID[np.nanargmin(curve)])


METHODS = {
    "chinchilla": "Hoffmann's law (Eq. 6, ε = 0)",
    "eq5": "Eq. 5, the regression lines (ε = 1)",
    "eq6": "Eq. 6",
    "eq6_nested": "Eq. 6, ε re-chosen without the held-out corpus",
    "own_law": "each corpus's own law (Eq. 1, reference)",
}


@dataclass(frozen=True)
class EpsilonStudy:
    """ε chosen from one run set's runs, and the errors of Hoffmann's law, Eq. 5 and Eq. 6.

    ARE is the absolute relative error |L_pred - L| / L of a run's final loss; "in-sample"
    uses the regressions on every corpus, "held-out" the regressions without the corpus
    (leave-one-corpus-out; the laws of the other corpora never see its runs).

    Attributes
    ----------
    curve : ndarray, shape (len(EPSILON_GRID),)
        Held-out ARE, averaged over every run of the set, at each ε of :data:`EPSILON_GRID`.
    chosen : float
        The ε with the lowest ``curve`` (the smallest on ties).
    nested : ndarray, shape (n_corpora,)
        The ε chosen the same way without corpus k (inner leave-one-corpus-out on the others).
    law : BlendedLaw
        Eq. 6 on the regressions of every corpus, at the chosen ε or the caller's.
    h : ndarray, shape (n_corpora,)
    n_points : ndarray of int, shape (n_corpora,)
    methods : tuple of str
        Keys of :data:`METHODS`.
    epsilons : ndarray, shape (n_methods,)
        ε of each method (NaN for ``eq6_nested`` and ``own_law``).
    in_sample, held_out : ndarray, shape (n_methods, n_corpora)
        Mean ARE of each corpus's runs (NaN where a method has no such score).
    """

    curve: np.ndarray
    chosen: float
    nested: np.ndarray
    law: BlendedLaw
    h: np.ndarray
    n_points: np.ndarray
    methods: tuple[str, ...]
    epsilons: np.ndarray
    in_sample: np.ndarray
    held_out: np.ndarray

    def pooled(self, errors: np.ndarray) -> np.ndarray:
        """Mean ARE over every run of the set, from per-corpus means ``(..., n_corpora)``."""
        return _pooled(errors, self.n_points)

    def raw_line_nonpositive(self) -> dict[str, list[float]]:
        """The corpora's H where the raw OLS line of A or B is <= 0 (why A, B blend in log)."""
        reg = self.law.regression
        return {k: [float(x) for x in self.h if reg.at(k, x) <= 0] for k in ("A", "B")}

    def to_dict(self) -> dict:
        """JSON-able fields (NaN become null in :func:`warehouse.jsonsafe.dumps`)."""
        names = ("E", "A", "B", "alpha", "beta")
        blended = [{"h": float(x), **dict(zip(names, map(float, p), strict=True)),
                    "exponent_n": float(a)}
                   for x, p, a in zip(self.h, self.law.params_at(self.h),
                                      self.law.exponent_at(self.h), strict=True)]
        errors = [{"method": m, "epsilon": float(self.epsilons[i]),
                   "are_in_sample": float(self.pooled(self.in_sample)[i]),
                   "are_held_out": float(self.pooled(self.held_out)[i]),
                   "held_out_by_corpus": self.held_out[i].tolist()}
                  for i, m in enumerate(self.methods)]
        return {"epsilon": float(self.law.epsilon), "chosen_epsilon": self.chosen,
                "nested_epsilon": self.nested.tolist(), "chinchilla": list(self.law.chinchilla),
                "blend_of_A_B": "log", "crossing_1to1": self.law.crossing, "blended": blended,
                "errors": errors, "grid": EPSILON_GRID.tolist(),
                "held_out_curve": self.curve.tolist()}


def _pooled(errors, n_points) -> np.ndarray:
    w = np.asarray(n_points, dtype=float)
    return np.asarray(errors) @ w / w.sum()


def study_epsilon(h, params, points, *, epsilon: float | None = None,
                  chinchilla: tuple[float, ...] = HOFFMANN) -> EpsilonStudy:
    """Choose ε by leave-one-corpus-out and score Hoffmann's law, Eq. 5 and Eq. 6 on the runs.

    Parameters
    ----------
    h : array of shape (n_corpora,)
        Compressibility of each corpus.
    params : array of shape (n_corpora, 5)
        ``E, A, B, alpha, beta`` of each corpus's own law (NaN rows are left out of every
        regression, but their runs are still predicted).
    points : sequence of (n, d, loss) arrays, one triple per corpus
        Parameters, tokens and final loss of each run.
    epsilon : float, optional
        The ε of Eq. 6 in ``law`` and in the ``eq6`` errors; default: the chosen one.
    chinchilla : tuple of 5 float, default=HOFFMANN

    Returns
    -------
    EpsilonStudy

    References
    ----------
    Pandey 2024, Eqs. 5-6; Hoffmann et al. 2022, Eq. 10.
    """
    h = np.asarray(h, dtype=float)
    params = np.asarray(params, dtype=float).reshape(len(h), 5)
    # Built first so that a bad epsilon or chinchilla fails before the search.
    law = BlendedLaw(regress_on_h(h, params), 0.0 if epsilon is None else epsilon, chinchilla)
    everyone = list(range(len(h)))
    n_points = np.array([len(p[2]) for p in points])
    held = _held_out(h, params, points, everyone, EPSILON_GRID, chinchilla)
    curve = _pooled(held, n_points)
    chosen = _argmin(curve)
    nested = np.array([_argmin(_pooled(_held_out(h, params, points, rest, EPSILON_GRID,
                                                 chinchilla), n_points[rest]))
                       for rest in ([i for i in everyone if i != k] for k in everyone)])
    if epsilon is None:
        law = replace(law, epsilon=chosen)
    epsilons = np.array([0.0, 1.0, law.epsilon, np.nan, np.nan])
    in_sample = np.full((len(METHODS), len(h)), np.nan)
    held_out = np.full((len(METHODS), len(h)), np.nan)
    for i, e in enumerate(epsilons[:3]):
        fixed = replace(law, epsilon=float(e))
        in_sample[i] = [_are(fixed.predict(n, d, h[k]), y) for k, (n, d, y) in enumerate(points)]
        held_out[i] = _held_out(h, params, points, everyone, [e], chinchilla)[0]
    held_out[3] = held[np.searchsorted(EPSILON_GRID, nested), everyone]
    in_sample[4] = [_are(_FORM.predict(params[k], n, d), y) for k, (n, d, y) in enumerate(points)]
    return EpsilonStudy(curve, chosen, nested, law, h, n_points, tuple(METHODS), epsilons,
                        in_sample, held_out)
