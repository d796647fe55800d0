"""Run files of a generated family with a known law, written in every shape that
`meta ingest runs` reads (the tests' and the benchmark's input).

The runs: ``sizes`` x ``lrs`` peak learning rates, ``steps`` evaluations each, tokens =
step x TOKENS_PER_STEP, validation loss E + A / N^alpha + B / D^beta (times a learning-rate
penalty), a training loss a little below it, and per-run hyperparameters lr, seed, batch_size
and warmup.
"""

from __future__ import annotations

import math
from pathlib import Path

import polars as pl

TOKENS_PER_STEP = 2_097_152  # 512 sequences of 4096 tokens
LAW = {"E": 1.8, "A": 400.0, "B": 1800.0, "alpha": 0.34, "beta": 0.28}
HYPER = ("lr", "seed", "batch_size", "warmup")


def run_name(size: float, lr: float) -> str:
    return f"n{size:.0e}-lr{lr:g}".replace("+", "")


def runs_frame(
    sizes: tuple[float, ...] = (1e7, 3e7, 1e8, 3e8),
    lrs: tuple[float, ...] = (3e-4, 1e-3, 3e-3),
    steps: int = 12,
    every: int = 250,
) -> pl.DataFrame:
    """The wide frame: a row per (run, evaluation step)."""
    rows = []
    for i, size in enumerate(sizes):
        for j, lr in enumerate(lrs):
            penalty = 1 + 0.05 * abs(math.log10(lr / 1e-3))
            for k in range(1, steps + 1):
                step = k * every
                tokens = float(step * TOKENS_PER_STEP)
                loss = (LAW["E"] + LAW["A"] / size ** LAW["alpha"]
                        + LAW["B"] / tokens ** LAW["beta"]) * penalty
                rows.append({
                    "run": run_name(size, lr), "step": step, "tokens": tokens, "params": size,
                    "val_loss": round(loss, 6), "train/loss": round(loss * 0.98, 6),
                    "lr": lr, "seed": 1000 + 10 * i + j, "batch_size": 512, "warmup": 100 * (j + 1),
                })
    return pl.DataFrame(rows)


def write_wide(df: pl.DataFrame, path: Path) -> Path:
    """CSV, TSV, Parquet or JSON Lines by ``path``'s extension."""
    suffix = path.suffix
    if suffix == ".csv":
        df.write_csv(path)
    elif suffix in (".tsv", ".tab"):
        df.write_csv(path, separator="\t")
    elif suffix in (".parquet", ".pq"):
        df.write_parquet(path)
    elif suffix in (".jsonl", ".ndjson"):
        df.write_ndjson(path)
    else:
        raise ValueError(suffix)
    return path


def write_long(df: pl.DataFrame, path: Path) -> Path:
    """One row per (checkpoint, metric): metric and value columns."""
    long = df.unpivot(on=["val_loss", "train/loss"], index=[c for c in df.columns if c not in (
        "val_loss", "train/loss")], variable_name="metric", value_name="value")
    return write_wide(long.sort("run", "step", "metric"), path)


def write_wandb_history(df: pl.DataFrame, path: Path) -> Path:
    """A W&B API history: `_step`, `Name`, `_runtime`, `_timestamp`, no size and no tokens."""
    out = df.select(
        pl.col("step").alias("_step"), pl.col("run").alias("Name"), "train/loss", "val_loss",
        (pl.col("step") * 1.5).alias("_runtime"), (1.7e9 + pl.col("step") * 1.5).alias(
            "_timestamp"), "lr", "seed", "batch_size", "warmup")
    out.write_csv(path)
    return path


def write_wandb_charts(df: pl.DataFrame, folder: Path) -> list[Path]:
    """The W&B UI's chart exports, one file per metric: `Step`, `<run> - <metric>` and its
    `__MIN`/`__MAX` band, empty where a run has no value."""
    paths = []
    for k, metric in enumerate(("val_loss", "train/loss")):
        wide = df.pivot(on="run", index="step", values=metric, maintain_order=True).sort("step")
        runs = [c for c in wide.columns if c != "step"]
        cols = [pl.col("step").alias("Step")]
        for run in runs:
            for suffix in ("", "__MIN", "__MAX"):
                cols.append(pl.col(run).alias(f"{run} - {metric}{suffix}"))
        path = folder / f"wandb_export_{k}.csv"
        wide.select(cols).write_csv(path, quote_style="always", null_value="")
        paths.append(path)
    return paths


def write_mapping(df: pl.DataFrame, path: Path, *, params: bool = True, hyper: bool = True,
                  tokens_per_step: bool = True) -> Path:
    """A TOML mapping file: tokens_per_step, [params] and [runs."<run>"] hyperparameters."""
    lines = []
    if tokens_per_step:
        lines.append(f"tokens_per_step = {TOKENS_PER_STEP}")
    per_run = df.group_by("run", maintain_order=True).first()
    if params:
        lines.append("[params]")
        lines += [f'"{r["run"]}" = {r["params"]:.1f}' for r in per_run.iter_rows(named=True)]
    if hyper:
        for r in per_run.iter_rows(named=True):
            lines.append(f'[runs."{r["run"]}"]')
            lines += [f"{h} = {r[h]!r}" for h in HYPER]
    path.write_text("\n".join(lines) + "\n")
    return path
