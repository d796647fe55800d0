"""Observational building blocks on synthetic data: imputation, PCA, sigmoid fits, splits,
f-equivalent FLOPs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyses.observational import (
    CapabilitySpace,
    RankOneImputer,
    SigmoidRegression,
    Split,
    equivalent_flops,
)
from tests.obsdata import reference_impute
from warehouse.errors import MetaError, NotFitted


def low_rank(n: int = 40, p: int = 6, seed: int = 0) -> np.ndarray:
    """Rank-1 scores in (0, 1): a capability times per-benchmark slopes, plus offsets."""
    rng = np.random.default_rng(seed)
    s = rng.uniform(0, 1, n)
    return 0.1 + np.outer(s, rng.uniform(0.3, 0.8, p))


def holes(X: np.ndarray, share: float, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = X.copy()
    mask = rng.uniform(size=X.shape) < share
    mask[np.arange(X.shape[0]), rng.integers(0, X.shape[1], X.shape[0])] = False
    out[mask] = np.nan
    return out


def test_rank_one_imputation_recovers_low_rank_holes():
    X = low_rank()
    Xh = holes(X, 0.25)
    miss = np.isnan(Xh)
    assert miss.sum() > 40
    imp = RankOneImputer().fit(Xh)
    filled = imp.transform(Xh)
    assert np.abs(filled[miss] - X[miss]).max() < 1e-4
    np.testing.assert_allclose(filled[~miss], Xh[~miss], rtol=1e-12)  # scale round trip
    # On exactly low-rank data the code's whole-matrix test (np.allclose: atol 1e-4, rtol
    # 1e-5) passes and stops the loop early, as upstream; on real scores it never does.
    assert imp.n_iter_ < 1000


def test_imputation_equals_the_released_loop_bit_for_bit():
    rng = np.random.default_rng(3)
    X = np.clip(low_rank(50, 8) + 0.05 * rng.standard_normal((50, 8)), 0, 1)
    Xh = holes(X, 0.15, seed=4)
    for max_iter in (10, 1000):
        imp = RankOneImputer(max_iter=max_iter).fit(Xh)
        np.testing.assert_array_equal(imp.fit_transform(Xh), reference_impute(Xh, max_iter))


def test_test_rows_are_filled_with_the_training_fit():
    X = low_rank(60, 6, seed=5)
    train, test = X[:40], holes(X[40:], 0.4, seed=6)
    imp = RankOneImputer().fit(train)
    filled = imp.transform(test)
    miss = np.isnan(test)
    assert np.abs(filled[miss] - X[40:][miss]).max() < 1e-4
    # the training fit is fixed: transforming does not refit
    before = imp.components_.copy()
    imp.transform(holes(X, 0.5, seed=7))
    np.testing.assert_array_equal(before, imp.components_)


def test_imputed_values_are_clipped_to_the_unit_interval():
    X = np.array([[0.0, 0.0], [0.5, 0.5], [1.0, 1.0], [0.9, np.nan]])
    X[3, 0] = 1.0
    X = np.vstack([X, [[1.0, np.nan]]])
    out = RankOneImputer().fit_transform(X)
    assert out.max() <= 1.0 and out.min() >= 0.0


def test_a_column_without_values_is_an_error():
    X = low_rank(10, 3)
    X[:, 1] = np.nan
    with pytest.raises(MetaError, match="Column 1 has no observed value"):
        RankOneImputer().fit(X)


def test_transform_before_fit_is_sklearns_message():
    with pytest.raises(NotFitted, match="not fitted yet. Call 'fit'"):
        RankOneImputer().transform(np.zeros((2, 2)))


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), share=st.floats(0.0, 0.3))
def test_imputation_recovers_any_rank_one_matrix(seed, share):
    X = low_rank(30, 5, seed=seed)
    Xh = holes(X, share, seed=seed + 1)
    filled = RankOneImputer().fit_transform(Xh)
    assert np.abs(filled - X).max() < 1e-4


def test_space_pca_matches_the_covariance_eigendecomposition_and_fixes_signs():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 4)) @ rng.standard_normal((4, 4))
    space = CapabilitySpace(n_components=4, impute=False).fit(X)
    w, V = np.linalg.eigh(np.cov(X, rowvar=False))
    np.testing.assert_allclose(space.pca_.explained_variance_, w[::-1], rtol=1e-10)
    np.testing.assert_allclose(space.explained_variance_ratio_.sum(), 1.0)
    for comp in space.components_:
        assert comp[np.argmax(np.abs(comp))] > 0  # svd_flip(u_based_decision=False)
    # sign-fixed components do not depend on the row order
    reversed_rows = CapabilitySpace(n_components=4, impute=False).fit(X[::-1])
    np.testing.assert_allclose(reversed_rows.components_, space.components_, atol=1e-12)
    np.testing.assert_allclose(space.transform(X).mean(0), 0, atol=1e-12)


def test_space_without_imputation_refuses_holes():
    X = low_rank()
    X[0, 0] = np.nan
    with pytest.raises(MetaError, match="impute it first"):
        CapabilitySpace(impute=False).fit(X)


def test_capability_space_projects_test_rows_with_the_training_fit():
    X = low_rank(40, 5)
    space = CapabilitySpace(n_components=3).fit(X[:30])
    s = space.transform(holes(X[30:], 0.3))
    np.testing.assert_allclose(s[:, 0], space.transform(X[30:])[:, 0], atol=1e-3)
    assert space.components_.shape == (3, 5)


@pytest.mark.parametrize(
    ("nonlinearity", "loss", "floor"),
    [("sigmoid-parametric", "ols", 0.12), ("sigmoid-parametric", "huber", 0.05),
     ("sigmoid", "ols", 0.0), ("sigmoid", "huber", 0.0)],
)
def test_sigmoid_recovers_its_parameters(nonlinearity, loss, floor):
    rng = np.random.default_rng(1)
    x = rng.uniform(-2, 2, (80, 3))
    alpha, beta = -0.4, np.array([1.5, -0.7, 0.3])
    y = (1 - floor) / (1 + np.exp(-(alpha + x @ beta))) + floor
    fit = SigmoidRegression(nonlinearity, loss=loss).fit(x, y + 1e-4 * rng.standard_normal(80))
    assert fit.params_.alpha == pytest.approx(alpha, abs=0.02)
    np.testing.assert_allclose(fit.params_.beta, beta, atol=0.02)
    assert fit.params_.floor == pytest.approx(floor, abs=0.01)
    assert np.abs(fit.predict(x) - y).max() < 1e-3


def test_sigmoid_floor_stays_in_its_bound():
    x = np.linspace(-3, 3, 30)[:, None]
    y = 0.6 / (1 + np.exp(-2 * x[:, 0])) + 0.4  # a floor of 0.4, outside [0, 0.2]
    fit = SigmoidRegression().fit(x, y)
    assert 0.0 <= fit.params_.floor <= 0.2 + 1e-12
    assert fit.params_.height == pytest.approx(1 - fit.params_.floor)


def test_sigmoid_rejects_unknown_settings():
    with pytest.raises(MetaError, match="Unknown nonlinearity 'exp'. Known nonlinearities"):
        SigmoidRegression("exp").fit(np.zeros((3, 1)), np.zeros(3))
    with pytest.raises(MetaError, match="'delta' parameter of SigmoidRegression"):
        SigmoidRegression(loss="huber", delta=-1).fit(np.zeros((3, 1)), np.zeros(3))


def test_cutoff_split_sends_unknown_flops_to_test():
    flops = np.array([1e21, 8.4e22, 8.4e22 * (1 + 1e-12), 1.0e23, np.nan])
    test = Split("cutoff", 8.4e22).is_test(flops, np.zeros(5))
    assert test.tolist() == [False, False, False, True, True]


def test_rank_split_holds_out_the_top_share():
    y = np.array([0.1, 0.5, 0.9, 0.3, 0.7, 0.2, 0.4, 0.6, 0.8, 0.0, 1.0])
    test = Split("rank", 0.1).is_test(np.full(11, np.nan), y)  # int(0.1 * 11) = 1
    assert np.flatnonzero(test).tolist() == [10]
    assert Split("rank", 3).is_test(np.full(11, np.nan), y).sum() == 3
    with pytest.raises(MetaError, match="leaves no training model"):
        Split("rank", 11).is_test(np.full(11, np.nan), y)


def test_equivalent_flops_inverts_the_reference_line():
    fams = ["Llama-2"] * 3 + ["Other"] * 2
    flops = np.array([1e22, 1e23, 1e24, 1e22, np.nan])
    z = np.array([0.0, 1.0, 2.0, 5.0, 7.0])
    line = equivalent_flops(z, fams, flops)
    np.testing.assert_allclose(line.log10_flops(z), [22, 23, 24, 27, 29])
    with pytest.raises(MetaError, match="reference family 'Llama-2-Chat' has 0 model"):
        equivalent_flops(z, fams, flops, ref_family="Llama-2-Chat")
