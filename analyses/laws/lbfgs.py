"""A batched L-BFGS: many independent problems minimised together in arrays.

Each row of ``x`` is one problem (a law and a start). Rows share nothing but the arrays: every
row has its own history, line search, convergence test and status, and the arithmetic is
row-wise, so a row's path does not depend on which other rows were in the batch (an objective
over padded points may round its sums differently with the padded length: in flat valleys that
can end a law elsewhere). Rows leave the working arrays as soon as they stop, so late
iterations cost only what is still running.

The Huber objective of log-sum-exp forms (every huber-lbfgs law of fit-all) has a compiled
twin of this iteration, ``analyses/laws/_lse_lbfgs.c``: the same steps row by row, over each
law's own points, faster (``benchmarks/bench_choices.py`` measures both); :func:`minimize`
hands such objectives to it.

The method is L-BFGS (Nocedal & Wright 2006, Alg. 7.4/7.5) with the initial Hessian
``gamma I``, ``gamma = s'y / y'y``, and a backtracking Armijo line search with quadratic
interpolation. Box bounds are handled by projection: variables at a bound whose gradient points
outward are held (their direction component is zeroed) and trial points are clipped to the
box, so the Armijo test runs along the projected path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

RUNNING, CONVERGED, MAX_ITER, NAN_OBJECTIVE, LINE_SEARCH = -1, 0, 1, 2, 3

Objective = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class LBFGSResult:
    """What :func:`minimize` returns, one row per problem.

    Attributes
    ----------
    x : ndarray, shape (n, k)
        Final point.
    fun : ndarray, shape (n,)
        Objective at ``x`` (``inf`` where it was never finite).
    grad : ndarray, shape (n, k)
        Gradient at ``x``.
    n_iter, n_eval : ndarray of int, shape (n,)
        Iterations and objective evaluations.
    status : ndarray of int, shape (n,)
        ``CONVERGED`` (relative decrease below ``ftol``, projected gradient below ``gtol`` or
        a step below ``xtol``), ``MAX_ITER``, ``NAN_OBJECTIVE`` (not finite at the start) or
        ``LINE_SEARCH`` (no decrease found along steepest descent: a numerical minimum).
    """

    x: np.ndarray
    fun: np.ndarray
    grad: np.ndarray
    n_iter: np.ndarray
    n_eval: np.ndarray
    status: np.ndarray


def rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dot products along the last axis, broadcasting.

    ``np.vecdot`` up to 4,096 elements, ``einsum`` above: vecdot calls BLAS, whose threads slow
    very long vectors down (a law of 43k points); ``benchmarks/bench_choices.py`` times both.
    """
    if a.shape[-1] <= 4096:
        return np.vecdot(a, b)
    return np.einsum("...i,...i->...", a, b)


def _direction(pg, S, Y, rho, gamma, h):
    """Two-loop recursion, row-wise, over the ``h`` newest history slots (``S[-1]`` is the
    newest); ``rho`` is 0 in a row's empty slots, which then contribute nothing."""
    m = len(rho)
    q = pg.copy()
    alpha = np.empty_like(rho)
    for j in range(m - 1, m - 1 - h, -1):
        alpha[j] = rho[j] * rowdot(S[j], q)
        q -= alpha[j][:, None] * Y[j]
    q *= gamma[:, None]
    for j in range(m - h, m):
        q += (alpha[j] - rho[j] * rowdot(Y[j], q))[:, None] * S[j]
    return np.negative(q, out=q)


def minimize(fun: Objective, x0, *, lower=None, upper=None, max_iter: int = 1000,
             history: int = 10, ftol: float = 1e-12, gtol: float = 1e-12, xtol: float = 1e-15,
             max_ls: int = 30, c1: float = 1e-4, patience: int = 1,
             expand: int = 0) -> LBFGSResult:
    """Minimise ``n`` independent problems from the rows of ``x0``.

    Parameters
    ----------
    fun : callable
        ``fun(x, rows) -> (f, g)`` for points ``x (b, k)`` of the problems ``rows (b,)``
        (indices into ``x0``); returns ``f (b,)`` and the gradient ``g (b, k)``. Non-finite
        values are allowed (they make a trial step fail). An objective with a compiled twin
        of this iteration has ``fun.minimize_rows(x, lower, upper, options)``, which returns
        the result (or ``None`` to run it here); see
        :meth:`analyses.laws.objectives.HuberLog.minimize_rows`.
    x0 : array_like, shape (n, k)
        Starts, projected onto the bounds.
    lower, upper : array_like, shape (k,) or (n, k), optional
        Box bounds (``-inf``/``inf`` for none).
    max_iter : int, default=1000
        Iterations per problem.
    history : int, default=10
        Number of (s, y) pairs kept.
    ftol : float, default=1e-12
        Stop when ``f_k - f_{k+1} <= ftol * max(|f_k|, |f_{k+1}|)``.
    gtol : float, default=1e-12
        Stop when the projected gradient's largest component is at most ``gtol``.
    xtol : float, default=1e-15
        Stop when the step's largest component is at most ``xtol * (1 + |x|)``.
    max_ls : int, default=30
        Trial steps per line search.
    c1 : float, default=1e-4
        Armijo constant.
    patience : int, default=1
        Consecutive iterations that must pass the ``ftol`` or ``xtol`` test before a problem
        stops; the history is dropped after each one that passes without stopping, which lets
        a problem stalled at a kink of its objective restart along steepest descent.
    expand : int, default=0
        Times a unit step may be lengthened (x4 each) while it keeps lowering the objective
        and the slope stays steep; helps along flat valleys.

    Returns
    -------
    LBFGSResult

    Examples
    --------
    >>> def quad(x, rows):
    ...     return 0.5 * (x ** 2).sum(1), x
    >>> r = minimize(quad, [[1.0, -2.0], [3.0, 0.5]])
    >>> bool(np.abs(r.x).max() < 1e-8), r.status.tolist()
    (True, [0, 0])
    """
    x = np.array(x0, dtype=float, copy=True)
    n, k = x.shape
    lo = np.broadcast_to(-np.inf if lower is None else np.asarray(lower, float), (n, k))
    hi = np.broadcast_to(np.inf if upper is None else np.asarray(upper, float), (n, k))
    np.clip(x, lo, hi, out=x)
    compiled = getattr(fun, "minimize_rows", None)
    if compiled is not None:
        r = compiled(x, lo, hi, {
            "max_iter": max_iter, "history": history, "ftol": ftol, "gtol": gtol, "xtol": xtol,
            "max_ls": max_ls, "c1": c1, "patience": patience, "expand": expand})
        if r is not None:
            return r
    f, g = (np.array(v, dtype=float) for v in fun(x, np.arange(n)))
    status = np.full(n, RUNNING)
    status[~(np.isfinite(f) & np.isfinite(g).all(1))] = NAN_OBJECTIVE
    if max_iter <= 0:
        status[status == RUNNING] = MAX_ITER
    n_iter = np.zeros(n, dtype=int)
    n_eval = np.ones(n, dtype=int)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        _run(fun, x, f, g, lo, hi, status, n_iter, n_eval, max_iter, history, ftol, gtol,
             xtol, max_ls, c1, patience, expand)
    f = np.where(np.isfinite(f), f, np.inf)
    return LBFGSResult(x, f, g, n_iter, n_eval, status)


def _run(fun, x, f, g, lo, hi, status, n_iter, n_eval, max_iter, m, ftol, gtol, xtol, max_ls,
         c1, patience, expand):
    """The iterations of :func:`minimize`, on working arrays that hold only running rows;
    a row's final state is written to ``x, f, g, status, n_iter, n_eval`` when it stops."""
    rows = np.flatnonzero(status == RUNNING)
    b, k = rows.size, x.shape[1]
    xa, fa, ga, la, ha = x[rows], f[rows], g[rows], lo[rows], hi[rows]
    # history, oldest pair first: a row's last nh[i] slots hold its pairs
    S, Y, rho = np.zeros((m, b, k)), np.zeros((m, b, k)), np.zeros((m, b))
    gamma = np.ones(b)  # s'y / y'y of the newest pair
    nh = np.zeros(b, dtype=int)
    calm = np.zeros(b, dtype=int)  # consecutive iterations passing the ftol test
    ne = np.ones(b, dtype=int)
    slot = np.arange(m)[:, None]
    it = 0
    while rows.size:
        st = np.full(rows.size, RUNNING)
        held = ((xa <= la) & (ga > 0)) | ((xa >= ha) & (ga < 0))
        pg = np.where(held, 0.0, ga)
        small_g = np.abs(pg).max(1) <= gtol
        st[small_g] = CONVERGED

        d = _direction(pg, S, Y, np.where(slot >= m - nh, rho, 0.0),
                       np.where(nh > 0, gamma, 1.0), min(it, m))
        d[held] = 0.0
        gd = rowdot(ga, d)
        bad = ~(gd < 0) | ~np.isfinite(gd)
        if bad.any():  # not a descent direction: forget the history, go downhill
            nh[bad] = 0
            d[bad] = -pg[bad]
            gd[bad] = -rowdot(pg[bad], pg[bad])
        t = np.where(nh > 0, 1.0, np.minimum(1.0, 1.0 / np.sqrt(rowdot(d, d))))

        # Line search, row-wise: rows that pass the Armijo test leave `pending`.
        xnew, fnew, gnew = xa.copy(), fa.copy(), ga.copy()
        accepted = np.zeros(rows.size, dtype=bool)
        pending = np.flatnonzero(~small_g)
        for _ in range(max_ls):
            if not pending.size:
                break
            xp = xa[pending]
            xt = np.minimum(np.maximum(xp + t[pending, None] * d[pending], la[pending]),
                            ha[pending])
            ft, gt = fun(xt, rows[pending])
            ne[pending] += 1
            ok = (np.isfinite(ft) & np.isfinite(gt).all(1)
                  & (ft <= fa[pending] + c1 * rowdot(ga[pending], xt - xp)))
            acc = pending[ok]
            xnew[acc], fnew[acc], gnew[acc] = xt[ok], ft[ok], gt[ok]
            accepted[acc] = True
            p, fp = pending[~ok], ft[~ok]
            tp, dphi = t[p], gd[p]
            tq = -dphi * tp * tp / (2.0 * (fp - fa[p] - dphi * tp))
            t[p] = np.where(np.isfinite(fp) & np.isfinite(tq),
                            np.minimum(np.maximum(tq, 0.1 * tp), 0.5 * tp), 0.1 * tp)
            pending = p

        # Expansion: a unit step that passed Armijo but left the slope steep (the curvature
        # condition fails) is tried 4x longer while that keeps lowering f.
        grow = np.flatnonzero(accepted & (t == 1.0))
        for _ in range(expand):
            grow = grow[rowdot(gnew[grow], d[grow]) < 0.9 * gd[grow]]
            if not grow.size:
                break
            t[grow] *= 4.0
            xt = np.minimum(np.maximum(xa[grow] + t[grow, None] * d[grow], la[grow]), ha[grow])
            ft, gt = fun(xt, rows[grow])
            ne[grow] += 1
            ok = np.isfinite(ft) & np.isfinite(gt).all(1) & (ft < fnew[grow])
            grow = grow[ok]
            xnew[grow], fnew[grow], gnew[grow] = xt[ok], ft[ok], gt[ok]

        # Rows whose line search failed: retry once along steepest descent, then stop.
        failed = ~accepted & ~small_g
        st[failed & (nh == 0)] = LINE_SEARCH
        nh[failed] = 0

        s = xnew - xa
        yv = gnew - ga
        sy, yy = rowdot(s, yv), rowdot(yv, yv)
        upd = accepted & (sy > 2.2e-16 * yy) & (yy > 0)
        if upd.any():
            S[:-1, upd], Y[:-1, upd], rho[:-1, upd] = S[1:, upd], Y[1:, upd], rho[1:, upd]
            S[-1, upd], Y[-1, upd], rho[-1, upd] = s[upd], yv[upd], 1.0 / sy[upd]
            gamma[upd] = sy[upd] / yy[upd]
            nh[upd] = np.minimum(nh[upd] + 1, m)

        df = fa - fnew
        small = accepted & ((df <= ftol * np.maximum(np.abs(fa), np.abs(fnew)))
                            | (np.abs(s).max(1) <= xtol * (1.0 + np.abs(xa).max(1))))
        xa, fa, ga = xnew, fnew, gnew
        calm = np.where(small, calm + 1, 0)
        done = calm >= patience
        nh[small & ~done] = 0  # restart
        st[done] = CONVERGED
        it += 1
        if it >= max_iter:
            st[st == RUNNING] = MAX_ITER
        stop = st != RUNNING
        if stop.any():
            out = rows[stop]
            x[out], f[out], g[out] = xa[stop], fa[stop], ga[stop]
            status[out], n_iter[out], n_eval[out] = st[stop], it, ne[stop]
            keep = ~stop
            rows, xa, fa, ga, la, ha = (a[keep] for a in (rows, xa, fa, ga, la, ha))
            S, Y, rho = S[:, keep], Y[:, keep], rho[:, keep]
            gamma, nh, calm, ne = gamma[keep], nh[keep], calm[keep], ne[keep]
