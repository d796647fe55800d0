"""Law bootstraps at scale: the local pool against Ray, fit rates per core, and the projected
time of the full ``meta fit-all --bootstrap 200``, measured in the same run.

1. Engines: ``--laws`` real ``huber-lbfgs`` laws (fitted, at least 3 runs, drawn over every
   family with a seed) x ``--resamples`` resamples, in fit-all's chunks, on the local pool of
   ``--jobs`` processes (the baseline) and on a local Ray instance of ``--jobs`` CPUs,
   alternately for ``--rounds`` rounds; the ratio of the two (goal: under 1.3x), each
   engine's start-up apart (workers started and warmed up), and whether both gave the same
   bits.
2. Laws per second per core: the same laws fitted once in one process with one kernel
   thread, from Muennighoff's single start and from Hoffmann's 4,500-start grid (each with
   the best start polished).
3. Projection: refits per second per core of each estimator in fit-all's settings (from 1.;
   ``curvefit-hitchhiker``, a scipy call per law, from a sample in one process), times the
   fitted laws of the warehouse with at least 3 runs, over 2, 64 and 512 cores (chunks are the
   unit: a core count beyond the chunks does not help).

    python benchmarks/bench_bootstrap.py --warehouse W [--laws 1000] [--resamples 200]
        [--jobs 2] [--seed 0] [--rounds 2]

W is a warehouse that ``meta fit-all`` has fitted (it is only read).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import warehouse  # noqa: E402
from analyses.executor import executor, one_thread  # noqa: E402
from analyses.hitchhiker.bootstrap import (  # noqa: E402
    MIN_RUNS,
    REFITS,
    bootstrap_specs,
    n_runs,
)
from analyses.hitchhiker.fitting import chunked, law_batch  # noqa: E402
from analyses.hitchhiker.run import load_families, plan  # noqa: E402
from analyses.hitchhiker.studies import BASELINES, STUDIES  # noqa: E402
from analyses.laws import HuberLBFGS  # noqa: E402
from analyses.laws.identify import FITTED  # noqa: E402
from warehouse.intervals import fitted  # noqa: E402

CORES = (2, 64, 512)


def laws_to_bootstrap(path: Path):
    """Every fitted law of the warehouse with at least ``MIN_RUNS`` runs, by estimator."""
    con = warehouse.connect(path, read_only=True)
    done = set(fitted(con, FITTED)["law_id"])
    planned, _ = plan(load_families(con), list(STUDIES), None)
    con.close()
    out: dict[str, list] = {}
    for p in planned:
        if p.estimator not in BASELINES and p.law_id in done and n_runs(p) >= MIN_RUNS:
            out.setdefault(p.estimator, []).append(p)
    return out


def timed_bootstrap(kind: str, chunks, n: int, jobs: int) -> tuple[float, float, dict]:
    """Start-up seconds of an engine (its workers warmed up: started, the code imported),
    seconds of bootstrapping ``chunks`` on it, and the results."""
    t0 = time.perf_counter()
    with executor(kind, jobs=jobs) as pool:
        list(pool.run(n_runs, [chunk[0] for chunk in chunks[: 2 * jobs]]))
        t1 = time.perf_counter()
        task = partial(bootstrap_specs, n_resamples=n, seed=0)
        results = {tuple(p.law_id for p in chunk): r.intervals.drop("n_resamples", "seed")
                   for chunk, r in pool.run(task, chunks)}
        t2 = time.perf_counter()
    return t1 - t0, t2 - t1, results


def rate(laws, grid) -> float:
    """Laws fitted per second in this process, with one kernel thread."""
    est = HuberLBFGS(grid=grid, polish=1, form=laws[0].spec.form)
    batch = law_batch([p.spec for p in laws], "train")
    start = time.perf_counter()
    est.fit(batch)
    return len(laws) / (time.perf_counter() - start)


def hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warehouse", type=Path, required=True)
    ap.add_argument("--laws", type=int, default=1000)
    ap.add_argument("--resamples", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=2, help="local, then Ray, this many times")
    args = ap.parse_args()
    todo = laws_to_bootstrap(args.warehouse)
    rng = random.Random(args.seed)
    huber = [p for p in todo["huber-lbfgs"] if p.spec.form == "chinchilla"]
    sample = rng.sample(huber, min(args.laws, len(huber)))
    n = args.resamples
    chunks = chunked(sample, size=max(1, REFITS // n))
    print(f"1. {len(sample)} huber-lbfgs laws x {n} resamples = {len(sample) * n:,} refits "
          f"in {len(chunks)} chunks, {args.jobs} workers")
    local = on_ray = 0.0
    for r in range(args.rounds):  # alternated: a machine shared with others varies in time
        local_start, t_local, ours = timed_bootstrap("local", chunks, n, args.jobs)
        ray_start, t_ray, theirs = timed_bootstrap("ray", chunks, n, args.jobs)
        same = ours.keys() == theirs.keys() and all(ours[k].equals(theirs[k]) for k in ours)
        print(f"   round {r + 1}: local pool {t_local:.1f} s (+{local_start:.1f} s to start), "
              f"Ray {t_ray:.1f} s (+{ray_start:.1f} s to start): Ray / local = "
              f"{t_ray / t_local:.2f}x; same bits: {same}")
        local, on_ray = local + t_local, on_ray + t_ray
    print(f"   all rounds: Ray / local = {on_ray / local:.2f}x (goal < 1.3x)")
    per_core = {"huber-lbfgs": len(sample) * n * args.rounds / local / args.jobs}

    few = sample[: max(1, len(sample) // 10)]
    with one_thread():  # one core: BLAS and the kernel's own threads off
        single, grid = rate(sample, "muennighoff"), rate(few, "hoffmann")
    print(f"2. laws/s/core: single start {single:.0f}, Hoffmann's 4,500 starts {grid:.2f} "
          f"({single / grid:.0f}x fewer)")

    curve = rng.sample(todo["curvefit-hitchhiker"], min(20, len(todo["curvefit-hitchhiker"])))
    small = 10
    start = time.perf_counter()
    for chunk in chunked(curve, size=max(1, REFITS // small)):
        bootstrap_specs(chunk, n_resamples=small, seed=0)
    per_core["curvefit-hitchhiker"] = len(curve) * small / (time.perf_counter() - start)
    core_seconds = {e: len(todo[e]) * 200 / per_core[e] for e in todo}
    total = sum(core_seconds.values())
    n_chunks = sum(len(chunked(laws, size=max(1, REFITS // 200))) for laws in todo.values())
    longest = max(REFITS / r for r in per_core.values())  # a chunk of the slower estimator
    print("3. refits/s/core: " + ", ".join(f"{e} {r:.1f}" for e, r in per_core.items()))
    print(f"   fit-all --bootstrap 200: {sum(map(len, todo.values())):,} laws ("
          + ", ".join(f"{len(v):,} {e}" for e, v in todo.items())
          + f"), {n_chunks:,} chunks, {hours(total)} of one core")
    for cores in CORES:
        wall = max(total / cores, longest)
        print(f"   {cores:>4} cores: {hours(wall)} (on Ray at the ratio of 1.: "
              f"{hours(wall * on_ray / local)})")


if __name__ == "__main__":
    main()
