"""Bootstrap confidence intervals for any estimator: refit on resampled points, all at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

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


def run_draws(estimator: LawEstimator, batch: LawBatch, runs: np.ndarray, n_resamples: int,
              rngs: Sequence[np.random.Generator], *, max_points: int = 250_000) -> np.ndarray:
    """Every law refitted from the estimator's own starts on resamples of its runs.

    A resample of a law draws as many runs as it has, with replacement, and keeps every point
    of a drawn run, so that points of one run (whose errors are correlated) move together.
    Law ``i`` draws from ``rngs[i]`` alone: its resamples do not depend on the other laws of
    the batch. The refits run in batches of at most ``max_points`` padded points.

    Parameters
    ----------
    estimator : LawEstimator
        An unfitted clone with the same parameters fits each batch of resamples.
    batch : LawBatch
    runs : ndarray of int, shape (n_laws, n_points)
        The run of each point (padding ignored).
    n_resamples : int
    rngs : sequence of numpy.random.Generator
        One per law.
    max_points : int, default=250_000

    Returns
    -------
    ndarray, shape (n_laws, n_resamples, n_params)
        Natural parameters of each refit; NaN where it did not converge.

    Examples
    --------
    >>> from analyses.laws import HuberLBFGS, get_form
    >>> N = np.repeat([1e8, 4e8, 1.6e9, 6.4e9], 3)
    >>> D = np.tile([2e9, 8e9, 3.2e10], 4)
    >>> L = get_form("chinchilla").predict([1.8, 400.0, 2000.0, 0.34, 0.37], N, D)
    >>> draws = run_draws(HuberLBFGS(grid="small"), LawBatch.single(L, N=N, D=D),
    ...                   np.repeat(np.arange(4), 3)[None], 5, [np.random.default_rng(0)])
    >>> draws.shape
    (1, 5, 5)
    """
    resamples = []  # (law, point indices) of each resample, law-major
    for i, rng in enumerate(rngs):
        real = np.flatnonzero(batch.mask[i])
        labels, run_of = np.unique(runs[i, real], return_inverse=True)
        members = [real[run_of == k] for k in range(labels.size)]
        for _ in range(n_resamples):
            drawn = rng.integers(labels.size, size=labels.size)
            resamples.append((i, np.concatenate([members[k] for k in drawn])))
    draws = np.full((len(resamples), len(estimator._form().names)), np.nan)
    for block in _blocks([take.size for _, take in resamples], max_points):
        part = [resamples[j] for j in block]
        est = estimator.clone().fit(LawBatch.from_ragged(
            [batch.x[i, take] for i, take in part], [batch.y[i, take] for i, take in part],
            batch.columns))
        draws[block] = np.where(est.converged_[:, None], est.params_, np.nan)
    return draws.reshape(batch.n_laws, n_resamples, -1)


def _blocks(sizes: Sequence[int], max_points: int) -> list[range]:
    """Consecutive index ranges whose padded size (count x longest) stays within
    ``max_points`` (a single longer item is a block of its own)."""
    blocks, first, longest = [], 0, 0
    for j, n in enumerate(sizes):
        if j > first and (j - first + 1) * max(longest, n) > max_points:
            blocks.append(range(first, j))
            first, longest = j, 0
        longest = max(longest, n)
    return blocks + ([range(first, len(sizes))] if len(sizes) > first else [])
