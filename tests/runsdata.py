"""A generated family of a user's runs with a known law: sizes x learning rates, written
straight into a warehouse (the loader of users' files has tests of its own)."""

from __future__ import annotations

import numpy as np
import polars as pl

from ingest.base import SourceData
from ingest.normalize import normalize
from warehouse.write import write_source

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


def write_family(con, name: str, rows: pl.DataFrame) -> None:
    """Write ``rows`` (from :func:`sweep_rows`) as the user family ``name``."""
    source = f"runs:{name}"
    models = rows.group_by("run", maintain_order=True).agg(pl.col("params").first()).select(
        model_id=pl.lit(source + "/") + pl.col("run"), family=pl.lit(name),
        num_params=pl.col("params"), file=pl.lit("generated"), row=pl.int_range(pl.len()))
    points = rows.select(
        model_id=pl.lit(source + "/") + pl.col("run"), step=pl.col("step"),
        tokens=pl.col("tokens"), metric=pl.lit("loss"), value=pl.col("loss"),
        kind=pl.lit("loss"), file=pl.lit("generated"), row=pl.int_range(pl.len()))
    families = pl.DataFrame({"family": [name], "model_type": ["user"],
                             "perf_metric": [["loss"]], "scaled": [True]})
    tables = normalize(source, SourceData(families, models, points, 1))
    info = {"name": source, "citation": "generated", "upstream": "tests", "license": ""}
    write_source(con, info=info, tables=tables, content_hash=source, n_files=1, seconds=0.0)
