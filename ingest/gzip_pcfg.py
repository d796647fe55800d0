"""Pandey 2024 ("gzip Predicts Data-dependent Scaling Laws"): the 10M-token round of runs.

``raw_data/gzip/results_new.jsonl`` holds 150 runs, one JSON object per line: 5 PCFG corpora
(``dataset_name`` ``/gzipscale-<H>-10M``, H = 0.12, 0.23, 0.33, 0.45, 0.61) × 6 LLaMA sizes
(``model_size``, the total parameter count with the 32,001-row embedding and head, 4.2M-1.4B)
× 5 token budgets (``token_ct``: 1%, 10%, 20%, 50% and 95% of the corpus, ~0.1M-9.5M tokens),
each trained for one epoch at batch 32 × 256 tokens with its own cosine schedule. Per run:

- ``train_loss``: the training loss of every optimizer step (step s = the s-th batch);
- ``valid_loss``: **not a curve** but the per-batch losses of one evaluation pass after
  training, over min(100, rows/10) held-out rows in batches of 32 (the last one partial);
- ``dataset_gzip``: [median, standard deviation] of the corpus's gzip compressibility H.

Mapping (methods/gzip_pcfg.md §1.5 and "The paper's own runs"):

- one family per corpus, named after its Hugging Face dataset: ``gzipscale-0.12-10M`` (all
  30 runs of that corpus; ``scaled``); one model per run,
  ``gzip-pcfg/gzipscale-0.12-10M-N<model_size>-D<token_ct>``;
- one checkpoint per training step s = 1 .. n (n = ``len(train_loss)``), with metric
  ``train_loss``. Tokens: the run reads R rows of 255-256 tokens (``token_ct`` in all), 32 per
  step, so step s has seen token_ct × min(32 s, R) / R tokens, with R the row count implied by
  ``token_ct`` (token_ct / 255.5, kept within the (32(n-1), 32n] rows that n steps imply). The
  last step is exactly ``token_ct``; the others are within 0.1% of the true count;
- the final checkpoint (step n) also carries ``valid_loss``, the row-weighted mean of the
  per-batch list (the run's validation loss, which ``perf`` is), the per-batch values as
  ``valid_loss_batch<i>``, and the corpus's compressibility as ``gzip_median`` and
  ``gzip_std`` (kind ``other``; constant within a family). ``perf`` is therefore one point
  per run, as in the paper, which fits its laws on final losses.

Nothing here is in the Hitchhiker ``get_data`` (its ``aggregate_gzip`` is unused).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, frame
from ingest.readers import read_jsonl, relpath, require
from warehouse.errors import BadRow

SOURCE = SourceInfo(
    name="gzip-pcfg",
    citation="Pandey 2024, gzip Predicts Data-dependent Scaling Laws (arXiv:2405.16684); "
    "runs distributed with Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret)",
    files=("hitchhiker/raw_data/gzip/results_new.jsonl",),
)

BATCH_ROWS = 32
VALID_ROWS = 100
MEAN_ROW_TOKENS = 255.5  # rows are 255 or 256 tokens (methods/gzip_pcfg.md §1.2)
HF_USER = "khoomeik"
FIELDS = ("dataset_name", "dataset_gzip", "token_ct", "model_size", "num_epochs", "train_loss",
          "valid_loss")


def _number(value: object, field: str, name: str, line: int, *, positive: bool = True) -> float:
    """A finite JSON number (positive unless told), or a BadRow naming the field."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise BadRow(name, line, f"{field} is not a number ({value!r})")
    if positive and value <= 0:
        raise BadRow(name, line, f"{field} is not positive ({value!r})")
    return float(value)


def _losses(value: object, field: str, name: str, line: int) -> np.ndarray:
    """A non-empty list of finite numbers."""
    if not isinstance(value, list) or not value:
        raise BadRow(name, line, f"{field} is not a non-empty list")
    for v in value:
        _number(v, field, name, line, positive=False)
    return np.asarray(value, dtype=np.float64)


def valid_weights(rows: int, n_batches: int) -> np.ndarray:
    """Rows per validation batch: min(100, rows // 10) rows in batches of 32."""
    n_valid = min(VALID_ROWS, rows // 10)
    sizes = [min(BATCH_ROWS, n_valid - start) for start in range(0, n_valid, BATCH_ROWS)]
    if len(sizes) != n_batches:
        sizes = [1] * n_batches  # fall back to a plain mean (never happens in this file)
    return np.asarray(sizes, dtype=np.float64)


def train_rows(token_ct: float, n_steps: int) -> int:
    """Training rows implied by the token count, within what ``n_steps`` batches of 32 allow."""
    rows = round(token_ct / MEAN_ROW_TOKENS)
    return min(max(rows, BATCH_ROWS * (n_steps - 1) + 1), BATCH_ROWS * n_steps)


def _run(doc: object, name: str, line: int) -> tuple[dict, pl.DataFrame]:
    """One JSON line: its model row and its points."""
    if not isinstance(doc, dict):
        raise BadRow(name, line, "expected a JSON object")
    missing = [f for f in FIELDS if f not in doc]
    if missing:
        raise BadRow(name, line, f"missing field {missing[0]!r}")
    dataset = doc["dataset_name"]
    if not isinstance(dataset, str) or not dataset.strip("/"):
        raise BadRow(name, line, f"dataset_name is not a name ({dataset!r})")
    dataset = dataset.strip("/")
    gz = doc["dataset_gzip"]
    if not isinstance(gz, list) or len(gz) != 2:
        raise BadRow(name, line, f"dataset_gzip is not [median, std] ({gz!r})")
    median = _number(gz[0], "dataset_gzip median", name, line)
    std = _number(gz[1], "dataset_gzip std", name, line, positive=False)
    token_ct = _number(doc["token_ct"], "token_ct", name, line)
    size = _number(doc["model_size"], "model_size", name, line)
    epochs = _number(doc["num_epochs"], "num_epochs", name, line)
    if epochs != 1:
        raise BadRow(name, line, f"num_epochs is {epochs:g}; only single-epoch runs are known")
    train = _losses(doc["train_loss"], "train_loss", name, line)
    valid = _losses(doc["valid_loss"], "valid_loss", name, line)
    n = len(train)
    rows = train_rows(token_ct, n)
    steps = np.arange(1, n + 1)
    tokens = token_ct * np.minimum(BATCH_ROWS * steps, rows) / rows
    weights = valid_weights(rows, len(valid))
    model_id = f"gzip-pcfg/{dataset}-N{int(size)}-D{int(token_ct)}"
    final = {
        "valid_loss": float(np.dot(weights, valid) / weights.sum()),
        **{f"valid_loss_batch{i + 1}": float(v) for i, v in enumerate(valid)},
        "gzip_median": median,
        "gzip_std": std,
    }
    points = pl.concat([
        pl.DataFrame({"step": steps, "tokens": tokens, "value": train}).with_columns(
            metric=pl.lit("train_loss"), kind=pl.lit("loss")
        ),
        pl.DataFrame({
            "step": [n] * len(final), "tokens": [token_ct] * len(final),
            "value": list(final.values()), "metric": list(final),
            "kind": ["loss" if m.startswith("valid") else "other" for m in final],
        }),
    ], how="vertical_relaxed").with_columns(model_id=pl.lit(model_id), row=pl.lit(line))
    model = {
        "model_id": model_id, "family": dataset, "num_params": size, "seed": 0, "epochs": 1.0,
        "data": f"{HF_USER}/{dataset}", "row": line, "gzip": median,
    }
    return model, points


def load(data_root: Path) -> SourceData:
    """Read the 150 runs: 5 families, 150 models, one checkpoint per training step."""
    path = require(data_root / SOURCE.files[0])
    name = relpath(path, data_root)
    models, parts = [], []
    for line, doc in read_jsonl(path, name):
        model, points = _run(doc, name, line)
        models.append(model)
        parts.append(points)
    if not models:
        raise BadRow(name, None, "the file has no runs")
    models = pl.DataFrame(models).with_columns(file=pl.lit(name))
    points = pl.concat(parts).with_columns(
        file=pl.lit(name), shots=pl.lit(0, pl.Int64), step=pl.col("step").cast(pl.Int64)
    )
    corpora = models.group_by("family", maintain_order=True).agg(
        pl.col("data").first(), pl.col("gzip").n_unique().alias("n_gzip"), pl.col("row").first()
    )
    bad = corpora.filter(pl.col("n_gzip") > 1)
    if bad.height:
        raise BadRow(name, None, f"{bad['family'][0]} has more than one dataset_gzip")
    families = frame(
        [{
            "family": r["family"], "model_type": "gzip", "arch": "dec", "data": r["data"],
            "perf_metric": ["valid_loss"], "original_paper": "gzip arxiv.org/abs/2405.16684",
        } for r in corpora.sort("family").iter_rows(named=True)],
        FAMILY_SCHEMA,
    )
    return SourceData(families=families, models=models.drop("gzip"), points=points, n_files=1)
