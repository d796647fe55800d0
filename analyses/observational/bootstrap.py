"""Bootstrap prediction intervals over models (beyond the paper).

Resample the training models with replacement, redo the whole pipeline on each resample
(imputation, PCA, sigmoid), and read percentile intervals of every test model's prediction:
of the refitted curve (a confidence interval of the mean) and of the curve plus a training
residual of the same refit (a prediction interval).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from analyses.executor import one_thread
from analyses.observational.methods import (
    ExperimentData,
    MethodFit,
    fit_method,
)
from warehouse.errors import MetaError


@dataclass(frozen=True)
class Bootstrap:
    """Bootstrap intervals of one method's test predictions, resampling training models.

    Attributes
    ----------
    method : str
    n_resamples, seed : int
    level : float
        Central coverage of the intervals (0.9: the 5th to 95th percentiles).
    n_failed : int
        Resamples whose refit failed (e.g. a benchmark with no value in the resample).
    table : polars.DataFrame
        Per test model: ``model``, ``y``, ``y_hat`` (the full-data fit), ``fit_lo``/``fit_hi``
        (percentiles of the refitted curve: a confidence interval of the mean) and
        ``pred_lo``/``pred_hi`` (the refitted curve plus a training residual of the same
        refit drawn at random: a prediction interval), ``covered`` (y in the prediction
        interval).
    """

    method: str
    n_resamples: int
    seed: int
    level: float
    n_failed: int
    table: pl.DataFrame

    @property
    def coverage(self) -> float:
        """Share of test models whose y lies in its prediction interval."""
        return float(self.table["covered"].mean()) if self.table.height else math.nan


def bootstrap(experiment_data: ExperimentData, method: str = "pc", *, n_resamples: int = 200,
              seed: int = 0, level: float = 0.9, n_components: int = 3,
              reference: MethodFit | None = None) -> Bootstrap:
    """Refit ``method`` on ``n_resamples`` resamples (with replacement) of the training models.

    Every resample redoes the whole pipeline (imputation, PCA, sigmoid) on its training rows,
    so the intervals carry the uncertainty of the capability space as well as the fit.

    Parameters
    ----------
    experiment_data : ExperimentData
    method : {"pc", "flops", "size"}, default="pc"
    n_resamples : int, default=200
    seed : int, default=0
        ``numpy.random.default_rng(seed)`` draws the resamples and residuals.
    level : float, default=0.9
    n_components : int, default=3
    reference : MethodFit, optional
        The full-data fit (refitted when absent).

    Returns
    -------
    Bootstrap
    """
    exp = experiment_data.experiment
    train, test = experiment_data.train, experiment_data.test
    base = reference or fit_method(train, test, exp, method, n_components=n_components)
    scored = base.predictions.filter(pl.col("test"))
    rng = np.random.default_rng(seed)
    curves, preds, failed = [], [], 0
    for _ in range(n_resamples):
        idx = rng.integers(0, train.height, train.height)
        try:
            with one_thread():
                fit = fit_method(train[idx], test, exp, method, n_components=n_components)
        except MetaError:
            failed += 1
            continue
        tr = fit.predictions.filter(~pl.col("test"))
        resid = (tr["y"] - tr["y_hat"]).to_numpy()
        te = scored.select("model").join(fit.predictions.filter(pl.col("test")), on="model",
                                         how="left")
        curve = te["y_hat"].fill_null(np.nan).to_numpy()
        curves.append(curve)
        preds.append(curve + rng.choice(resid, size=curve.size))
    q = (100 * (1 - level) / 2, 100 * (1 + level) / 2)
    if curves:
        fit_lo, fit_hi = np.nanpercentile(np.array(curves), q, axis=0)
        pred_lo, pred_hi = np.nanpercentile(np.array(preds), q, axis=0)
    else:
        fit_lo = fit_hi = pred_lo = pred_hi = np.full(scored.height, np.nan)
    y = scored["y"].to_numpy()
    table = scored.select("model", "y", "y_hat").with_columns(
        fit_lo=pl.Series(fit_lo), fit_hi=pl.Series(fit_hi), pred_lo=pl.Series(pred_lo),
        pred_hi=pl.Series(pred_hi), covered=pl.Series((y >= pred_lo) & (y <= pred_hi)),
    )
    return Bootstrap(method, n_resamples, seed, level, failed, table)
