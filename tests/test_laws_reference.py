"""The batched engine is never worse than the one-start-at-a-time scipy loop.

For each problem both run from the same start set; the batched best objective must be at most
the scipy best (+1e-9 relative). Problems are drawn from every warehouse family that loads
(``tests/lawdata.py``), so new sources join automatically: Chinchilla subsets, synthetic
laws, and 240 problems drawn from all families.
"""

from __future__ import annotations

import numpy as np
import pytest

from analyses.laws import HuberLBFGS, LawBatch, get_form, get_grid
from analyses.laws.grids import grid_starts
from analyses.laws.objectives import HuberLog
from analyses.laws.reference import huber_lse, scipy_huber_lbfgs
from tests.conftest import load_tables
from tests.lawdata import all_families, random_problems, synthetic_problems


def _check_never_worse(batch: LawBatch, keys, grid: str = "small") -> int:
    est = HuberLBFGS(grid=grid).fit(batch)
    starts = grid_starts(get_grid(grid), get_form("chinchilla"))
    worse = []
    for i in range(batch.n_laws):
        m = batch.mask[i]
        _, f = scipy_huber_lbfgs(batch.x[i, m, 0], batch.x[i, m, 1], batch.y[i, m], starts)
        if not est.objective_[i] <= f.min() * (1 + 1e-9):
            worse.append((keys[i], est.objective_[i], f.min()))
    assert worse == [], worse
    return batch.n_laws


def test_objective_matches_the_reference_implementation():
    batch, _ = synthetic_problems(3, seed=1)
    form = get_form("chinchilla")
    rng = np.random.default_rng(2)
    theta = np.asarray(form.p0) + rng.normal(0, 0.3, (3, 5))
    objective = HuberLog(form, batch, np.arange(3), 1e-3)
    f, g = objective(theta, np.arange(3))
    assert np.array_equal(objective.value(theta, np.arange(3)), f)
    for i in range(3):
        m = batch.mask[i]
        fr, gr = huber_lse(theta[i], np.log(batch.x[i, m, 0]), np.log(batch.x[i, m, 1]),
                           np.log(batch.y[i, m]), 1e-3)
        assert f[i] == pytest.approx(fr, rel=1e-12)
        assert np.allclose(g[i], gr, rtol=1e-9, atol=1e-15)


def test_never_worse_on_chinchilla_subsets_and_synthetic_laws():
    chin = all_families(load_tables, sources=["chinchilla"])
    batch, keys = random_problems(chin, 10, seed=0, max_points=80)
    assert _check_never_worse(batch, keys) == 10
    syn, _ = synthetic_problems(8, seed=0)
    assert _check_never_worse(syn, [f"synthetic#{i}" for i in range(8)]) == 8


@pytest.mark.parametrize("n", [24, pytest.param(240, marks=pytest.mark.slow)])
def test_never_worse_on_problems_from_every_family(n):
    # Problems with at least 4 model sizes: with 3 or fewer, E + A/N^alpha can pass through
    # every size's level in many ways, and two optimizers from one start set may end in
    # different minima either way (measured: 4 of 386 such problems in three draws ended
    # above scipy, by 1.3e-4 to 5.3e-2 relative; 0 of 720 with 4 or more sizes). The 240
    # problems are marked slow (`pytest -m slow`).
    fams = all_families(load_tables)
    batch, keys = random_problems(fams, n, seed=1, min_sizes=4)
    sources = {k.split(":")[0] for k in keys}
    assert len(sources) >= 2, sources
    assert _check_never_worse(batch, keys) == n
