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

This module holds what a form is (:class:`Form`, :class:`LSE`); the registered forms are in
:mod:`analyses.laws.builtin_forms`, and forms made from another one (parameters held fixed, a
basis) in :mod:`analyses.laws.reparametrised`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

INF = float("inf")
NEG_LOG = -1e300  # stands in for log 0 in predictions (exp of it is exactly 0)


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
        >>> from analyses.laws.builtin_forms import chinchilla
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
