"""One contract test over every estimator and form, and the estimators' behaviour."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyses.laws import (
    CurveFitHitchhiker,
    HuberLBFGS,
    LawBatch,
    bootstrap,
    fixed,
    get_estimator,
    get_form,
)
from analyses.laws.objectives import HuberLog
from warehouse.errors import InvalidParameter, NotFitted, UnknownName

CASES = [
    ("huber-lbfgs", {"grid": "small"}, "chinchilla"),
    ("huber-lbfgs", {"grid": "small", "screen": 8}, "chinchilla"),
    ("huber-lbfgs", {"grid": "small"}, "chinchilla-borrowed"),
    ("huber-lbfgs", {"grid": "small"}, "compute"),
    ("huber-lbfgs", {"grid": "small"}, "run"),
    ("huber-lbfgs", {"grid": "muennighoff"}, "kaplan2020"),
    ("huber-lbfgs", {"grid": "muennighoff", "max_iter": 200}, "muennighoff2023"),
    ("curvefit-hitchhiker", {}, "chinchilla"),
    ("curvefit-hitchhiker", {"method": "batched"}, "chinchilla"),
    ("curvefit-hitchhiker", {"method": "batched"}, "run"),
]


def synthetic(form_name: str, n_laws: int, seed: int = 0, noise: float = 0.005) -> LawBatch:
    """Laws near the form's default parameters, on a grid of its inputs, with noise."""
    form = get_form(form_name)
    rng = np.random.default_rng(seed)
    sizes = np.repeat([3e7, 1e8, 4e8, 1.6e9, 6e9], 6)
    tokens = np.tile([1e9, 3e9, 1e10, 3e10, 1e11, 3e11], 5)
    cols = {"N": sizes, "D": tokens, "C": 6 * sizes * tokens,
            "U": tokens / np.tile([1.0, 1.0, 2.0, 4.0, 8.0, 16.0], 5)}
    X = np.stack([cols[c] for c in form.inputs], axis=-1)
    theta = np.asarray(form.p0) + rng.uniform(-0.05, 0.05, (n_laws, form.n_params))
    clean = form.raw_predict(theta, X[None])
    y = clean * np.exp(noise * rng.standard_normal(clean.shape))
    return LawBatch(np.broadcast_to(X, (n_laws,) + X.shape), y, np.ones(y.shape, bool),
                    form.inputs)


def _same(a, b):
    return np.array_equal(a, b, equal_nan=True)


@pytest.mark.parametrize(("name", "kwargs", "form"), CASES,
                         ids=[f"{c[0]}-{c[2]}-{'-'.join(map(str, c[1].values()))}" for c in CASES])
def test_contract(name, kwargs, form):
    batch = synthetic(form, 12)
    est = get_estimator(name)(form=form, **kwargs)
    assert [k for k in vars(est) if k.endswith("_")] == []
    assert est.fit(batch) is est
    p = form_params = est.params_
    assert form_params.shape == (12, get_form(form).n_params)
    assert est.objective_.shape == est.status_.shape == est.n_iter_.shape == (12,)
    assert set(est.status_) <= {"ok", "max_iter", "at_bound", "nan_objective", "too_few_points"}
    assert est.converged_.mean() >= 0.75, est.status_
    # fitting twice gives identical parameters
    assert _same(est.clone().fit(batch).params_, p)
    # a batch of one equals the same law inside the batch
    for k in (0, 7):
        one = est.clone().fit(batch.take([k]))
        assert _same(one.params_[0], p[k]) and _same(one.objective_[0], est.objective_[k])
    # predictions have the batch's shape and are close to the data
    pred = est.predict(batch)
    assert pred.shape == batch.y.shape
    ok = est.converged_
    assert np.median(np.abs(np.log(pred[ok] / batch.y[ok]))) < 0.02
    # results round-trip through JSON
    rows = est.result_.to_rows()
    assert json.loads(json.dumps(rows, allow_nan=False)) == rows
    assert rows[0]["form"] == get_form(form).name and rows[0]["estimator"] == name


def test_batch_of_one_equals_law_in_batch_of_100():
    batch = synthetic("chinchilla", 100, seed=4)
    full = HuberLBFGS(grid="small").fit(batch)
    for k in (0, 42, 99):
        one = HuberLBFGS(grid="small").fit(batch.take([k]))
        assert _same(one.params_[0], full.params_[k])
        assert one.n_iter_[0] == full.n_iter_[k] and one.start_[0] == full.start_[k]


def test_ragged_batch_equals_separate_fits():
    a, b = synthetic("chinchilla", 2, seed=5).take([0]), synthetic("chinchilla", 1, seed=6)
    ragged = LawBatch.from_ragged([a.x[0], b.x[0, :17]], [a.y[0], b.y[0, :17]])
    est = HuberLBFGS(grid="small").fit(ragged)
    alone = HuberLBFGS(grid="small").fit(LawBatch.from_ragged([b.x[0, :17]], [b.y[0, :17]]))
    assert est.result_.n_points.tolist() == [30, 17]
    # padding adds zero terms to the sums, so the paths differ in the last bits only
    assert np.allclose(est.params_[1], alone.params_[0], rtol=1e-6)


def test_fixed_seed_reproduces_random_grid():
    batch = synthetic("chinchilla", 3, seed=7)
    a = HuberLBFGS(grid=16, seed=3).fit(batch)
    b = HuberLBFGS(grid=16, seed=3).fit(batch)
    c = HuberLBFGS(grid=16, seed=4).fit(batch)
    assert _same(a.params_, b.params_)
    assert not _same(a.result_.start_params, c.result_.start_params)
    assert a.result_.to_rows()[0]["settings"]["seed"] == 3


def test_screen_runs_only_the_starts_with_the_lowest_initial_objective():
    batch = synthetic("chinchilla", 3, seed=11)
    form = get_form("chinchilla")
    starts = HuberLBFGS(grid=24, seed=5)._starts(form)
    screened = HuberLBFGS(grid=24, seed=5, screen=4).fit(batch)
    for i in range(3):
        f0 = HuberLog(form, batch.take([i]), np.zeros(24, int), 1e-3).value(starts, np.arange(24))
        assert screened.start_[i] in np.argsort(f0)[:4]
        # the same fit as from those four starts alone
        alone = HuberLBFGS(grid=starts[np.sort(np.argsort(f0)[:4])]).fit(batch.take([i]))
        assert _same(alone.params_[0], screened.params_[i])
    assert screened.result_.to_rows()[0]["settings"]["screen"] == 4
    # a screen that keeps every start changes nothing
    every = HuberLBFGS(grid=24, seed=5).fit(batch)
    assert _same(HuberLBFGS(grid=24, seed=5, screen=24).fit(batch).params_, every.params_)


def test_parameter_validation_messages():
    batch = synthetic("chinchilla", 1)
    with pytest.raises(InvalidParameter) as e:
        HuberLBFGS(delta=-1).fit(batch)
    assert str(e.value) == ("The 'delta' parameter of HuberLBFGS must be a float in the range "
                            "(0, inf). Got -1 instead.")
    with pytest.raises(InvalidParameter, match="'max_iter' parameter of HuberLBFGS must be an "
                       "int in the range"):
        HuberLBFGS(max_iter=0).fit(batch)
    with pytest.raises(InvalidParameter) as e:
        HuberLBFGS(screen=0).fit(batch)
    assert str(e.value) == ("The 'screen' parameter of HuberLBFGS must be None or an int in the "
                            "range [1, inf). Got 0 instead.")
    with pytest.raises(InvalidParameter, match="'method' parameter of CurveFitHitchhiker"):
        CurveFitHitchhiker(method="lm").fit(batch)
    with pytest.raises(UnknownName, match="Unknown grid 'huge'. Known grids: colpret, hoffmann"):
        HuberLBFGS(grid="huge").fit(batch)
    with pytest.raises(UnknownName, match="Unknown form 'chinchila'"):
        HuberLBFGS(form="chinchila").fit(batch)


def test_predict_before_fit():
    with pytest.raises(NotFitted) as e:
        HuberLBFGS().predict(synthetic("chinchilla", 1))
    assert str(e.value) == ("This HuberLBFGS instance is not fitted yet. Call 'fit' before "
                            "'predict'.")


@pytest.mark.parametrize("est", [HuberLBFGS(grid="small"), CurveFitHitchhiker(),
                                 CurveFitHitchhiker(method="batched")],
                         ids=["huber", "curvefit-scipy", "curvefit-batched"])
def test_failures_are_statuses(est):
    good = synthetic("chinchilla", 1, seed=8)
    few = LawBatch.from_ragged([good.x[0, :3]], [good.y[0, :3]])
    zero = LawBatch(good.x, np.where(np.arange(30) == 3, -1.0, good.y), good.mask)
    nan = LawBatch(good.x, np.full_like(good.y, np.nan), good.mask)
    batch = LawBatch.from_ragged([good.x[0], few.x[0, :3], zero.x[0], nan.x[0]],
                                 [good.y[0], few.y[0, :3], zero.y[0], nan.y[0]])
    est.fit(batch)
    assert est.status_[0] in ("ok", "at_bound")
    assert est.status_[1] == "too_few_points"
    assert np.isnan(est.params_[1]).all() and np.isnan(est.objective_[1])
    assert est.status_[3] == "nan_objective"
    assert "Fit" in est.result_.report(1)
    if isinstance(est, HuberLBFGS):  # log of a negative loss: no finite start
        assert est.status_[2] == "nan_objective"


def test_at_bound_is_reported():
    # E = B = 1 held fixed and a loss that rises with tokens: the best beta would be negative,
    # so it sits on its bound 0 (where the D term is the constant B = 1)
    form = fixed(get_form("chinchilla"), E=1.0, B=1.0)
    sizes = np.repeat([1e8, 4e8, 1.6e9, 6e9], 5)
    tokens = np.tile([1e9, 3e9, 1e10, 3e10, 1e11], 4)
    y = 2.0 + 400 / sizes ** 0.34 + 0.01 * np.log(tokens / 1e9)
    est = HuberLBFGS(grid="small", form=form).fit(LawBatch.single(y, N=sizes, D=tokens))
    assert est.status_[0] == "at_bound" and est.params_[0, 2] == 0.0
    assert "beta:  0  at boundary" in est.result_.report()


def test_curvefit_scipy_and_batched_reach_the_same_optimum_on_well_posed_laws():
    batch = synthetic("chinchilla", 20, seed=9, noise=0.002)
    s = CurveFitHitchhiker().fit(batch)
    m = CurveFitHitchhiker(method="batched").fit(batch)
    assert (s.status_ == "ok").all() and (m.status_ == "ok").all()
    assert np.allclose(m.objective_, s.objective_, rtol=1e-6)
    assert np.allclose(m.params_, s.params_, rtol=2e-3)
    assert (m.objective_ <= s.objective_ * (1 + 1e-9)).all()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(E=st.floats(1.0, 3.0), alpha=st.floats(0.2, 0.6), beta=st.floats(0.2, 0.6),
       share_n=st.floats(0.2, 1.0), share_d=st.floats(0.2, 1.0), seed=st.integers(0, 2**16))
def test_recovers_known_parameters(E, alpha, beta, share_n, share_d, seed):
    """Data from known parameters with 0.01% noise is fitted back within tolerance."""
    sizes = np.repeat(np.geomspace(1e7, 1e10, 6), 8)
    tokens = np.tile(np.geomspace(1e8, 1e12, 8), 6)
    # scale A, B so that each term is a given share of E at the middle of the design
    A = share_n * E * np.sqrt(1e7 * 1e10) ** alpha
    B = share_d * E * np.sqrt(1e8 * 1e12) ** beta
    truth = np.array([E, A, B, alpha, beta])
    rng = np.random.default_rng(seed)
    y = get_form("chinchilla").predict(truth, sizes, tokens)
    y = y * np.exp(1e-4 * rng.standard_normal(y.size))
    est = HuberLBFGS(grid="small").fit(LawBatch.single(y, N=sizes, D=tokens))
    assert est.status_[0] == "ok"
    got = est.params_[0]
    assert abs(got[0] / E - 1) < 0.01
    assert abs(got[3] - alpha) < 0.01 and abs(got[4] - beta) < 0.01
    assert abs(np.log(got[1] / A)) < 0.25 and abs(np.log(got[2] / B)) < 0.25


def test_bootstrap_intervals_cover_the_fit_and_are_seeded():
    batch = synthetic("chinchilla", 2, seed=10, noise=0.01)
    res = bootstrap(HuberLBFGS(grid="small"), batch, n_resamples=40, seed=1)
    again = bootstrap(HuberLBFGS(grid="small"), batch, n_resamples=40, seed=1)
    assert res.draws.shape == (40, 2, 5)
    assert _same(res.draws, again.draws)
    assert ((res.ci[..., 0] <= res.params) & (res.params <= res.ci[..., 1])).mean() > 0.8
    assert np.isfinite(res.bse).all()
    rows = res.to_rows()
    assert rows[0]["bootstrap_seed"] == 1 and set(rows[0]["ci_low"]) == set(res.names)
    # without draws the derived statistics are NaN, not errors
    plain = HuberLBFGS(grid="small").fit(batch).result_
    assert np.isnan(plain.bse).all() and np.isnan(plain.ci).all()
