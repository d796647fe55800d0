"""Chinchilla/Gopher isoFLOP points digitised from Hoffmann et al. 2022, Figure 3.

As in the Hitchhiker code, points of one model size are checkpoints of one model
(``chin<N>``), told apart by their tokens, which are not in the file: D = C / (6 N).
Family ``chinchilla`` (the Hitchhiker name).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, frame
from ingest.readers import read_csv

SOURCE = SourceInfo(
    name="chinchilla",
    citation="Hoffmann et al. 2022, Training Compute-Optimal Large Language Models (Fig. 3), "
    "digitised in Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret); figure data from the paper",
    files=("hitchhiker/raw_data/chinchila_extracted.csv",),
)


def load(data_root: Path) -> SourceData:
    """Read the 245 digitised points of 142 model sizes; metric ``loss``."""
    df = read_csv(
        data_root / SOURCE.files[0],
        data_root=data_root,
        numeric=("Model Size", "Training FLOP", "loss"),
        required=("Model Size", "Training FLOP", "loss"),
    )
    df = df.with_columns(
        num_params=pl.col("Model Size").round(),
        flops=pl.col("Training FLOP"),
    ).with_columns(
        tokens=pl.col("flops") / (6 * pl.col("num_params")),
        model_id=pl.format("chinchilla/chin{}", pl.col("num_params").cast(pl.Int64)),
    )
    families = frame(
        [
            {
                "family": "chinchilla",
                "model_type": "Gopher",
                "arch": "dec",
                "data": "MassiveText",
                "perf_metric": ["loss"],
                "original_paper": "chinchilla",
            }
        ],
        FAMILY_SCHEMA,
    )
    models = df.unique("model_id", keep="first", maintain_order=True).select(
        "model_id",
        "num_params",
        "file",
        "row",
        family=pl.lit("chinchilla"),
        seed=pl.lit(0),
        epochs=pl.lit(1.0),
        data=pl.lit("MassiveText"),
    )
    points = df.select(
        "model_id",
        "tokens",
        "flops",
        "file",
        "row",
        metric=pl.lit("loss"),
        value=pl.col("loss"),
        kind=pl.lit("loss"),
    )
    return SourceData(families=families, models=models, points=points, n_files=1)
