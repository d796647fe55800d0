"""Functional forms of scaling laws, as small objects.

A form knows its parameter names, their bounds, the batch columns it reads (``inputs``) and how
to predict the loss. Every array method takes a leading law axis: ``params`` is
``(n_laws, n_params)`` and inputs broadcast to ``(n_laws, n_points)``.

Estimators work in an *internal* parameterisation: scale parameters (E, A, B, ...) are stored as
their logarithms (``e = log E``, ``a = log A``), exponents as they are. That is the log-sum-exp
parameterisation of Hoffmann et al. (2022, App. D.2) and the one the Hitchhiker code passes to
``curve_fit``: ``L = exp(e) + exp(a) / N**alpha + exp(b) / D**beta``.

Forms whose log-prediction is a log-sum-exp of terms that are affine in the internal parameters
and in one log-input each (Chinchilla, the same with parameters fixed or in a basis, L(C), a
single run's L(D)) carry an :class:`LSE` description; the batched objectives use it for a fast,
analytic path. Other forms (Kaplan 2020, Muennighoff 2023) give predictions and Jacobians
directly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INF = float("inf")
NEG_LOG = -1e300  # stands in for log 0 in predictions (exp of it is exactly 0)

# Muennighoff et al. (2023) fitted values, the Hitchhiker code's single start ("datablation
# guesses"), internal order (e, a, b, alpha, beta).
MUENNIGHOFF_P0 = {"e": 0.6254804, "a": 6.255414, "b": 7.3049974, "alpha": 0.3526596,
                  "beta": 0.3526596}


@dataclass(frozen=True)
class LSE:
    """A log-prediction ``log L = LSE_j(I_j - S_j * log x[feature_j])``.

    With internal parameters ``theta (B, p)``: intercepts ``I = theta @ Mi + ci`` and slopes
    ``S = theta @ Ms + cs``, both ``(B, n_terms)``. ``feature[j]`` indexes the form's inputs, or
    is -1 for a constant term (no input, ``S_j`` unused).
    """

    Mi: np.ndarray  # (p, T)
    ci: np.ndarray  # (T,)
    Ms: np.ndarray  # (p, T)
    cs: np.ndarray  # (T,)
    feature: tuple[int, ...]

    def reparametrise(self, W: np.ndarray, mu: np.ndarray) -> LSE:
        """The same terms for ``theta = phi @ W + mu``."""
        return LSE(W @ self.Mi, mu @ self.Mi + self.ci, W @ self.Ms, mu @ self.Ms + self.cs,
                   self.feature)


class Form:
    """A functional form ``L(inputs; params)``.

    Attributes
    ----------
    name : str
        Registry name.
    names : tuple of str
        Natural parameter names, the column order of ``params``.
    internal_names : tuple of str
        Names in the internal parameterisation (``log`` of scale parameters).
    log_scale : tuple of bool
        Whether a parameter is stored as its logarithm internally.
    inputs : tuple of str
        Batch columns the form reads, in order (``"N"``, ``"D"``, ``"C"``, ``"U"``).
    bounds : tuple of (float, float)
        Natural-space bounds of each parameter.
    p0 : tuple of float
        The default internal start (used for parameters a start grid does not name).
    lse : LSE or None
        The log-sum-exp description, where the form has one.
    """

    name: str = ""
    names: tuple[str, ...] = ()
    internal_names: tuple[str, ...] = ()
    log_scale: tuple[bool, ...] = ()
    inputs: tuple[str, ...] = ()
    bounds: tuple[tuple[float, float], ...] = ()
    p0: tuple[float, ...] = ()
    lse: LSE | None = None

    @property
    def n_params(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, params={self.names}, inputs={self.inputs})"

    # --- parameterisation -------------------------------------------------------------------
    def to_internal(self, params) -> np.ndarray:
        """Natural ``(..., p)`` -> internal (logs of scale parameters)."""
        out = np.array(params, dtype=float, copy=True)
        m = np.array(self.log_scale, dtype=bool)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[..., m] = np.log(out[..., m])
        return out

    def from_internal(self, theta) -> np.ndarray:
        """Internal ``(..., p)`` -> natural."""
        out = np.array(theta, dtype=float, copy=True)
        m = np.array(self.log_scale, dtype=bool)
        with np.errstate(over="ignore"):
            out[..., m] = np.exp(out[..., m])
        return out

    def internal_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper bounds ``(p,)`` in the internal parameterisation."""
        lo = np.array([b[0] for b in self.bounds], dtype=float)
        hi = np.array([b[1] for b in self.bounds], dtype=float)
        m = np.array(self.log_scale, dtype=bool)
        with np.errstate(divide="ignore"):
            lo[m] = np.where(lo[m] > 0, np.log(np.maximum(lo[m], 0)), -INF)
            hi[m] = np.log(hi[m])
        return lo, hi

    # --- prediction -------------------------------------------------------------------------
    def predict(self, params, *inputs) -> np.ndarray:
        """Predicted loss for natural ``params (n_laws, p)`` (or ``(p,)``) at ``inputs``.

        Parameters
        ----------
        params : array_like, shape (n_laws, n_params) or (n_params,)
        *inputs : array_like
            One array per name in ``inputs``, each broadcastable to ``(n_laws, n_points)``.

        Returns
        -------
        ndarray, shape (n_laws, n_points) (or (n_points,) for 1-D params)

        Examples
        --------
        >>> f = chinchilla()
        >>> round(float(f.predict([1.69, 406.4, 410.7, 0.34, 0.28], 70e9, 1.4e12)[0]), 4)
        1.9366
        """
        if len(inputs) != len(self.inputs):
            raise TypeError(f"{self.name} predicts from {len(self.inputs)} inputs "
                            f"{self.inputs}; got {len(inputs)}.")
        p = np.asarray(params, dtype=float)
        one = p.ndim == 1
        theta = self.to_internal(np.atleast_2d(p))
        cols = [np.atleast_1d(np.asarray(v, dtype=float)) for v in inputs]
        cols = [c if c.ndim == 2 else c[None, :] for c in cols]
        cols = np.broadcast_arrays(*cols)
        X = np.stack(cols, axis=-1)  # (B or 1, n, q)
        out = self.raw_predict(theta, X)
        return out[0] if one and out.shape[0] == 1 else out

    def raw_predict(self, theta: np.ndarray, X: np.ndarray) -> np.ndarray:
        """Loss ``(B, n)`` for internal ``theta (B, p)`` and inputs ``X (B or 1, n, q)``."""
        if self.lse is None:
            raise NotImplementedError
        with np.errstate(over="ignore", invalid="ignore"):
            return np.exp(self._lse_terms(theta, np.log(X))[0]).sum(-1)

    def log_jacobian(self, theta: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``log L (B, n)`` and its Jacobian ``(B, n, p)`` in internal parameters."""
        pred, J = self.jacobian(theta, X)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(pred), J / pred[..., None]

    def jacobian(self, theta: np.ndarray, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``L (B, n)`` and its Jacobian ``(B, n, p)``: analytic for LSE forms, else central
        differences (step ``1e-6 * max(1, |theta|)``)."""
        if self.lse is not None:
            z, dz = self._lse_terms(theta, np.log(X), jac=True)
            u = np.exp(z)  # (B, n, T)
            return u.sum(-1), np.einsum("bnt,bntp->bnp", u, dz)
        pred = self.raw_predict(theta, X)
        J = np.empty(pred.shape + (theta.shape[-1],))
        for k in range(theta.shape[-1]):
            h = 1e-6 * np.maximum(1.0, np.abs(theta[:, k]))
            tp, tm = theta.copy(), theta.copy()
            tp[:, k] += h
            tm[:, k] -= h
            J[..., k] = (self.raw_predict(tp, X) - self.raw_predict(tm, X)) / (2 * h[:, None])
        return pred, J

    def _lse_terms(self, theta, logX, jac=False):
        s = self.lse
        # a scale parameter of exactly 0 (E underflowed in a fit) is log 0 = -inf, and
        # -inf * 0 in the products below would make every prediction NaN: use a log so low
        # that its term is still exactly 0
        theta = np.where(np.isneginf(theta), NEG_LOG, theta)
        Ii = theta @ s.Mi + s.ci  # (B, T)
        Ss = theta @ s.Ms + s.cs
        B, n = theta.shape[0], logX.shape[1]
        T = len(s.feature)
        z = np.empty((max(B, logX.shape[0]), n, T))
        for j, q in enumerate(s.feature):
            z[..., j] = Ii[:, j:j + 1] - (Ss[:, j:j + 1] * logX[..., q] if q >= 0 else 0.0)
        if not jac:
            return z, None
        dz = np.empty(z.shape + (theta.shape[-1],))
        for j, q in enumerate(s.feature):
            dz[:, :, j, :] = s.Mi[:, j]
            if q >= 0:
                dz[:, :, j, :] -= logX[..., q][..., None] * s.Ms[:, j]
        return z, dz


class LSEForm(Form):
    """A form given by its log-sum-exp terms (see :class:`LSE`)."""

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


class Reparametrised(Form):
    """A base form whose internal parameters are ``theta = phi @ W + mu``.

    Covers parameters held fixed (``W`` selects the free ones, ``mu`` holds the fixed values)
    and reduced forms in a low-dimensional basis (``W`` is the basis).
    """

    def __init__(self, base: Form, W, mu, *, name, names, internal_names, log_scale, bounds,
                 p0):
        self.base = base
        self.W, self.mu = np.asarray(W, dtype=float), np.asarray(mu, dtype=float)
        self.name, self.names, self.internal_names = name, tuple(names), tuple(internal_names)
        self.log_scale, self.bounds, self.p0 = tuple(log_scale), tuple(bounds), tuple(p0)
        self.inputs = base.inputs
        self.lse = None if base.lse is None else base.lse.reparametrise(self.W, self.mu)

    def base_internal(self, phi) -> np.ndarray:
        """The base form's internal parameters for ``phi (..., k)`` (NaN where ``phi`` has a
        NaN or an infinity: a law that failed to fit)."""
        with np.errstate(invalid="ignore"):
            return np.asarray(phi, dtype=float) @ self.W + self.mu

    def base_params(self, params) -> np.ndarray:
        """The base form's natural parameters for this form's natural ``params``."""
        return self.base.from_internal(self.base_internal(self.to_internal(params)))

    def raw_predict(self, theta, X):
        if self.lse is not None:
            return super().raw_predict(theta, X)
        return self.base.raw_predict(self.base_internal(theta), X)

    def jacobian(self, theta, X):
        if self.lse is not None:
            return super().jacobian(theta, X)
        pred, J = self.base.jacobian(self.base_internal(theta), X)
        return pred, J @ self.W.T


def fixed(base: Form, name: str | None = None, **values: float) -> Reparametrised:
    """``base`` with some natural parameters held at given values.

    Examples
    --------
    >>> f = fixed(chinchilla(), A=520.8, alpha=0.3527)
    >>> f.names
    ('E', 'B', 'beta')
    """
    unknown = sorted(set(values) - set(base.names))
    if unknown:
        raise ValueError(f"{base.name} has no parameter {unknown[0]!r}; "
                         f"its parameters are {', '.join(base.names)}.")
    free = [i for i, n in enumerate(base.names) if n not in values]
    p = base.n_params
    W = np.eye(p)[free]
    mu = np.zeros(p)
    for k, v in values.items():
        i = base.names.index(k)
        mu[i] = np.log(v) if base.log_scale[i] else v
    label = ",".join(f"{k}={v:g}" for k, v in values.items())
    return Reparametrised(
        base, W, mu, name=name or f"{base.name}[{label}]",
        names=[base.names[i] for i in free],
        internal_names=[base.internal_names[i] for i in free],
        log_scale=[base.log_scale[i] for i in free], bounds=[base.bounds[i] for i in free],
        p0=[base.p0[i] for i in free],
    )


def in_basis(base: Form, basis, mean, name: str | None = None) -> Reparametrised:
    """``base`` with internal parameters ``theta = w @ basis + mean`` (``basis (k, p)``).

    The fitted parameters are the ``k`` coordinates ``w0, w1, ...``, unbounded; use
    :meth:`Reparametrised.base_params` for the base form's parameters.
    """
    basis = np.atleast_2d(np.asarray(basis, dtype=float))
    mean = np.asarray(mean, dtype=float)
    if basis.shape[1] != base.n_params or mean.shape != (base.n_params,):
        raise ValueError(f"a basis for {base.name} must be (k, {base.n_params}) with a mean of "
                         f"{base.n_params}; got {basis.shape} and {mean.shape}.")
    k = basis.shape[0]
    names = [f"w{i}" for i in range(k)]
    return Reparametrised(
        base, basis, mean, name=name or f"{base.name}-basis{k}", names=names,
        internal_names=names, log_scale=[False] * k, bounds=[(-INF, INF)] * k, p0=[0.0] * k,
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

