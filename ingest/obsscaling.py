"""Observational Scaling Laws data (Ruan, Maddison & Hashimoto 2024; ryoungj/ObsScaling).

Public LLMs with one evaluated checkpoint each, the final release: every score of a model is
attached to that one checkpoint, whichever table it came from, and a model in several tables
is one model. Instruction-tuned models are separate models from their bases.

Tables (``eval_results/`` at HEAD 4d6e1e43), metric names as upstream spells the columns:

- ``base_llm_benchmark_eval.csv``: 148 base models with ``Model Family``, N (``Model Size (B)``
  -> ``num_params``), D (``Pretraining Data Size (T)`` -> checkpoint ``tokens``), training
  compute (``FLOPs (1E21)`` -> checkpoint ``flops``, left null where upstream is blank, so
  ``normalize`` fills 6ND only where N and D are known) and 8 benchmarks: ``MMLU`` (acc, 5
  shots), ``ARC-C`` (acc_norm, 25), ``HellaSwag`` (acc_norm, 10), ``Winograd`` (Winogrande,
  acc, 5), ``TruthfulQA`` (mc2, score, 0), ``GSM8K`` (em, 5), ``XWinograd`` (acc, 0) and
  ``HumanEval`` (pass@1, acc, 0); shots and kinds are the Open LLM Leaderboard v1 protocol
  the repository follows.
- ``base_llm_emergent_capability_eval.csv``: BigBench 2-shot tasks; ``*_acc`` kind acc,
  ``*_exact_match`` em, ``ipa_transliterate_2_bleu`` kind score **on upstream's 0-100
  scale** (not rescaled; the paper min-max normalises it with (0, 100)).
- ``base_llm_post_training_eval.csv``: GSM8K and BBH under CoT, self-consistency and few-shot
  prompting; task, shots and filter parsed from ``<task>_<shots>_exact_match,<filter>``
  (kind em); the ``,norm`` columns, (acc - chance) / (1 - chance), are kind score.
- ``base_llm_leaderboard_v2_eval.csv``: Open LLM Leaderboard v2 raw scores (not normalised
  for chance).
- ``instruct_llm_benchmark_eval.csv``: 27 chat models; N, D and FLOPs are those of the base
  model (pretraining only), blank for proprietary models. ``Arena-Elo`` (min-max normalised
  over the listed models) and ``MTBench`` (/10) are kind score.
- ``instruct_llm_agent_eval.csv``: AgentBench (``ABench-OA`` on its ~0-4 scale,
  sub-environments in percent) and AgentBoard (progress and success rates in percent), kind
  score, raw scales kept.

Families are ``obsscaling/<Model Family>``, not scaled (no losses, one checkpoint per model).

The repository's analysis set, ``load_base_llm_benchmark_eval()``, is the base models whose
family is in ``EVAL_BASE_MODEL_FAMILY_MAP`` less the 20 pre-registered models
(``PREREGISTERED_BASE_MODEL_MAP``, both in ``utils/constants.py`` at HEAD): 77 models, the same
77 rows, byte for byte, as the paper-era file (c10551f). Set membership is in ``models.tags``:
``obs-analysis-set`` (77 models in 21 families), ``obs-preregistered`` (20) and
``obs-paper-era`` (listed in the paper-era ``base_llm_benchmark_eval.csv``, 107 models), e.g.
``WHERE list_contains(tags, 'obs-analysis-set')``. Paper-era values are not stored twice: the
paper-era emergent (65) and post-training (77) tables are exactly the HEAD rows of
analysis-set models, and the paper-era base table differs from HEAD only by float round-off
and by 26 XWinograd/HumanEval cells HEAD filled for families outside the analysis set.
``base_llm_benchmark_eval_sub_10b.csv`` is not read: its 92 rows are base rows (up to
round-off).

Upstream errors, kept in ``models.flag``:

- ``cerebras/btlm-3b-8k-base``: D = 627 T and FLOPs = 11286e21 are 1000x too large
  (SOURCE.md); corrected to 0.627 T and 11.286e21.
- MoE models: ``Model Size (B)`` counts total parameters for some and active parameters for
  others; kept as given, flagged with both counts.
- Values that look wrong but that no note tells how to fix are kept and flagged ``suspect``.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from ingest.base import FAMILY_SCHEMA, MODEL_SCHEMA, POINT_SCHEMA, SourceData, SourceInfo, conform
from ingest.readers import read_csv
from warehouse.errors import BadRow

SOURCE = SourceInfo(
    name="obsscaling",
    citation="Ruan, Maddison & Hashimoto 2024, Observational Scaling Laws and the "
    "Predictability of Language Model Performance (arXiv:2405.10938)",
    upstream="ryoungj/ObsScaling@4d6e1e43fd2635d04654aa77d1df9d5266ea0382 "
    "(paper-era table @c10551fe033d09cd2752f376f4c0beaed870ad7b)",
    license="Apache-2.0 (repository); scores from public leaderboards and harnesses keep "
    "their own terms",
    files=(
        "obsscaling/eval_results/base_llm_benchmark_eval.csv",
        "obsscaling/eval_results/base_llm_emergent_capability_eval.csv",
        "obsscaling/eval_results/base_llm_post_training_eval.csv",
        "obsscaling/eval_results/base_llm_leaderboard_v2_eval.csv",
        "obsscaling/eval_results/instruct_llm_benchmark_eval.csv",
        "obsscaling/eval_results/instruct_llm_agent_eval.csv",
        "obsscaling/paper_era_c10551f/eval_results/base_llm_benchmark_eval.csv",
    ),
)
BASE, EMERGENT, POST, LBV2, INSTRUCT, AGENT, PAPER_BASE = SOURCE.files

# utils/constants.py at HEAD: EVAL_BASE_MODEL_FAMILY_MAP values and PREREGISTERED_BASE_MODEL_MAP
# keys. load_base_llm_benchmark_eval() keeps these families and drops these models.
EVAL_BASE_MODEL_FAMILIES = (
    "Llama-2", "Llama", "Llama-3", "Llama-3.1", "Qwen2", "Qwen1.5", "Qwen", "Mistral",
    "Mixtral", "Yi", "Yi-1.5", "Gemma", "Gemma-2", "Falcon", "Phi", "Pythia", "BLOOM",
    "GPT-Neo/J", "OPT", "MPT", "XGLM", "CodeLlama", "StarCoder", "StarCoder2", "DeepSeek-Coder",
    "DeepSeek-V2", "DeepSeek-Coder-V2", "Jamba",
)
PREREGISTERED_BASE_MODELS = (
    "meta-llama/Meta-Llama-3.1-405B-FP8", "meta-llama/Meta-Llama-3.1-70B",
    "meta-llama/Meta-Llama-3.1-8B", "Qwen/Qwen1.5-110B", "Qwen/Qwen2-72B", "Qwen/Qwen2-57B-A14B",
    "Qwen/Qwen2-7B", "Qwen/Qwen2-1.5B", "Qwen/Qwen2-0.5B", "deepseek-ai/DeepSeek-V2",
    "deepseek-ai/DeepSeek-Coder-V2-Base", "google/gemma-2-27b", "google/gemma-2-9b",
    "google/gemma-2-2b", "mistralai/Mixtral-8x22B-v0.1", "mistralai/Mistral-Nemo-Base-2407",
    "01-ai/Yi-1.5-34B", "01-ai/Yi-1.5-9B", "01-ai/Yi-1.5-6B", "ai21labs/Jamba-v0.1",
)

# column -> (kind, task, shots) of the two benchmark tables.
BENCHMARKS = {
    "MMLU": ("acc", "mmlu", 5),
    "ARC-C": ("acc_norm", "arc_challenge", 25),
    "HellaSwag": ("acc_norm", "hellaswag", 10),
    "Winograd": ("acc", "winogrande", 5),
    "Winogrande": ("acc", "winogrande", 5),
    "TruthfulQA": ("score", "truthfulqa_mc2", 0),
    "GSM8K": ("em", "gsm8k", 5),
    "XWinograd": ("acc", "xwinograd", 0),
    "HumanEval": ("acc", "humaneval", 0),
    "Arena-Elo": ("score", "chatbot_arena", 0),
    "MTBench": ("score", "mt_bench", 0),
}
# Open LLM Leaderboard v2 (raw): metric and shots of each task.
LEADERBOARD_V2 = {
    "leaderboard_bbh": ("acc_norm", 3),
    "leaderboard_gpqa": ("acc_norm", 0),
    "leaderboard_ifeval": ("acc", 0),
    "leaderboard_math_hard": ("em", 4),
    "leaderboard_mmlu_pro": ("acc", 5),
    "leaderboard_musr": ("acc_norm", 0),
}
_SHOTS_METRIC = re.compile(r"^(?P<task>.+)_(?P<shots>\d+)_(?P<metric>acc|exact_match|bleu)$")
_POST = re.compile(r"^(?P<task>.+?)_(?P<shots>\d+)_exact_match,[^,]+(?P<norm>,norm)?$")
_METRIC_KIND = {"acc": "acc", "exact_match": "em", "bleu": "score"}

# Upstream Model Size (B) of MoE models, with total and active counts from the model cards.
MOE = {
    "mistralai/Mixtral-8x7B-v0.1": ("the total", 46.7, 12.9),
    "mistralai/Mixtral-8x22B-v0.1": ("the active", 141, 39),
    "deepseek-ai/DeepSeek-V2": ("the active", 236, 21),
    "deepseek-ai/DeepSeek-Coder-V2-Base": ("the active", 236, 21),
    "deepseek-ai/deepseek-moe-16b-base": ("the total", 16.4, 2.8),
    "Qwen/Qwen2-57B-A14B": ("neither the total nor the active", 57, 14),
    "ai21labs/Jamba-v0.1": ("the active", 52, 12),
}
# Values that disagree with the model's name or base model; kept, flagged.
SUSPECT = {
    "openlm-research/open_llama_7b_v2": "Model Size (B) is 13 for a 7B model",
    "vicuna-33b-v1.3": "D is 2.0 T but its LLaMA-33B base saw 1.4 T (cf. guanaco-33b)",
    "wizardlm-30b-v1.0": "D is 3.0 T but its LLaMA-30B base saw 1.4 T (cf. guanaco-33b)",
}
BTLM = "cerebras/btlm-3b-8k-base"
N_COL, D_COL, C_COL = "Model Size (B)", "Pretraining Data Size (T)", "FLOPs (1E21)"
ARCH = {
    "Mixtral": "moe", "DeepSeek-V2": "moe", "DeepSeek-Coder-V2": "moe", "DeepSeek-MoE": "moe",
    "Jamba": "moe", "RWKV": "ssm",
}
PROPRIETARY = {
    "GPT-4", "GPT-3.5-Turbo", "Text-Davinci", "Claude-1", "Claude-2", "Claude-Instant",
    "PALM-2-Chat",
}


def _read(data_root: Path, rel: str, columns: tuple[str, ...] = ()) -> pl.DataFrame:
    """A table whose columns other than Model and Model Family are numbers."""
    df = read_csv(
        data_root / rel, data_root=data_root,
        numeric=lambda c: c not in ("Model", "Model Family"), required=("Model",),
    )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BadRow(rel, 1, f"missing column {missing[0]!r}")
    return df


def _btlm_wrong() -> pl.Expr:
    """The BTLM row while it still has upstream's 1000x D and FLOPs."""
    return (pl.col("Model") == BTLM) & (pl.col(D_COL) > 100)


def _flag() -> pl.Expr:
    """``models.flag`` text: the BTLM correction, MoE size conventions and suspect values."""
    texts = {m: f"moe: Model Size (B) is {what} parameter count (total {t}B, active {a}B); "
             "MoE sizes are inconsistent upstream" for m, (what, t, a) in MOE.items()}
    texts |= {m: f"suspect: {why}; kept as upstream" for m, why in SUSPECT.items()}
    texts[BTLM] = (
        "corrected: Pretraining Data Size (T) 627 -> 0.627 and FLOPs (1E21) 11286 -> 11.286 "
        "(upstream unit error)"
    )
    flag = pl.col("Model").replace_strict(texts, default=None, return_dtype=pl.String)
    return pl.when((pl.col("Model") != BTLM) | _btlm_wrong()).then(flag).otherwise(None)


def _models(df: pl.DataFrame, model_type: str) -> pl.DataFrame:
    """Model rows and each model's checkpoint (tokens, FLOPs) from a metadata table."""
    wrong = _btlm_wrong()
    return df.with_columns(
        flag=_flag(),
        **{
            D_COL: pl.when(wrong).then(pl.col(D_COL) / 1000).otherwise(D_COL),
            C_COL: pl.when(wrong).then(pl.col(C_COL) / 1000).otherwise(C_COL),
        },
    ).select(
        "file", "row", "flag",
        model_id=pl.format("obsscaling/{}", "Model"),
        family=pl.format("obsscaling/{}", "Model Family"),
        raw_family=pl.col("Model Family"),
        num_params=pl.col(N_COL) * 1e9,
        tokens=pl.col(D_COL) * 1e12,
        flops=pl.col(C_COL) * 1e21,
        model_type=pl.lit(model_type),
    )


def _long(
    df: pl.DataFrame,
    spec: dict[str, tuple[str, str | None, int | None]],
    models: pl.DataFrame,
    owner: str,
) -> pl.DataFrame:
    """Wide score columns to points of the models in ``models`` (``owner`` names that table)."""
    df = df.with_columns(model_id=pl.format("obsscaling/{}", "Model"))
    unknown = df.filter(~pl.col("model_id").is_in(models["model_id"].implode()))
    if unknown.height:
        r = unknown.row(0, named=True)
        raise BadRow(r["file"], r["row"], f"model {r['Model']!r} is not in {owner}")
    long = df.unpivot(on=list(spec), index=["model_id", "file", "row"], variable_name="metric")
    long = long.filter(pl.col("value").is_not_null())

    def column(i: int, dtype: pl.DataType) -> pl.Expr:
        return pl.col("metric").replace_strict(
            {m: s[i] for m, s in spec.items()}, return_dtype=dtype
        )

    scales = {m: scale(m) for m in spec}
    long = long.with_columns(
        kind=column(0, pl.String), task=column(1, pl.String), shots=column(2, pl.Int64),
        lo=pl.col("metric").replace_strict({m: s[0] for m, s in scales.items()},
                                           return_dtype=pl.Float64),
        hi=pl.col("metric").replace_strict({m: s[1] for m, s in scales.items()},
                                           return_dtype=pl.Float64),
    )
    return long.join(models.select("model_id", "tokens", "flops"), on="model_id", how="left")


def scale(metric: str) -> tuple[float | None, float | None]:
    """The range of a score column beyond what its kind says (SOURCE.md): fractions for
    TruthfulQA mc2, Arena-Elo (min-max normalised) and MTBench (/10); percentages for BLEU and
    the agent environments; AgentBench's overall score (about 0-4, /10 in the repository)
    between 0 and 10; chance-normalised BBH scores (',norm') at most 1 and negative below
    chance."""
    if metric in ("TruthfulQA", "Arena-Elo", "MTBench"):
        return 0.0, 1.0
    if metric.endswith("_bleu"):
        return 0.0, 100.0
    if metric.endswith(",norm"):
        return None, 1.0
    if metric == "ABench-OA":
        return 0.0, 10.0
    if metric.startswith(("ABench-", "ABoard-")):
        return 0.0, 100.0
    return None, None


def _spec_shots(columns: list[str], pattern: re.Pattern, file: str) -> dict:
    """(kind, task, shots) of emergent-task and post-training columns, parsed from the name."""
    spec = {}
    for c in columns:
        m = pattern.match(c)
        if not m:
            raise BadRow(file, 1, f"unexpected column {c!r}")
        groups = m.groupdict()
        if "metric" in groups:
            kind = _METRIC_KIND[groups["metric"]]
        else:
            kind = "score" if groups["norm"] else "em"
        spec[c] = (kind, groups["task"], int(groups["shots"]))
    return spec


def _agent_spec(columns: list[str]) -> dict:
    """AgentBench / AgentBoard columns: kind score, task per environment."""
    spec = {}
    for c in columns:
        bench, _, env = c.partition("-")
        suite = {"ABench": "agentbench", "ABoard": "agentboard"}.get(bench, bench.lower())
        env = re.sub(r"_(PR|SR)$", "", env)
        task = suite if env in ("OA", "Avg") else f"{suite}_{env.lower().replace(' ', '_')}"
        spec[c] = ("score", task, 0)
    return spec


def _tags(base: pl.DataFrame, paper: pl.DataFrame) -> pl.Series:
    """``models.tags`` of each base model (row of ``base``): analysis-set, pre-registered and
    paper-era membership."""
    missing = paper.filter(~pl.col("Model").is_in(base["Model"].implode()))
    if missing.height:
        r = missing.row(0, named=True)
        raise BadRow(r["file"], r["row"], f"model {r['Model']!r} is not in {BASE}")
    pre = pl.col("Model").is_in(list(PREREGISTERED_BASE_MODELS))
    analysis = pl.col("Model Family").is_in(list(EVAL_BASE_MODEL_FAMILIES)) & ~pre
    paper_era = pl.col("Model").is_in(paper["Model"].implode())
    tags = pl.concat_list(
        pl.when(analysis).then(pl.lit("obs-analysis-set")),
        pl.when(pre).then(pl.lit("obs-preregistered")),
        pl.when(paper_era).then(pl.lit("obs-paper-era")),
    ).list.drop_nulls()
    return base.select(tags.alias("tags")).to_series()


def load(data_root: Path) -> SourceData:
    """Read the six HEAD tables and the paper-era base table."""
    meta = ("Model Family", N_COL, D_COL, C_COL)
    base = _read(data_root, BASE, meta)
    instruct = _read(data_root, INSTRUCT, meta)
    base_models = _models(base, "obsscaling-base")
    instruct_models = _models(instruct, "obsscaling-instruct")
    clash = instruct_models.filter(pl.col("family").is_in(base_models["family"].implode()))
    if clash.height:
        r = clash.row(0, named=True)
        raise BadRow(r["file"], r["row"], f"family {r['raw_family']!r} is also a base family")

    emergent = _read(data_root, EMERGENT)
    post = _read(data_root, POST)
    lbv2 = _read(data_root, LBV2)
    agent = _read(data_root, AGENT)
    paper = _read(data_root, PAPER_BASE)

    def scores(df: pl.DataFrame) -> list[str]:
        return [c for c in df.columns if c not in ("Model", "Model Family", "file", "row")]

    bench = {c: BENCHMARKS[c] for c in scores(base) + scores(instruct) if c in BENCHMARKS}
    emergent_spec = _spec_shots(scores(emergent), _SHOTS_METRIC, EMERGENT)
    post_spec = _spec_shots(scores(post), _POST, POST)
    lbv2_spec = {}
    for c in scores(lbv2):
        kind, shots = LEADERBOARD_V2.get(c, ("acc", None))
        lbv2_spec[c] = (kind, c.removeprefix("leaderboard_"), shots)
    base_only = base_models.select("model_id", "tokens", "flops")
    inst_only = instruct_models.select("model_id", "tokens", "flops")

    def pick(df: pl.DataFrame, spec: dict) -> dict:
        return {c: s for c, s in spec.items() if c in df.columns}

    points = pl.concat(
        [
            _long(base, pick(base, bench), base_only, BASE),
            _long(emergent, emergent_spec, base_only, BASE),
            _long(post, post_spec, base_only, BASE),
            _long(lbv2, lbv2_spec, base_only, BASE),
            _long(instruct, pick(instruct, bench), inst_only, INSTRUCT),
            _long(agent, _agent_spec(scores(agent)), inst_only, INSTRUCT),
        ],
        how="diagonal_relaxed",
    )
    models = pl.concat(
        [base_models.with_columns(_tags(base, paper)), instruct_models], how="diagonal"
    )
    families = models.unique("family", keep="first", maintain_order=True).select(
        "family", "model_type",
        arch=pl.col("raw_family").replace_strict(ARCH, default="dec", return_dtype=pl.String),
        scaled=pl.lit(False), original_paper=pl.lit("obsscaling"),
        perf_metric=pl.lit([], pl.List(pl.String)),
    ).with_columns(
        arch=pl.when(pl.col("family").str.strip_prefix("obsscaling/").is_in(list(PROPRIETARY)))
        .then(None).otherwise("arch")
    )
    return SourceData(
        families=conform(families, FAMILY_SCHEMA),
        models=conform(models, MODEL_SCHEMA),
        points=conform(points, POINT_SCHEMA),
        n_files=len(SOURCE.files),
    )

