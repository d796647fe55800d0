"""RedPajama-INCITE training loss digitised from the Together blog, from the Hitchhiker data.

``raw_data/redPajama/{2.4B,6.7B}.csv`` have no header; the columns are (billions of tokens,
training loss). As in the Hitchhiker code (``get_red_pajama``): one model per file,
``redPajama2.4`` and ``redPajama6.7`` with 2.4e9 and 6.7e9 parameters, family ``redPajama``
(model_type ``pythia``, data ``redPajama``), tokens = int(x × 1e9), metric ``train_loss``
(kind loss, the ``perf`` metric), FLOPs left to 6·N·D. A checkpoint is keyed by its tokens.

Quirks: the points are not in token order (the 6.7B file ends with a second pass over 42-795B).
Some points are digitising artefacts and are kept but flagged on the model: the 2.4B file has a
flat run at loss 2.326 from 835B tokens on, and the 6.7B file a point at 713B tokens with loss
2.413 among neighbours near 1.95. A point is flagged when its loss is more than 0.1 above the
lowest loss at fewer tokens. The Hitchhiker code gives nine digitised 6.7B points the HF
revisions ``<N>b_tokens`` of ``togethercomputer/RedPajama-INCITE-7B-Base`` by walking the file
in order, which pairs them with points at other token counts; no revision is stored here.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, frame
from ingest.readers import read_csv

SOURCE = SourceInfo(
    name="redpajama",
    citation="Together AI 2023, RedPajama-INCITE models v1 (blog figure), digitised in "
    "Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret); figure data from the blog",
    files=("hitchhiker/raw_data/redPajama/2.4B.csv", "hitchhiker/raw_data/redPajama/6.7B.csv"),
)

FAMILY = "redPajama"
MODELS = {"2.4B.csv": ("redPajama2.4", 2.4e9), "6.7B.csv": ("redPajama6.7", 6.7e9)}
METRIC = "train_loss"
JUMP = 0.1  # loss above the best so far that marks a digitising artefact


def _flag(points: pl.DataFrame) -> str | None:
    """A note on the points of one curve that sit well above the curve's best so far."""
    curve = points.sort("tokens").with_columns(best=pl.col("value").cum_min().shift(1))
    odd = curve.filter(pl.col("value") > pl.col("best") + JUMP)
    if not odd.height:
        return None
    lines = ", ".join(map(str, sorted(odd["row"])))
    return (
        f"digitising artefacts kept: {odd.height} point(s) more than {JUMP} above the best "
        f"loss at fewer tokens (lines {lines})"
    )


def load(data_root: Path) -> SourceData:
    """Read the two digitised curves; metric ``train_loss``."""
    points, models = [], []
    for pattern in SOURCE.files:
        path = data_root / pattern
        name, size = MODELS[path.name]
        df = read_csv(
            path,
            data_root=data_root,
            header=("tokens_b", METRIC),
            numeric=("tokens_b", METRIC),
            required=("tokens_b", METRIC),
        ).select(
            "file", "row",
            model_id=pl.lit(f"redpajama/{name}"),
            tokens=(pl.col("tokens_b") * 1e9).floor(),
            metric=pl.lit(METRIC),
            value=pl.col(METRIC),
            kind=pl.lit("loss"),
        )
        points.append(df)
        models.append({
            "model_id": f"redpajama/{name}", "family": FAMILY, "num_params": size, "seed": 0,
            "epochs": 1.0, "data": "redPajama", "flag": _flag(df),
            "file": df["file"][0] if df.height else pattern, "row": 1,
        })
    families = frame(
        [{
            "family": FAMILY, "model_type": "pythia", "arch": "dec", "data": "redPajama",
            "perf_metric": [METRIC], "original_paper": "blog-redpajama-7b",
        }],
        FAMILY_SCHEMA,
    )
    return SourceData(
        families=families,
        models=pl.DataFrame(models),
        points=pl.concat(points),
        n_files=len(SOURCE.files),
    )
