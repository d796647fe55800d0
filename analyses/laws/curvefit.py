"""One law at a time through ``scipy.optimize.curve_fit``, as the Hitchhiker paper's code does.

The released ``util/fit_utils.fit`` (IBM/ColPret) calls ``curve_fit`` (trf with bounds, 2-point
Jacobian) on raw loss from one start and, on ``RuntimeError``, retries with
``method='dogbox', x_scale=p0``; any other exception is a failed fit. For Chinchilla the
function and the parameter order are the released code's, so that the floating-point path is
the same.
"""

from __future__ import annotations

import warnings

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from analyses.laws.batch import LawBatch
from analyses.laws.forms import Form


def _hitchhiker_chinchilla(X, a, b, e, alpha, beta):
    """``chinchilla_power_law_fit`` of the Hitchhiker code, same arithmetic and order."""
    num_params, tokens_seen = X
    A = np.exp(a)
    B = np.exp(b)
    E = np.exp(e)
    return E + A / num_params ** alpha + B / tokens_seen ** beta


def curve_fit_law(form: Form, batch: LawBatch, i: int, start: np.ndarray):
    """Law ``i`` of ``batch`` through ``scipy.optimize.curve_fit`` from internal ``start``:
    ``(theta, status, n_eval)``, ``theta`` internal, NaN where both attempts failed."""
    m = batch.mask[i]
    X = batch.inputs(form.inputs)[i][m]
    y = batch.y[i][m]
    lo, hi = form.internal_bounds()
    if form.name == "chinchilla":
        # the released code's function and parameter order (a, b, e, alpha, beta)
        order = [1, 2, 0, 3, 4]
        func, xdata = _hitchhiker_chinchilla, (X[:, 0], X[:, 1])
    else:
        order = list(range(form.n_params))

        def func(xd, *q):
            return form.raw_predict(np.asarray(q)[None], xd[None])[0]
        xdata = X
    back = np.argsort(order)
    p0 = start[order]
    bounds = (lo[order], hi[order])
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", OptimizeWarning)
        try:
            try:
                popt, _, info, *_ = curve_fit(func, xdata, y, p0=p0, bounds=bounds,
                                              full_output=True)
            except RuntimeError:
                popt, _, info, *_ = curve_fit(func, xdata, y, p0=p0, x_scale=p0,
                                              method="dogbox", bounds=bounds,
                                              full_output=True)
        except RuntimeError:
            return np.full(form.n_params, np.nan), "max_iter", 0
        except Exception:  # the released code records any other failure as a failed fit
            return np.full(form.n_params, np.nan), "nan_objective", 0
    return np.asarray(popt)[back], "ok", int(info.get("nfev", 0))
