"""Honest statuses: a fit that is not finite fails, and a law its data cannot identify says
why."""

from __future__ import annotations

import numpy as np
import pytest

from analyses.laws import CurveFitHitchhiker, HuberLBFGS, LawBatch, get_form
from analyses.laws.identify import failures, levels, unidentified

TRUE = [1.8, 400.0, 2000.0, 0.34, 0.37]
CHINCHILLA = get_form("chinchilla")


def grid(sizes, tokens, params=TRUE):
    N, D = (a.ravel() for a in np.meshgrid(sizes, tokens))
    return LawBatch.single(CHINCHILLA.predict(params, N, D), N=N, D=D)


def test_a_clean_law_on_enough_sizes_and_tokens_is_identified():
    est = HuberLBFGS(grid="small").fit(grid([1e8, 4e8, 1.6e9], [2e9, 8e9, 3.2e10]))
    assert est.status_.tolist() == ["ok"] and est.unidentified_ == (None,)


@pytest.mark.parametrize("sizes, tokens, reason", [
    ([1e8, 4e8], [2e9, 8e9, 3.2e10], "2 sizes (alpha needs 3)"),
    ([1e8], [2e9, 8e9, 3.2e10], "1 size (alpha needs 3)"),
    ([1e8, 4e8, 1.6e9], [2e10], "1 token count (beta needs 3)"),
])
def test_too_few_sizes_or_token_counts_are_flagged(sizes, tokens, reason):
    for est in (HuberLBFGS(grid="small"), CurveFitHitchhiker()):
        est.fit(grid(sizes, tokens))
        if est.status_[0] in ("ok", "at_bound", "max_iter"):
            assert reason in est.unidentified_[0]


def test_borrowed_a_and_alpha_need_one_size_only():
    est = HuberLBFGS(grid="small", form="chinchilla-borrowed")
    est.fit(grid([1e8], np.geomspace(2e9, 3e10, 8)))
    why = est.unidentified_[0] or ""
    assert "sizes" not in why


def test_each_rule_names_its_reason():
    batch = grid([1e8, 4e8, 1.6e9], [2e9, 8e9, 3.2e10])
    lowest = batch.y[0].min()
    cases = {
        "E at its bound 0": [1e-79, 400.0, 2000.0, 0.34, 0.37],
        f"above the lowest observed loss {lowest:.3g}": [lowest + 0.5, 400.0, 2000.0, 0.34, 0.37],
        "alpha 25.9 outside [0.01, 3]": [1.8, 3e142, 2000.0, 25.9, 0.37],
        "beta at its bound 0": [1.8, 400.0, 2000.0, 0.34, 0.0],
    }
    for reason, params in cases.items():
        why = unidentified(CHINCHILLA, np.array([params]), batch)[0]
        assert why is not None and reason in why, (reason, why)
    assert unidentified(CHINCHILLA, np.array([TRUE]), batch) == [None]
    assert unidentified(CHINCHILLA, np.full((1, 5), np.nan), batch) == [None]


def test_levels_merge_values_within_one_percent():
    assert levels(np.array([1e8, 1.005e8, 1.02e8])) == 2
    assert levels(np.array([])) == 0
    # a densely digitised curve (values 0.1% apart) is many token counts, not one chain
    assert levels(np.geomspace(9e10, 3e11, 1000), cap=3) == 3
    assert levels(np.geomspace(9e10, 3e11, 1000)) > 100


def test_non_finite_objective_or_training_prediction_is_a_failure():
    batch = grid([1e8, 4e8, 1.6e9], [2e9, 8e9, 3.2e10])
    params = np.array([TRUE, [1.8, np.inf, 2000.0, 0.34, 0.37], TRUE])
    status = failures(CHINCHILLA, params, np.array([1e-3, 1e-3, np.inf]),
                      batch.take(np.array([0, 0, 0])), np.array(["ok", "ok", "ok"]))
    assert status.tolist() == ["ok", "nan_prediction", "nan_objective"]
    # statuses that are already failures stay as they are
    status = failures(CHINCHILLA, params[:1], np.array([np.nan]), batch,
                      np.array(["too_few_points"]))
    assert status.tolist() == ["too_few_points"]
