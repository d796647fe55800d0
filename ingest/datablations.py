"""Data-constrained runs of Muennighoff et al. 2023 ("datablations"), from the Hitchhiker data.

Three files of ``aggregated_eval/``:

- ``datablations_losses.csv``: 48 GPT-2-style runs, {c4, oscar} × {2.8B, 4.2B, 8.7B} × epochs
  {1, 2, 3, 4, 5, 7, 14, 44} over a fixed budget (55B, 84B, 178B tokens by size), with their
  validation-loss curves (``token_num``, ``loss``; 9,261 rows). As in the Hitchhiker code, a model
  is ``GPT2-<size>-<data>-<epochs>`` and a **family is one (data, epochs) pair across the three
  sizes**: ``GPT2-c4-44.0`` (the ``scaled_set``, epochs written as ColPret's ``to_str`` writes
  them). ``epochs`` is the model's repetition count, ``revision`` its Hugging Face repository.
- ``datablations_contour_losses.csv``: 229 final losses (``openLM_loss``) of the contour-plot
  models (c4, 7M-8.7B parameters, 1-9000 epochs), one checkpoint each, named
  ``GPT2-<name in model_args>``. No ``scaled_set`` upstream: family ``datablations-contour``,
  ``scaled=False``. Their ``flops`` column is 6·N·D and is kept.
- ``datablations_code_losses.csv``: 4.2B models trained on 84B tokens of C4 mixed with 10-90%
  Python code (the file's ``epochs`` column is the code percentage). Each of the 9 runs (one
  ``model_args`` TensorBoard id) appears twice, ``Seed`` 1 and 2, over the same token grid. The
  Hitchhiker code turns ``Seed`` 1 into ``gen_loss`` and 2 into ``code_loss``, and the values
  agree: ~2.5-3.6 nats for seed 1 (natural language) and ~0.55-0.97 for seed 2 (Python). So
  here **a run is one model with two metrics**, ``gen_loss`` and ``code_loss``, at each
  checkpoint, not two seeds. Family ``datablations-code``, ``scaled=False``; ``perf`` is the
  mean of the two, as ColPret's ``loss_cols = (code_loss, gen_loss)``.

FLOPs: the ``flops`` column of the first and third file *falls* as tokens grow within a run
(4.9e23 at 0.1B tokens, 2.4e23 at 0.2B for the 2.8B model), so it is not the compute of the
checkpoint. It is dropped (FLOPs left null, so normalisation fills 6·N·D and flags them) and
each such model's ``flag`` says so.

Not read: ``datablations_contour_losses_old.csv`` (a superseded 20,000-row version the Hitchhiker
code does not use) and ``datablations/datablations_losses.csv``, an older copy of the first file
with the same 9,261 (run, tokens) rows whose losses differ only in the last bit (relative
1e-15, from a different float formatting) and whose header misspells ``chekpoint``.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, first_bad, frame, require_constant
from ingest.parse import parse_sizes, to_str
from ingest.readers import read_csv

SOURCE = SourceInfo(
    name="datablations",
    citation="Muennighoff et al. 2023, Scaling Data-Constrained Language Models "
    "(arXiv:2305.16264), collected in Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret); datablations Apache-2.0",
    files=(
        "hitchhiker/aggregated_eval/datablations_losses.csv",
        "hitchhiker/aggregated_eval/datablations_contour_losses.csv",
        "hitchhiker/aggregated_eval/datablations_code_losses.csv",
    ),
)

ORIGINAL = "datablations"
CONTOUR, CODE = "datablations-contour", "datablations-code"
CODE_METRICS = {1: "gen_loss", 2: "code_loss"}  # the Hitchhiker reading of the Seed column
FLOPS_FLAG = (
    "upstream flops column falls as tokens grow (not the checkpoint's compute); "
    "FLOPs are 6·N·D instead"
)


def _read(
    data_root: Path, i: int, loss: str, *, numeric: tuple[str, ...] = (),
    integer: tuple[str, ...] = (),
) -> pl.DataFrame:
    """File ``i`` with the columns all three share checked, ``num_params`` parsed ('2.8B' or a
    number) and ``revision``, the run's Hugging Face repository (null for non-URLs)."""
    df = read_csv(
        data_root / SOURCE.files[i], data_root=data_root,
        numeric=("epochs", "token_num", loss, "flops", *numeric), integer=integer,
        required=("data", "epochs", "token_num", loss, "num_params", "model_args", *integer),
    )
    url = pl.col("checkpoint") if "checkpoint" in df.columns else pl.lit(None, pl.String)
    url = url.str.strip_chars()
    return df.with_columns(
        num_params=parse_sizes(df, "num_params"),
        revision=pl.when(url.str.starts_with("https://")).then(url),
    )


def _one_run_per_model(df: pl.DataFrame) -> None:
    """BadRow where two training runs (``model_args``) would get one model name."""
    require_constant(
        df, "model_args", per="model_id",
        reason=pl.format("{} has more than one model_args run", "model_id"),
    )


def _losses(df: pl.DataFrame, value: str, *columns: str, **exprs: pl.Expr) -> pl.DataFrame:
    """One loss point per row of ``df``, at ``token_num`` tokens, with ``columns`` kept."""
    return df.select(
        "model_id", "file", "row", *columns,
        tokens=pl.col("token_num"), value=pl.col(value), kind=pl.lit("loss"), **exprs,
    )


def _runs(data_root: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``datablations_losses.csv``: (models, points) of the 48 repetition runs."""
    df = _read(data_root, 0, "loss", numeric=("tokens_per_epoch",))
    df = df.with_columns(
        size=pl.col("num_params").map_elements(to_str, return_dtype=pl.String),
        ep=pl.col("epochs").map_elements(to_str, return_dtype=pl.String),
    ).with_columns(
        model_id=pl.format("datablations/GPT2-{}-{}-{}", "size", "data", "ep"),
        family=pl.format("GPT2-{}-{}", "data", "ep"),
    )
    _one_run_per_model(df)
    models = df.unique("model_id", keep="first", maintain_order=True).select(
        "model_id", "family", "num_params", "epochs", "data", "file", "row",
        seed=pl.lit(0), flag=pl.lit(FLOPS_FLAG),
    )
    return models, _losses(df, "loss", "revision", metric=pl.lit("loss"))


def _contour(data_root: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``datablations_contour_losses.csv``: one final loss per model."""
    df = _read(data_root, 1, "openLM_loss", numeric=("tokens_per_epoch",)).with_columns(
        name=pl.col("model_args").str.extract(r"'name':\s*'([^']+)'")
    )
    first_bad(df, pl.col("name").is_null(), "model_args has no 'name'")
    df = df.with_columns(model_id=pl.format("datablations/GPT2-{}", "name"))
    first_bad(df, pl.col("model_id").is_duplicated(), "this model appears twice")
    models = df.select(
        "model_id", "num_params", "epochs", "data", "file", "row",
        family=pl.lit(CONTOUR), seed=pl.lit(0),
    )
    return models, _losses(df, "openLM_loss", "flops", metric=pl.lit("openLM_loss"))


def _code(data_root: Path) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``datablations_code_losses.csv``: one model per run, Seed 1/2 as gen/code loss."""
    df = _read(data_root, 2, "loss", integer=("Seed",))  # its tokens_per_epoch is '85B'
    first_bad(df, ~pl.col("Seed").is_in(list(CODE_METRICS)), "Seed is not 1 or 2")
    df = df.with_columns(
        code=pl.col("epochs").cast(pl.Int64),
        size=pl.col("num_params").map_elements(to_str, return_dtype=pl.String),
        metric=pl.col("Seed").replace_strict(CODE_METRICS, return_dtype=pl.String),
    ).with_columns(
        # ColPret's name without its seed suffix: GPT2-4.20B-c4-10%-code-90%-1.0
        model_id=pl.format(
            "datablations/GPT2-{}-{}-{}%-code-{}%-1.0", "size", "data", "code", 100 - pl.col("code")
        ),
        mix=pl.format("{} {}% + python code {}%", "data", 100 - pl.col("code"), "code"),
    )
    _one_run_per_model(df)
    models = df.unique("model_id", keep="first", maintain_order=True).select(
        "model_id", "num_params", "file", "row",
        data=pl.col("mix"), family=pl.lit(CODE), seed=pl.lit(0), epochs=pl.lit(1.0),
        flag=pl.lit(FLOPS_FLAG),
    )
    task = pl.when(pl.col("metric") == "code_loss").then(pl.lit("python")).otherwise("data")
    return models, _losses(df, "loss", "metric", "revision", task=task)


def load(data_root: Path) -> SourceData:
    """Read the three datablations files: 48 + 229 + 9 models."""
    parts = [_runs(data_root), _contour(data_root), _code(data_root)]
    models = pl.concat([m for m, _ in parts], how="diagonal_relaxed")
    points = pl.concat([p for _, p in parts], how="diagonal_relaxed").with_columns(
        shots=pl.lit(0, pl.Int64)
    )
    common = {"model_type": "GPT2", "arch": "dec", "original_paper": ORIGINAL}
    scaled = models.filter(~pl.col("family").is_in([CONTOUR, CODE])).unique(
        "family", keep="first", maintain_order=True
    )
    families = frame(
        [
            {"family": r["family"], "data": r["data"], "perf_metric": ["loss"], **common}
            for r in scaled.iter_rows(named=True)
        ]
        + [
            {"family": CONTOUR, "data": "c4", "perf_metric": ["openLM_loss"], "scaled": False,
             **common},
            {"family": CODE, "data": "c4+python", "perf_metric": ["code_loss", "gen_loss"],
             "scaled": False, **common},
        ],
        FAMILY_SCHEMA,
    )
    return SourceData(families=families, models=models, points=points, n_files=3)
