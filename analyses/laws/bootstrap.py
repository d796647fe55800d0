"""Bootstrap confidence intervals for any estimator: refit on resampled points, all at once."""

from __future__ import annotations

import dataclasses

import numpy as np

from analyses.laws.batch import LawBatch
from analyses.laws.estimators import LawEstimator
from analyses.laws.result import FitResult
from warehouse.validation import check, one_of


def bootstrap(estimator: LawEstimator, batch: LawBatch, *, n_resamples: int = 1000,
              seed: int = 0, starts: str = "fit", groups: np.ndarray | None = None) -> FitResult:
    """Fit ``batch`` and ``n_resamples`` resamples of its points (with replacement), or of
    whole groups of points (``groups``: the runs of a family).

    Every resample of every law is one law of a single batched fit.

    Parameters
    ----------
    estimator : LawEstimator
        Fitted or not; an unfitted clone with the same parameters is used.
    batch : LawBatch
    n_resamples : int, default=1000
    seed : int, default=0
        Seed of the resampling (``numpy.random.default_rng``).
    starts : {"fit", "grid"}, default="fit"
        ``"fit"`` starts each refit at its law's fitted optimum, as Besiroglu et al. (2024)
        did; ``"grid"`` reruns the estimator's own starts for each resample (costs
        ``n_resamples`` full fits).
    groups : ndarray of int, shape (n_laws, n_points), optional
        Resample these groups of points instead of single points
        (:meth:`LawBatch.resample_groups`): the unit whose variation the interval should
        reflect (a family's runs).

    Returns
    -------
    FitResult
        The fit of ``batch`` with ``draws (n_resamples, n_laws, n_params)`` (NaN where a refit
        did not converge), so ``bse`` and ``ci`` are defined.

    Examples
    --------
    >>> import numpy as np
    >>> from analyses.laws import HuberLBFGS, get_form
    >>> N, D = np.meshgrid([1e8, 4e8, 1.6e9, 6.4e9], [2e9, 8e9, 3.2e10])
    >>> L = get_form("chinchilla").predict([1.8, 400.0, 2000.0, 0.34, 0.37], N.ravel(),
    ...                                    D.ravel()) * np.exp(0.01 * np.sin(np.arange(12)))
    >>> res = bootstrap(HuberLBFGS(grid="small"), LawBatch.single(L, N=N.ravel(),
    ...                 D=D.ravel()), n_resamples=20, seed=1)
    >>> res.ci.shape
    (1, 5, 2)
    """
    check("bootstrap", "starts", starts, one_of("fit", "grid"))
    base = estimator.clone().fit(batch)
    if groups is None:
        resampled, _ = batch.resample(n_resamples, seed)
    else:
        resampled = batch.resample_groups(groups, n_resamples, seed)
    est = estimator.clone()
    if starts == "fit":
        form = base.form_
        theta = form.to_internal(base.params_)
        theta = np.where(np.isfinite(theta), theta, np.asarray(form.p0, dtype=float))
        per_law = np.tile(theta, (n_resamples, 1))[:, None, :]
        est._fit_starts(resampled, per_law, form)
    else:
        est.fit(resampled)
    draws = est.params_.reshape(n_resamples, batch.n_laws, -1).copy()
    draws[~est.converged_.reshape(n_resamples, batch.n_laws)] = np.nan
    settings = dict(base.result_.settings, n_resamples=int(n_resamples), bootstrap_starts=starts,
                    bootstrap_unit="points" if groups is None else "groups")
    return dataclasses.replace(base.result_, draws=draws, bootstrap_seed=int(seed),
                               settings=settings)
