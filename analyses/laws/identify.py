"""Whether a fitted law is finite, and whether its data can identify it.

Two judgements on a fitted law, made in one place for the estimators, ``meta fit`` and
``meta fit-all`` (which also re-judges the laws already in the warehouse):

- :func:`failures`: a fit whose objective, or whose prediction at one of its own training
  points, is not finite is a failure (``nan_objective``, ``nan_prediction``); its numbers are
  kept for inspection but it is never scored or averaged.
- :func:`unidentified`: a finite fit that its data cannot pin down keeps its status and
  carries the reason (``laws.unidentified``); the studies still score it as the paper does,
  and reports count such laws and show their numbers without them. The rules:

  * a power term ``A / N**alpha`` with a free exponent needs :data:`MIN_LEVELS` distinct
    values of its input (with the shared E, two sizes fit any A and alpha: three sizes for
    E + A/N^alpha, three token counts for B/D^beta); values within :data:`SAME_LEVEL`
    relative of the first of their level count as one (digitised sizes are noisy);
  * E pinned at its bound: below :data:`E_FLOOR` times the lowest observed loss (E -> 0);
  * E above the lowest observed loss: the law cannot reach its own data;
  * an exponent at its bound or outside :data:`EXPONENT_BAND`: a flat term (below) is
    confounded with E, a steep one (above) is a step between two sizes.
"""

from __future__ import annotations

import numpy as np

from analyses.laws.batch import LawBatch
from analyses.laws.forms import Form

MIN_LEVELS = 3
SAME_LEVEL = 0.01
E_FLOOR = 0.01
EXPONENT_BAND = (0.01, 3.0)
FITTED = ("ok", "at_bound", "max_iter")  # statuses of a finished fit (scored by the studies)
NOUNS = {"N": ("size", "sizes"), "D": ("token count", "token counts"),
         "C": ("compute budget", "compute budgets"),
         "U": ("unique-token count", "unique-token counts")}


def base_form(form: Form) -> Form:
    """The form whose natural parameters a law is stored in (Chinchilla for
    ``chinchilla-borrowed``)."""
    return getattr(form, "base", form)


def base_params(form: Form, params: np.ndarray) -> np.ndarray:
    """``params (n, p)`` of ``form`` as natural parameters of :func:`base_form`."""
    params = np.asarray(params, dtype=float)
    if base_form(form) is form:
        return params
    with np.errstate(invalid="ignore", over="ignore"):
        return form.base_params(params)


def _free(form: Form, index: int) -> bool:
    """Whether the base form's parameter ``index`` is fitted (not held fixed) by ``form``."""
    W = getattr(form, "W", None)
    return W is None or bool(np.any(W[:, index] != 0))


def exponents(form: Form) -> list[tuple[int, str, bool]]:
    """``(index in the base's parameters, input it scales, free)`` of each exponent."""
    base = base_form(form)
    if base.lse is not None:
        pairs = [(int(np.flatnonzero(base.lse.Ms[:, j])[0]), base.inputs[f])
                 for j, f in enumerate(base.lse.feature) if f >= 0]
    else:
        pairs = [(base.names.index(n), x) for n, x in base.exponent_inputs.items()]
    return [(i, x, _free(form, i)) for i, x in pairs]


def levels(values: np.ndarray, cap: int | None = None) -> int:
    """Distinct positive values, a value within :data:`SAME_LEVEL` relative of the first of
    its level counting as that level (digitised sizes are noisy); counting stops at ``cap``.

    Examples
    --------
    >>> levels(np.array([1e8, 1e8, 1.001e8, 4e8, 1.6e9]))
    3
    >>> levels(np.geomspace(1e10, 3e11, 500))  # a dense curve: levels 1% apart, not one
    250
    """
    v = np.unique(values)
    n, i = 0, 0
    while i < v.size and (cap is None or n < cap):
        n += 1
        i = int(np.searchsorted(v, v[i] * (1 + SAME_LEVEL), side="right"))
    return n


def _fmt(v: float) -> str:
    return f"{v:.3g}"


def unidentified(form: Form, natural: np.ndarray, batch: LawBatch) -> list[str | None]:
    """Why each law's data cannot identify it (reasons joined by "; "), or None.

    Parameters
    ----------
    form : Form
        The form fitted (it says which parameters were free).
    natural : ndarray, shape (n_laws, n_base_params)
        Natural parameters of :func:`base_form` (:func:`base_params`); laws with a NaN
        parameter get None (they failed).
    batch : LawBatch
        The laws' training points.

    Returns
    -------
    list of str or None, length n_laws
    """
    base = base_form(form)
    terms = exponents(form)
    e = base.names.index("E") if "E" in base.names else None
    lo, hi = EXPONENT_BAND
    out: list[str | None] = []
    for i in range(batch.n_laws):
        theta = natural[i]
        if not np.isfinite(theta).all():
            out.append(None)
            continue
        m = batch.mask[i]
        reasons = []
        for k, name, free in terms:
            if free:
                n = levels(batch.x[i, m, batch.columns.index(name)], cap=MIN_LEVELS)
                if n < MIN_LEVELS:
                    noun = NOUNS.get(name, (name, name))[n != 1]
                    reasons.append(f"{n} {noun} ({base.names[k]} needs {MIN_LEVELS})")
        lowest = batch.y[i, m].min() if m.any() else np.nan
        if e is not None and _free(form, e):
            if theta[e] < E_FLOOR * lowest:
                reasons.append(f"E at its bound 0 ({_fmt(theta[e])})")
            elif theta[e] > lowest:
                reasons.append(f"E {_fmt(theta[e])} above the lowest observed loss "
                               f"{_fmt(lowest)}")
        for k, _, free in terms:
            v = theta[k]
            if free and v <= base.bounds[k][0]:
                reasons.append(f"{base.names[k]} at its bound {_fmt(base.bounds[k][0])}")
            elif free and not lo <= v <= hi:
                reasons.append(f"{base.names[k]} {_fmt(v)} outside [{lo:g}, {hi:g}]")
        out.append("; ".join(reasons) or None)
    return out


def failures(form: Form, natural: np.ndarray, objective: np.ndarray, batch: LawBatch,
             status: np.ndarray) -> np.ndarray:
    """``status`` with fitted laws (:data:`FITTED`) whose objective is not finite set to
    ``nan_objective`` and those whose prediction at one of their own training points is not
    finite set to ``nan_prediction``; ``natural`` as for :func:`unidentified`."""
    status = np.asarray(status, dtype=object).copy()
    fitted = np.isin(status, FITTED)
    base = base_form(form)
    with np.errstate(all="ignore"):
        pred = base.predict(natural, *np.moveaxis(batch.inputs(base.inputs), -1, 0))
    finite = np.where(batch.mask, np.isfinite(pred), True).all(axis=1)
    status[fitted & ~finite] = "nan_prediction"
    status[fitted & ~np.isfinite(objective)] = "nan_objective"
    return status
