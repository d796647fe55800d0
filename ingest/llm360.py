"""LLM360 training logs (Liu et al. 2023): Mamba-3B, K2-65B and Amber-6.7B (Hitchhiker data).

- ``aggregated_eval/llm360Mamba3B.csv``: the Mamba-3B training curve (``step, loss, lr,
  grad_norm``; 44,174 steps). As in the Hitchhiker code (``get_llm360``), tokens = ``step`` ×
  500B / 176,703 (500B tokens over the 176,703 logged steps). Family ``llm360Mamba`` (the
  Hitchhiker ``scaled_set``; one model), ``arch`` ssm, ``perf`` = ``loss``. ``lr`` and
  ``grad_norm`` are kept as kind ``other``.
- ``aggregated_eval/K2.csv``: K2-65B, 9,986 rows merged by the Hitchhiker ``aggregate_evals``
  from W&B exports: the training loss ``k2 training - lm loss`` at every row and 5 evaluations
  ``k2 eval - <task>@<shots>`` every 81 rows (``race@0``, ``arc_easy@5``, ``medmcqa@5``,
  ``openbookqa5@5``: accuracies in percent, stored as fractions, kind ``acc``; ``mbpp@10``: a
  pass rate in percent, stored as a fraction, kind ``score``). Tokens are the file's
  ``tokens_seen``, which is the Hitchhiker rule: rows spread evenly over 0-1.4T, row i at
  i × 1.4T / 9,985 (checked on load). ``step`` is the file's ``Step`` (the W&B step, which jumps
  back once, at row 9,722, after a restart). ``checkpoint`` names the ``LLM360/K2`` revision
  (``ckpt_<n>``) of 360 rows. Not a scaled family upstream: family ``llm360-K2``,
  ``scaled=False``; ``perf`` = the training loss (the evaluations are accuracies).
- ``raw_data/lm360/Amber/*.csv``: 40 W&B exports for Amber-6.7B, one metric each (``Step`` =
  the checkpoint index, 0-356): 22 ``downstream_eval - <task>`` results in percent (stored as
  fractions; kind ``acc``, except ``crowspairs``, a stereotype-preference rate, kind
  ``score``) and 18 ``perplexity_eval - <domain>`` perplexities (kind ``ppl``). The 41st
  export, probably the loss curve the Hitchhiker ``Amber.csv`` was aligned to, is not in this
  copy (SOURCE.md: files of 4 MiB or more were not available). Without it, tokens follow that
  alignment directly: ``Step`` × 1.25T / 356 (checkpoint 356 = the end of the 1.25T-token
  run). ``perf`` = the mean log2 perplexity (the Hitchhiker ``loss_cols`` of Amber restricted
  to perplexities). Family ``llm360-Amber``, ``scaled=False``.

The ``__MIN``/``__MAX`` columns (W&B's min/max over a smoothing window) are dropped. K2's
``k2 eval spike 1/2`` and ``ministage`` columns are dropped as the Hitchhiker code drops them:
they evaluate rolled-back branches around loss spikes and the second learning-rate stage, not
the released run (``training spikes - lm loss`` is empty).

Quirk kept on purpose: the first logged point of K2 (row 0, W&B step 179,520, revision
``ckpt_0``) and of Amber (checkpoint 0, with perplexities of 20-490, far below a random
model's) are *trained* checkpoints that the even-spacing rule puts at 0 tokens; the Hitchhiker
code drops zero-token rows. Here they are kept with **tokens unknown** (null), and flagged.
FLOPs are left to normalisation (6·N·D, as the Hitchhiker code computes them).
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, first_bad, frame
from ingest.readers import read_csv, relpath, require
from warehouse.errors import BadRow, MissingInput

SOURCE = SourceInfo(
    name="llm360",
    citation="Liu et al. 2023, LLM360: Towards Fully Transparent Open-Source LLMs "
    "(arXiv:2312.06550), training logs collected in Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret); LLM360 logs Apache-2.0",
    files=(
        "hitchhiker/aggregated_eval/llm360Mamba3B.csv",
        "hitchhiker/aggregated_eval/K2.csv",
        "hitchhiker/raw_data/lm360/Amber/*.csv",
    ),
)

MAMBA_TOKENS, MAMBA_STEPS = 500e9, 176_703
K2_TOKENS, K2_LOSS = 1.4e12, "k2 training - lm loss"
AMBER_TOKENS, AMBER_LAST = 1.25e12, 356
K2_EVAL = re.compile(r"^k2 eval - (?P<task>[^@]+)@(?P<shots>\d+)$")
SCORES = {"mbpp"}  # K2 evaluations that are pass rates, not accuracies
ZERO_TOKENS_FLAG = (
    "first logged checkpoint is trained but the Hitchhiker even-spacing rule puts it at 0 "
    "tokens; kept with tokens unknown"
)
AMBER_SCORES = {"crowspairs"}  # % of stereotyped choices: a bias score, not an accuracy


def _mamba(data_root: Path) -> tuple[dict, pl.DataFrame]:
    df = read_csv(
        data_root / SOURCE.files[0], data_root=data_root,
        numeric=("loss", "lr", "grad_norm"), integer=("step",), required=("step", "loss"),
    )
    model_id = "llm360/LLM360Mamba3B"
    df = df.with_columns(
        model_id=pl.lit(model_id), tokens=pl.col("step") * (MAMBA_TOKENS / MAMBA_STEPS),
    )
    metrics = [c for c in ("loss", "lr", "grad_norm") if c in df.columns]
    points = df.unpivot(
        on=metrics, index=["model_id", "step", "tokens", "file", "row"], variable_name="metric"
    ).with_columns(
        kind=pl.when(pl.col("metric") == "loss").then(pl.lit("loss")).otherwise(pl.lit("other"))
    )
    model = {
        "model_id": model_id, "family": "llm360Mamba", "num_params": 3e9, "seed": 0,
        "epochs": 1.0, "data": "LLM360/AmberDatasets", "file": df["file"][0], "row": df["row"][0],
    }
    return model, points


def _k2(data_root: Path) -> tuple[dict, pl.DataFrame]:
    path = data_root / SOURCE.files[1]
    df = read_csv(
        path, data_root=data_root,
        numeric=lambda c: c in ("tokens_seen", K2_LOSS) or bool(K2_EVAL.match(c)),
        integer=("index", "Step"), required=("index", "Step", "tokens_seen", K2_LOSS),
    )
    n = df.height
    if n < 2:
        raise BadRow(relpath(path, data_root), 2, "expected two or more rows to space tokens over")
    first_bad(df, pl.col("index") != pl.int_range(n), "index is not the row number")
    even = pl.col("index") * (K2_TOKENS / (n - 1))
    first_bad(
        df, (pl.col("tokens_seen") - even).abs() > 1e-6 * K2_TOKENS / n,
        f"tokens_seen is not index × 1.4T / {n - 1} (the Hitchhiker even spacing)",
    )
    evals = [c for c in df.columns if K2_EVAL.match(c)]
    if not evals:
        raise BadRow(relpath(path, data_root), 1, "no 'k2 eval - <task>@<shots>' columns")
    model_id = "llm360/K2"
    revision = pl.col("checkpoint").str.extract(r"'revision':\s*'([^']*)'") if (
        "checkpoint" in df.columns) else pl.lit(None, pl.String)
    df = df.with_columns(
        model_id=pl.lit(model_id), step=pl.col("Step"), revision=revision,
        tokens=pl.when(pl.col("index") == 0).then(None).otherwise(pl.col("tokens_seen")),
    )
    points = df.unpivot(
        on=[K2_LOSS, *evals], index=["model_id", "step", "tokens", "revision", "file", "row"],
        variable_name="metric",
    ).filter(pl.col("value").is_not_null())
    parsed = {m: K2_EVAL.match(m) for m in evals}
    task = {m: p["task"] for m, p in parsed.items()}
    shots = {m: int(p["shots"]) for m, p in parsed.items()}
    kind = {m: "score" if t in SCORES else "acc" for m, t in task.items()}
    is_loss = pl.col("metric") == K2_LOSS
    points = points.with_columns(
        kind=pl.when(is_loss).then(pl.lit("loss"))
        .otherwise(pl.col("metric").replace_strict(kind, default=None)),
        task=pl.when(is_loss).then(None)
        .otherwise(pl.col("metric").replace_strict(task, default=None)),
        shots=pl.when(is_loss).then(0).otherwise(
            pl.col("metric").replace_strict(shots, default=None, return_dtype=pl.Int64)
        ),
        value=pl.when(is_loss).then(pl.col("value")).otherwise(pl.col("value") / 100),
        hi=pl.when(~is_loss).then(1.0),  # percentages stored as fractions, scores too
    )
    model = {
        "model_id": model_id, "family": "llm360-K2", "num_params": 65e9, "seed": 0,
        "epochs": 1.0, "data": "LLM360/K2Datasets", "flag": ZERO_TOKENS_FLAG,
        "file": df["file"][0], "row": df["row"][0],
    }
    return model, points


def _amber(data_root: Path) -> tuple[dict, pl.DataFrame, list[str], int]:
    folder = require(data_root / "hitchhiker/raw_data/lm360/Amber")
    paths = sorted(folder.glob("*.csv"))
    if not paths:
        raise MissingInput(f"No W&B export under {folder}.")
    model_id, parts, ppl = "llm360/Amber", [], []
    for path in paths:
        df = read_csv(path, data_root=data_root, numeric=lambda c: True, integer=("Step",))
        name = relpath(path, data_root)
        metric = [c for c in df.columns if c not in ("Step", "row", "file")
                  and not c.endswith(("__MIN", "__MAX"))]
        if "Step" not in df.columns or len(metric) != 1:
            raise BadRow(name, 1, "expected a W&B export with 'Step' and one metric column")
        (metric,) = metric
        group, _, label = metric.partition(" - ")
        if group not in ("downstream_eval", "perplexity_eval") or not label:
            raise BadRow(name, 1, f"unexpected metric {metric!r}")
        first_bad(df, pl.col("Step") > AMBER_LAST, f"Step is past checkpoint {AMBER_LAST}")
        is_ppl = group == "perplexity_eval"
        if is_ppl:
            ppl.append(metric)
        parts.append(df.filter(pl.col(metric).is_not_null()).select(
            "file", "row",
            step=pl.col("Step"),
            value=pl.col(metric) if is_ppl else pl.col(metric) / 100,
            metric=pl.lit(metric), task=pl.lit(label),
            kind=pl.lit("ppl" if is_ppl else "score" if label in AMBER_SCORES else "acc"),
            hi=pl.lit(None if is_ppl else 1.0, pl.Float64),  # a percentage / 100
        ))
    points = pl.concat(parts).with_columns(
        model_id=pl.lit(model_id),
        tokens=pl.when(pl.col("step") == 0).then(None)
        .otherwise(pl.col("step") * (AMBER_TOKENS / AMBER_LAST)),
    )
    model = {
        "model_id": model_id, "family": "llm360-Amber", "num_params": 6.7e9, "seed": 0,
        "epochs": 1.0, "data": "LLM360/AmberDatasets", "flag": ZERO_TOKENS_FLAG,
        "file": relpath(paths[0], data_root), "row": 1,
    }
    return model, points, sorted(ppl), len(paths)


def load(data_root: Path) -> SourceData:
    """Read Mamba-3B, K2 and the Amber W&B exports: three models, one family each."""
    mamba, mamba_points = _mamba(data_root)
    k2, k2_points = _k2(data_root)
    amber, amber_points, amber_ppl, n_amber = _amber(data_root)
    points = pl.concat([mamba_points, k2_points, amber_points], how="diagonal_relaxed")
    points = points.with_columns(pl.col("shots").fill_null(0))
    models = pl.DataFrame([mamba, k2, amber])
    families = frame(
        [
            {"family": "llm360Mamba", "model_type": "LLM360Mamba", "arch": "ssm",
             "data": "LLM360/AmberDatasets", "perf_metric": ["loss"],
             "original_paper": "llm360-private"},
            {"family": "llm360-K2", "model_type": "Lamma", "arch": "dec",
             "data": "LLM360/K2Datasets", "perf_metric": [K2_LOSS], "scaled": False,
             "original_paper": "LM360:arxiv-2312.06550"},
            {"family": "llm360-Amber", "model_type": "Lamma", "arch": "dec",
             "data": "LLM360/AmberDatasets", "perf_metric": amber_ppl, "scaled": False,
             "original_paper": "LM360:arxiv-2312.06550"},
        ],
        FAMILY_SCHEMA,
    )
    return SourceData(families=families, models=models, points=points, n_files=2 + n_amber)
