"""The learning-curve benchmark of Alabdulmohsin, Neyshabur & Zhai 2022 (Hitchhiker data).

``aggregated_eval/revisiting_{lang,vision}.csv`` are the benchmark's
``benchmark.{lang,vision}.csv``
(google-research ``revisiting_neural_scaling_laws/data``): one row per (``Domain``, ``Task``,
``Model``, ``Seen Examples``) with a ``Loss`` and a ``Training`` flag. Tokens are ``Seen
Examples`` (batch × steps: tokens for LM, examples for the other domains).

- **LM** (5 LaMDA-style decoders, 17M-1B; ``Model`` is the parameter count, "1.07e+09"):
  as in the Hitchhiker ``get_revisiting``, models ``lambda-<size>`` (``lambda-1.07B``) in the
  scaled family ``lambda``; metric ``val_loss`` (log-loss, kind ``loss``; ColPret renames it
  ``loss``). The file repeats every LM row 4 times; exact repeats are dropped.
- **NMT** (5 encoder/decoder layouts of about 300M parameters, per the benchmark's README):
  metric ``log_perplexity``, kind ``loss`` (it is already a log). No ``scaled_set`` upstream:
  family ``revisiting-nmt``, ``scaled=False``, ``perf`` = ``log_perplexity``.
- **BB** (BIG-bench, the 262M LM): 1- and 2-shot values of 5 tasks, ``Task`` written
  ``('date', '1-shot')``. Metric = the BIG-bench task (``date_understanding``,
  ``linguistic_mappings``, ``qa_wikidata``, ``mult_data_wrangling``, ``unit_conversion``),
  ``shots`` 1 or 2. The benchmark stores the task's preferred metric oriented so that lower is
  better (it falls from about 1 during training), so kind ``error``. As in ColPret this is a
  model of its own (``bigbench-262M``, family ``revisiting-bigbench``, ``scaled=False``): its
  evaluation grid is not the LM curve's. Its ``perf`` is empty (no loss or perplexity).
- **IC** (``revisiting_vision.csv``, which the Hitchhiker code does not read): 6 JFT-300M
  pre-trained networks (ViT-S/16, ViT-B/16, BiT-50/1, BiT-101/3, MLP-Mixer B/16 and L/16) with
  few-shot linear-probe **error rates** on 4 datasets (``bird``, ``c`` = CIFAR-100, ``cal`` =
  Caltech101, ``inet`` = ImageNet) at 5/10/25 shots: metric = the upstream task (``inet_5``),
  task = dataset, ``shots`` = examples per class, kind ``error``. One model per network, one
  family ``revisiting-vision`` (``scaled=False``: the architectures differ, at most two sizes
  each), empty ``perf``. Parameter counts are the README's (32M-494M). Tokens hold seen
  *images*, so the 6·N·D FLOPs that normalisation fills in are meaningless (flagged).

The ``Training`` flag (1 = the part of a curve the benchmark fits on, 0 = the part it
extrapolates to; always a threshold in ``Seen Examples``) belongs to the benchmark's protocol,
not to the checkpoints, and is not stored. The Hitchhiker arch ``enc-dec`` for the LM rows is
not reproduced: the README calls them decoder-only.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, first_bad, frame
from ingest.parse import to_str
from ingest.readers import read_csv

SOURCE = SourceInfo(
    name="revisiting",
    citation="Alabdulmohsin, Neyshabur & Zhai 2022, Revisiting Neural Scaling Laws in Language "
    "and Vision (NeurIPS 2022), collected in Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret); benchmark data Apache-2.0 (google-research)",
    files=(
        "hitchhiker/aggregated_eval/revisiting_lang.csv",
        "hitchhiker/aggregated_eval/revisiting_vision.csv",
    ),
)

ORIGINAL = "Revisiting Neural Scaling Laws in Language and Vision"
REQUIRED = ("Domain", "Task", "Model", "Seen Examples", "Loss")
BIGBENCH = {
    "date": "date_understanding", "ling": "linguistic_mappings", "qa": "qa_wikidata",
    "mult": "mult_data_wrangling", "unit": "unit_conversion",
}
BB_TASK = re.compile(r"^\('(?P<task>\w+)',\s*'(?P<shots>\d+)-shot'\)$")
IC_TASK = re.compile(r"^(?P<task>[a-z]+)_(?P<shots>\d+)$")
# Parameter counts from the benchmark's README (NMT: "300M" for every layout).
VISION_PARAMS = {
    "ViT/S/16": 32e6, "ViT/B/16": 110e6, "BiT/50/1": 61e6, "BiT/101/3": 494e6,
    "MiX/B/16": 73e6, "MiX/L/16": 226e6,
}
NMT_PARAMS, BB_PARAMS = 300e6, 262e6
VISION_FLAG = "tokens are seen images; the imputed 6·N·D FLOPs do not apply"


def _read(data_root: Path, i: int) -> pl.DataFrame:
    df = read_csv(
        data_root / SOURCE.files[i], data_root=data_root,
        numeric=("Seen Examples", "Loss", "Training"), required=REQUIRED,
    )
    return df.with_columns(pl.col("Domain", "Task", "Model").str.strip_chars())


def _lm(df: pl.DataFrame) -> pl.DataFrame:
    """LM rows: the ``lambda`` family, named as ColPret names them."""
    sizes = {}
    for m in df["Model"].unique().to_list():
        try:
            sizes[m] = float(m)
        except ValueError:
            sizes[m] = math.nan
        if not math.isfinite(sizes[m]) or sizes[m] <= 0:
            first_bad(df, pl.col("Model") == m, f"LM Model is not a parameter count ({m!r})")
    return df.with_columns(
        num_params=pl.col("Model").replace_strict(sizes, return_dtype=pl.Float64),
    ).with_columns(
        model_id=pl.format(
            "revisiting/lambda-{}",
            pl.col("num_params").map_elements(to_str, return_dtype=pl.String),
        ),
        family=pl.lit("lambda"), metric=pl.col("Task"), task=pl.lit(None, pl.String),
        shots=pl.lit(0, pl.Int64), kind=pl.lit("loss"), data=pl.lit("LAMDA"),
    )


def _parsed(df: pl.DataFrame, pattern: re.Pattern, what: str) -> dict[str, re.Match]:
    """Each distinct ``Task`` matched against ``pattern``; a BadRow names one that is not."""
    out = {}
    for task in df["Task"].unique().to_list():
        m = pattern.match(task)
        if m is None:
            first_bad(df, pl.col("Task") == task, f"Task {task!r} is not {what}")
        out[task] = m
    return out


def _bigbench(df: pl.DataFrame) -> pl.DataFrame:
    parsed = _parsed(df, BB_TASK, "('<task>', '<n>-shot')")
    for task, m in parsed.items():
        if m["task"] not in BIGBENCH:
            first_bad(df, pl.col("Task") == task, f"unknown BIG-bench task {m['task']!r}")
    return df.with_columns(
        metric=pl.col("Task").replace_strict({t: BIGBENCH[m["task"]] for t, m in parsed.items()}),
        shots=pl.col("Task").replace_strict(
            {t: int(m["shots"]) for t, m in parsed.items()}, return_dtype=pl.Int64
        ),
        model_id=pl.format("revisiting/bigbench-{}", "Model"),
        family=pl.lit("revisiting-bigbench"),
        num_params=pl.lit(BB_PARAMS), kind=pl.lit("error"), data=pl.lit("LAMDA"),
    ).with_columns(task=pl.col("metric"))


def _nmt(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(
        model_id=pl.format("revisiting/{}", "Model"), family=pl.lit("revisiting-nmt"),
        num_params=pl.lit(NMT_PARAMS), metric=pl.col("Task"), task=pl.lit(None, pl.String),
        shots=pl.lit(0, pl.Int64), kind=pl.lit("loss"), data=pl.lit(None, pl.String),
    )


def _vision(df: pl.DataFrame) -> pl.DataFrame:
    first_bad(df, pl.col("Domain") != "IC", "Domain is not IC")
    unknown = ~pl.col("Model").is_in(list(VISION_PARAMS))
    first_bad(df, unknown, "Model is not one of " + ", ".join(VISION_PARAMS))
    parsed = _parsed(df, IC_TASK, "'<dataset>_<shots>'")
    return df.with_columns(
        model_id=pl.format("revisiting/{}", "Model"), family=pl.lit("revisiting-vision"),
        num_params=pl.col("Model").replace_strict(VISION_PARAMS, return_dtype=pl.Float64),
        metric=pl.col("Task"),
        task=pl.col("Task").replace_strict({t: m["task"] for t, m in parsed.items()}),
        shots=pl.col("Task").replace_strict(
            {t: int(m["shots"]) for t, m in parsed.items()}, return_dtype=pl.Int64
        ),
        kind=pl.lit("error"), data=pl.lit("JFT-300M"), flag=pl.lit(VISION_FLAG),
    )


def load(data_root: Path) -> SourceData:
    """Read both benchmark files: 5 LM, 5 NMT, 1 BIG-bench and 6 vision models."""
    lang = _read(data_root, 0)
    domains = {"LM": _lm, "NMT": _nmt, "BB": _bigbench}
    first_bad(lang, ~pl.col("Domain").is_in(list(domains)), "Domain is not LM, NMT or BB")
    parts = [f(lang.filter(pl.col("Domain") == d)) for d, f in domains.items()]
    parts.append(_vision(_read(data_root, 1)))
    df = pl.concat(parts, how="diagonal_relaxed").rename(
        {"Seen Examples": "tokens", "Loss": "value"}
    )
    # The LM block is written four times; keep the first of each exact repeat.
    df = df.unique(["model_id", "metric", "shots", "tokens", "value"], keep="first",
                   maintain_order=True)
    models = df.unique("model_id", keep="first", maintain_order=True).select(
        "model_id", "family", "num_params", "data", "flag", "file", "row",
        seed=pl.lit(0), epochs=pl.lit(1.0),
    )
    points = df.select("model_id", "tokens", "metric", "value", "kind", "task", "shots", "file",
                       "row")
    common = {"original_paper": ORIGINAL}
    families = frame(
        [
            {"family": "lambda", "model_type": "lambda", "arch": "dec", "data": "LAMDA",
             "perf_metric": ["val_loss"], **common},
            {"family": "revisiting-nmt", "model_type": "NMT", "perf_metric": ["log_perplexity"],
             "scaled": False, **common},
            {"family": "revisiting-bigbench", "model_type": "LAMDA", "arch": "dec",
             "data": "LAMDA", "perf_metric": [], "scaled": False, **common},
            {"family": "revisiting-vision", "model_type": "vision", "data": "JFT-300M",
             "perf_metric": [], "scaled": False, **common},
        ],
        FAMILY_SCHEMA,
    )
    return SourceData(families=families, models=models, points=points, n_files=2)
