"""One law fitted on a family's points from the warehouse (what `meta fit` prints)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from analyses.laws import FORMS, FitResult, LawBatch, get_estimator, get_form
from warehouse.errors import MetaError
from warehouse.families import require_families
from warehouse.guard import where_condition
from warehouse.sql import query

_POINTS = """
SELECT num_params::DOUBLE AS N, tokens AS D, flops AS C, perf FROM perf
WHERE family = ? AND {where}
ORDER BY num_params, tokens
"""
# What a family's points give each input a form may read.
INPUTS = {"N": "the model size", "D": "tokens seen", "C": "training FLOPs"}


@dataclass(frozen=True)
class FamilyFit:
    """A law fitted on one family's points.

    Attributes
    ----------
    family : str
    result : FitResult
        One law; ``keys`` holds the family name.
    dropped : int
        Points left out: a missing, non-positive or non-finite input or perf.
    """

    family: str
    result: FitResult
    dropped: int


def fit_family(
    con: duckdb.DuckDBPyConnection,
    family: str,
    *,
    form: str = "chinchilla",
    estimator: str = "huber-lbfgs",
    grid: str | None = None,
    where: str | None = None,
) -> FamilyFit:
    """Fit one law on every usable ``perf`` point of ``family`` (optionally filtered).

    Points whose inputs or perf are missing, non-positive or non-finite never reach the
    estimator; they are counted in ``dropped``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    family : str
        A family in the warehouse.
    form : str, default="chinchilla"
        A form of :data:`analyses.laws.FORMS` whose inputs a family has (N, D, C).
    estimator : str, default="huber-lbfgs"
    grid : str, optional
        Start grid of ``huber-lbfgs`` (default ``hoffmann``, its 4,500 starts).
    where : str, optional
        An SQL condition on the ``perf`` view's columns (``tokens > 1e10``): one boolean
        expression, without subqueries (:func:`warehouse.guard.where_condition`).

    Returns
    -------
    FamilyFit
    """
    require_families(con, [family])
    cls = get_estimator(estimator)
    law_form = get_form(form)
    missing = [x for x in law_form.inputs if x not in INPUTS]
    if missing:
        fit_here = sorted(n for n, f in FORMS.items() if set(f.inputs) <= set(INPUTS))
        raise MetaError(f"Form '{form}' reads {', '.join(missing)}, which a family's points "
                        f"do not hold; forms on N, D or C fit here: {', '.join(fit_here)}.")
    options = {"form": form}
    if grid is not None:
        if estimator != "huber-lbfgs":
            raise MetaError(f"--grid applies to huber-lbfgs only, not to {estimator}.")
        options["grid"] = grid
    condition = "TRUE" if where is None else where_condition(con, where, view="perf")
    try:
        points = query(con, _POINTS.format(where=condition), [family])
    except duckdb.Error as e:
        raise MetaError(f"The --where condition failed: {str(e).splitlines()[0]}") from None
    columns = [*law_form.inputs, "perf"]
    values = points.select(columns).to_numpy().astype(float)
    usable = (np.isfinite(values) & (values > 0)).all(axis=1)
    if not usable.any():
        raise MetaError(
            f"Family '{family}' has no usable perf points"
            + (f" where {where}" if where else "")
            + f" ({points.height} points, none with a positive, finite "
            + ", ".join(INPUTS[x] for x in law_form.inputs) + " and perf)."
        )
    values = values[usable]
    batch = LawBatch(values[None, :, :-1], values[None, :, -1],
                     np.ones((1, len(values)), dtype=bool), tuple(law_form.inputs),
                     keys=(family,))
    result = cls(**options).fit(batch).result_
    return FamilyFit(family, result, int((~usable).sum()))
