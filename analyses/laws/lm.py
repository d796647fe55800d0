"""A batched, projected Levenberg-Marquardt: the least squares of many laws solved together.

:func:`batched_lm` minimises ``sum_i mask_i (L_hat_i - L_i)**2`` on raw loss for every law of a
batch at once, inside the form's internal bounds (``curvefit-hitchhiker``'s ``method="batched"``;
the one-law-at-a-time scipy path is :mod:`analyses.laws.curvefit`, the Huber L-BFGS
:mod:`analyses.laws.lbfgs`).
"""

from __future__ import annotations

import numpy as np

from analyses.laws.batch import LawBatch
from analyses.laws.forms import Form


def residuals(form: Form, theta: np.ndarray, X: np.ndarray, y: np.ndarray, mask: np.ndarray):
    """Raw-loss residuals ``L_hat - y`` (zero where masked) and their Jacobian ``(b, n, p)``."""
    with np.errstate(over="ignore", invalid="ignore"):
        pred, J = form.jacobian(theta, X)
    r = np.where(mask, pred - y, 0.0)
    return r, np.where(mask[..., None], J, 0.0)


def batched_lm(form: Form, batch: LawBatch, start: np.ndarray, max_iter: int):
    """Projected Levenberg-Marquardt for all laws at once (Marquardt's diagonal scaling).

    Returns internal ``theta (n, p)``, statuses and iterations. A step is accepted when it
    lowers the sum of squares; the damping then shrinks by 3, else grows by 4. A law stops when
    an accepted step changes the cost by at most 1e-15 relative or the damping exceeds 1e16.
    """
    X = batch.inputs(form.inputs)
    y, mask = batch.y, batch.mask
    lo, hi = form.internal_bounds()
    theta = np.clip(start.astype(float), lo, hi)
    n, p = theta.shape

    def cost(th, rows):
        with np.errstate(all="ignore"):
            pred = form.raw_predict(th, X[rows])
            r = np.where(mask[rows], pred - y[rows], 0.0)
            c = (r * r).sum(1)  # inf where a trial point overflows: rejected below
        return np.where(np.isfinite(c), c, np.inf)

    all_rows = np.arange(n)
    c0 = cost(theta, all_rows)
    lam = np.full(n, 1e-3)
    n_iter = np.zeros(n, dtype=int)
    status = np.where(np.isfinite(c0), "max_iter", "nan_objective").astype(object)
    active = np.flatnonzero(np.isfinite(c0))
    cur = c0.copy()
    for _ in range(max_iter):
        if not active.size:
            break
        r, J = residuals(form, theta[active], X[active], y[active], mask[active])
        JTJ = np.einsum("bnp,bnq->bpq", J, J)
        JTr = np.einsum("bnp,bn->bp", J, r)
        diag = np.maximum(np.einsum("bpp->bp", JTJ), 1e-300)
        Amat = JTJ + (lam[active, None] * diag)[:, :, None] * np.eye(p)
        with np.errstate(all="ignore"):
            try:
                step = np.linalg.solve(Amat, -JTr[..., None])[..., 0]
            except np.linalg.LinAlgError:
                step = np.stack([np.linalg.lstsq(a, -b, rcond=None)[0]
                                 for a, b in zip(Amat, JTr, strict=True)])
        trial = np.clip(theta[active] + step, lo, hi)
        ct = cost(trial, active)
        better = ct < cur[active]
        acc = active[better]
        rel = (cur[acc] - ct[better]) <= 1e-15 * cur[acc]
        theta[acc] = trial[better]
        cur[acc] = ct[better]
        lam[acc] = np.maximum(lam[acc] / 3.0, 1e-12)
        lam[active[~better]] *= 4.0
        n_iter[active] += 1
        done = np.zeros(n, dtype=bool)
        done[acc[rel]] = True
        done[active[~better][lam[active[~better]] > 1e16]] = True
        done[active[np.isfinite(cur[active]) & (cur[active] == 0)]] = True
        status[done] = "ok"
        active = active[~done[active]]
    status[np.flatnonzero(~np.isfinite(cur))] = "nan_objective"
    return theta, status, n_iter
