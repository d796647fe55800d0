"""Claims and guideline sentences judged again once their intervals are shown.

A claim (:mod:`analyses.hitchhiker.claims`) or guideline (:mod:`analyses.hitchhiker.guidelines`)
that is a statistic over families gets its interval over resampled families
(:func:`analyses.hitchhiker.intervals.family_interval`), and a second verdict from it:

- a claim: ``consistent with the paper`` when the paper's number lies inside the interval,
  ``excludes the paper's number`` when it does not;
- a guideline that gives advice: ``holds`` when the whole interval lies on the side of the
  threshold the advice was taken from, ``not resolved`` when it straddles the threshold,
  ``reversed`` when it lies on the other side.

Either is ``too few families`` when fewer than
:data:`~analyses.hitchhiker.intervals.MIN_FAMILIES` families carry it. The verdict *changes*
when the interval does not confirm the point verdict: a reproduced claim whose interval excludes
the paper's number, a claim not reproduced whose interval holds it, advice that is not
resolved or reversed, and any verdict resting on too few families.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analyses.hitchhiker.claims import NOT_REPRODUCED, REPRODUCED, Claim
from analyses.hitchhiker.guidelines import Guideline
from analyses.hitchhiker.intervals import Interval, family_interval

CONSISTENT = "consistent with the paper"
EXCLUDES = "excludes the paper's number"
NO_PAPER = "no paper number"
HOLDS, NOT_RESOLVED, REVERSED = "holds", "not resolved", "reversed"
REPORTS = "reports a number"
NOT_FAMILIES = "not a statistic over families"
UNITS = {"useful-20": "share", "self-prefix": "run", "pca": "share", "outliers": "share"}


@dataclass(frozen=True)
class Judged:
    """A claim or guideline with its interval and second verdict.

    Attributes
    ----------
    key : str
    interval : Interval or None
        None where the claim is not a statistic over families.
    verdict : str
        The verdict with the interval (the module's vocabulary).
    changed : bool
        The interval does not confirm the point verdict.
    text : str
        The value with its interval, e.g. ``10.4% [6.1, 15.8]`` or ``3.2% (too few
        families)``; ``n/a`` for a claim that is not a statistic over families.
    """

    key: str
    interval: Interval | None
    verdict: str
    changed: bool
    text: str


def judge_claim(claim: Claim, **resampling) -> Judged:
    """``claim`` with its interval over resampled families; ``resampling`` goes to
    :func:`~analyses.hitchhiker.intervals.family_interval`."""
    if claim.evidence is None or claim.statistic is None:
        return Judged(claim.key, None, NOT_FAMILIES, False, "n/a")
    iv = family_interval(claim.evidence, claim.statistic, **resampling)
    unit = UNITS.get(claim.key, "are")
    text = interval_text(iv, unit, digits=2 if claim.key == "pca" else None)
    if iv.status != "ok":
        return Judged(claim.key, iv, iv.status, claim.verdict in (REPRODUCED, NOT_REPRODUCED),
                      text)
    if claim.paper_value is None:
        return Judged(claim.key, iv, NO_PAPER, False, text)
    inside = iv.contains(claim.paper_value)
    changed = (claim.verdict == REPRODUCED and not inside) or (
        claim.verdict == NOT_REPRODUCED and inside)
    return Judged(claim.key, iv, CONSISTENT if inside else EXCLUDES, changed, text)


def judge_guideline(guideline: Guideline, **resampling) -> Judged:
    """``guideline`` with its interval over resampled families and whether its advice
    holds across it."""
    iv = family_interval(guideline.evidence, guideline.statistic, **resampling)
    text = interval_text(iv, guideline.unit)
    if guideline.threshold is None:
        return Judged(guideline.key, iv, REPORTS, False, text)
    if iv.status != "ok":
        return Judged(guideline.key, iv, iv.status, True, text)
    point = (iv.value > guideline.threshold) - (iv.value < guideline.threshold)
    side = iv.side(guideline.threshold)
    verdict = NOT_RESOLVED if point == 0 or side == 0 else HOLDS if side == point else REVERSED
    return Judged(guideline.key, iv, verdict, verdict != HOLDS, text)


def interval_text(iv: Interval, unit: str, digits: int | None = None) -> str:
    """``value [low, high]`` in percent (``are``: one decimal; ``share`` and ``run``: none;
    ``points``: a difference in ARE points, one decimal), the bounds without the unit; an
    infinite share of a run reads ``never``.

    Examples
    --------
    >>> iv = Interval(0.104, 0.061, 0.158, 7, "ok", 0.9, 1000, 0)
    >>> interval_text(iv, "are")
    '10.4% [6.1, 15.8]'
    >>> interval_text(Interval(-0.004, -0.007, 0.029, 26, "ok", 0.9, 1000, 0), "points")
    '-0.4 points [-0.7, 2.9]'
    >>> interval_text(Interval(0.3, 0.2, math.inf, 9, "ok", 0.9, 1000, 0), "run")
    '30% [20, never]'
    >>> interval_text(Interval(0.02, None, None, 3, "too few families", 0.9, 1000, 0), "are")
    '2.0% (too few families)'
    """
    digits = (0 if unit in ("share", "run") else 1) if digits is None else digits

    def number(v: float) -> str:
        if math.isinf(v):
            return "never"
        return f"{100 * v:.{digits}f}" if v == v else "n/a"

    value = number(iv.value) + (" points" if unit == "points" else "%")
    if iv.low is None:
        return f"{value} ({iv.status})"
    return f"{value} [{number(iv.low)}, {number(iv.high)}]"
