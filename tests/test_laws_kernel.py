"""The compiled L-BFGS of log-sum-exp laws (analyses/laws/_lse_lbfgs.c) against the numpy one.

``lbfgs.minimize`` hands a :class:`HuberLog` of a log-sum-exp form to the kernel; wrapped in a
plain function the same objective runs through the numpy iteration instead. Both must take the
same steps: over the first iterations the paths differ only by round-off (later, flat valleys
amplify it, which is why the comparison stops early).
"""

from __future__ import annotations

import numpy as np
import pytest

from analyses.laws import HuberLBFGS, LawBatch, _lse_lbfgs, get_form, get_grid
from analyses.laws.grids import grid_starts
from analyses.laws.huber import EXPAND
from analyses.laws.lbfgs import minimize
from analyses.laws.objectives import HuberLog
from tests.conftest import load_tables
from tests.lawdata import all_families, random_problems, synthetic_problems


@pytest.fixture(scope="module")
def problems():
    batch, _ = random_problems(all_families(load_tables), 20, seed=3)
    form = get_form("chinchilla")
    starts = grid_starts(get_grid("small"), form)
    law = np.repeat(np.arange(batch.n_laws), len(starts))
    return form, HuberLog(form, batch, law, 1e-3), np.tile(starts, (batch.n_laws, 1))


@pytest.mark.parametrize("max_iter", [1, 3])
def test_compiled_iterations_follow_the_numpy_ones(problems, max_iter):
    form, objective, x0 = problems
    lo, hi = form.internal_bounds()
    kw = dict(lower=lo, upper=hi, max_iter=max_iter, expand=EXPAND, ftol=1e-6)
    compiled = minimize(objective, x0, **kw)
    numpy = minimize(lambda x, rows: objective(x, rows), x0, **kw)
    assert np.array_equal(compiled.n_eval, numpy.n_eval)  # same line searches, same trials
    assert np.array_equal(compiled.n_iter, numpy.n_iter)
    assert np.array_equal(compiled.status, numpy.status)
    assert np.allclose(compiled.x, numpy.x, rtol=1e-8, atol=1e-9)
    assert np.allclose(compiled.fun, numpy.fun, rtol=1e-8, atol=0)
    assert (compiled.x[:, 3:] >= 0).all()  # alpha, beta >= 0 held


def test_a_law_fits_the_same_alone_and_in_a_batch():
    # the kernel sums a law's own points only: no padding to the batch's longest law
    batch, _ = synthetic_problems(6, seed=4)
    est = HuberLBFGS(grid="small").fit(batch)
    for i in (0, 3, 5):
        one = HuberLBFGS(grid="small").fit(batch.take([i]))
        assert one.objective_[0] == est.objective_[i]
        assert np.array_equal(one.params_[0], est.params_[i])


def test_the_objective_of_the_compute_form_has_one_input_term():
    # L(C) = E + A C^-alpha: the kernel's one-term path, gradient against central differences
    form = get_form("compute")
    C = np.geomspace(1e18, 1e22, 9)
    batch = LawBatch.single(form.predict([1.7, 300.0, 0.12], C) * 1.01, columns=("C",), C=C)
    objective = HuberLog(form, batch, np.zeros(2, dtype=int), 1e-3)
    theta = np.array([[0.4, 5.0, 0.1], [0.6, 6.0, 0.15]])
    f, g = objective(theta, np.arange(2))
    h = 1e-6
    for k in range(3):
        step = np.zeros(3)
        step[k] = h
        num = (objective.value(theta + step, np.arange(2))
               - objective.value(theta - step, np.arange(2))) / (2 * h)
        assert np.allclose(g[:, k], num, rtol=1e-5, atol=1e-10)


def test_the_kernel_names_a_buffer_of_the_wrong_size():
    batch, _ = synthetic_problems(2, seed=0)
    form = get_form("chinchilla")
    objective = HuberLog(form, batch, np.zeros(3, dtype=np.int64), 1e-3)
    theta = np.tile(np.asarray(form.p0), (3, 1))
    f, g = np.empty(3), np.empty((2, 5))  # g is short by a row
    with pytest.raises(ValueError, match="g holds 80 bytes, expected 120"):
        _lse_lbfgs.objective(theta, f, g, objective.law, *objective.kernel, 1e-3)
    law = np.array([0, 0, 7], dtype=np.int64)  # a law the batch does not have
    with pytest.raises(ValueError, match="row 2 fits law 7 of 2"):
        _lse_lbfgs.objective(theta, f, np.empty((3, 5)), law, *objective.kernel, 1e-3)
