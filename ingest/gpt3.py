"""GPT-3 loss curves digitised from Brown et al. 2020 (Fig. 4.1), from the Hitchhiker data.

``raw_data/gpt3/extracted.csv`` holds 12,097 points (``model, step, train_loss, val_loss``) for
the eight GPT-3 sizes; ``step`` is billions of tokens, and each point has either a training or a
validation loss. ``raw_data/gpt3/gpt3_metadata.xlsx`` is the paper's size table (Table 2.1, no
header); the Hitchhiker code (``get_extracted_gpt3``) gives each curve the first table name that
contains its key ('xl' -> 'GPT-3 XL') and takes ``num_params`` from that row. The 175B name,
'GPT-3 175B or “GPT-3”', is cut at ' or ' to give 'GPT-3 175B'.

tokens = step × 1e9; ``perf`` is ``val_loss`` (kind loss); ``train_loss`` is kept beside it.
FLOPs are left to 6·N·D, as upstream. Digitised points have no step, so a checkpoint is keyed
by its tokens.

The digitiser sampled each curve by pixel column, so one x often carries several y values (the
thickness of the drawn line). Those repeats are averaged per (model, tokens, metric): the mean
is the centre of the line, and the result does not depend on row order. The Hitchhiker code
instead keeps every repeat as its own row, which weights those x values more in its fits: the
readings averaged are kept as read in ``readings`` (the convention ``every-reading``). Each
model's ``flag`` gives the number of points averaged.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, frame
from ingest.parse import parse_size
from ingest.readers import read_csv, read_xlsx, relpath
from warehouse.errors import BadRow

SOURCE = SourceInfo(
    name="gpt3",
    citation="Brown et al. 2020, Language Models are Few-Shot Learners (Fig. 4.1), digitised "
    "in Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret); figure data from the paper",
    files=("hitchhiker/raw_data/gpt3/extracted.csv", "hitchhiker/raw_data/gpt3/gpt3_metadata.xlsx"),
)

FAMILY = "gpt3"
METRICS = ("val_loss", "train_loss")


def read_sizes(path: Path, data_root: Path) -> dict[str, float]:
    """GPT-3 model names and sizes from the paper's table: {'GPT-3 XL': 1.3e9, ...}.

    Parameters
    ----------
    path : Path
        ``gpt3_metadata.xlsx``: no header; column A the name, column B the size ('1.3B').
    data_root : Path
        Root that error messages are relative to.

    Raises
    ------
    BadRow
        A damaged workbook, an empty name or a size that is not a finite count, naming the
        sheet row.
    """
    name = relpath(path, data_root)
    rows = read_xlsx(path, data_root=data_root, columns=2)
    sizes = {}
    for line, (model, size) in enumerate(rows, start=1):
        if model is None and size is None:
            continue
        if not isinstance(model, str) or not model.strip():
            raise BadRow(name, line, f"model name is empty ({model!r})")
        if size is None:
            raise BadRow(name, line, "num_params is empty")
        sizes[model.split(" or ")[0].strip()] = parse_size(
            size, name, line, "num_params", positive=True
        )
    if not sizes:
        raise BadRow(name, None, "no model rows")
    return sizes


def _model_names(keys: list[str], sizes: dict[str, float], df: pl.DataFrame) -> dict[str, str]:
    """Each curve key to the first table name containing it (the Hitchhiker rule)."""
    names = {}
    for key in keys:
        match = [n for n in sizes if key.lower() in n.lower()]
        if not match:
            r = df.filter(pl.col("model") == key).row(0, named=True)
            raise BadRow(
                r["file"], r["row"],
                f"model '{key}' is not in gpt3_metadata.xlsx (known: {', '.join(sizes)})",
            )
        names[key] = match[0]
    return names


def load(data_root: Path) -> SourceData:
    """Read the digitised curves and the size table; 8 models, metrics val_loss and train_loss."""
    curves, table = (data_root / f for f in SOURCE.files)
    sizes = read_sizes(table, data_root)
    df = read_csv(
        curves,
        data_root=data_root,
        numeric=("step", *METRICS),
        required=("model", "step"),
    )
    df = df.with_columns(pl.col("model").str.strip_chars())
    names = _model_names(df["model"].unique(maintain_order=True).to_list(), sizes, df)
    df = df.with_columns(
        name=pl.col("model").replace_strict(names, return_dtype=pl.String),
        tokens=pl.col("step") * 1e9,
    ).with_columns(model_id=pl.format("gpt3/{}", "name"))

    long = df.unpivot(
        on=[m for m in METRICS if m in df.columns],
        index=["model_id", "tokens", "file", "row"],
        variable_name="metric",
    ).filter(pl.col("value").is_not_null())
    points = (
        long.group_by("model_id", "tokens", "metric", maintain_order=True)
        .agg(pl.col("value").mean(), pl.col("file", "row").first(), n=pl.len())
        .with_columns(kind=pl.lit("loss"))
    )
    readings = (
        long.with_columns(
            n=pl.len().over("model_id", "tokens", "metric"),
            reading=pl.int_range(1, pl.len() + 1).over("model_id", "tokens", "metric"))
        .filter(pl.col("n") > 1)
        .drop("n")
    )
    averaged = (
        points.filter(pl.col("n") > 1)
        .group_by("model_id")
        .agg(rows=pl.col("n").sum(), into=pl.len())
    )
    flags = {
        r["model_id"]: f"digitised: {r['rows']} points at repeated x averaged into {r['into']}"
        for r in averaged.iter_rows(named=True)
    }
    models = df.unique("model_id", keep="first", maintain_order=True).select(
        "model_id", "file", "row",
        family=pl.lit(FAMILY),
        num_params=pl.col("name").replace_strict(sizes, return_dtype=pl.Float64),
        seed=pl.lit(0), epochs=pl.lit(1.0), data=pl.lit("gpt3"),
        flag=pl.col("model_id").replace_strict(flags, default=None, return_dtype=pl.String),
    )
    families = frame(
        [{
            "family": FAMILY, "model_type": "gpt3", "arch": "dec", "data": "gpt3",
            "perf_metric": ["val_loss"], "original_paper": "gpt3 - arxiv.org-abs-2005.14165",
        }],
        FAMILY_SCHEMA,
    )
    return SourceData(families=families, models=models, points=points.drop("n"), n_files=2,
                      readings=readings)
