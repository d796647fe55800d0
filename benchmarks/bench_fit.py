"""Law fitting: the batched engine against a loop of scipy calls, measured in the same run.

1. The Chinchilla grid: Hoffmann's 4,500 starts on the 240 Chinchilla points (Besiroglu et
   al.'s protocol), ``huber-lbfgs`` batched vs the baseline ``scipy.optimize.minimize``
   (L-BFGS-B, the same objective and its analytic gradient, scipy's default tolerances) called
   once per start (``analyses.laws.reference.scipy_huber_lbfgs``). Goal: >= 200x faster, the
   same best objective to 1e-6 relative. Timed twice: from every start (the default), and
   with ``screen=SCREEN`` (L-BFGS from the SCREEN starts with the lowest initial objective);
   the batched times are medians of 5 fits, the scipy loop runs once.
2. Throughput: 10,000 single-start laws (Muennighoff's start) on random subsets of the real
   families, batched (``polish=0``: stop at the phase-one tolerance; and the default, which
   runs the start to full convergence); the scipy loop is timed on a random sample of the same
   laws and scaled up. Goal: under 10 s on 2 cores. The ``curvefit-hitchhiker`` paths are
   timed the same way.

    python benchmarks/bench_fit.py [--quick] [--data-root DIR]

``--quick`` uses every 10th start of the grid and 1,000 laws.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyses.laws import CurveFitHitchhiker, HuberLBFGS, LawBatch, get_form, get_grid  # noqa: E402
from analyses.laws.grids import grid_starts  # noqa: E402
from analyses.laws.reference import scipy_huber_lbfgs  # noqa: E402
from ingest import get_loader  # noqa: E402
from ingest.normalize import normalize  # noqa: E402
from tests.lawdata import all_families, random_problems  # noqa: E402

_TABLES: dict[str, dict] = {}
SCREEN = 16  # with polish=1: polish only the starts within 2x of the best


def tables_from(root: Path):
    def load(name: str):
        if name not in _TABLES:
            _TABLES[name] = normalize(name, get_loader(name).load(root))
        return _TABLES[name]
    return load


def chinchilla_batch(load) -> LawBatch:
    pts = all_families(load, sources=["chinchilla"])["chinchilla:chinchilla"]
    N, D, L, _ = pts
    cut = np.sort(L)[-5]
    keep = cut > L
    return LawBatch.single(L[keep], N=N[keep], D=D[keep])


def _median_time(est, batch, repeats: int = 5):
    """The fitted estimator and the median wall time of ``repeats`` fits (sub-second timings
    vary by tens of percent from one run to the next on a shared machine)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        est.fit(batch)
        times.append(time.perf_counter() - t)
    return est, float(np.median(times))


def bench_grid(load, quick: bool) -> None:
    batch = chinchilla_batch(load)
    form = get_form("chinchilla")
    starts = grid_starts(get_grid("hoffmann"), form)
    if quick:
        starts = starts[::10]
    est, batched = _median_time(HuberLBFGS(grid=starts), batch)
    fast, screened = _median_time(HuberLBFGS(grid=starts, screen=SCREEN, polish=1), batch)
    m = batch.mask[0]
    t = time.perf_counter()
    _, f = scipy_huber_lbfgs(batch.x[0, m, 0], batch.x[0, m, 1], batch.y[0, m], starts)
    loop = time.perf_counter() - t
    ref = f.min()
    print(f"[grid] Chinchilla, {len(starts)} starts x {int(m.sum())} points")
    print(f"  batched huber-lbfgs      {batched:8.3f} s   best objective {est.objective_[0]:.12g}")
    print(f"  ... screen={SCREEN}, polish=1  {screened:8.3f} s   best objective "
          f"{fast.objective_[0]:.12g}")
    print(f"  scipy L-BFGS-B loop      {loop:8.2f} s   best objective {ref:.12g}")
    for label, e, sec in (("every start", est, batched), (f"screen={SCREEN}", fast, screened)):
        print(f"  speed-up {loop / sec:.1f}x ({label}; goal 200x); objective difference "
              f"{(e.objective_[0] - ref) / ref:+.2e} relative (goal within 1e-6; negative = "
              f"batched lower)")
    print(f"  starts within 1e-6 of scipy's best: scipy {np.mean(f <= ref * (1 + 1e-6)):.1%}")
    names = est.form_.names
    print("  fit: " + ", ".join(f"{n}={v:.6g}" for n, v in zip(names, est.params_[0],
                                                             strict=True)))


def bench_throughput(load, quick: bool, seed: int = 0) -> None:
    n_laws = 1000 if quick else 10_000
    sample = 50 if quick else 200
    fams = all_families(load)
    batch, keys = random_problems(fams, n_laws, seed=seed)
    sources = sorted({k.split(":")[0] for k in keys})
    pts = int(batch.n_points.sum())
    print(f"[throughput] {n_laws} laws, {pts} points, {len(fams)} families from "
          f"{len(sources)} sources, single start")
    t = time.perf_counter()
    fast = HuberLBFGS(grid="muennighoff", polish=0).fit(batch)
    batched_fast = time.perf_counter() - t
    t = time.perf_counter()
    est = HuberLBFGS(grid="muennighoff").fit(batch)
    batched = time.perf_counter() - t
    ok = np.mean(est.converged_)
    rng = np.random.default_rng(seed)
    pick = np.sort(rng.choice(n_laws, size=sample, replace=False))
    start = grid_starts(get_grid("muennighoff"), get_form("chinchilla"))
    t = time.perf_counter()
    worse = 0
    for i in pick:
        m = batch.mask[i]
        _, f = scipy_huber_lbfgs(batch.x[i, m, 0], batch.x[i, m, 1], batch.y[i, m], start)
        worse += not est.objective_[i] <= f.min() * (1 + 1e-9)
    loop = (time.perf_counter() - t) * n_laws / sample
    rel = np.abs(fast.objective_ - est.objective_) / est.objective_
    print(f"  batched, polish=0        {batched_fast:8.2f} s   ({n_laws / batched_fast:,.0f} "
          f"laws/s, {np.mean(fast.converged_):.1%} converged; goal < 10 s; objective within "
          f"1e-6 of the polished one for {np.mean(rel <= 1e-6):.1%} of laws)")
    print(f"  batched huber-lbfgs      {batched:8.2f} s   ({n_laws / batched:,.0f} laws/s, "
          f"{ok:.1%} converged; default polish=8, i.e. this one start run to full "
          f"convergence)")
    print(f"  scipy L-BFGS-B loop      {loop:8.2f} s   (timed on {sample} laws, scaled; batched "
          f"worse than scipy on {worse} of them)")
    print(f"  speed-up {loop / batched_fast:.1f}x (polish=0), {loop / batched:.1f}x (default)")
    t = time.perf_counter()
    CurveFitHitchhiker(method="batched", max_iter=1000).fit(batch)
    lm = time.perf_counter() - t
    sub = batch.take(pick)
    t = time.perf_counter()
    CurveFitHitchhiker().fit(sub)
    cf = (time.perf_counter() - t) * n_laws / sample
    print(f"  curvefit-hitchhiker: batched LM {lm:.2f} s vs scipy curve_fit loop {cf:.2f} s "
          f"(scaled from {sample}); {cf / lm:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small variant (~1 minute)")
    parser.add_argument("--data-root", type=Path, default=os.environ.get(
        "META_DATA_ROOT", Path(__file__).resolve().parents[2] / "shared/data"))
    args = parser.parse_args()
    load = tables_from(Path(args.data_root))
    print(f"numpy {np.__version__}; cores: {os.cpu_count()}")
    bench_grid(load, args.quick)
    bench_throughput(load, args.quick)


if __name__ == "__main__":
    main()
