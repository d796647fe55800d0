"""The registered functional forms: Chinchilla, L(C), a single run's L(D), Kaplan 2020 and
Muennighoff 2023 (:data:`analyses.laws.registry.FORMS` names them).

The first three are given by their log-sum-exp terms (:class:`LSEForm`); the last two compute
their predictions themselves (and Kaplan's form its Jacobian).
"""

from __future__ import annotations

import numpy as np

from analyses.laws.forms import INF, LSE, Form

# Muennighoff et al. (2023) fitted values, the Hitchhiker code's single start ("datablation
# guesses"), internal order (e, a, b, alpha, beta).
MUENNIGHOFF_P0 = {"e": 0.6254804, "a": 6.255414, "b": 7.3049974, "alpha": 0.3526596,
                  "beta": 0.3526596}


class LSEForm(Form):
    """A form given by its log-sum-exp terms (see :class:`~analyses.laws.forms.LSE`)."""

    def __init__(self, name, names, internal_names, log_scale, inputs, bounds, p0, lse):
        self.name, self.names, self.internal_names = name, tuple(names), tuple(internal_names)
        self.log_scale, self.inputs = tuple(log_scale), tuple(inputs)
        self.bounds, self.p0, self.lse = tuple(bounds), tuple(p0), lse


def _lse_from_terms(internal_names, terms) -> LSE:
    """Build an :class:`LSE` from ``[(intercept name, slope name or None, feature index)]``."""
    p, T = len(internal_names), len(terms)
    Mi, Ms = np.zeros((p, T)), np.zeros((p, T))
    for j, (icpt, slope, _) in enumerate(terms):
        Mi[internal_names.index(icpt), j] = 1.0
        if slope is not None:
            Ms[internal_names.index(slope), j] = 1.0
    return LSE(Mi, np.zeros(T), Ms, np.zeros(T), tuple(t[2] for t in terms))


def chinchilla() -> LSEForm:
    """``L = E + A / N**alpha + B / D**beta`` (Hoffmann et al. 2022, Eq. 2).

    Internal parameters ``(e, a, b, alpha, beta)``; ``log L = LSE(a - alpha log N,
    b - beta log D, e)``. Bounds: E, A, B > 0 (by the log parameterisation), alpha, beta >= 0
    (the Hitchhiker protocol).
    """
    internal = ("e", "a", "b", "alpha", "beta")
    return LSEForm(
        "chinchilla", ("E", "A", "B", "alpha", "beta"), internal,
        (True, True, True, False, False), ("N", "D"),
        ((0, INF), (0, INF), (0, INF), (0, INF), (0, INF)),
        tuple(MUENNIGHOFF_P0[k] for k in internal),
        _lse_from_terms(internal, [("a", "alpha", 0), ("b", "beta", 1), ("e", None, -1)]),
    )


def compute() -> LSEForm:
    """``L(C) = E + A * C**-alpha``: loss against training compute."""
    internal = ("e", "a", "alpha")
    return LSEForm(
        "compute", ("E", "A", "alpha"), internal, (True, True, False), ("C",),
        ((0, INF), (0, INF), (0, INF)), (0.5, 5.0, 0.05),
        _lse_from_terms(internal, [("a", "alpha", 0), ("e", None, -1)]),
    )


def run() -> LSEForm:
    """``L(D) = E + B / D**beta``: one training run's loss against its tokens."""
    internal = ("e", "b", "beta")
    return LSEForm(
        "run", ("E", "B", "beta"), internal, (True, True, False), ("D",),
        ((0, INF), (0, INF), (0, INF)),
        tuple(MUENNIGHOFF_P0[k] for k in internal),
        _lse_from_terms(internal, [("b", "beta", 0), ("e", None, -1)]),
    )


class Kaplan2020(Form):
    """``L(N, D) = ((N_c / N)**(alpha_N / alpha_D) + D_c / D)**alpha_D`` (Kaplan et al. 2020,
    Eq. 1.5); the default start is their Table 2 fit (N_c 6.4e13, D_c 1.8e13, alpha_N 0.076,
    alpha_D 0.103)."""

    name = "kaplan2020"
    names = ("N_c", "D_c", "alpha_N", "alpha_D")
    internal_names = ("n_c", "d_c", "alpha_N", "alpha_D")
    log_scale = (True, True, False, False)
    inputs = ("N", "D")
    bounds = ((0, INF), (0, INF), (0, INF), (1e-6, INF))
    p0 = (float(np.log(6.4e13)), float(np.log(1.8e13)), 0.076, 0.103)
    exponent_inputs = {"alpha_N": "N", "alpha_D": "D"}  # exponent -> the input it scales

    def _parts(self, theta, X):
        n_c, d_c, aN, aD = (theta[:, i:i + 1] for i in range(4))
        lN, lD = np.log(X[..., 0]), np.log(X[..., 1])
        q = aN / aD
        z1, z2 = q * (n_c - lN), d_c - lD
        m = np.maximum(z1, z2)
        lse = m + np.log(np.exp(z1 - m) + np.exp(z2 - m))
        return aN, aD, q, n_c - lN, z1, z2, lse

    def raw_predict(self, theta, X):
        return np.exp(self.log_jacobian(theta, X)[0])

    def log_jacobian(self, theta, X):
        aN, aD, q, dn, z1, z2, lse = self._parts(theta, X)
        w1 = np.exp(z1 - lse)
        w2 = 1.0 - w1
        J = np.stack([aN * w1, aD * w2, w1 * dn, lse - w1 * q * dn], axis=-1)
        return aD * lse, J

    def jacobian(self, theta, X):
        logp, J = self.log_jacobian(theta, X)
        pred = np.exp(logp)
        return pred, J * pred[..., None]


class Muennighoff2023(Form):
    """The data-constrained law of Muennighoff et al. (2023, Eq. 5).

    ``L = E + A / N'**alpha + B / D'**beta`` with the effective data
    ``D' = U_D + U_D R*_D (1 - exp(-R_D / R*_D))``, ``R_D = D / U_D - 1`` (repeated epochs) and
    the effective parameters ``N' = U_N + U_N R*_N (1 - exp(-R_N / R*_N))``,
    ``U_N = min(N_opt(U_D), N)``, ``R_N = N / U_N - 1``, where ``N_opt(U_D)`` is the
    compute-optimal size for ``U_D`` tokens under the same law. Inputs ``N``, ``D`` (tokens
    seen) and ``U`` (unique tokens). The Jacobian is by central differences.
    """

    name = "muennighoff2023"
    names = ("E", "A", "B", "alpha", "beta", "R_D", "R_N")
    internal_names = ("e", "a", "b", "alpha", "beta", "r_d", "r_n")
    log_scale = (True, True, True, False, False, True, True)
    inputs = ("N", "D", "U")
    bounds = ((0, INF), (0, INF), (0, INF), (1e-6, INF), (1e-6, INF), (0, INF), (0, INF))
    exponent_inputs = {"alpha": "N", "beta": "D"}  # exponent -> the input it scales
    p0 = tuple(MUENNIGHOFF_P0[k] for k in internal_names[:5]) + (
        float(np.log(15.387)), float(np.log(5.309)))

    def raw_predict(self, theta, X):
        e, a, b, al, be, rd, rn = (theta[:, i:i + 1] for i in range(7))
        N, D, U = X[..., 0], X[..., 1], X[..., 2]
        Rd_star, Rn_star = np.exp(rd), np.exp(rn)
        R_D = np.maximum(D / U - 1.0, 0.0)
        Dp = U + U * Rd_star * (-np.expm1(-R_D / Rd_star))
        # compute-optimal N for U tokens: N_opt = G (G U)^(beta/alpha), G = (aA/bB)^(1/(a+b))
        logG = (np.log(al) + a - np.log(be) - b) / (al + be)
        logNopt = logG + (be / al) * (logG + np.log(U))
        U_N = np.minimum(np.exp(logNopt), N)
        R_N = np.maximum(N / U_N - 1.0, 0.0)
        Np = U_N + U_N * Rn_star * (-np.expm1(-R_N / Rn_star))
        return np.exp(e) + np.exp(a - al * np.log(Np)) + np.exp(b - be * np.log(Dp))
