"""`meta predict` end to end on a 25-run family (5 sizes x 5 learning rates), and its
bootstrap over runs against a scipy loop over the same resamples.

Run: python benchmarks/bench_predict.py
Prints the wall time of the command (start-up included; goal < 3 s on 2 cores) and the
bootstrap's time against the named baseline (scipy.optimize.minimize L-BFGS-B, one call per
resample from the same start), with the ratio.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import warehouse  # noqa: E402
from analyses.laws.bootstrap import bootstrap  # noqa: E402
from analyses.laws.objectives import HuberLog  # noqa: E402
from analyses.predict.design import batch, fit_rows  # noqa: E402
from analyses.predict.family import load_family  # noqa: E402
from analyses.predict.law import N_BOOT, estimator  # noqa: E402
from tests.runsdata import LR_PENALTY, sweep_rows, write_family  # noqa: E402

LR_PENALTY.update({3e-4: 1.06, 3e-2: 1.15})


def main() -> None:
    folder = Path(tempfile.mkdtemp())
    db = folder / "w.duckdb"
    con = warehouse.connect(db)
    rows = sweep_rows(sizes=(2e7, 5e7, 1.2e8, 3e8, 7e8), lrs=tuple(LR_PENALTY))
    write_family(con, "mine", rows, folder)
    family = load_family(con, "mine")
    con.close()
    print(f"family: {rows['run'].n_unique()} runs, {rows.height} checkpoints")

    meta = Path(sys.executable).parent / "meta"  # the console script of this environment
    args = [str(meta), "predict", "--family", "mine", "--params", "7e9", "--tokens", "1.4e11",
            "--warehouse", str(db)]
    times = []
    for _ in range(3):
        t = time.perf_counter()
        out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
        times.append(time.perf_counter() - t)
    print(out.rstrip())
    print(f"meta predict end to end (start-up included): median {np.median(times):.2f} s "
          f"of {len(times)} runs (goal < 3 s)")

    fit = fit_rows(family, family.model_ids)
    b, groups = batch(family, fit)
    t = time.perf_counter()
    result = bootstrap(estimator(), b, n_resamples=N_BOOT, seed=0, groups=groups)
    ours = time.perf_counter() - t

    from scipy.optimize import minimize

    resampled = b.resample_groups(groups, N_BOOT, 0)
    form = estimator().fit(b).form_
    start = form.to_internal(result.params)[0]
    lo, hi = form.internal_bounds()
    t = time.perf_counter()
    for i in range(N_BOOT):
        one = resampled.take([i])
        objective = HuberLog(form, one, np.zeros(1, dtype=int), 1e-3)
        minimize(lambda x, f=objective: f.value(x[None], np.zeros(1, dtype=int))[0], start,
                 method="L-BFGS-B", bounds=list(zip(lo, hi, strict=True)))
    scipy_loop = time.perf_counter() - t
    print(f"bootstrap of {N_BOOT} resamples of runs (refits from the optimum, all fitted at "
          f"once, whole fit included): {ours:.3f} s; scipy L-BFGS-B loop over the same "
          f"resamples: {scipy_loop:.3f} s; ratio {scipy_loop / ours:.1f}x")


if __name__ == "__main__":
    main()
