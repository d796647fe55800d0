"""BiMix data-mixing runs (Ge et al. 2024, arXiv:2405.14908), from the Hitchhiker data.

``raw_data/bimix-law/{Pile,SlimPajama}/ppls.pkl`` map a mixture name ("Baseline", "DoReMi",
...) to a pandas DataFrame with a ``global_step`` column and one validation **perplexity**
column per domain (SlimPajama's frames also carry ``avg``); ``ratios.pkl`` map the same names
to a pandas Series of domain weights. Every run is one 280M-parameter decoder.

**These are third-party pickles and are never unpickled**: :mod:`ingest.pandas_pickle` decodes
them into numpy arrays, and a pickle naming any global but the numpy/pandas pieces of a
DataFrame or Series is refused with a :class:`~warehouse.errors.BadRow` naming the file.

As in the Hitchhiker code (``get_bimix``):

- one model, and one family, per mixture: ``<corpus>`` for the baseline and
  ``<corpus>_<mixture>_mix`` otherwise (the Hitchhiker ``scaled_set``; "scaled in the sense of
  data ratio, not size", so each family holds one model and no law is fitted on it alone);
- tokens = ``global_step`` × 512 × 1024 (batch 512 sequences of 1,024 tokens); steps are kept;
- metrics ``<domain>_ppl`` (task = the domain; ``avg_ppl`` is upstream's mean over the domains)
  and ``perf`` = their mean, over every such column of the frame.

**Deviation: kind ``loss``, not ``ppl``.** Upstream calls the values perplexities and the
Hitchhiker code takes their log2, but they are log-perplexities in nats: 1.4-3.8 after 5-100B
tokens (Github 1.37, DM Mathematics 1.36, Pile-CC 3.24 at the end of the Pile baseline), which
matches per-domain cross-entropies of similar-size Pile models and would be implausible as
perplexities (a perplexity of 1.37 is a loss of 0.31 nats). So ``perf`` here is the mean of the
raw values; the Hitchhiker ``perf`` is the mean of their log2. The metric names keep ColPret's
``_ppl`` suffix so they can be matched with its columns; each model's ``flag`` says so.
- the domain weights ``<domain>_data_ratio`` are model constants; they are stored as kind
  ``other`` metrics on each model's last checkpoint, so ``SELECT ... WHERE metric LIKE
  '%_data_ratio'`` gives every mixture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from ingest.base import FAMILY_SCHEMA, POINT_SCHEMA, SourceData, SourceInfo, frame
from ingest.pandas_pickle import decode
from ingest.readers import relpath
from warehouse.errors import BadRow

SOURCE = SourceInfo(
    name="bimix",
    citation="Ge et al. 2024, BiMix: A Bivariate Data Mixing Law for Language Model Pretraining "
    "(arXiv:2405.14908), collected in Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret); BiMix files Apache-2.0",
    files=(
        "hitchhiker/raw_data/bimix-law/Pile/ppls.pkl",
        "hitchhiker/raw_data/bimix-law/Pile/ratios.pkl",
        "hitchhiker/raw_data/bimix-law/SlimPajama/ppls.pkl",
        "hitchhiker/raw_data/bimix-law/SlimPajama/ratios.pkl",
    ),
)

CORPORA = ("Pile", "SlimPajama")
TOKENS_PER_STEP = 512 * 1024
NUM_PARAMS = 280e6
STEP = "global_step"
FLAG = (
    "upstream's 'ppls' are log-perplexities (nats), stored as kind loss; the Hitchhiker code "
    "took log2 of them as if they were perplexities"
)


def family_name(corpus: str, mixture: str) -> str:
    """The Hitchhiker ``scaled_set`` of a mixture: the corpus for the baseline, else
    ``<corpus>_<mixture>_mix``."""
    return corpus if mixture == "Baseline" else f"{corpus}_{mixture}_mix"


def _corpus(corpus: str, data_root: Path) -> tuple[list[dict], list[pl.DataFrame]]:
    folder = data_root / "hitchhiker/raw_data/bimix-law" / corpus
    ppl_path, ratio_path = folder / "ppls.pkl", folder / "ratios.pkl"
    ppls = decode(ppl_path, data_root, "frame")
    ratios = decode(ratio_path, data_root, "series")
    ppl_name, ratio_name = relpath(ppl_path, data_root), relpath(ratio_path, data_root)
    models, points = [], []
    for mixture, columns in ppls.items():
        if STEP not in columns:
            raise BadRow(ppl_name, None, f"entry {mixture!r:.60} has no {STEP} column")
        if mixture not in ratios:
            raise BadRow(ratio_name, None, f"no domain weights for mixture {mixture!r:.60}")
        for domain, weight in ratios[mixture].items():
            if not 0 <= weight <= 1:  # NaN fails too
                raise BadRow(ratio_name, None, f"entry {mixture!r:.60}: the weight of "
                                               f"{domain!r:.60} is {weight:g}, not in [0, 1]")
        steps = np.asarray(columns[STEP])
        if steps.dtype.kind not in "iu" and not np.all(steps == np.round(steps)):
            raise BadRow(ppl_name, None, f"entry {mixture!r:.60}: {STEP} is not an integer")
        family = family_name(corpus, mixture)
        model_id = f"bimix/{family}"
        models.append({
            "model_id": model_id, "family": family, "num_params": NUM_PARAMS, "seed": 0,
            "epochs": 1.0, "data": family, "file": ppl_name, "flag": FLAG,
        })
        step = pl.Series("step", steps.astype(np.int64))
        for col, values in columns.items():
            if col == STEP:
                continue
            points.append(pl.DataFrame({
                "step": step, "value": np.asarray(values, dtype=np.float64),
            }).with_columns(metric=pl.lit(f"{col}_ppl"), kind=pl.lit("loss"), task=pl.lit(col),
                            model_id=pl.lit(model_id), file=pl.lit(ppl_name)))
        last = int(steps.max())
        points.append(pl.DataFrame({
            "metric": [f"{d}_data_ratio" for d in ratios[mixture]],
            "value": list(ratios[mixture].values()),
            "task": list(ratios[mixture]),
        }).with_columns(step=pl.lit(last, pl.Int64), kind=pl.lit("other"),
                        model_id=pl.lit(model_id), file=pl.lit(ratio_name)))
    return models, points


def load(data_root: Path) -> SourceData:
    """Decode the four pickles: one model per (corpus, mixture), perplexities by step."""
    models, parts = [], []
    for corpus in CORPORA:
        m, p = _corpus(corpus, data_root)
        models += m
        parts += p
    points = pl.concat([p.select(sorted(p.columns)) for p in parts], how="diagonal_relaxed")
    points = points.with_columns(
        tokens=pl.col("step").cast(pl.Float64) * TOKENS_PER_STEP, shots=pl.lit(0, pl.Int64),
        row=pl.lit(None, pl.Int64),
    )
    models = pl.DataFrame(models)
    ppl_metrics = (
        points.filter(pl.col("kind") == "loss").group_by("model_id")
        .agg(pl.col("metric").unique().sort())
    )
    perf = dict(ppl_metrics.iter_rows())
    families = frame(
        [{
            "family": r["family"], "model_type": "DoReMi", "arch": "dec", "data": r["family"],
            "perf_metric": perf[r["model_id"]], "scaled": True,
            "original_paper": "DataMixing arxiv.org/abs/2405.14908",
        } for r in models.iter_rows(named=True)],
        FAMILY_SCHEMA,
    )
    return SourceData(
        families=families, models=models,
        points=points.select([c for c in POINT_SCHEMA if c in points.columns]),
        n_files=len(SOURCE.files),
    )
