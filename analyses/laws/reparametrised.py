"""Forms made from another form by a change of parameters: some held fixed, or a basis.

A :class:`Reparametrised` form fits ``phi`` where its base form's internal parameters are
``theta = phi @ W + mu``; its log-sum-exp description, where the base has one, is the base's
with the same change (:meth:`~analyses.laws.forms.LSE.reparametrise`).
"""

from __future__ import annotations

import numpy as np

from analyses.laws.forms import INF, Form


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
    >>> from analyses.laws.builtin_forms import chinchilla
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
