"""Observational Scaling Laws tables: counts per table, units, flags and the analysis set."""

import polars as pl
import pytest

from ingest.normalize import normalize
from ingest.obsscaling import BASE, SOURCE, load
from tests.conftest import DATA_ROOT, load_tables, mirror_source, value_at
from warehouse.errors import MetaError

OBS = DATA_ROOT / "obsscaling"
BENCH = ["MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "GSM8K", "XWinograd", "HumanEval"]


def _long() -> pl.DataFrame:
    t = load_tables("obsscaling")
    return t["metrics"].join(
        t["checkpoints"].select("checkpoint_id", "model_id", "tokens", "flops"), on="checkpoint_id"
    ).join(t["models"].select("model_id", "family", "num_params", "flag"), on="model_id")


def _tagged(tag: str) -> set[str]:
    m = load_tables("obsscaling")["models"].filter(pl.col("tags").list.contains(tag))
    return set(m["model_id"].str.strip_prefix("obsscaling/"))


def _with_values(prefix: str) -> set[str]:
    m = _long().filter(pl.col("metric").str.starts_with(prefix))
    return set(m["model_id"].str.strip_prefix("obsscaling/"))


def _csv_models(rel: str) -> set[str]:
    return set(pl.read_csv(OBS / rel, infer_schema=False)["Model"])


def test_counts_per_table():
    t = load_tables("obsscaling")
    models = t["models"].join(t["families"].select("family", "model_type"), on="family")
    per_type = dict(models.group_by("model_type").len().iter_rows())
    assert per_type == {"obsscaling-base": 148, "obsscaling-instruct": 27}
    assert t["checkpoints"].height == 175  # one checkpoint per model
    assert t["families"].height == 47 + 17
    assert not t["families"]["scaled"].any()
    long = _long()
    table = (
        pl.when(pl.col("metric").str.starts_with("leaderboard_")).then(pl.lit("leaderboard_v2"))
        .when(pl.col("metric").str.starts_with("ABench")).then(pl.lit("agentbench"))
        .when(pl.col("metric").str.starts_with("ABoard")).then(pl.lit("agentboard"))
        .when(pl.col("metric").str.contains("exact_match,")).then(pl.lit("post_training"))
        .when(pl.col("metric").str.contains(r"_2_(acc|exact_match|bleu)$"))
        .then(pl.lit("emergent"))
        .when(pl.col("model_id").str.count_matches("/") == 2).then(pl.lit("base"))
        .otherwise(pl.lit("instruct"))
    )
    counts = {
        r["table"]: (r["len"], r["models"])
        for r in long.group_by(table.alias("table"))
        .agg(pl.len(), models=pl.col("model_id").n_unique()).iter_rows(named=True)
    }
    assert counts == {
        "base": (1144, 148),
        "emergent": (613, 84),
        "post_training": (17698, 94),  # 96 rows; bloom (176B) and one other are all blank
        "leaderboard_v2": (432, 72),
        "instruct": (219, 27),
        "agentbench": (198, 22),
        "agentboard": (220, 11),
    }
    assert t["metrics"].height == sum(n for n, _ in counts.values())
    # set membership is in models.tags, on base models only
    tagged = models.filter(pl.col("tags").list.len() > 0)
    assert set(tagged["model_type"]) == {"obsscaling-base"}
    tags = set(models["tags"].explode().drop_nulls())
    assert tags == {"obs-analysis-set", "obs-preregistered", "obs-paper-era"}


def test_units_and_llama2_flops():
    t = load_tables("obsscaling")
    cp = t["checkpoints"].filter(pl.col("model_id") == "obsscaling/meta-llama/Llama-2-7b-hf")
    assert cp["flops"][0] == pytest.approx(8.4e22)
    assert cp["tokens"][0] == pytest.approx(2e12)
    assert not cp["flops_imputed"][0]
    m = t["models"].filter(pl.col("model_id") == "obsscaling/meta-llama/Llama-2-7b-hf")
    assert m["num_params"][0] == 7_000_000_000
    assert m["family"][0] == "obsscaling/Llama-2"
    assert value_at(t, cp["checkpoint_id"][0], "MMLU") == pytest.approx(0.4379609636092418)
    # BLEU stays on upstream's 0-100 scale.
    assert value_at(t, cp["checkpoint_id"][0], "ipa_transliterate_2_bleu") == pytest.approx(
        27.23879164406593
    )
    # Unknown D: no tokens, no FLOPs (not imputed), checkpoint '@final'.
    mistral = t["checkpoints"].filter(pl.col("model_id") == "obsscaling/mistralai/Mistral-7B-v0.1")
    assert mistral["checkpoint_id"][0].endswith("@final")
    assert mistral["flops"][0] is None


def test_kinds_tasks_and_shots():
    long = _long().filter(pl.col("model_id") == "obsscaling/meta-llama/Llama-2-7b-hf")
    got = {
        r["metric"]: (r["kind"], r["task"], r["shots"])
        for r in long.select("metric", "kind", "task", "shots").iter_rows(named=True)
    }
    assert got["ARC-C"] == ("acc_norm", "arc_challenge", 25)
    assert got["GSM8K"] == ("em", "gsm8k", 5)
    assert got["gsm8k_cot_8_exact_match,flexible-extract"] == ("em", "gsm8k_cot", 8)
    assert got["bbh_cot_fewshot_overall_3_exact_match,flexible-extract,norm"] == (
        "score", "bbh_cot_fewshot_overall", 3
    )
    assert got["arithmetic_2dm_2_acc"] == ("acc", "arithmetic_2dm", 2)
    assert got["leaderboard_math_hard"] == ("em", "math_hard", 4)
    assert not {"in_analysis_set", "preregistered", "in_paper_era"} & set(got)
    assert _tagged("obs-analysis-set") >= {"meta-llama/Llama-2-7b-hf"}


def test_btlm_corrected_and_flagged():
    long = _long().filter(pl.col("model_id") == "obsscaling/cerebras/btlm-3b-8k-base")
    row = long.row(0, named=True)
    assert row["tokens"] == pytest.approx(0.627e12)
    assert row["flops"] == pytest.approx(11.286e21)
    assert row["flops"] == pytest.approx(6 * row["num_params"] * row["tokens"])
    assert row["flag"].startswith("corrected:")


def test_moe_sizes_flagged():
    t = load_tables("obsscaling")
    moe = t["models"].filter(pl.col("flag").str.starts_with("moe:"))
    assert set(moe["model_id"]) == {
        f"obsscaling/{m}" for m in (
            "mistralai/Mixtral-8x7B-v0.1", "mistralai/Mixtral-8x22B-v0.1",
            "deepseek-ai/DeepSeek-V2", "deepseek-ai/DeepSeek-Coder-V2-Base",
            "deepseek-ai/deepseek-moe-16b-base", "Qwen/Qwen2-57B-A14B", "ai21labs/Jamba-v0.1",
        )
    }
    mixtral = moe.filter(pl.col("model_id") == "obsscaling/mistralai/Mixtral-8x7B-v0.1")
    assert mixtral["num_params"][0] == 45_000_000_000  # kept as upstream gives it


def test_analysis_set_is_the_papers_77():
    analysis = _tagged("obs-analysis-set")
    assert len(analysis) == 77
    assert len(_tagged("obs-preregistered")) == 20
    assert not analysis & _tagged("obs-preregistered")
    assert _tagged("obs-paper-era") == _csv_models(
        "paper_era_c10551f/eval_results/base_llm_benchmark_eval.csv"
    )
    assert len(_tagged("obs-paper-era")) == 107
    fams = _long().filter(pl.col("model_id").str.strip_prefix("obsscaling/").is_in(analysis))
    assert fams["family"].n_unique() == 21
    # The paper-era emergent and post-training tables are the analysis-set rows of HEAD's.
    for name in ("base_llm_emergent_capability_eval.csv", "base_llm_post_training_eval.csv"):
        paper = _csv_models(f"paper_era_c10551f/eval_results/{name}")
        assert paper == analysis & _csv_models(f"eval_results/{name}"), name


def test_analysis_rows_equal_paper_era_values():
    paper = pl.read_csv(OBS / "paper_era_c10551f/eval_results/base_llm_benchmark_eval.csv")
    long = _long().filter(pl.col("metric").is_in(BENCH)).with_columns(
        Model=pl.col("model_id").str.strip_prefix("obsscaling/")
    )
    wide = long.pivot(on="metric", index="Model", values="value")
    both = paper.filter(pl.col("Model").is_in(_tagged("obs-analysis-set"))).join(
        wide, on="Model", suffix="_w", how="left"
    )
    assert both.height == 77
    for col in BENCH:
        same = (both[col] == both[f"{col}_w"]) | (both[col].is_null() & both[f"{col}_w"].is_null())
        assert same.all(), col


def test_instruct_models_are_separate():
    t = load_tables("obsscaling")
    chat = t["models"].filter(pl.col("model_id") == "obsscaling/llama-2-7b-chat").row(0, named=True)
    assert chat["family"] == "obsscaling/Llama-2-Chat"
    assert chat["num_params"] == 7_000_000_000
    gpt4 = t["models"].filter(pl.col("model_id") == "obsscaling/gpt-4-0613")
    assert gpt4["num_params"][0] is None
    long = _long().filter(pl.col("model_id") == "obsscaling/gpt-4-0613")
    assert dict(zip(long["metric"], long["value"], strict=True))["ABench-OA"] == 4.01


def _copy(tmp_path):
    return mirror_source(SOURCE, BASE, tmp_path)


def test_non_numeric_score_names_file_and_line(tmp_path):
    path = _copy(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    lines[4] = lines[4].replace("0.3569330638795117", "n/a")  # huggyllama/llama-7b MMLU
    path.write_text("".join(lines))
    with pytest.raises(MetaError, match=r"base_llm_benchmark_eval\.csv, line 5: MMLU"):
        load(tmp_path)


def test_negative_size_names_file_and_line(tmp_path):
    path = _copy(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    lines[2] = lines[2].replace("Llama-2,13.0,", "Llama-2,-13.0,")
    path.write_text("".join(lines))
    with pytest.raises(MetaError, match=r"base_llm_benchmark_eval\.csv, line 3: num_params is neg"):
        normalize("obsscaling", load(tmp_path))


def test_truncated_line_and_unknown_model(tmp_path):
    path = _copy(tmp_path)
    text = path.read_text()
    path.write_text(text[: text.index("meta-llama/Llama-2-70b-hf") + 40])
    with pytest.raises(MetaError, match=r"base_llm_benchmark_eval\.csv, line 4: expected 13"):
        load(tmp_path)
    path.write_text(text.replace("meta-llama/Llama-2-70b-hf", "meta-llama/Llama-2-70b"))
    with pytest.raises(MetaError, match=r"emergent_capability_eval\.csv, line 4: model"):
        load(tmp_path)
