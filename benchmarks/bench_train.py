"""Training speed of the PCFG language models, measured in the same run.

1. Per model size: tokens/s of one training process. On CUDA, eager steps against the step
   replayed as a CUDA graph (``TrainConfig.cuda_graph``), and the largest loss difference
   between the two after the same steps from the same seed; on CPU, one thread against all.
2. On CUDA, processes sharing the GPU (``meta pcfg grid --jobs``): aggregate tokens/s of k
   processes each training the smallest size at once, against one process.

    python benchmarks/bench_train.py [--device cuda] [--grid gpu] [--steps 50] [--procs 1,4,8]

Sizes are the named grid's (``cpu``: 4, ``gpu``: the paper's 6); batches are the grid's.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from multiprocessing import get_context
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ingest.pcfg.corpus import make_corpus  # noqa: E402
from ingest.pcfg.grammar import GrammarSpec  # noqa: E402
from ingest.pcfg.grid import preset  # noqa: E402
from ingest.pcfg.train import train  # noqa: E402

GRAMMAR = GrammarSpec(10, 150, 5, 3, seed=0)
WARMUP = 5  # steps of an untimed run first (CUDA context, graph capture, allocator)


def _config(grid, size, steps):
    return replace(grid.run_config(size, grid.train.batch_rows * steps), eval_interval=steps)


def _corpus(grid, steps):
    rows = grid.train.batch_rows * max(steps, WARMUP) + grid.train.val_rows
    return make_corpus(GRAMMAR, rows, seed=0)


def bench_sizes(grid, steps: int, device: str) -> None:
    corpus = _corpus(grid, steps)
    if device == "cuda":
        variants = {"eager": {"cuda_graph": False}, "graph": {"cuda_graph": True}}
    else:
        variants = {"1 thread": {"threads": 1}, f"{os.cpu_count()} threads":
                    {"threads": os.cpu_count() or 1}}
    a, b = variants
    print(f"== one process, {steps} steps of {grid.train.batch_rows} x 256 tokens on {device}")
    print(f"{'size (L,H,C)':<16} {'N':>11} {a + ' tok/s':>16} {b + ' tok/s':>16} {'ratio':>7} "
          f"{'max |dloss|':>11}")
    for size in grid.sizes:
        runs = {}
        for name, changes in variants.items():
            cfg = replace(_config(grid, size, steps), device=device, **changes)
            train(replace(cfg, train_rows=cfg.batch_rows * WARMUP), corpus)  # warm-up
            runs[name] = train(cfg, corpus)
        ra, rb = runs[a], runs[b]
        diff = max(abs(x - y) for x, y in zip(ra.step_loss, rb.step_loss, strict=True))
        print(f"{str(tuple(size)):<16} {ra.n_params:11d} {ra.tokens_per_second:16.4g} "
              f"{rb.tokens_per_second:16.4g} {rb.tokens_per_second / ra.tokens_per_second:6.1f}x "
              f"{diff:11.2e}", flush=True)


def _timed_run(job):
    cfg, corpus = job
    return train(cfg, corpus).tokens


def bench_processes(grid, steps: int, procs: list[int]) -> None:
    corpus = _corpus(grid, steps)
    cfg = replace(_config(grid, grid.sizes[0], steps), device="cuda")
    print(f"== k processes on one GPU, each {steps} steps of size {grid.sizes[0]}")
    print(f"{'k':>3} {'aggregate tok/s':>16} {'vs k=1':>7}")
    base = None
    for k in procs:
        with ProcessPoolExecutor(k, mp_context=get_context("spawn")) as pool:
            warm = replace(cfg, train_rows=cfg.batch_rows * WARMUP)
            list(pool.map(_timed_run, [(warm, corpus)] * k))
            start = time.perf_counter()
            tokens = sum(pool.map(_timed_run, [(cfg, corpus)] * k))
            rate = tokens / (time.perf_counter() - start)
        base = base or rate
        print(f"{k:3d} {rate:16.4g} {rate / base:6.1f}x", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    parser.add_argument("--grid", default="cpu", choices=["cpu", "gpu"],
                        help="Whose sizes and batch.")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--procs", default="1,2,4,8",
                        help="Process counts for the shared-GPU part (cuda only).")
    args = parser.parse_args()
    grid = preset(args.grid)
    bench_sizes(grid, args.steps, args.device)
    if args.device == "cuda":
        bench_processes(grid, args.steps, [int(k) for k in args.procs.split(",")])


if __name__ == "__main__":
    main()
