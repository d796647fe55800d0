"""OPT training trajectories (Xia et al. 2023) with BIG-bench accuracies, from the Hitchhiker data.

Two files describe the same six OPT runs (125m, 1.3b, 6.7b, 13b, 30b, 175b):

- ``aggregated_eval/opt_trajectories.csv``: validation perplexity at 142 checkpoints. Its
  ``num_token`` and ``flops`` columns are **log10** values.
- ``aggregated_eval/opt.csv``: six BIG-bench multiple-choice accuracies, in percent, at 147
  checkpoints (the same checkpoints plus 30b steps 6k/18k/34k and 175b steps 44k/64k, which
  have no perplexity).

Rows of the two files that share (size, step) are one checkpoint. Tokens are steps × the batch
of that size, as the Hitchhiker code computes them (``row_to_tokens_seen``): 0.5M tokens below
1B parameters, 1M below 6B, 2M below 10B, 4M below 60B and 2M for 175B. Both files' token
columns are checked against that formula (they agree to 1e-15), so the exact product is stored.
FLOPs upstream are 6·N·D with the nominal size N (125e6, 1.3e9, ...); they are checked the same
way and stored as that exact product, so both files give one value per checkpoint.

Deviations from the Hitchhiker code: it renames ``ppl`` to ``loss`` and so fits raw perplexity;
here the metric keeps its name and kind ``ppl``, so the ``perf`` view takes log2 of it. The
BIG-bench accuracies are stored as fractions (upstream percent / 100), kind ``acc``; the number
of shots is not given upstream and is recorded as 0. ``epochs`` is the last checkpoint's tokens
over the 180B-token corpus, the Hitchhiker ``tokens_seen / 180e9`` at the end of the run.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, first_bad, frame
from ingest.parse import parse_sizes
from ingest.readers import read_csv, relpath
from warehouse.errors import BadRow

SOURCE = SourceInfo(
    name="opt",
    citation="Xia et al. 2023, Training Trajectories of Language Models Across Scales "
    "(OPT checkpoints, Zhang et al. 2022), collected in Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret); no separate terms stated for the collected OPT evaluations",
    files=("hitchhiker/aggregated_eval/opt_trajectories.csv", "hitchhiker/aggregated_eval/opt.csv"),
)

FAMILY = "OPT"
DATA = "OPT(ROBERTA_PILE_REDDIT)"
TOKENS_PER_EPOCH = 180e9
BIGBENCH = "bigbench__"
# Relative tolerance when checking a file's tokens/FLOPs against steps × batch and 6·N·D.
RTOL = 1e-6


def batch_tokens(num_params: pl.Expr) -> pl.Expr:
    """Tokens per OPT training step by model size (the Hitchhiker ``row_to_tokens_seen``)."""
    return (
        pl.when(num_params < 1e9).then(5e5)
        .when(num_params < 6e9).then(1e6)
        .when(num_params < 10e9).then(2e6)
        .when(num_params < 60e9).then(4e6)
        .otherwise(2e6)
    )


def _checkpoints(df: pl.DataFrame, size: str) -> pl.DataFrame:
    """Add model_id, num_params, step, tokens (steps × batch) and FLOPs (6·N·D)."""
    return df.with_columns(
        model_id=pl.format("opt/OPT-{}", pl.col(size).str.strip_chars().str.to_lowercase()),
        num_params=parse_sizes(df, size),
        step=pl.col("steps"),
    ).with_columns(
        tokens=pl.col("steps") * batch_tokens(pl.col("num_params")),
    ).with_columns(
        flops=6 * pl.col("num_params") * pl.col("tokens"),
    )


def _check_close(df: pl.DataFrame, given: pl.Expr, expected: str, what: str) -> None:
    """BadRow where a file's value (``given``) is not column ``expected`` to RTOL."""
    formula = {"tokens": "steps x batch", "flops": "6 N D"}[expected]
    off = (given / pl.col(expected) - 1).abs() > RTOL
    first_bad(
        df,
        off & (pl.col(expected) > 0),
        pl.format(f"{what} ({{}}) disagrees with {formula} ({{}})", given, pl.col(expected)),
    )


def load(data_root: Path) -> SourceData:
    """Read both OPT files; metric ``ppl`` (kind ppl) and six BIG-bench accuracies."""
    traj_path, bench_path = (data_root / f for f in SOURCE.files)
    traj = read_csv(
        traj_path,
        data_root=data_root,
        numeric=("num_token", "flops", "ppl"),
        integer=("steps",),
        required=("model_size", "steps", "num_token", "flops", "ppl"),
    )
    traj = _checkpoints(traj.rename({"flops": "log10_flops"}), "model_size")
    _check_close(traj, 10 ** pl.col("num_token"), "tokens", "10**num_token")
    _check_close(traj, 10 ** pl.col("log10_flops"), "flops", "10**flops")

    bench = read_csv(
        bench_path,
        data_root=data_root,
        numeric=lambda c: c in ("flops", "tokens") or c.startswith(BIGBENCH),
        integer=("steps",),
        required=("size", "steps", "tokens", "flops"),
    )
    tasks = [c for c in bench.columns if c.startswith(BIGBENCH)]
    if not tasks:
        raise BadRow(relpath(bench_path, data_root), 1, f"no {BIGBENCH}* columns")
    bench = bench.rename({"tokens": "file_tokens", "flops": "file_flops"})
    bench = _checkpoints(bench, "size")
    _check_close(bench, pl.col("file_tokens"), "tokens", "tokens")
    _check_close(bench, pl.col("file_flops"), "flops", "flops")

    keys = ["model_id", "step", "tokens", "flops", "file", "row"]
    ppl = traj.select(*keys, metric=pl.lit("ppl"), value=pl.col("ppl"), kind=pl.lit("ppl"))
    acc = bench.unpivot(on=tasks, index=keys, variable_name="metric").with_columns(
        value=pl.col("value") / 100,
        kind=pl.lit("acc"),
        task=pl.col("metric").str.replace(BIGBENCH, "bigbench_", literal=True),
    )
    points = pl.concat([ppl, acc], how="diagonal_relaxed")

    both = pl.concat(
        [traj.select("model_id", "num_params", "tokens", "file", "row"),
         bench.select("model_id", "num_params", "tokens", "file", "row")]
    )
    models = (
        both.group_by("model_id", maintain_order=True)
        .agg(pl.col("num_params", "file", "row").first(), pl.col("tokens").max())
        .select(
            "model_id", "num_params", "file", "row",
            family=pl.lit(FAMILY), seed=pl.lit(0), data=pl.lit(DATA),
            epochs=pl.col("tokens") / TOKENS_PER_EPOCH,
        )
    )
    families = frame(
        [{
            "family": FAMILY, "model_type": "OPT", "arch": "dec", "data": DATA,
            "perf_metric": ["ppl"], "original_paper": "training_trajectories",
        }],
        FAMILY_SCHEMA,
    )
    return SourceData(families=families, models=models, points=points, n_files=2)
