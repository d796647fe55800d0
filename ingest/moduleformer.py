"""ModuleFormer mixture-of-experts checkpoints (Shen et al. 2023), from the Hitchhiker data.

``raw_data/IBM_MoE.csv`` (72 lines, blank lines between models) lists intermediate checkpoints
of 7 ModuleFormer runs (ST-k2 twice, on the Pile with the GPT-2 tokenizer and on "IBM Pile"
with the CodeGen one; ST-h1, h1-k4, st-deep-48l, gmm-k4, obsidian-17B) with lm-eval-harness
0-shot results: ``wikitext ppl``/``bpb``, ``lambada_openai ppl``/``acc`` and ``acc``/``acc_norm``
of 11 tasks (percent in the file, stored as fractions). ``tokens_seen`` is a string ("64B").
As in the Hitchhiker ``get_moduleformer``:

- ``num_params`` is ``Effective Params`` (active parameters per token) where given, else
  ``Params``; FLOPs are left to normalisation, which gives the Hitchhiker 6 × effective N × D;
- rows whose ``tokens_seen`` is "Pile" or "IBM Pile" are dropped: they are the evaluation of
  the *finished* model, where the source sheet wrote the corpus instead of a token count, so
  their tokens are unknown;
- ``perf`` is the mean log2 of ``wikitext ppl`` and ``lambada_openai ppl``;
- the Hitchhiker ``scaled_set`` is NaN (and ``get_data`` does not call this loader): family
  ``moduleformer``, ``scaled=False``, arch ``moe``.

Deviation: ``get_moduleformer`` starts with ``dropna()``, which drops every row with any empty
cell and so keeps only ST-h1, h1-k4 and st-deep-48l (both ST-k2 runs lack ``Effective Params``,
gmm-k4 and obsidian-17B lack ``Tokenizer``, early rows lack lambada). That looks unintended and
is not reproduced; empty cells are just missing metrics. The two ST-k2 runs share a name, so
they are ``ST-k2-Pile`` and ``ST-k2-IBMPile`` here.

``aggregated_eval/LLMs - 0-shot.csv`` is the source sheet (two header lines: task, then metric).
It adds runs that ``IBM_MoE.csv`` leaves out: ST-48L (4 checkpoints), Obsidian-4B-normalized
(3), a second ST-h1 run with the CodeGen tokenizer (2; ``ST-h1-Codegen`` here), gmm (2),
48L-k4, ST-wide, the obsidian-4B ablations (noaux, switch, softmax_rope) and LLaMA-7B at its
1T tokens (1 each). The obsidian-4B ablations give no parameter count (their names say 4B
in total; the active count is unknown), so their ``num_params`` is null. The sheet writes a
model's name on the first *or* the last row of a block (rows between blank lines), so a row
takes the name of the named row above it in its block, or, before the first named row, of the
first one below. Blocks that share a row
(same model, same tokens) with ``IBM_MoE.csv`` are runs it already has (all their rows match)
and are skipped (which loses the sheet's only
two ``qa4mre_2013`` results, at ST-k2 275B and 250B). Rows with no token count
(baselines evaluated once: GPT-2, GPT-3 ada, Pythia, GPT-Neo, CodeGen-NL, ...) and the
``Random`` row are dropped, as above.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, SourceData, SourceInfo, first_bad, frame, require_constant
from ingest.parse import metric_kind, parse_sizes
from ingest.readers import read_csv, read_text, relpath, require
from warehouse.errors import BadRow

SOURCE = SourceInfo(
    name="moduleformer",
    citation="Shen et al. 2023, ModuleFormer: Modularity Emerges from Mixture-of-Experts "
    "(arXiv:2306.04640), collected in Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret)",
    files=("hitchhiker/raw_data/IBM_MoE.csv", "hitchhiker/aggregated_eval/LLMs - 0-shot.csv"),
)

FAMILY = "moduleformer"
PERF = ["wikitext ppl", "lambada_openai ppl"]
FINAL = ("Pile", "IBM Pile")  # tokens_seen of finished models (not a token count)
TEXT = ("Model", "data", "Params", "Effective Params", "tokens_seen", "Tokenizer", "Corpus",
        "Inference time")


def _blank(df: pl.DataFrame, metrics: list[str]) -> pl.Expr:
    """Rows with no text and no number: the separator lines between models."""
    text = [c for c in TEXT if c in df.columns]
    return pl.all_horizontal(pl.col(*text, *metrics).is_null())


def _is_count(text: pl.Expr) -> pl.Expr:
    """A token count such as '64B' or '1T' (not a corpus name)."""
    return text.str.strip_chars().str.contains(r"^[0-9]*\.?[0-9]+\s*[kKmMbBtT]?$")


def _known(column: str) -> pl.Expr:
    """A text column, stripped, with '?' (unknown) as null."""
    value = pl.col(column).str.strip_chars()
    return pl.when(value != "?").then(value).alias(column)


def _size(df: pl.DataFrame, column: str) -> pl.Series:
    """A size column ('4B', '350M') parsed to floats; empty or '?' is null."""
    return parse_sizes(df.with_columns(_known(column)), column)


def _moe(data_root: Path) -> pl.DataFrame:
    """``IBM_MoE.csv`` rows with a token count, with a unique model name per run."""
    path = data_root / SOURCE.files[0]
    df = read_csv(path, data_root=data_root, numeric=lambda c: c not in TEXT)
    metrics = [c for c in df.columns if c not in (*TEXT, "row", "file")]
    df = df.filter(~_blank(df, metrics))
    for column in ("Model", "data", "Params", "tokens_seen"):
        if column not in df.columns:
            raise BadRow(relpath(path, data_root), 1, f"missing column {column!r}")
        first_bad(df, pl.col(column).is_null(), f"{column} is empty")
    df = df.filter(~pl.col("tokens_seen").str.strip_chars().is_in(FINAL))
    first_bad(df, ~_is_count(pl.col("tokens_seen")), "tokens_seen is not a token count")
    runs = df.group_by("Model").agg(pl.col("data").n_unique())
    shared = runs.filter(pl.col("data") > 1)["Model"]
    return df.with_columns(
        name=pl.when(pl.col("Model").is_in(shared.implode()))
        .then(pl.format("{}-{}", "Model", pl.col("data").str.replace_all(" ", "")))
        .otherwise("Model"),
    )


def _spread(column: str) -> pl.Expr:
    """A column's value, written once per model block in the sheet, on all the block's rows."""
    return _known(column).forward_fill().backward_fill().over("block", "name")


def _sheet_header(path: Path, data_root: Path) -> list[str]:
    """Column names from the sheet's two header lines ('wikitext' + 'ppl' -> 'wikitext ppl')."""
    name = relpath(require(path), data_root)
    reader = csv.reader(io.StringIO(read_text(path, name), newline=""))
    try:
        tasks, kinds = next(reader), next(reader)
    except StopIteration:
        raise BadRow(name, 1, "expected two header lines") from None
    except csv.Error as e:
        raise BadRow(name, reader.line_num, f"not valid CSV ({e})") from None
    if len(tasks) != len(kinds):
        raise BadRow(name, 2, f"expected {len(tasks)} fields, found {len(kinds)} (truncated?)")
    names, task = [], ""
    for t, k in zip(tasks, kinds, strict=True):
        task = t.strip() or task
        names.append(f"{task} {k.strip()}" if k.strip() else task)
    if names[0] != "Model" or "Corpus" not in names:
        raise BadRow(name, 1, "expected the columns Model, ..., Corpus, ...")
    return names


def _sheet(data_root: Path, known: pl.DataFrame) -> pl.DataFrame:
    """Runs of ``LLMs - 0-shot.csv`` that ``IBM_MoE.csv`` does not have."""
    path = data_root / SOURCE.files[1]
    header = _sheet_header(path, data_root)
    df = read_csv(path, data_root=data_root, header=header, skip_rows=1,
                  numeric=lambda c: c not in TEXT)
    metrics = [c for c in df.columns if c not in (*TEXT, "row", "file")]
    blank = _blank(df, metrics)
    df = df.with_columns(
        block=blank.cum_sum(), name=pl.col("Model").str.strip_chars()
    ).filter(~blank)
    df = df.with_columns(
        name=pl.col("name").forward_fill().over("block").fill_null(
            pl.col("name").backward_fill().over("block")
        ),
    )
    df = df.with_columns(
        _spread(c) for c in ("Params", "Effective Params", "Tokenizer")
    ).filter(_is_count(pl.col("Corpus")))
    first_bad(df, pl.col("name").is_null(), "row belongs to no named model")
    # Skip blocks already in IBM_MoE.csv; rename a new run whose name IBM_MoE.csv uses.
    pairs = known.select(pl.col("Model").alias("name"), tokens=pl.col("tokens_seen")).unique()
    seen = df.join(pairs, left_on=["name", "Corpus"], right_on=["name", "tokens"], how="semi")
    done = seen.select("block", "name").unique()
    df = df.join(done, on=["block", "name"], how="anti")
    taken = set(known["Model"])
    return df.with_columns(
        tokens_seen=pl.col("Corpus"), data=pl.lit(None, pl.String),
        name=pl.when(pl.col("name").is_in(list(taken)))
        .then(pl.format("{}-{}", "name", pl.col("Tokenizer").fill_null("sheet")))
        .otherwise("name"),
    )


def load(data_root: Path) -> SourceData:
    """Read ``IBM_MoE.csv`` and the runs only the 0-shot sheet has."""
    moe = _moe(data_root)
    extra = _sheet(data_root, moe)
    df = pl.concat([moe, extra], how="diagonal_relaxed")
    df = df.with_columns(
        params=_size(df, "Params"), effective=_size(df, "Effective Params"),
        tokens=_size(df, "tokens_seen"),
    ).with_columns(
        num_params=pl.coalesce("effective", "params"),
        model_id=pl.format("moduleformer/{}", "name"),
    )
    metrics = [c for c in df.columns if " " in c and c.split(" ")[-1] in ("ppl", "bpb", "acc",
                                                                          "acc_norm")]
    points = df.unpivot(
        on=metrics, index=["model_id", "tokens", "file", "row"], variable_name="metric"
    ).filter(pl.col("value").is_not_null())
    kinds = {m: metric_kind(m) for m in metrics}
    percent = [m for m, k in kinds.items() if k in ("acc", "acc_norm")]
    points = points.with_columns(
        kind=pl.col("metric").replace_strict(kinds),
        task=pl.col("metric").str.extract(r"^(.*) [^ ]+$"),
        value=pl.when(pl.col("metric").is_in(percent)).then(pl.col("value") / 100)
        .otherwise("value"),
        shots=pl.lit(0, pl.Int64),
    )
    models = df.group_by("model_id", maintain_order=True).agg(
        pl.col("num_params", "file", "row").first(), pl.col("data").drop_nulls().first(),
        pl.col("tokens").n_unique().alias("n"), pl.len(),
    )
    dup = models.filter(pl.col("n") < pl.col("len"))
    if dup.height:
        first_bad(df, pl.col("model_id") == dup["model_id"][0], "tokens_seen appears twice")
    require_constant(
        df, "num_params", per="model_id", reason="Params differ between rows of one model"
    )
    models = models.select(
        "model_id", "num_params", "data", "file", "row",
        family=pl.lit(FAMILY), seed=pl.lit(0), epochs=pl.lit(1.0),
    )
    families = frame(
        [{
            "family": FAMILY, "model_type": "ModuleFormer", "arch": "moe", "data": "Pile",
            "perf_metric": PERF, "scaled": False, "original_paper": "ModuleFormer",
        }],
        FAMILY_SCHEMA,
    )
    return SourceData(families=families, models=models, points=points, n_files=2)
