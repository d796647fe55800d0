"""OLMo W&B evaluation curves (Groeneveld et al. 2024), from the Hitchhiker data.

``aggregated_eval/olmo.csv`` has one row per (model, ``Step``) for OLMo-1B, OLMo-7B and
OLMo-7B-Twin-2T: 36 ``*CrossEntropyLoss`` columns (validation sets), 15 ``*/Perplexity`` and 11
``downstream/*`` columns, merged by the Hitchhiker code from 93 W&B exports.

As in the Hitchhiker code (``get_olmo``):

- tokens = ``Step`` × 4e6 (decimal 4M, not 2**22). The OLMo batches are 2048 × 2048 = 4,194,304
  tokens (1B) and 2160 × 2048 = 4,423,680 tokens (7B), so these tokens are 5-10 % low;
- ``perf`` is the mean of the ``*CrossEntropyLoss`` columns a checkpoint has (kind loss). The
  perplexities and downstream scores are kept as metrics but are not in ``perf``;
- family ``olmo`` holds OLMo-1B and OLMo-7B. OLMo-7B-Twin-2T has no scaled set upstream, so it
  gets its own family ``olmo-twin-2t`` with ``scaled=False``.

The models were evaluated on differently named validation sets, so ``perf`` averages different
columns per model, as in the Hitchhiker code: OLMo-1B has 23 (``pile/...``, ``v2-small-*``,
``v3-small-*``), OLMo-7B 11-13 (``c4_en``, ``pile-validation`` ... without prefix; ``ptb`` and
``twitterAEE`` only at 117 steps) and Twin-2T 7-11; OLMo-1B and OLMo-7B share none.

Quirks: the name "OLMo-1B " has a trailing space (stripped). Every value of OLMo-7B-Twin-2T at
Steps 158,000-168,000 is about twice its neighbours' (losses near 4.55 among 2.28, accuracies
up to 1.72): the merge summed two W&B exports there. The values are kept as published and the
model's flag says so; its accuracies above 1 are the only ones ``ingest.normalize`` lets pass.
``checkpoint`` is a dict string; its ``revision`` becomes the checkpoint's revision. The
Hitchhiker aggregation listed those revisions from ``allenai/OLMo-7B``'s branches for every
model, so OLMo-1B's revision names carry 7B token counts and may not exist in
``allenai/OLMo-1B`` (flagged on that model). OLMo-1B steps 558k-738k have no revision.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, first_bad, frame, unpivot
from ingest.parse import parse_sizes
from ingest.readers import read_csv, relpath
from warehouse.errors import BadRow

SOURCE = SourceInfo(
    name="olmo",
    citation="Groeneveld et al. 2024, OLMo: Accelerating the Science of Language Models "
    "(W&B logs), collected in Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret); no separate terms stated for the collected OLMo logs",
    files=("hitchhiker/aggregated_eval/olmo.csv",),
)

TOKENS_PER_STEP = 4e6  # the Hitchhiker value; see the module docstring
DATA = "dolma"
UNSCALED = {"OLMo-7B-Twin-2T": "olmo-twin-2t"}  # models with a NaN scaled_set upstream
LOSS = "CrossEntropyLoss"
TEXT = ("model_name", "num_params", "checkpoint")
FLAGS = {
    "OLMo-1B": "revision names copied from allenai/OLMo-7B's branches by the Hitchhiker code "
    "(7B token counts); tokens = Step x 4e6 although OLMo-1B's batch is 4,194,304 tokens",
    "OLMo-7B": "tokens = Step x 4e6 although the batch is 4,423,680 tokens",
    "OLMo-7B-Twin-2T": "tokens = Step x 4e6 although the batch is 4,423,680 tokens; every "
    "value at Steps 158,000-168,000 is about twice its neighbours' (two W&B exports summed "
    "upstream), kept as published",
}
# (model, first Step, last Step): rows whose every value upstream doubled; accuracies there
# above 1 are kept with a point flag (ingest.normalize), the rest of the file must be in range.
DOUBLED = ("OLMo-7B-Twin-2T", 158_000, 168_000)
DOUBLED_FLAG = "accuracies doubled upstream at Steps 158,000-168,000"


def task(metric: str) -> str:
    """The evaluation set of an OLMo metric: 'pile-validation', 'piqa', ..."""
    head, _, tail = metric.partition("/")
    if head == "downstream":
        for suffix in ("_len_norm", "_acc", "_f1"):
            tail = tail.removesuffix(suffix)
        return tail
    return head


def load(data_root: Path) -> SourceData:
    """Read ``olmo.csv``: 3 models, 1,708 checkpoints, 62 metrics."""
    df = read_csv(
        data_root / SOURCE.files[0],
        data_root=data_root,
        numeric=lambda c: c not in TEXT,
        integer=("Step",),
        required=("Step", "model_name", "num_params"),
    )
    metrics = [c for c in df.columns if c not in (*TEXT, "Step", "row", "file")]
    losses = sorted(m for m in metrics if LOSS in m)
    if not losses:
        raise BadRow(relpath(data_root / SOURCE.files[0], data_root), 1, f"no *{LOSS} columns")
    if "checkpoint" not in df.columns:
        df = df.with_columns(checkpoint=pl.lit(None, pl.String))
    df = df.with_columns(
        name=pl.col("model_name").str.strip_chars(),
        revision=pl.col("checkpoint").str.extract(r"'revision':\s*'([^']*)'"),
    )
    first_bad(
        df,
        pl.col("checkpoint").is_not_null() & pl.col("revision").is_null(),
        "checkpoint has no 'revision'",
    )
    first = df.unique("name", keep="first", maintain_order=True)
    df = df.with_columns(
        model_id=pl.format("olmo/{}", "name"),
        step=pl.col("Step"),
        tokens=pl.col("Step") * TOKENS_PER_STEP,
    )
    models = first.select(
        "file", "row",
        model_id=pl.format("olmo/{}", "name"),
        family=pl.col("name").replace_strict(UNSCALED, default="olmo"),
        num_params=parse_sizes(first, "num_params"),
        seed=pl.lit(0), epochs=pl.lit(1.0), data=pl.lit(DATA),
        flag=pl.col("name").replace_strict(FLAGS, default=None, return_dtype=pl.String),
    )
    name, first_step, last_step = DOUBLED
    points = unpivot(
        df, metrics, index=("model_id", "step", "tokens", "revision", "file", "row"), task=task
    ).with_columns(
        flag=pl.when(
            (pl.col("model_id") == f"olmo/{name}")
            & pl.col("step").is_between(first_step, last_step)
        ).then(pl.lit(DOUBLED_FLAG))
    )
    family = {"model_type": "olmo", "arch": "dec", "data": DATA, "original_paper": "olmo"}
    families = frame(
        [{"family": "olmo", "perf_metric": losses, **family}]
        + [
            {"family": f, "perf_metric": losses, "scaled": False, **family}
            for f in sorted(set(UNSCALED.values()) & set(models["family"]))
        ],
        FAMILY_SCHEMA,
    )
    return SourceData(families=families, models=models, points=points, n_files=1)

