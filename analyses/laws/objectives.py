"""Batched objectives: one row per (law, start) pair, evaluated with its gradient.

:class:`HuberLog` is the Hoffmann/Besiroglu objective,
``sum_i mask_i * huber_delta(log L_hat_i - log L_i)`` (summed, not averaged), with
``huber_delta(r) = r**2 / 2`` for ``|r| <= delta`` and ``delta * (|r| - delta / 2)`` beyond;
it is computed as ``c * (r - c / 2)`` with ``c = clip(r, -delta, delta)``, which is both.

For forms with an :class:`~analyses.laws.forms.LSE` description the prediction and gradient
are computed term by term, in place, without the Jacobian; log-sum-exp terms are exponentiated
without a max shift (terms stay far inside float64's range for any sensible law; a term that
overflows makes the objective infinite and the line search steps back).

:func:`residuals` gives raw-loss residuals and their Jacobian for least squares.
"""

from __future__ import annotations

import os

import numpy as np

from analyses.laws.batch import LawBatch
from analyses.laws.forms import Form
from analyses.laws.lbfgs import rowdot

BLOCK = 1 << 16  # points per block of rows
THREADS = min(2, os.cpu_count() or 1)
_POOL: list = []


def _pool():
    if not _POOL:
        from concurrent.futures import ThreadPoolExecutor
        _POOL.append(ThreadPoolExecutor(THREADS, thread_name_prefix="laws"))
    return _POOL[0]


class HuberLog:
    """The summed Huber loss of log residuals for rows that are (law, start) pairs.

    Parameters
    ----------
    form : Form
    batch : LawBatch
    law_of_row : ndarray of int, shape (n_rows,)
        The law (batch row) each optimisation row fits.
    delta : float
        Huber threshold.
    """

    def __init__(self, form: Form, batch: LawBatch, law_of_row: np.ndarray, delta: float):
        self.form, self.delta = form, float(delta)
        self.law = np.asarray(law_of_row, dtype=int)
        X = batch.inputs(form.inputs)
        self.X = X
        self.F = [np.ascontiguousarray(np.log(X[..., q])) for q in range(X.shape[-1])]
        with np.errstate(invalid="ignore", divide="ignore"):
            self.logy = np.log(batch.y)  # a non-positive loss gives a non-finite objective
        self.w = None if batch.mask.all() else batch.mask.astype(float)
        self.shared = batch.n_laws == 1  # one law: broadcast its points, gather nothing

    def _rows(self, arr, li):
        return arr if li is None else arr[li]

    def __call__(self, theta: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Objective ``(b,)`` and gradient ``(b, p)`` at internal ``theta (b, p)``.

        Rows are processed in blocks of about ``BLOCK`` points, spread over ``THREADS``
        threads (numpy releases the GIL inside its loops); each row's arithmetic is the same in
        any block, so results do not depend on the blocking.
        """
        return self._blocks(theta, rows, True)

    def value(self, theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The objective ``(b,)`` alone (what ``__call__`` returns first), without the
        gradient's work."""
        return self._blocks(theta, rows, False)[0]

    def _blocks(self, theta, rows, grad):
        rows = np.asarray(rows)
        step = max(1, BLOCK // max(1, self.logy.shape[-1]))
        if rows.size <= step:
            return self._call(theta, rows, grad)
        f = np.empty(rows.size)
        g = np.empty(theta.shape) if grad else None

        def block(s0):
            sl = slice(s0, s0 + step)
            fb, gb = self._call(theta[sl], rows[sl], grad)
            f[sl] = fb
            if grad:
                g[sl] = gb

        starts = range(0, rows.size, step)
        if THREADS > 1 and len(starts) > 1:
            list(_pool().map(block, starts))
        else:
            for s0 in starts:
                block(s0)
        return f, g

    def _call(self, theta, rows, grad):
        li = None if self.shared else self.law[rows]
        logy = self._rows(self.logy, li)
        w = None if self.w is None else self._rows(self.w, li)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            if self.form.lse is not None:
                return self._lse(theta, li, logy, w, grad)
            logp, J = self.form.log_jacobian(theta, self._rows(self.X, li))
            r = logp - logy
            c = np.clip(r, -self.delta, self.delta)
            if w is not None:
                c *= w
            f = rowdot(c, r) - 0.5 * rowdot(c, c)
            return f, np.einsum("bn,bnp->bp", c, J) if grad else None

    def _lse(self, theta, li, logy, w, grad):
        lse = self.form.lse
        b = theta.shape[0]
        Ii = theta @ lse.Mi + lse.ci
        Ss = theta @ lse.Ms + lse.cs
        const = np.zeros(b)
        terms = []
        s = None
        for j, q in enumerate(lse.feature):
            if q < 0:
                const += np.exp(Ii[:, j])
                continue
            Fq = self._rows(self.F[q], li)
            u = np.multiply(Ss[:, j:j + 1], Fq)
            np.subtract(Ii[:, j:j + 1], u, out=u)
            np.exp(u, out=u)
            terms.append((j, Fq, u))
            s = u.copy() if s is None else np.add(s, u, out=s)
        if s is None:
            s = np.broadcast_to(const[:, None], (b, logy.shape[-1])).copy()
        else:
            s += const[:, None]
        r = np.log(s)
        r -= logy
        c = np.clip(r, -self.delta, self.delta)
        if w is not None:
            c *= w
        f = rowdot(c, r) - 0.5 * rowdot(c, c)
        if not grad:
            return f, None
        c /= s
        gI = np.zeros((b, len(lse.feature)))
        gS = np.zeros_like(gI)
        for j, Fq, u in terms:
            u *= c
            gI[:, j] = u.sum(1)
            gS[:, j] = -rowdot(u, Fq)
        csum = None
        for j, q in enumerate(lse.feature):
            if q < 0:
                csum = c.sum(1) if csum is None else csum
                gI[:, j] = np.exp(Ii[:, j]) * csum
        return f, gI @ lse.Mi.T + gS @ lse.Ms.T


def residuals(form: Form, theta: np.ndarray, X: np.ndarray, y: np.ndarray, mask: np.ndarray):
    """Raw-loss residuals ``L_hat - y`` (zero where masked) and their Jacobian ``(b, n, p)``."""
    with np.errstate(over="ignore", invalid="ignore"):
        pred, J = form.jacobian(theta, X)
    r = np.where(mask, pred - y, 0.0)
    return r, np.where(mask[..., None], J, 0.0)
