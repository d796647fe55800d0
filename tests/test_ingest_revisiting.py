"""Revisiting benchmark: the lambda family, repeated LM rows, BIG-bench and vision curves."""

import polars as pl
import pytest

from ingest import revisiting
from ingest.normalize import normalize
from tests.conftest import load_edited, load_tables, value_at
from warehouse.errors import MetaError

LANG = "hitchhiker/aggregated_eval/revisiting_lang.csv"


def test_counts():
    t = load_tables("revisiting")
    fams = dict(t["families"].select("family", "scaled").iter_rows())
    assert fams == {
        "lambda": True, "revisiting-nmt": False, "revisiting-bigbench": False,
        "revisiting-vision": False,
    }
    per_family = dict(t["models"].group_by("family").len().iter_rows())
    assert per_family == {
        "lambda": 5, "revisiting-nmt": 5, "revisiting-bigbench": 1, "revisiting-vision": 6
    }
    # LM: 916 rows, each written 4 times; NMT 53; BB 10 task/shots x 43 points; vision 18,883.
    assert t["metrics"].height == 916 // 4 + 53 + 430 + 18883
    assert t["checkpoints"].height == 8634


def test_lambda_family_follows_colpret():
    t = load_tables("revisiting")
    lam = t["models"].filter(pl.col("family") == "lambda").sort("num_params")
    assert lam["model_id"].to_list() == [
        "revisiting/lambda-16.80M", "revisiting/lambda-0.13B", "revisiting/lambda-0.26B",
        "revisiting/lambda-0.45B", "revisiting/lambda-1.07B",
    ]
    assert lam["num_params"].to_list() == [16_800_000, 134_000_000, 262_000_000, 453_000_000,
                                           1_070_000_000]
    cp = "revisiting/lambda-1.07B@2621440000tokens"  # revisiting_lang.csv line 887
    assert value_at(t, cp, "val_loss") == pytest.approx(0.999)
    fam = t["families"].filter(pl.col("family") == "lambda").row(0, named=True)
    assert (fam["perf_metric"], fam["arch"]) == (["val_loss"], "dec")


def test_bigbench_and_nmt():
    t = load_tables("revisiting")
    bb = t["metrics"].filter(
        (pl.col("checkpoint_id") == "revisiting/bigbench-262M@2621440000tokens")
        & (pl.col("metric") == "date_understanding")
    ).sort("shots")
    assert bb["shots"].to_list() == [1, 2]
    assert bb["value"].to_list() == pytest.approx([0.8482384823848239, 0.8265582655826558])
    assert set(bb["kind"]) == {"error"}
    cp = "revisiting/6 Enc, 6 Dec@500000tokens"
    assert value_at(t, cp, "log_perplexity") == pytest.approx(0.9311752923076924)
    kind = t["metrics"].filter(pl.col("metric") == "log_perplexity")["kind"].unique()
    assert kind.to_list() == ["loss"]


def test_vision():
    t = load_tables("revisiting")
    cp = "revisiting/MiX/B/16@7700779tokens"  # revisiting_vision.csv line 2
    row = t["metrics"].filter(
        (pl.col("checkpoint_id") == cp) & (pl.col("metric") == "bird_5")
    ).row(0, named=True)
    assert (row["task"], row["shots"], row["kind"]) == ("bird", 5, "error")
    assert row["value"] == pytest.approx(0.9758287277072668)
    vit = t["models"].filter(pl.col("model_id") == "revisiting/ViT/B/16").row(0, named=True)
    assert vit["num_params"] == 110_000_000 and vit["flag"] is not None


def test_non_numeric_loss_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"revisiting_lang\.csv, line 888: Loss is not a number"):
        load_edited(revisiting, LANG, 888, "0.9575408421944839", "0.95754O8", tmp_path)


def test_lm_model_not_a_size_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"revisiting_lang\.csv, line 887: LM Model is not"):
        load_edited(revisiting, LANG, 887, "1.07e+09", "1B", tmp_path)


def test_conflicting_repeat_names_file_and_line(tmp_path):
    # line 175 repeats line 56, now with another loss
    edited = load_edited(revisiting, LANG, 175, "0.98126353083", "0.99126353083", tmp_path)
    with pytest.raises(MetaError, match=r"revisiting_lang\.csv, line (56|175): .*twice"):
        normalize("revisiting", edited)
