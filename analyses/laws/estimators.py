"""The contract every law estimator keeps (scikit-learn's), and the Hitchhiker paper's estimator.

``__init__`` stores its arguments verbatim; ``fit(batch)`` validates them, fits every law of the
:class:`~analyses.laws.batch.LawBatch`, sets the fitted attributes (trailing underscores) and
returns ``self``. A law that cannot be fitted gets a status, never an exception.
:class:`LawEstimator` holds what every estimator shares: parameters, validation, ``predict``
and the result.

- :class:`~analyses.laws.huber.HuberLBFGS` (``huber-lbfgs``): Hoffmann et al. (2022, App. D.2)
  as replicated by Besiroglu et al. (2024), in :mod:`analyses.laws.huber`.
- :class:`CurveFitHitchhiker` (``curvefit-hitchhiker``): Choshen, Zhang & Andreas (2024), the
  released code's ``util/fit_utils.fit``: ``scipy.optimize.curve_fit`` (least squares on raw
  loss) from one start at Muennighoff's values, alpha, beta >= 0, retried with
  ``method='dogbox', x_scale=p0`` on ``RuntimeError`` (:mod:`analyses.laws.curvefit`).
  ``method="batched"`` solves the same problems with a batched Levenberg-Marquardt instead
  (:mod:`analyses.laws.lm`).
"""

from __future__ import annotations

import inspect
import time

import numpy as np

from analyses.laws.batch import LawBatch
from analyses.laws.curvefit import curve_fit_law
from analyses.laws.forms import Form
from analyses.laws.identify import base_params, failures, unidentified
from analyses.laws.lm import batched_lm
from analyses.laws.registry import get_form
from analyses.laws.result import FitResult
from warehouse.validation import (
    POSITIVE_INT,
    Constraint,
    check_fitted,
    is_int,
    none_or,
    one_of,
    validate,
)

FORM = Constraint("a form name or a Form", lambda v: isinstance(v, str | Form))
GRID = Constraint("a grid name, an int (random starts) or an array of starts "
                  "(n_starts, n_params)",
                  lambda v: isinstance(v, str) or is_int(v) and v >= 1
                  or (isinstance(v, np.ndarray | list | tuple) and np.ndim(v) == 2))


class LawEstimator:
    """What both estimators share: parameters, validation, ``predict`` and the result."""

    name = ""
    _parameter_constraints: dict[str, Constraint] = {}

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p for p in sig.parameters if p != "self"]

    def get_params(self) -> dict:
        """The constructor arguments, as given."""
        return {k: getattr(self, k) for k in self._param_names()}

    def clone(self, **changes) -> LawEstimator:
        """An unfitted copy with the same (or changed) parameters."""
        return type(self)(**{**self.get_params(), **changes})

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()
                         if not isinstance(v, np.ndarray))
        return f"{type(self).__name__}({args})"

    def _validate(self) -> None:
        validate(self, self._parameter_constraints)

    def _form(self) -> Form:
        return self.form if isinstance(self.form, Form) else get_form(self.form)

    def predict(self, batch: LawBatch) -> np.ndarray:
        """Predicted loss ``(n_laws, n_points)`` at the batch's inputs, with ``params_``."""
        check_fitted(self, "params_", "predict")
        form = self.form_
        X = batch.inputs(form.inputs)
        if X.shape[0] != self.params_.shape[0]:
            raise ValueError(f"the batch has {X.shape[0]} laws; the estimator fitted "
                             f"{self.params_.shape[0]}.")
        return form.predict(self.params_, *np.moveaxis(X, -1, 0))

    def _finish(self, form, batch, theta, objective, status, n_iter, start, start_theta,
                seconds, settings) -> None:
        p = form.n_params
        params = form.from_internal(theta)
        lo, hi = form.internal_bounds()
        nat_lo = np.array([b[0] for b in form.bounds], dtype=float)
        nat_hi = np.array([b[1] for b in form.bounds], dtype=float)
        status = np.asarray(status, dtype=object)
        ok = status == "ok"
        with np.errstate(invalid="ignore"):
            bound = ((np.isfinite(lo) & (theta <= lo)) | (np.isfinite(hi) & (theta >= hi))).any(1)
        status[ok & bound] = "at_bound"
        natural = base_params(form, params)
        status = failures(form, natural, objective, batch, status)
        self.form_ = form
        self.params_ = params
        self.objective_ = np.asarray(objective, dtype=float)
        self.status_ = status.astype(str)
        self.n_iter_ = np.asarray(n_iter, dtype=int)
        self.converged_ = np.isin(self.status_, ("ok", "at_bound"))
        self.start_ = np.asarray(start, dtype=int)
        self.unidentified_ = tuple(unidentified(form, natural, batch))
        self.result_ = FitResult(
            form=form.name, estimator=self.name, names=form.names, params=params,
            objective=self.objective_, status=tuple(self.status_), n_iter=self.n_iter_,
            n_points=batch.n_points, n_params=p, seconds=seconds, start=self.start_,
            start_params=form.from_internal(start_theta), lower=nat_lo, upper=nat_hi,
            settings=settings, keys=batch.keys, unidentified=self.unidentified_,
        )


class CurveFitHitchhiker(LawEstimator):
    """Least squares on raw loss from one start, the Hitchhiker paper's protocol.

    Parameters
    ----------
    method : {"scipy", "batched"}, default="scipy"
        ``"scipy"`` calls ``scipy.optimize.curve_fit`` once per law exactly as the released
        code does (trf with bounds, 2-point Jacobian; on ``RuntimeError`` a retry with
        ``method='dogbox', x_scale=p0``). ``"batched"`` minimises the same sum of squares for
        all laws at once with a projected Levenberg-Marquardt (analytic Jacobian).
    max_iter : int, default=200
        Levenberg-Marquardt iterations (``"batched"`` only).
    form : str or Form, default="chinchilla"
        The start is the form's default (Muennighoff's values for Chinchilla).
    min_points : int, optional
        The fewest points a law is fitted on (``"scipy"`` only); by default one per
        parameter. The released code fits any law with a point (1: an underdetermined fit,
        the ``fit-few-points`` convention of :mod:`analyses.hitchhiker.conventions`).

    Attributes
    ----------
    params_, objective_, status_, converged_, n_iter_, start_, form_, result_
        As for :class:`HuberLBFGS`; ``objective_`` is ``sum_i (L_hat_i - L_i)**2``.
        ``status_`` is ``"max_iter"`` where both curve_fit attempts raised ``RuntimeError``
        and ``"nan_objective"`` where curve_fit failed otherwise (the paper's failed fits).

    References
    ----------
    Choshen, Zhang & Andreas 2024, *A Hitchhiker's Guide to Scaling Law Estimation*, Sec. 3.2;
    IBM/ColPret ``util/fit_utils.fit``.
    """

    name = "curvefit-hitchhiker"
    _parameter_constraints = {
        "method": one_of("scipy", "batched"),
        "max_iter": POSITIVE_INT, "form": FORM,
        "min_points": none_or(POSITIVE_INT),
    }

    def __init__(self, *, method="scipy", max_iter=200, form="chinchilla", min_points=None):
        self.method = method
        self.max_iter = max_iter
        self.form = form
        self.min_points = min_points

    def fit(self, batch: LawBatch) -> CurveFitHitchhiker:
        """Fit every law of ``batch``; returns ``self``."""
        self._validate()
        form = self._form()
        p0 = np.asarray(form.p0, dtype=float)
        return self._fit_starts(batch, np.broadcast_to(p0, (batch.n_laws, 1, p0.size)), form)

    def _fit_starts(self, batch: LawBatch, starts: np.ndarray, form: Form | None = None):
        self._validate()
        t0 = time.perf_counter()
        form = form or self._form()
        starts = starts[:, 0, :]
        n_laws, p = starts.shape
        theta = np.full((n_laws, p), np.nan)
        status = np.full(n_laws, "too_few_points", dtype=object)
        n_iter = np.zeros(n_laws, dtype=int)
        fewest = p if self.min_points is None or self.method != "scipy" else self.min_points
        laws = np.flatnonzero(batch.n_points >= fewest)
        if self.method == "scipy":
            for i in laws:
                theta[i], status[i], n_iter[i] = curve_fit_law(form, batch, i, starts[i])
        elif laws.size:
            th, st, it = batched_lm(form, batch.take(laws), starts[laws], self.max_iter)
            theta[laws], status[laws], n_iter[laws] = th, st, it
        objective = np.full(n_laws, np.nan)
        fitted = np.isfinite(theta).all(1)
        if fitted.any():
            X = batch.inputs(form.inputs)[fitted]
            pred = form.raw_predict(theta[fitted], X)
            r = np.where(batch.mask[fitted], pred - batch.y[fitted], 0.0)
            objective[fitted] = (r * r).sum(1)
        bad = ~fitted & (status != "too_few_points")
        status[bad] = "nan_objective"
        settings = {"method": self.method, "max_iter": int(self.max_iter), "n_starts": 1,
                    "grid": "muennighoff"}
        self._finish(form, batch, theta, objective, status, n_iter,
                     np.where(status == "too_few_points", -1, 0), starts,
                     time.perf_counter() - t0, settings)
        return self
