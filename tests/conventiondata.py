"""A hand-made frame of family points (warehouse.identity.family_points' columns) for the
convention tests: OPT (log2 perplexities), Chinchilla (4 digitised sizes that round to 2) and
one other family."""

from __future__ import annotations

import polars as pl


def points() -> pl.DataFrame:
    rows = []
    families = {"OPT": (1.25e8, 1.3e9, 6.7e9), "chinchilla": (7.31e7, 7.44e7, 2.51e8, 2.49e8),
                "gpt3": (1.25e8, 3.5e8, 7.6e8)}
    for family, sizes in families.items():
        for i, n in enumerate(sizes):
            for d in (2e10, 5e10, 1e11):
                rows.append({"family": family, "model_id": f"{family}/{i}",
                             "checkpoint_id": f"{family}/{i}@{d:.0f}", "num_params": n,
                             "tokens": d, "flops": 6 * n * d,
                             "perf": 2.0 + 300 / n**0.3 + 300 / d**0.3, "usable": True})
    return pl.DataFrame(rows)
