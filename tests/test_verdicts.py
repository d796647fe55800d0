"""Claims and guidelines over resampled families: the resampler and the second verdicts."""

import numpy as np
import polars as pl
import pytest

from analyses.hitchhiker.claims import NOT_MEASURABLE, NOT_REPRODUCED, REPRODUCED, Claim
from analyses.hitchhiker.guidelines import Guideline
from analyses.hitchhiker.intervals import (
    NO_INTERVAL,
    TOO_FEW,
    family_interval,
    mean_of,
    median_of,
)
from analyses.hitchhiker.verdicts import (
    CONSISTENT,
    EXCLUDES,
    HOLDS,
    NO_PAPER,
    NOT_FAMILIES,
    NOT_RESOLVED,
    REPORTS,
    REVERSED,
    judge_claim,
    judge_guideline,
)
from warehouse.errors import MetaError


def families(values, rows_per_family=1):
    """One family per value, each with ``rows_per_family`` rows of it."""
    return pl.DataFrame({
        "family": [f"f{i}" for i in range(len(values)) for _ in range(rows_per_family)],
        "are": [v for v in values for _ in range(rows_per_family)],
    })


def test_same_seed_same_interval_other_seed_other_draws():
    ev = families(np.linspace(0.01, 0.3, 12))
    a, b = (family_interval(ev, mean_of("are"), n_resamples=300, seed=7) for _ in range(2))
    c = family_interval(ev, mean_of("are"), n_resamples=300, seed=8)
    assert a == b and (a.low, a.high) != (c.low, c.high)
    assert a.low < a.value < a.high and a.n_families == 12 and a.status == "ok"
    assert (a.level, a.n_resamples, a.seed) == (0.9, 300, 7)


def test_a_family_drawn_twice_enters_as_two_families():
    ev = families(np.linspace(0.01, 0.3, 8), rows_per_family=3)
    iv = family_interval(ev, lambda f: f["family"].n_unique(), n_resamples=100)
    assert (iv.value, iv.low, iv.high) == (8, 8, 8)  # every resample has 8 draws, 3 rows each
    rows = family_interval(ev, lambda f: f.height, n_resamples=100)
    assert (rows.low, rows.high) == (24, 24)


def test_nominal_90_percent_covers_the_mean_of_the_population():
    rng = np.random.default_rng(0)
    covered = [
        family_interval(families(rng.normal(0.1, 0.03, 40)), mean_of("are"),
                        n_resamples=200, seed=s).contains(0.1)
        for s in range(60)
    ]
    assert 0.8 <= np.mean(covered) <= 0.98


def test_too_few_families_and_no_finite_resample():
    assert family_interval(families([0.1, 0.2, 0.3, 0.4]), mean_of("are")).status == TOO_FEW
    iv = family_interval(families([0.1] * 6), lambda f: float("nan"), n_resamples=10)
    assert iv.status == NO_INTERVAL and iv.low is None and iv.contains(0.1) is None


def test_bad_resampling_arguments_name_the_parameter():
    with pytest.raises(MetaError, match="'n_resamples' parameter of family_interval"):
        family_interval(families([0.1] * 6), mean_of("are"), n_resamples=0)
    with pytest.raises(MetaError, match="'level' parameter of family_interval"):
        family_interval(families([0.1] * 6), mean_of("are"), level=1.5)


def claim(values, verdict, paper_value, evidence=True):
    ev = families(values)
    return Claim("k", "a claim", "x", "y", verdict, "why.", float(ev["are"].median()),
                 paper_value, ev if evidence else None, median_of("are") if evidence else None)


SPREAD = [0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08]


@pytest.mark.parametrize("verdict, paper, judged, changed", [
    (REPRODUCED, 0.05, CONSISTENT, False),
    (REPRODUCED, 0.5, EXCLUDES, True),          # within tolerance, yet excluded
    (NOT_REPRODUCED, 0.05, CONSISTENT, True),   # missed, yet not excluded
    (NOT_REPRODUCED, 0.5, EXCLUDES, False),
    (NOT_MEASURABLE, None, NO_PAPER, False),
])
def test_a_claim_is_judged_by_whether_the_paper_lies_in_its_interval(verdict, paper, judged,
                                                                      changed):
    j = judge_claim(claim(SPREAD, verdict, paper), n_resamples=300)
    assert (j.verdict, j.changed) == (judged, changed)
    assert j.text.startswith("5.0% [") and j.interval.n_families == 7


def test_a_claim_on_too_few_or_named_families():
    few = judge_claim(claim(SPREAD[:3], REPRODUCED, 0.05))
    assert (few.verdict, few.changed, few.text) == (TOO_FEW, True, "3.0% (too few families)")
    named = judge_claim(claim(SPREAD, REPRODUCED, 0.05, evidence=False))
    assert (named.verdict, named.changed, named.interval, named.text) == (
        NOT_FAMILIES, False, None, "n/a")


def guideline(values, threshold):
    return Guideline("g", "**Advice.**", "a share", "share", families(values), mean_of("are"),
                     threshold)


@pytest.mark.parametrize("values, threshold, judged", [
    ([0.7, 0.8, 0.9, 0.8, 0.7, 0.9], 0.5, HOLDS),
    ([0.1, 0.2, 0.1, 0.3, 0.2, 0.1], 0.5, HOLDS),        # below the threshold, and holds
    ([0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0], 0.5, NOT_RESOLVED),
    ([0.7, 0.8, 0.9, 0.8, 0.7, 0.9], None, REPORTS),
])
def test_advice_holds_when_its_interval_stays_on_one_side(values, threshold, judged):
    j = judge_guideline(guideline(values, threshold), n_resamples=300)
    assert j.verdict == judged and j.changed == (judged == NOT_RESOLVED)


def test_advice_on_too_few_families_is_not_supported():
    j = judge_guideline(guideline([0.9, 0.8], 0.5))
    assert (j.verdict, j.changed) == (TOO_FEW, True)


def test_reversed_advice():
    # the point sits below the threshold while every resample's median sits above
    g = Guideline("g", "**Advice.**", "a median", "share", families([0.6] * 6),
                  lambda f: 0.4 if f["family"][0] == "f0" else 0.6, 0.5)
    assert judge_guideline(g, n_resamples=50).verdict == REVERSED
