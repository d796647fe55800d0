"""A generated family of a user's runs with a known law: sizes x learning rates, loaded the
way a user loads theirs (``meta ingest runs`` on a CSV)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from ingest.runs.load import ingest_runs
from ingest.runs.options import RunsOptions

TRUE = {"E": 1.8, "A": 400.0, "B": 2000.0, "alpha": 0.34, "beta": 0.37}
LR_PENALTY = {3e-3: 1.0, 1e-3: 1.03, 1e-2: 1.08}  # 3e-3 is the best learning rate


def true_loss(n, d) -> np.ndarray:
    t = TRUE
    return t["E"] + t["A"] / np.asarray(n) ** t["alpha"] + t["B"] / np.asarray(d) ** t["beta"]


def sweep_rows(sizes=(2e7, 5e7, 1.2e8, 3e8), lrs=tuple(LR_PENALTY), tokens_per_param=20,
               checkpoints=8, noise=0.003, seed=0) -> pl.DataFrame:
    """One row per (run, checkpoint): run, params, lr, step, tokens, loss."""
    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        for lr in lrs:
            final = tokens_per_param * n
            for step, d in enumerate(np.geomspace(final / 10, final, checkpoints), start=1):
                loss = true_loss(n, d) * LR_PENALTY[lr] * np.exp(noise * rng.standard_normal())
                rows.append({"run": f"n{n:.0e}-lr{lr:g}", "params": n, "lr": lr,
                             "step": step * 100, "tokens": d, "loss": float(loss)})
    return pl.DataFrame(rows)


def write_family(con, name: str, rows: pl.DataFrame, folder: Path) -> Path:
    """Write ``rows`` (from :func:`sweep_rows`) to ``folder/<name>.csv`` and load it with
    ``meta ingest runs``' loader as the user family ``name``."""
    path = Path(folder) / f"{name}.csv"
    rows.write_csv(path)
    ingest_runs(con, [path], RunsOptions(family=name))
    return path
