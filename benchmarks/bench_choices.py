"""The speed behind choices written into the code, each against its alternative in the same run.

1. ``analyses/_lse_lbfgs.c``: the compiled L-BFGS against the same iteration in numpy
   (:func:`analyses.laws.lbfgs.minimize` on the same compiled objective), phase one of
   ``huber-lbfgs`` on Hoffmann's 4,500 starts and the Chinchilla points.
2. ``analyses.laws.lbfgs.rowdot``: ``np.vecdot`` against ``einsum`` for a batch of short rows
   (the Chinchilla grid's 240 points) and for the starts of one law of 43,000 points.
3. ``huber.POLISH_RTOL`` (polish every start within twice the best, not only the 8 best) and
   ``HuberLBFGS(ftol=1e-5)`` against ``1e-6``: whole fits on the Chinchilla grid.
4. ``SigmoidRegression``: L-BFGS-B with ``None`` bounds against ``(-inf, inf)`` (identical
   iterates), and many tiny fits under ``one_thread`` against BLAS's own threads.

    python benchmarks/bench_choices.py [--data-root DIR]

Timings are medians of ``REPEATS`` runs; on a shared machine they vary by tens of percent.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize as scipy_minimize

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyses.executor import one_thread  # noqa: E402
from analyses.laws import HuberLBFGS, get_form, get_grid  # noqa: E402
from analyses.laws import huber as huber_module  # noqa: E402
from analyses.laws.grids import grid_starts  # noqa: E402
from analyses.laws.lbfgs import minimize  # noqa: E402
from analyses.laws.objectives import HuberLog  # noqa: E402
from analyses.observational.sigmoid import SigmoidRegression  # noqa: E402
from benchmarks.bench_fit import chinchilla_batch, tables_from  # noqa: E402

REPEATS = 3


def _median(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


def bench_kernel(batch) -> None:
    form = get_form("chinchilla")
    x0 = grid_starts(get_grid("hoffmann"), form)
    lo, hi = form.internal_bounds()
    objective = HuberLog(form, batch, np.zeros(len(x0), dtype=int), 1e-3)

    def numpy_iteration(theta, rows):  # no minimize_rows: the iteration runs in numpy
        return objective(theta, rows)

    options = {"lower": lo, "upper": hi, "max_iter": 1000, "ftol": 1e-5, "expand": 3}
    compiled = _median(lambda: minimize(objective, x0, **options))
    plain = _median(lambda: minimize(numpy_iteration, x0, **options), repeats=1)
    print(f"[kernel] phase one, {len(x0)} starts: compiled {compiled:.2f} s, numpy {plain:.2f} s"
          f" ({plain / compiled:.1f}x)")


def bench_rowdot() -> None:
    rng = np.random.default_rng(0)
    for rows, n in ((4500, 240), (64, 43_000)):
        a, b = rng.standard_normal((2, rows, n))
        vec = _median(lambda a=a, b=b: [np.vecdot(a, b) for _ in range(50)])
        ein = _median(lambda a=a, b=b: [np.einsum("...i,...i->...", a, b) for _ in range(50)])
        print(f"[rowdot] {rows} x {n}: vecdot {1e3 * vec / 50:.3f} ms, einsum "
              f"{1e3 * ein / 50:.3f} ms per call")


def bench_polish(batch) -> None:
    default = _median(lambda: HuberLBFGS().fit(batch))
    kept = huber_module.POLISH_RTOL
    huber_module.POLISH_RTOL = 0.0
    try:
        best8 = _median(lambda: HuberLBFGS().fit(batch))
    finally:
        huber_module.POLISH_RTOL = kept
    tight = _median(lambda: HuberLBFGS(ftol=1e-6).fit(batch))
    print(f"[huber-lbfgs] Chinchilla grid: default {default:.2f} s; polishing the 8 best only "
          f"{best8:.2f} s; ftol=1e-6 {tight:.2f} s")


def bench_sigmoid() -> None:
    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (60, 3))
    y = 0.9 / (1 + np.exp(-(0.3 + x @ [1.0, 0.5, -0.2]))) + 0.05 + 0.01 * rng.standard_normal(60)
    design = np.column_stack([np.ones(60), x])

    def objective(p):
        return ((p[-1] + (1 - p[-1]) / (1 + np.exp(-(design @ p[:-1])))) - y) @ (
            (p[-1] + (1 - p[-1]) / (1 + np.exp(-(design @ p[:-1])))) - y)

    p0 = np.zeros(5)
    for label, free in (("None", (None, None)), ("(-inf, inf)", (-np.inf, np.inf))):
        bounds = [free] * 4 + [(0.0, 0.2)]
        sec = _median(lambda b=bounds: [scipy_minimize(objective, p0, method="L-BFGS-B",
                                                       bounds=b) for _ in range(20)])
        print(f"[sigmoid] L-BFGS-B with {label:<11} bounds: {1e3 * sec / 20:.1f} ms per fit")
    fits = 200

    def many():
        for i in range(fits):
            SigmoidRegression().fit(x[i % 20:i % 20 + 40], y[i % 20:i % 20 + 40])

    default = _median(many, repeats=1)
    with one_thread():
        one = _median(many, repeats=1)
    print(f"[sigmoid] {fits} tiny fits: BLAS threads {default:.2f} s, one_thread "
          f"{one:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", type=Path, default=os.environ.get(
        "META_DATA_ROOT", Path(__file__).resolve().parents[2] / "shared/data"))
    args = parser.parse_args()
    print(f"numpy {np.__version__}; cores: {os.cpu_count()}")
    batch = chinchilla_batch(tables_from(Path(args.data_root)))
    bench_kernel(batch)
    bench_rowdot()
    bench_polish(batch)
    bench_sigmoid()


if __name__ == "__main__":
    main()
