"""pcfg-runs: the results files of `meta pcfg grid` as a source, and the grid runner."""

import json
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import polars as pl
import pytest
import torch

from ingest import pcfg_runs
from ingest.manifest import git_blob_sha1
from ingest.normalize import normalize
from ingest.pcfg.grid import (
    PCFG_GRID_CPU,
    PCFG_GRID_GPU,
    _results,
    preset,
    read_results,
    run_grid,
)
from tests.conftest import value_at
from warehouse.errors import BadRow, MetaError, MissingInput

FAMILY = "pcfg-cpu-3_20_2_2-s0"


def record(rows: int, width: int, losses: list[float]) -> dict:
    n = len(losses)
    steps = [rows // 16 * (i + 1) // n for i in range(n)]
    tokens = [s * 16 * 256 - 100 for s in steps]
    return {
        "run": f"{FAMILY}-L1H1C{width}-R{rows}-seed0", "grid": "cpu", "family": FAMILY,
        "grammar": [3, 20, 2, 2], "grammar_seed": 0, "corpus_seed": 0, "seed": 0,
        "train_rows": rows, "size": [1, 1, width], "gzip_median": 0.1294, "gzip_std": 0.0034,
        "gzip_mean": 0.1292, "gzip_rows": 1000, "n_params": 1000 * width,
        "n_params_non_embedding": 100 * width, "vocab_size": 22, "tokens": tokens[-1],
        "eval_steps": steps, "eval_tokens": tokens, "valid_loss": losses,
        "train_loss": [x + 0.1 for x in losses], "seconds": 2.0, "tokens_per_second": 1e4,
    }


@pytest.fixture
def runs(tmp_path):
    folder = tmp_path / "runs"
    (folder / "cpu").mkdir(parents=True)
    lines = [record(512, 16, [2.0, 1.5, 1.2]), record(1024, 16, [2.0, 1.4, 1.1, 1.0]),
             record(512, 32, [1.9, 1.3, 1.0])]
    (folder / "cpu" / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    return folder


def test_load(runs):
    t = normalize("pcfg-runs", pcfg_runs.load(runs=runs))
    fam = t["families"].row(0, named=True)
    assert fam["family"] == FAMILY and fam["model_type"] == "pcfg-cpu"
    assert fam["perf_metric"] == ["valid_loss"] and fam["scaled"]
    assert t["models"].height == 3 and t["checkpoints"].height == 10
    # valid_loss + train_loss per evaluation; 6 more on each final checkpoint
    assert t["metrics"].height == 2 * 10 + 3 * 6
    final = f"pcfg-runs/{FAMILY}-L1H1C16-R1024-seed0@step64"
    assert value_at(t, final, "valid_loss") == 1.0
    assert value_at(t, final, "gzip_median") == 0.1294
    assert value_at(t, final, "num_params_non_embedding") == 1600
    model = t["models"].filter(pl.col("model_id") == final.split("@")[0]).row(0, named=True)
    assert model["num_params"] == 16000 and model["max_tokens"] == 64 * 16 * 256 - 100
    h = t["metrics"].filter(pl.col("metric") == "gzip_median")
    assert h["checkpoint_id"].str.ends_with("@step32").sum() == 2 and h.height == 3


def test_env_folder(runs, monkeypatch):
    monkeypatch.setenv("META_PCFG_RUNS", str(runs))
    assert pcfg_runs.load(None).models.height == 3


def test_missing_folder(tmp_path):
    with pytest.raises(MissingInput, match="meta pcfg grid"):
        pcfg_runs.load(runs=tmp_path / "nothing")


@pytest.mark.parametrize("old, new, reason", [
    ('"gzip_median": 0.1294', '"gzip_median": "x"', "gzip_median is not a number"),
    ('"n_params": 16000', '"n_params": -5', "n_params is not positive"),
    ('"valid_loss": [2.0, 1.5, 1.2]', '"valid_loss": [2.0, 1.5]', "valid_loss has 2 values"),
])
def test_bad_values_name_the_line(runs, old, new, reason):
    path = runs / "cpu" / "results.jsonl"
    lines = path.read_text().splitlines()
    assert old in lines[0]
    lines[0] = lines[0].replace(old, new)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(BadRow, match=f"cpu/results.jsonl, line 1: {reason}"):
        pcfg_runs.load(runs=runs)


def test_truncated_line(runs):
    path = runs / "cpu" / "results.jsonl"
    path.write_text(path.read_text()[:-40])
    with pytest.raises(BadRow, match="line 3: not valid JSON"):
        pcfg_runs.load(runs=runs)


def test_grid_runs_and_resumes(tmp_path):
    grid = replace(preset("tiny"), grammars=((3, 20, 2, 2),), sizes=((1, 1, 8),))
    path = run_grid(grid, tmp_path)
    first = read_results(path)
    assert [r["train_rows"] for r in sorted(first, key=lambda r: r["train_rows"])] == [8, 16]
    assert first[0]["family"] == "pcfg-tiny-3_20_2_2-s0"
    manifest = (tmp_path / "MANIFEST.tsv").read_text().splitlines()
    data = path.read_bytes()
    assert manifest == ["path\tbytes\tgit_blob_sha1",
                        f"tiny/results.jsonl\t{len(data)}\t{git_blob_sha1(data)}"]
    run_grid(grid, tmp_path)  # nothing left to run
    assert read_results(path) == first
    assert (tmp_path / "MANIFEST.tsv").read_text().splitlines() == manifest
    t = normalize("pcfg-runs", pcfg_runs.load(runs=tmp_path))
    assert t["models"].height == 2


def test_a_stopped_grid_resumes_and_a_corrupt_results_file_is_named(tmp_path):
    grid = replace(preset("tiny"), grammars=((3, 20, 2, 2),), sizes=((1, 1, 8),))
    path = run_grid(grid, tmp_path)
    whole = path.read_text()
    path.write_text(whole[:-30])  # stopped while writing the second run's line
    lines = []
    run_grid(grid, tmp_path, log=lines.append)
    assert any("dropped an unfinished last line" in m for m in lines)
    assert sorted(r["run"] for r in read_results(path)) == sorted(
        json.loads(x)["run"] for x in whole.splitlines())
    path.write_text("{}\n{oops\n" + path.read_text())
    with pytest.raises(BadRow, match=r"results.jsonl, line 2: not valid JSON"):
        run_grid(grid, tmp_path)


def test_time_limit_starts_the_cheapest_runs_and_a_rerun_goes_on(tmp_path):
    grid = replace(preset("tiny"), grammars=((3, 20, 2, 2),))
    path = run_grid(grid, tmp_path, time_limit=1e-9)  # the corpus is drawn, no run starts
    assert read_results(path) == [] and not path.exists()  # no empty file left for ingest
    assert not (tmp_path / "MANIFEST.tsv").exists()
    with pytest.raises(MetaError, match="time_limit"):
        run_grid(grid, tmp_path, time_limit=-1)
    run_grid(grid, tmp_path, jobs=2)  # in spawned workers
    assert len(read_results(path)) == grid.n_runs


def test_jobs_start_in_order_within_workers_capacity_and_deadline():
    jobs = [3, 1, 2, 2, 1, 1]
    running, peak = [], []

    def work(job):
        running.append(job)
        peak.append((len(running), sum(running)))
        time.sleep(0.02)
        running.remove(job)
        return job * 10

    with ThreadPoolExecutor(4) as pool:
        out = list(_results(work, jobs, pool, 3, math.inf, size=lambda j: j, capacity=4))
        assert sorted(r for _, r in out) == sorted(j * 10 for j in jobs)
        assert max(n for n, _ in peak) <= 3
        # Over capacity only alone: the first job (3) runs, the 1 joins it, then the 2s wait.
        assert all(total <= 4 or n == 1 for n, total in peak)
        assert list(_results(work, jobs, pool, 3, time.perf_counter())) == []
    assert [j for j, _ in _results(work, jobs, None, 1, math.inf)] == jobs


def test_presets():
    assert PCFG_GRID_CPU.n_runs >= 3 * 4 * 4
    assert len(PCFG_GRID_GPU.grammars) == 6 and len(PCFG_GRID_GPU.sizes) == 6
    assert PCFG_GRID_GPU.budgets[-1] * 256 >= 1e8
    assert preset("gpu").train.lr == 5e-5 and preset("cpu").train.threads == 1
    gpu, cpu = preset("gpu").train, preset("cpu").train
    assert gpu.device == "cuda" and gpu.matmul_precision == "high"
    assert cpu.matmul_precision == "highest"


@pytest.mark.skipif(torch.cuda.is_available(), reason="a CUDA device is present")
def test_gpu_grid_without_a_gpu_says_so_before_drawing_corpora(tmp_path):
    with pytest.raises(MetaError, match="sees no CUDA device"):
        run_grid(preset("gpu"), tmp_path, jobs=2)
    assert not (tmp_path / "gpu" / "results.jsonl").exists()
