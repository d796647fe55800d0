"""Grids of training runs (grammars × model sizes × token budgets) and their results file.

A grid draws one corpus per grammar (its rows: the largest budget + the held-out validation
rows), measures its compressibility H, trains one fresh model per (size, budget) with a
schedule completed at that budget, and appends one JSON line per run to
``<out>/<grid>/results.jsonl``; the ``pcfg-runs`` source (:mod:`ingest.pcfg_runs`) loads those
files. A grid is resumable: runs already in the file are skipped.

Presets are Python constants:

- :data:`PCFG_GRID_CPU`: 4 grammars × 4 sizes × 4 budgets = 64 runs (131K-1.05M tokens,
  3K-620K parameters), for 2 cores as two worker processes of one thread each;
- :data:`PCFG_GRID_GPU`: the paper's grid, 6 grammars × 6 sizes × 6 budgets (100K-100M tokens)
  with its optimizer and schedule (TF32 matmuls), for one GPU; the 1.4B size's runs go one at
  a time. Worker processes share the GPU (``jobs`` ~12, best under MPS); corpora reach them as
  memory-mapped ``.npy`` files;
- :data:`PCFG_GRID_TINY`: 2 grammars × 2 sizes × 2 budgets for CI (seconds).

Sizes are ``(n_layer, n_head, n_embd)``; the MLP is 2 × n_embd wide. The embedding has one row
per corpus id (V + 2), not the paper's 32,001, so N is not the paper's N (see
:mod:`ingest.pcfg.model`).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field, replace
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from ingest.manifest import update_manifest
from ingest.pcfg.corpus import ROW_TOKENS, Corpus, make_corpus
from ingest.pcfg.grammar import PAPER_GRAMMARS, GrammarSpec, make_grammar
from ingest.pcfg.gzip import corpus_compressibility
from warehouse.errors import BadRow, MetaError, UnknownName

RESULTS = "results.jsonl"


@dataclass(frozen=True)
class GridSpec:
    """A grid of runs.

    Attributes
    ----------
    name : str
        Folder and family prefix (``pcfg-<name>-<grammar>``).
    grammars : tuple of (int, int, int, int)
        Grammar shapes (nonterminals, terminals, max options, max length).
    sizes : tuple of (int, int, int)
        Model shapes ``(n_layer, n_head, n_embd)``.
    budgets : tuple of int
        Training rows (256 tokens each) per run.
    train : TrainConfig
        Optimizer, schedule, batch, validation rows and device shared by every run.
    grammar_seed, corpus_seed : int
        Seeds of the grammars and of the sentence draws.
    gzip_rows : int
        Rows sampled for H.
    """

    name: str
    grammars: tuple[tuple[int, int, int, int], ...]
    sizes: tuple[tuple[int, int, int], ...]
    budgets: tuple[int, ...]
    train: object = field(default=None)
    grammar_seed: int = 0
    corpus_seed: int = 0
    gzip_rows: int = 1000

    @property
    def n_runs(self) -> int:
        return len(self.grammars) * len(self.sizes) * len(self.budgets)

    def run_config(self, size: tuple[int, int, int], rows: int):
        """The training config of one run: ``train`` with the model ``size`` and ``rows``."""
        n_layer, n_head, n_embd = size
        return replace(self.train, n_layer=n_layer, n_head=n_head, n_embd=n_embd,
                       train_rows=rows)


def _cpu_train():
    from ingest.pcfg.train import TrainConfig

    # 64 held-out rows (~16K tokens); batch 16 rows; the TrainConfig defaults otherwise.
    return TrainConfig(val_rows=64, batch_rows=16, lr=3e-3, warmup_steps=5, threads=1)


def _gpu_train():
    from ingest.pcfg.train import PAPER_TRAIN

    # TF32 tensor cores (fp32 storage and accumulation): the paper trained in plain fp32.
    return replace(PAPER_TRAIN, device="cuda", threads=1, matmul_precision="high")


def _rows(tokens: float) -> int:
    return math.ceil(tokens / ROW_TOKENS)


PCFG_GRID_CPU = GridSpec(
    name="cpu",
    # H ≈ 0.13, 0.23, 0.36, 0.51 at seed 0: the paper's grammars 1, 2, 3 and 5.
    grammars=((3, 20, 2, 2), (10, 150, 5, 3), (20, 300, 10, 5), (50, 500, 20, 15)),
    sizes=((1, 1, 16), (1, 2, 32), (2, 2, 64), (3, 4, 128)),
    budgets=(512, 1024, 2048, 4096),  # 131K-1.05M tokens
    train=None,  # filled by preset(): _cpu_train() (imports torch lazily)
)
PCFG_GRID_GPU = GridSpec(
    name="gpu",
    grammars=PAPER_GRAMMARS,
    # The paper's six sizes (hidden, layers, heads; head width 64; MLP 2 × hidden).
    sizes=((2, 1, 64), (4, 2, 128), (6, 4, 256), (10, 8, 512), (20, 16, 1024), (30, 32, 2048)),
    budgets=tuple(_rows(t) for t in (1e5, 1e6, 5e6, 2e7, 5e7, 1e8)),
    train=None,  # PAPER_TRAIN on cuda
)
PCFG_GRID_TINY = GridSpec(
    name="tiny",
    grammars=((3, 20, 2, 2), (20, 300, 10, 5)),
    sizes=((1, 1, 8), (1, 1, 16)),
    budgets=(8, 16),
    train=None,
    gzip_rows=100,
)
GRIDS = {"cpu": PCFG_GRID_CPU, "gpu": PCFG_GRID_GPU, "tiny": PCFG_GRID_TINY}


def preset(name: str) -> GridSpec:
    """The named grid with its training config filled in."""
    if name not in GRIDS:
        raise UnknownName("grid", name, list(GRIDS))
    grid = GRIDS[name]
    if grid.train is None:
        from ingest.pcfg.train import TrainConfig

        train = {"cpu": _cpu_train, "gpu": _gpu_train}.get(name)
        base = train() if train else TrainConfig(val_rows=8, batch_rows=4, warmup_steps=1)
        grid = replace(grid, train=base)
    return grid


def family_name(grid: str, spec: GrammarSpec) -> str:
    """``pcfg-<grid>-<NT>_<T>_<opts>_<len>-s<seed>``."""
    return f"pcfg-{grid}-{spec.name}"


def run_name(family: str, size: tuple[int, int, int], rows: int, seed: int) -> str:
    """``<family>-L<layers>H<heads>C<width>-R<rows>-seed<seed>``."""
    n_layer, n_head, n_embd = size
    return f"{family}-L{n_layer}H{n_head}C{n_embd}-R{rows}-seed{seed}"


def read_results(path: Path) -> list[dict]:
    """The runs in a results file (none when it does not exist).

    Raises
    ------
    BadRow
        A line that is not JSON, with the file and line.
    """
    from ingest.readers import read_text  # polars: not in the spawned training workers

    if not path.exists():
        return []
    runs = []
    for i, line in enumerate(read_text(path, str(path)).splitlines(), start=1):
        if line.strip():
            try:
                runs.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise BadRow(path, i, f"not valid JSON ({e.msg})") from None
    return runs


def _drop_unfinished_line(path: Path, log: Callable[[str], None]) -> None:
    """Cut a last line without its newline: a grid stopped while it wrote that run."""
    data = path.read_bytes() if path.exists() else b""
    if data and not data.endswith(b"\n"):
        path.write_bytes(data[:data.rfind(b"\n") + 1])
        log(f"{path}: dropped an unfinished last line (a stopped run; it runs again)")


def _non_embedding_params(cfg) -> int:
    """N without embedding and head: per layer 4h² (attention) + 3·h·i (the gated MLP)."""
    return cfg.n_layer * (4 * cfg.n_embd ** 2 + 3 * cfg.n_embd * cfg.mlp_width)


def _estimated_seconds(cfg) -> float:
    """Wall time of a run alone on an H100 with CUDA graphs, to order runs: per step 1 ms per
    layer (its ~200 small kernels) plus the step's FLOPs (6 · non-embedding N · tokens) at
    160 TFLOP/s (TF32), constants set from benchmarks/bench_train.py's rates for the six sizes.
    """
    n = _non_embedding_params(cfg)
    return cfg.steps * (1e-3 * cfg.n_layer + 6 * n * cfg.batch_rows * ROW_TOKENS / 1.6e14)


def _make_corpus(job: tuple) -> dict:
    """One grammar's corpus in a worker: (grid, shape, folder) -> its compressibility record.

    The rows and lengths are written to ``folder`` as ``.npy`` files, which every run of the
    grammar memory-maps (nothing large is sent between processes).
    """
    grid, shape, folder = job
    corpus, h = corpus_for(grid, shape)
    folder.mkdir(parents=True)
    np.save(folder / "rows.npy", corpus.rows)
    np.save(folder / "length.npy", corpus.length)
    return {**h, "corpus": {"spec": corpus.spec, "seed": corpus.seed, "sep": corpus.sep,
                            "pad": corpus.pad, "vocab_size": corpus.vocab_size}}


def _train_one(job: tuple) -> dict:
    """One run in a worker: (config, corpus folder, corpus fields, record) -> the record with
    the results."""
    from ingest.pcfg.train import train

    cfg, folder, fields, record = job
    corpus = Corpus(rows=np.load(folder / "rows.npy", mmap_mode="r"),
                    length=np.load(folder / "length.npy", mmap_mode="r"), **fields)
    result = train(cfg, corpus)
    if cfg.device.startswith("cuda"):
        import torch

        torch.cuda.empty_cache()  # the next run in this process may be larger
    record.update({
        "n_params": result.n_params,
        "n_params_non_embedding": result.n_params_non_embedding,
        "vocab_size": result.vocab_size,
        "tokens": result.tokens,
        "eval_steps": result.eval_steps,
        "eval_tokens": result.eval_tokens,
        "valid_loss": result.valid_loss,
        "train_loss": result.train_loss,
        "seconds": result.seconds,
        "tokens_per_second": result.tokens_per_second,
        "config": {**asdict(cfg), "betas": list(cfg.betas)},
    })
    return record


def corpus_for(grid: GridSpec, shape: tuple[int, int, int, int]) -> tuple[Corpus, dict]:
    """The grid's corpus of one grammar and its compressibility record."""
    spec = GrammarSpec(*shape, seed=grid.grammar_seed)
    rows = max(grid.budgets) + grid.train.val_rows
    corpus = make_corpus(make_grammar(spec), rows, seed=grid.corpus_seed)
    h = corpus_compressibility(corpus, n_rows=grid.gzip_rows, seed=grid.corpus_seed)
    return corpus, {"gzip_median": h.median, "gzip_std": h.std, "gzip_mean": h.mean,
                    "gzip_rows": h.n_rows}


def _estimated_bytes(cfg) -> float:
    """GPU memory of a run beyond its process's own (~3 GB): parameters, gradients and AdamW's
    two moments (16 bytes a parameter), the training rows, and the step's activations, held
    three times (eager warm-up on a side stream, the graph's pool, the eager last batch): 192
    bytes per token, layer and hidden unit (37.5 GB measured for the 275M size on an H100).
    """
    activations = 192 * cfg.batch_rows * ROW_TOKENS * cfg.n_layer * cfg.n_embd
    return 16 * _non_embedding_params(cfg) + 8 * ROW_TOKENS * cfg.train_rows + activations


def _results(fn: Callable, jobs: list, pool, workers: int, deadline: float,
             size: Callable = lambda job: 0.0, capacity: float = math.inf) -> Iterator:
    """``(job, fn(job))`` as they finish, the jobs started in order, at most ``workers`` at a
    time in ``pool`` (here when None); none starts after ``deadline`` (a perf_counter time),
    nor while the running jobs' ``size`` would exceed ``capacity`` with it (a job alone always
    starts)."""
    if pool is None:
        for job in jobs:
            if time.perf_counter() >= deadline:
                return
            yield job, fn(job)
        return
    queue, running = list(reversed(jobs)), {}
    while True:
        while (queue and len(running) < workers and time.perf_counter() < deadline
               and (not running or sum(map(size, running.values())) + size(queue[-1])
                    <= capacity)):
            job = queue.pop()
            running[pool.submit(fn, job)] = job
        if not running:
            return
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            yield running.pop(future), future.result()


def _gpu_capacity(grid: GridSpec, jobs: int) -> float:
    """Bytes the runs of ``jobs`` processes may share on the grid's GPU (unlimited on CPU):
    90% of the device less ~3 GB per process (its CUDA context, cuBLAS workspaces, caches)."""
    if not grid.train.device.startswith("cuda"):
        return math.inf
    import torch

    if not torch.cuda.is_available():
        raise MetaError(f"Grid '{grid.name}' trains on {grid.train.device}, but torch "
                        f"{torch.__version__} sees no CUDA device. Use a machine with a GPU, or "
                        f"the cpu grid.")
    return 0.9 * torch.cuda.get_device_properties(grid.train.device).total_memory - jobs * 3e9


def run_grid(grid: GridSpec, out: Path, *, jobs: int = 1, time_limit: float | None = None,
             log: Callable[[str], None] = lambda _: None) -> Path:
    """Run every missing run of ``grid``; results go to ``out/<grid.name>/results.jsonl``.

    Parameters
    ----------
    grid : GridSpec
        With ``train`` set (see :func:`preset`).
    out : Path
        The runs folder (``runs/pcfg`` or ``$META_PCFG_RUNS``).
    jobs : int, default=1
        Worker processes (spawned; on a GPU they share it); each gets ``train.threads``
        threads. The corpora are drawn in the same workers, one grammar each.
    time_limit : float, optional
        Seconds after which no new run starts (runs already started finish). With a limit
        the cheapest runs go first, so that a time-boxed session fills the grid evenly across
        grammars; without one the most expensive go first (the last to start are short).
        Run again to continue: runs already in the results file are skipped.
    log : callable
        Progress lines.

    Returns
    -------
    Path
        The results file. The runs folder's ``MANIFEST.tsv`` then lists it as it is (its
        other entries are kept), so that ``meta ingest`` can tell a damaged file.
    """
    if grid.train is None:
        raise MetaError(f"Grid '{grid.name}' has no training config; use preset().")
    if time_limit is not None and not time_limit > 0:
        raise MetaError(f"time_limit must be a positive number of seconds. Got {time_limit!r}.")
    capacity = _gpu_capacity(grid, jobs)
    start = time.perf_counter()
    deadline = start + time_limit if time_limit is not None else math.inf
    folder = Path(out) / grid.name
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / RESULTS
    _drop_unfinished_line(path, log)
    done = {r["run"] for r in read_results(path)}
    todo = {}
    for shape in grid.grammars:
        family = family_name(grid.name, GrammarSpec(*shape, seed=grid.grammar_seed))
        runs = [(size, rows) for size in grid.sizes for rows in grid.budgets
                if run_name(family, size, rows, grid.train.seed) not in done]
        if runs:
            todo[shape] = (family, runs)
    pool = (ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("spawn"))
            if jobs > 1 else None)
    try:
        with tempfile.TemporaryDirectory(prefix="pcfg-corpora-") as tmp:
            corpus_jobs = [(grid, shape, Path(tmp) / str(i)) for i, shape in enumerate(todo)]
            jobs_list = []
            for (_, shape, corpus_dir), h in _results(_make_corpus, corpus_jobs, pool, jobs,
                                                      math.inf):
                family, runs = todo[shape]
                fields = h.pop("corpus")
                log(f"{family}: H = {h['gzip_median']:.3f} ± {h['gzip_std']:.3f} "
                    f"({time.perf_counter() - start:.0f} s in all)")
                for size, rows in runs:
                    cfg = grid.run_config(size, rows)
                    record = {
                        "run": run_name(family, size, rows, cfg.seed), "grid": grid.name,
                        "family": family, "grammar": list(shape),
                        "grammar_seed": grid.grammar_seed, "corpus_seed": grid.corpus_seed,
                        "seed": cfg.seed, "train_rows": rows, "size": list(size), **h,
                    }
                    jobs_list.append((cfg, corpus_dir, fields, record))
            jobs_list.sort(key=lambda j: _estimated_seconds(j[0]), reverse=time_limit is None)
            with path.open("a") as f:
                results = _results(_train_one, jobs_list, pool, jobs, deadline,
                                   lambda job: _estimated_bytes(job[0]), capacity)
                for i, (_, record) in enumerate(results, 1):
                    f.write(json.dumps(record) + "\n")
                    f.flush()
                    log(f"[{i}/{len(jobs_list)}] {record['run']}: valid "
                        f"{record['valid_loss'][-1]:.4f} ({record['seconds']:.1f} s, "
                        f"{record['tokens_per_second']:.0f} tokens/s, "
                        f"{time.perf_counter() - start:.0f} s in all)")
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
        if path.exists() and not path.stat().st_size:
            path.unlink()  # no run finished: no empty results file for ingest to refuse
        update_manifest(Path(out), [f"{grid.name}/{RESULTS}"])
    return path


def default_runs_folder() -> Path:
    """``$META_PCFG_RUNS``, else ``runs/pcfg`` under the repository."""
    env = os.environ.get("META_PCFG_RUNS")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "runs" / "pcfg"
