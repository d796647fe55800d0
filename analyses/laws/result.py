"""The fixed-schema result of fitting a batch of laws."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from analyses.laws.registry import get_form
from warehouse.jsonsafe import finite_or_none

STATUSES = ("ok", "max_iter", "at_bound", "nan_objective", "nan_prediction", "too_few_points")


@dataclass(frozen=True, eq=False)
class FitResult:
    """Fitted laws of one batch, one row per law.

    Attributes
    ----------
    form, estimator : str
        Registry names (``"chinchilla"``, ``"huber-lbfgs"``).
    names : tuple of str
        Parameter names, the columns of ``params``.
    params : ndarray, shape (n_laws, n_params)
        Fitted natural parameters (``E, A, B, alpha, beta`` for Chinchilla); NaN for a law
        with status ``too_few_points`` or ``nan_objective``.
    objective : ndarray, shape (n_laws,)
        The minimised objective. ``huber-lbfgs``:
        ``sum_i huber_delta(log L_hat_i - log L_i)`` (summed over points, not averaged);
        ``curvefit-hitchhiker``: ``sum_i (L_hat_i - L_i)**2``.
    status : tuple of str, length n_laws
        ``"ok"``, ``"max_iter"``, ``"at_bound"`` (converged with a parameter on a bound),
        ``"nan_objective"`` (no finite objective), ``"nan_prediction"`` (a prediction at one
        of the law's own training points is not finite) or ``"too_few_points"`` (fewer
        points than parameters). The last three are failures.
    n_iter : ndarray of int, shape (n_laws,)
        Optimiser iterations of the winning start.
    n_points : ndarray of int, shape (n_laws,)
        Points fitted.
    n_params : int
        Free parameters.
    seconds : float
        Wall time of the whole batch.
    start : ndarray of int, shape (n_laws,)
        Index of the winning start in the estimator's start grid (-1 where none).
    start_params : ndarray, shape (n_laws, n_params)
        Natural parameters of the winning start.
    lower, upper : ndarray, shape (n_params,)
        Natural bounds.
    settings : dict
        The estimator's parameters and grid size (JSON-able).
    keys : tuple of str or None
        The batch's law labels.
    unidentified : tuple of (str or None), optional
        Why the data cannot identify each law, or None where it can
        (:func:`analyses.laws.identify.unidentified`).
    draws : ndarray, shape (n_resamples, n_laws, n_params), optional
        Bootstrap refits (see :mod:`analyses.laws.bootstrap`); NaN where a refit failed.
    bootstrap_seed : int, optional
    """

    form: str
    estimator: str
    names: tuple[str, ...]
    params: np.ndarray
    objective: np.ndarray
    status: tuple[str, ...]
    n_iter: np.ndarray
    n_points: np.ndarray
    n_params: int
    seconds: float
    start: np.ndarray
    start_params: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    settings: dict = field(default_factory=dict)
    keys: tuple[str, ...] | None = None
    unidentified: tuple[str | None, ...] | None = None
    draws: np.ndarray | None = None
    bootstrap_seed: int | None = None

    @property
    def n_laws(self) -> int:
        return self.params.shape[0]

    @cached_property
    def bse(self) -> np.ndarray:
        """Bootstrap standard errors ``(n_laws, n_params)``; NaN without draws."""
        if self.draws is None or self.draws.shape[0] < 2:
            return np.full(self.params.shape, np.nan)
        with np.errstate(invalid="ignore"), _quiet():
            return np.nanstd(self.draws, axis=0, ddof=1)

    @cached_property
    def ci(self) -> np.ndarray:
        """95% percentile bootstrap intervals ``(n_laws, n_params, 2)``; NaN without draws."""
        if self.draws is None:
            return np.full(self.params.shape + (2,), np.nan)
        with _quiet():
            return np.moveaxis(np.nanpercentile(self.draws, [2.5, 97.5], axis=0), 0, -1)

    def predict(self, *inputs, law: int = 0) -> np.ndarray:
        """Law ``law`` evaluated at new inputs (``N, D`` for Chinchilla), broadcast.

        Examples
        --------
        >>> import numpy as np
        >>> from analyses.laws import HuberLBFGS, LawBatch, get_form
        >>> N, D = (a.ravel() for a in np.meshgrid([1e8, 4e8, 1.6e9], [2e9, 8e9, 3.2e10]))
        >>> L = get_form("chinchilla").predict([1.8, 400.0, 2000.0, 0.34, 0.37], N, D)
        >>> res = HuberLBFGS(grid="small").fit(LawBatch.single(L, N=N, D=D)).result_
        >>> round(float(res.predict(7e10, 1.4e12)[0]), 3)
        1.946
        """
        return get_form(self.form).predict(self.params[law], *inputs)

    def _unidentified(self, law: int) -> str | None:
        return self.unidentified[law] if self.unidentified else None

    def _identified(self, law: int) -> str:
        why = self._unidentified(law)
        return f"no: {why}" if why else "yes"

    def _by_name(self, values) -> dict[str, float | None]:
        """``{parameter name: value}``, non-finite values as None."""
        return {n: finite_or_none(v) for n, v in zip(self.names, values, strict=True)}

    def to_rows(self) -> list[dict]:
        """One JSON-able dict per law, the columns of the ``laws`` table.

        Keys: ``law`` (the batch key or index), ``form``, ``estimator``, ``params``
        (name -> value), ``status``, ``unidentified``, ``objective``, ``n_points``,
        ``n_params``, ``n_iter``, ``seconds`` (the batch's wall time shared equally),
        ``start``, ``settings``, and with bootstrap draws ``bse``, ``ci_low``, ``ci_high``
        and ``bootstrap_seed``. Non-finite numbers become ``None``.
        """
        rows = []
        for i in range(self.n_laws):
            row = {
                "law": self.keys[i] if self.keys is not None else i,
                "form": self.form,
                "estimator": self.estimator,
                "params": self._by_name(self.params[i]),
                "status": self.status[i],
                "unidentified": self._unidentified(i),
                "objective": finite_or_none(self.objective[i]),
                "n_points": int(self.n_points[i]),
                "n_params": int(self.n_params),
                "n_iter": int(self.n_iter[i]),
                "seconds": self.seconds / max(1, self.n_laws),
                "start": int(self.start[i]),
                "settings": dict(self.settings),
            }
            if self.draws is not None:
                row["bse"] = self._by_name(self.bse[i])
                row["ci_low"] = self._by_name(self.ci[i, :, 0])
                row["ci_high"] = self._by_name(self.ci[i, :, 1])
                row["bootstrap_seed"] = self.bootstrap_seed
            rows.append(row)
        return rows

    def report(self, law: int = 0) -> str:
        """A text report of one law, in the manner of lmfit's ``fit_report``."""
        i = law
        head = self.keys[i] if self.keys is not None else f"law {i}"
        lines = [
            f"[[Fit]] {head}: {self.form} by {self.estimator}",
            f"    status     = {self.status[i]}",
            f"    identified = {self._identified(i)}",
            f"    n_points   = {int(self.n_points[i])}",
            f"    n_params   = {self.n_params}",
            f"    objective  = {self.objective[i]:.10g}",
            f"    n_iter     = {int(self.n_iter[i])}",
            f"    start      = {int(self.start[i])} of {self.settings.get('n_starts', '?')}",
            "[[Parameters]]",
        ]
        width = max(len(n) for n in self.names)
        for k, n in enumerate(self.names):
            v = self.params[i, k]
            text = f"    {n + ':':<{width + 1}} {v:.6g}"
            if np.isfinite(self.bse[i, k]):
                text += (f" +/- {self.bse[i, k]:.3g} (95% CI {self.ci[i, k, 0]:.6g} "
                         f"to {self.ci[i, k, 1]:.6g})")
            notes = []
            if np.isfinite(v) and (v == self.lower[k] or v == self.upper[k]):
                notes.append("at boundary")
            if np.isfinite(v) and np.isclose(v, self.start_params[i, k], rtol=1e-9, atol=0):
                notes.append("at initial value")
            if notes:
                text += "  " + ", ".join(notes)
            lines.append(text)
        return "\n".join(lines)


class _quiet:
    """Silence numpy's all-NaN warnings inside a block (NaN is the answer there)."""

    def __enter__(self):
        import warnings
        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._w.__exit__(*exc)
