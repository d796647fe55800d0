"""Pile-T5 training curves (EleutherAI, Sutawika et al. 2024), from the Hitchhiker data.

``aggregated_eval/t5_pile.csv`` is the Hitchhiker code's merge (``aggregate_t5_pile``) of the T5X
TensorBoard event files and the ``inference_eval`` perplexity JSONL under
``raw_data/t5_pile/``; this loader reads only the CSV, not the event files. One row per (size,
step) for base, large, xl and xxl, steps 0-2,000,000 (every 10k, plus xxl steps 1,000,100-300).

As in the Hitchhiker code (``get_t5``): tokens = steps × 1e6; parameters are the nominal counts
base 247,586,304, large 783,173,632, xl 2,849,804,288, xxl 11,135,426,560; ``perf`` is log2 of
``val_perplexity`` (the span-corruption "pile_r_denoiser" perplexity, about 1.03-1.8); the
revision is ``step_<N>`` of ``EleutherAI/pile-t5-<size>``; FLOPs are left to 6·N·D.

Also kept, as training metrics outside ``perf``: ``loss`` and ``cross_ent_loss`` (kind loss)
and ``accuracy`` (kind acc). They are training-summary fields and are not per-token: ``loss``
is summed over a batch's ~233k target tokens (about 2.5e6 at step 0). ``accuracy`` is negative
(about -0.9) at almost every step after 0, an artefact of merging event files: those values
are kept with a point ``flag``, the one exception to the accuracy range [0, 1] that
``ingest.normalize`` allows here. ``loss`` and ``cross_ent_loss`` are NaN at seven xxl steps
(620k-680k) and are dropped there. Each model's ``flag`` says all this. Step 0 (tokens 0) is
kept; the Hitchhiker code drops it.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, first_bad, frame, unpivot
from ingest.readers import read_csv

SOURCE = SourceInfo(
    name="t5-pile",
    citation="Sutawika, Komatsuzaki & Raffel 2024, Pile-T5 (EleutherAI blog), collected in "
    "Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret); no separate terms stated for the collected Pile-T5 logs",
    files=("hitchhiker/aggregated_eval/t5_pile.csv",),
)

FAMILY = "t5-pile"
DATA = "pile"
TOKENS_PER_STEP = 1e6
PARAMS = {
    "base": 247_586_304,
    "large": 783_173_632,
    "xl": 2_849_804_288,
    "xxl": 11_135_426_560,
}
PERF = "val_perplexity"
TRAINING = ("loss", "cross_ent_loss", "accuracy")
TASKS = {PERF: "pile_r_denoiser"}


NEGATIVE_ACCURACY = "training-summary accuracy is negative upstream (event files merged)"


def _flags(df: pl.DataFrame) -> dict[str, str]:
    """Per model, a note on the training-summary fields that are not usable as they stand
    (``normalize`` adds how many accuracies are negative, from the points' ``flag``)."""
    counts = df.group_by("model_id", maintain_order=True).agg(nan=pl.col("loss").is_null().sum())
    flags = {}
    for r in counts.iter_rows(named=True):
        notes = ["training-summary loss and cross_ent_loss are sums over the batch, not per token"]
        if r["nan"]:
            notes.append(f"loss is NaN at {r['nan']} steps")
        flags[r["model_id"]] = "; ".join(notes)
    return flags


def load(data_root: Path) -> SourceData:
    """Read ``t5_pile.csv``: 4 models, 807 checkpoints; perf metric ``val_perplexity``."""
    df = read_csv(
        data_root / SOURCE.files[0],
        data_root=data_root,
        numeric=(PERF, *TRAINING),
        integer=("steps",),
        required=("model_name", "steps", PERF),
    )
    first_bad(
        df,
        ~pl.col("model_name").is_in(list(PARAMS)),
        pl.format("unknown model size '{}' (known: {})", "model_name", pl.lit(", ".join(PARAMS))),
    )
    df = df.with_columns(
        model_id=pl.format("t5-pile/pile-t5-{}", "model_name"),
        step=pl.col("steps"),
        tokens=pl.col("steps") * TOKENS_PER_STEP,
        revision=pl.format("step_{}", "steps"),
    )
    metrics = [PERF, *(c for c in TRAINING if c in df.columns)]
    points = unpivot(
        df,
        metrics,
        index=("model_id", "step", "tokens", "revision", "file", "row"),
        task=TASKS.get,
    ).with_columns(
        # Kept as published; only a negative training accuracy is a known artefact.
        flag=pl.when((pl.col("metric") == "accuracy") & (pl.col("value") < 0))
        .then(pl.lit(NEGATIVE_ACCURACY))
    )
    flags = _flags(df) if "loss" in df.columns else {}
    models = df.unique("model_id", keep="first", maintain_order=True).select(
        "model_id", "file", "row",
        family=pl.lit(FAMILY),
        num_params=pl.col("model_name").replace_strict(PARAMS, return_dtype=pl.Float64),
        seed=pl.lit(0), epochs=pl.lit(1.0), data=pl.lit(DATA),
        flag=pl.col("model_id").replace_strict(flags, default=None, return_dtype=pl.String),
    )
    families = frame(
        [{
            "family": FAMILY, "model_type": "t5-pile", "arch": "enc-dec", "data": DATA,
            "perf_metric": [PERF], "original_paper": "t5-pile",
        }],
        FAMILY_SCHEMA,
    )
    return SourceData(families=families, models=models, points=points, n_files=1)
