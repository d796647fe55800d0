"""Law-fitting problems drawn from the warehouse families, for the fitting tests and benchmarks.

Points come from every source in ``ingest.LOADERS`` through ``conftest.load_tables`` (the
normalised tables a warehouse would hold), with ``perf`` computed by the rule of the ``perf``
view: per checkpoint, the mean over the family's 0-shot ``perf_metric`` columns of log2 of
perplexities and raw losses. A new source joins automatically once its loader exists.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import polars as pl

from analyses.laws import LawBatch
from ingest import LOADERS


def available_sources() -> list[str]:
    """Registered sources whose loader module exists."""
    return [n for n, mod in LOADERS.items() if importlib.util.find_spec(mod) is not None]


def family_points(tables: dict[str, pl.DataFrame]) -> dict[str, tuple[np.ndarray, ...]]:
    """``family -> (N, D, perf, model index)`` for one source's tables (usable points only)."""
    fam = tables["families"].select("family", "perf_metric").explode("perf_metric")
    m = (
        tables["metrics"].filter(pl.col("shots").fill_null(0) == 0)
        .join(tables["checkpoints"].select("checkpoint_id", "model_id", "tokens"),
              on="checkpoint_id")
        .join(tables["models"].select("model_id", "family", "num_params"), on="model_id")
        .join(fam, left_on=["family", "metric"], right_on=["family", "perf_metric"])
        .with_columns(v=pl.when(pl.col("kind") == "ppl").then(pl.col("value").log(2))
                      .otherwise(pl.col("value")))
        .group_by("family", "model_id", "checkpoint_id")
        .agg(pl.col("num_params").first(), pl.col("tokens").first(), perf=pl.col("v").mean())
        .filter((pl.col("perf") > 0) & (pl.col("tokens") > 0) & (pl.col("num_params") > 0)
                & pl.col("perf").is_finite())
        .sort("family", "model_id", "tokens")
    )
    out = {}
    for (family,), g in m.group_by("family", maintain_order=True):
        models = g["model_id"].to_numpy()
        _, idx = np.unique(models, return_inverse=True)
        out[family] = (g["num_params"].to_numpy().astype(float), g["tokens"].to_numpy(),
                       g["perf"].to_numpy(), idx)
    return out


def all_families(load_tables, sources=None, min_sizes: int = 2) -> dict[str, tuple]:
    """Families of every available source with at least ``min_sizes`` distinct model sizes."""
    fams = {}
    for name in sources or available_sources():
        for family, pts in family_points(load_tables(name)).items():
            if len(np.unique(pts[0])) >= min_sizes and len(pts[2]) >= 6:
                fams[f"{name}:{family}"] = pts
    return fams


def random_problems(families: dict[str, tuple], n: int, seed: int, max_points: int = 200,
                    min_sizes: int = 2) -> tuple[LawBatch, list[str]]:
    """``n`` random fitting problems: a family, a random subset of its models, a random prefix
    of training (fraction 0.3-1 of the subset's tokens) and at most ``max_points`` points, with
    at least ``min_sizes`` distinct model sizes."""
    rng = np.random.default_rng(seed)
    names = sorted(families)
    xs, ys, keys = [], [], []
    while len(xs) < n:
        fam = names[rng.integers(len(names))]
        N, D, y, model = families[fam]
        ids = np.unique(model)
        k = rng.integers(min(2, ids.size), ids.size + 1)
        chosen = rng.choice(ids, size=k, replace=False)
        sel = np.isin(model, chosen)
        frac = rng.uniform(0.3, 1.0)
        limit = frac * D[sel].max()
        sel &= limit >= D
        idx = np.flatnonzero(sel)
        if idx.size > max_points:
            idx = np.sort(rng.choice(idx, size=max_points, replace=False))
        if idx.size < 6 or np.unique(N[idx]).size < min_sizes:
            continue
        xs.append(np.column_stack([N[idx], D[idx]]))
        ys.append(y[idx])
        keys.append(f"{fam}#{len(xs)}")
    return LawBatch.from_ragged(xs, ys, keys=keys), keys


def synthetic_problems(n: int, seed: int, noise: float = 0.01) -> tuple[LawBatch, np.ndarray]:
    """``n`` Chinchilla laws with random parameters, on a random grid of sizes and tokens,
    with multiplicative log-normal noise ``noise``. Returns the batch and the true params."""
    rng = np.random.default_rng(seed)
    from analyses.laws import get_form
    form = get_form("chinchilla")
    truth = np.column_stack([rng.uniform(0.5, 3.0, n), np.exp(rng.uniform(3, 9, n)),
                             np.exp(rng.uniform(3, 11, n)), rng.uniform(0.15, 0.7, n),
                             rng.uniform(0.15, 0.7, n)])
    xs, ys = [], []
    for i in range(n):
        N = np.exp(rng.uniform(np.log(1e7), np.log(1e10), rng.integers(4, 9)))
        N = np.repeat(N, 10)
        D = np.exp(rng.uniform(np.log(1e8), np.log(1e12), N.size))
        L = form.predict(truth[i], N, D) * np.exp(noise * rng.standard_normal(N.size))
        xs.append(np.column_stack([N, D]))
        ys.append(L)
    return LawBatch.from_ragged(xs, ys), truth
