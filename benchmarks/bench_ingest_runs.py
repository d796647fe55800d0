"""`meta ingest runs` end to end on a generated 1,000-run, 2M-row CSV.

The file (in a temporary folder): 1,000 runs (50 sizes x 20 learning rates) of 2,000
evaluations each, columns run, params, step, tokens, lr, seed, val_loss and train/loss (about
150 MB). Timed: the `meta ingest runs` command in a fresh process (start-up, reading, checks,
the write), then again on the unchanged file (hash and skip). Baseline (same run): a plain
``polars.read_csv`` of the same file in-process, the least any loader must spend; the ratio
says what recognising, checking and writing cost on top of reading. The goal is under 20 s on
2 cores.

    python benchmarks/bench_ingest_runs.py [--runs 1000] [--rows-per-run 2000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

from ingest.runs import RunsOptions, plan_runs

GOAL_SECONDS = 20.0


def generate(path: Path, runs: int, rows_per_run: int, seed: int = 0) -> int:
    """Write the CSV; return its number of data rows."""
    rng = np.random.default_rng(seed)
    run = np.repeat(np.arange(runs), rows_per_run)
    sizes = np.geomspace(1e7, 3e9, 50)
    size = sizes[run % 50]
    lr = np.geomspace(1e-4, 3e-3, 20)[(run // 50) % 20]
    step = np.tile(np.arange(1, rows_per_run + 1) * 10, runs)
    tokens = step * 1_048_576.0
    loss = 1.7 + 406.4 / size**0.34 + 410.7 / tokens**0.28 + rng.normal(0, 0.002, run.size)
    df = pl.DataFrame({"run_id": run}).select(
        pl.format("run-{}", pl.col("run_id").cast(pl.String).str.pad_start(4, "0")).alias("run"))
    df = df.with_columns(
        params=pl.Series(size.round()), step=pl.Series(step), tokens=pl.Series(tokens),
        lr=pl.Series(lr), seed=pl.Series(run % 3),
        val_loss=pl.Series(loss.round(5)), **{"train/loss": pl.Series((loss * 0.98).round(5))},
    )
    df.write_csv(path)
    return df.height


def timed(cmd: list[str], env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return seconds, done.stderr.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--rows-per-run", type=int, default=2000)
    parser.add_argument("--keep", type=Path, help="write the CSV and warehouse here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        csv, db = folder / "runs.csv", folder / "bench.duckdb"
        db.unlink(missing_ok=True)
        start = time.perf_counter()
        rows = generate(csv, args.runs, args.rows_per_run)
        print(f"generated {rows:,} rows, {csv.stat().st_size / 2**20:.0f} MiB in "
              f"{time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        baseline_df = pl.read_csv(csv)
        baseline = time.perf_counter() - start
        del baseline_df
        env = dict(os.environ)
        meta = Path(sys.executable).with_name("meta")
        cmd = [str(meta), "ingest", "runs", str(csv), "--family", "bench", "--warehouse", str(db)]
        full, log = timed(cmd, env)
        again, log2 = timed(cmd, env)
        start = time.perf_counter()
        plan_runs([csv], RunsOptions(family="bench"))
        plan = time.perf_counter() - start
    print(log)
    print(f"meta ingest runs: {full:.1f} s end to end ({rows / full:,.0f} rows/s; goal "
          f"{GOAL_SECONDS:.0f} s: {full / GOAL_SECONDS:.2f} of it)")
    print(f"baseline, pl.read_csv of the same file: {baseline:.2f} s ({rows / baseline:,.0f} "
          f"rows/s); ingest / baseline = {full / baseline:.1f}x")
    print(f"of which reading, checking and deriving the tables (in-process plan_runs): "
          f"{plan:.1f} s; the rest is start-up, hashing and the DuckDB write")
    print(f"again, unchanged ({log2}): {again:.1f} s")
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
