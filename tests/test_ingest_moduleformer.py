"""ModuleFormer: effective parameters, dropped final rows, the 0-shot sheet's extra runs."""

import polars as pl
import pytest

from ingest import moduleformer
from ingest.normalize import normalize
from tests.conftest import checkpoint, load_edited, load_tables, value_at
from warehouse.errors import MetaError

MOE = "hitchhiker/raw_data/IBM_MoE.csv"
SHEET = "hitchhiker/aggregated_eval/LLMs - 0-shot.csv"
FROM_MOE = {
    "ST-k2-Pile": 10, "ST-k2-IBMPile": 8, "ST-h1": 5, "h1-k4": 11, "st-deep-48l": 14,
    "gmm-k4": 8, "obsidian-17B": 6,
}
FROM_SHEET = {
    "LLAMA": 1, "ST-h1-Codegen": 2, "ST-48L": 4, "ST-wide": 1, "gmm": 2, "48L-k4": 1,
    "Obsidian-4B-normalized": 3, "obsidian-4B": 1, "obsidian-4B-noaux": 1,
    "obsidian-4B-switch": 1, "obsidian-4B-softmax_rope": 1,
}


def test_counts():
    t = load_tables("moduleformer")
    per_model = dict(
        t["checkpoints"].group_by("model_id").len()
        .with_columns(pl.col("model_id").str.strip_prefix("moduleformer/")).iter_rows()
    )
    assert per_model == {**FROM_MOE, **FROM_SHEET}
    fam = t["families"].row(0, named=True)
    assert (fam["family"], fam["scaled"], fam["arch"]) == ("moduleformer", False, "moe")
    assert fam["perf_metric"] == ["wikitext ppl", "lambada_openai ppl"]
    assert t["metrics"].height == 1568


def test_effective_params_and_flops():
    t = load_tables("moduleformer")
    params = dict(t["models"].select("model_id", "num_params").iter_rows())
    assert params["moduleformer/ST-h1"] == 350e6  # Effective Params
    assert params["moduleformer/obsidian-17B"] == 4e9  # Effective, not the 16.7B total
    assert params["moduleformer/ST-k2-Pile"] == 4e9  # no Effective Params: Params
    assert params["moduleformer/obsidian-4B"] is None
    cp = "moduleformer/ST-h1@45000000000tokens"  # IBM_MoE.csv line 24
    row = checkpoint(t, cp)
    assert row["flops"] == pytest.approx(6 * 350e6 * 45e9) and row["flops_imputed"]
    assert value_at(t, cp, "wikitext ppl") == pytest.approx(19.8959)
    assert value_at(t, cp, "hellaswag acc_norm") == pytest.approx(0.4059)
    assert value_at(t, cp, "wikitext bpb") == pytest.approx(0.8068)


def test_final_rows_dropped():
    t = load_tables("moduleformer")
    st_k2 = t["checkpoints"].filter(pl.col("model_id") == "moduleformer/ST-k2-Pile")
    assert st_k2["tokens"].max() == 350e9  # the "Pile" row (wikitext 15.1979) is not there
    assert not t["metrics"].filter(pl.col("value") == 15.1979).height


def test_sheet_runs():
    t = load_tables("moduleformer")
    assert value_at(t, "moduleformer/ST-48L@29000000000tokens", "wikitext ppl") == 20.93
    assert value_at(t, "moduleformer/ST-h1-Codegen@55000000000tokens", "PIQA acc") == (
        pytest.approx(0.6774)
    )
    assert value_at(t, "moduleformer/LLAMA@1000000000000tokens", "wikitext ppl") == 9.4201


def test_bad_token_count_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"IBM_MoE\.csv, line 24: tokens_seen is not a token count"):
        load_edited(moduleformer, MOE, 24, ",45B,", ",45 billion,", tmp_path)


def test_non_numeric_sheet_value_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"0-shot\.csv, line 47: wikitext ppl is not a number"):
        load_edited(moduleformer, SHEET, 47, ",20.93,", ",twenty,", tmp_path)


def test_negative_params_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"IBM_MoE\.csv, line 69: Effective Params"):
        data = load_edited(moduleformer, MOE, 69, ",16.7B,4B,", ",16.7B,-4B,", tmp_path)
        normalize("moduleformer", data)
