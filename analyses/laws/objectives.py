"""Batched objectives: one row per (law, start) pair, evaluated with its gradient.

:class:`HuberLog` is the Hoffmann/Besiroglu objective,
``sum_i mask_i * huber_delta(log L_hat_i - log L_i)`` (summed, not averaged), with
``huber_delta(r) = r**2 / 2`` for ``|r| <= delta`` and ``delta * (|r| - delta / 2)`` beyond;
it is computed as ``c * (r - c / 2)`` with ``c = clip(r, -delta, delta)``, which is both.

Forms with an :class:`~analyses.laws.forms.LSE` description (Chinchilla, L(C), L(D) and their
reparametrisations) are evaluated and minimised by the compiled kernel
(``analyses/laws/_lse_lbfgs.c``), which sums each law's own points only and runs the L-BFGS of
:mod:`analyses.laws.lbfgs` row by row; log-sum-exp terms are exponentiated without a max shift
(terms stay far inside float64's range for any sensible law; a term that overflows makes the
objective infinite and the line search steps back). Other forms go through their Jacobian in
numpy.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import cache
from typing import NamedTuple

import numpy as np

from analyses.executor import kernel_threads
from analyses.laws.batch import LawBatch
from analyses.laws.forms import Form
from analyses.laws.lbfgs import LBFGSResult, rowdot

BLOCK = 1 << 16  # points per block of rows
THREADS = min(2, os.cpu_count() or 1)
_POOL: list = []


class Kernel(NamedTuple):
    """The compiled functions (``analyses/laws/_lse_lbfgs.c``)."""

    minimize: Callable
    objective: Callable


@cache
def _kernel() -> Kernel:
    """The compiled module, imported at the first fit: forms, grids and the rest of
    :mod:`analyses.laws` import without it."""
    try:
        from analyses.laws._lse_lbfgs import minimize, objective
    except ImportError as e:  # a source checkout used without installing it
        raise ImportError("analyses.laws._lse_lbfgs is not built: install the project with "
                          "`pip install -e .` (it compiles the kernel; a C compiler is "
                          "needed)") from e
    return Kernel(minimize, objective)


def _threads() -> int:
    """:data:`THREADS`, or 1 in a worker of :mod:`analyses.executor` (each is one core)."""
    return kernel_threads(THREADS)


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
        self.law = np.ascontiguousarray(law_of_row, dtype=np.int64)
        X = batch.inputs(form.inputs)
        with np.errstate(invalid="ignore", divide="ignore"):
            logy = np.log(batch.y)  # a non-positive loss gives a non-finite objective
        if form.lse is not None:  # the kernel's flat arrays: each law's real points in turn
            lse = form.lse
            with np.errstate(invalid="ignore", divide="ignore"):
                logX = np.log(X[batch.mask]).T
            self.kernel = tuple(np.ascontiguousarray(a) for a in (
                np.r_[0, np.cumsum(batch.n_points)].astype(np.int64), logX, logy[batch.mask],
                lse.Mi, lse.ci, lse.Ms, lse.cs, np.asarray(lse.feature, dtype=np.int64)))
            self.points = int(batch.n_points.max(initial=1))
        else:
            self.kernel = None
            self.X, self.logy = X, logy
            self.w = None if batch.mask.all() else batch.mask.astype(float)
            self.shared = batch.n_laws == 1  # one law: broadcast its points, gather nothing
            self.points = X.shape[1]

    def __call__(self, theta: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Objective ``(b,)`` and gradient ``(b, p)`` at internal ``theta (b, p)``.

        Rows are processed in blocks of about ``BLOCK`` points, spread over ``THREADS``
        threads, one in an executor's worker (numpy and the kernel release the GIL); each
        row's arithmetic is the same in any block, so results do not depend on the blocking.
        """
        theta, rows = np.ascontiguousarray(theta, dtype=float), np.asarray(rows)
        f, g = np.empty(rows.size), np.empty(theta.shape)
        law = self.law[rows]
        compiled = _kernel() if self.kernel is not None else None

        def block(sl):
            if compiled is not None:
                compiled.objective(theta[sl], f[sl], g[sl], law[sl], *self.kernel, self.delta)
            else:
                f[sl], g[sl] = self._numpy(theta[sl], law[sl])

        self._spread(rows.size, max(1, BLOCK // self.points), block)
        return f, g

    def value(self, theta: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The objective ``(b,)`` alone (what ``__call__`` returns first)."""
        return self(theta, rows)[0]

    def minimize_rows(self, x: np.ndarray, lower: np.ndarray, upper: np.ndarray,
                      options: dict):
        """:func:`analyses.laws.lbfgs.minimize` of every row, compiled: ``x (n, p)`` (one row
        per row of ``law_of_row``) holds the starts, ``lower`` and ``upper`` are ``(n, p)``
        and ``options`` are ``minimize``'s keyword arguments. ``None`` for forms the kernel
        does not evaluate."""
        if self.kernel is None:
            return None
        n = x.shape[0]
        x = np.array(x, dtype=float, order="C")
        lo, hi = (np.ascontiguousarray(np.broadcast_to(b, x.shape), dtype=float)
                  for b in (lower, upper))
        f, g = np.empty(n), np.empty_like(x)
        n_iter, n_eval, status = (np.zeros(n, dtype=np.int64) for _ in range(3))
        opts = tuple(options[k] for k in ("max_iter", "history", "max_ls", "patience",
                                          "expand", "ftol", "gtol", "xtol", "c1"))
        compiled = _kernel()

        def block(sl):
            compiled.minimize(x[sl], f[sl], g[sl], n_iter[sl], n_eval[sl], status[sl], lo[sl],
                              hi[sl], self.law[sl], *self.kernel, self.delta, opts)

        # rows differ in iterations: small blocks keep the threads busy to the end
        self._spread(n, max(1, min(BLOCK // self.points, -(-n // (16 * _threads())))), block)
        f[~np.isfinite(f)] = np.inf
        return LBFGSResult(x, f, g, n_iter, n_eval, status)

    @staticmethod
    def _spread(n: int, step: int, block) -> None:
        """``block(slice)`` over ``range(n)`` in slices of ``step`` rows, on the thread pool."""
        starts = [slice(s, s + step) for s in range(0, n, step)]
        if _threads() > 1 and len(starts) > 1:
            list(_pool().map(block, starts))
        else:
            for sl in starts:
                block(sl)

    def _numpy(self, theta, li):
        """Objective and gradient through the form's Jacobian (forms without LSE terms)."""
        if self.shared:
            X, logy, w = self.X, self.logy, self.w
        else:
            X, logy = self.X[li], self.logy[li]
            w = None if self.w is None else self.w[li]
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            logp, J = self.form.log_jacobian(theta, X)
            r = logp - logy
            c = np.clip(r, -self.delta, self.delta)
            if w is not None:
                c *= w
            return rowdot(c, r) - 0.5 * rowdot(c, c), np.einsum("bn,bnp->bp", c, J)
