"""Datablations: ColPret names and families, 6ND FLOPs, Seed 1/2 as gen/code loss, bad lines."""

import polars as pl
import pytest

from ingest import datablations
from ingest.normalize import normalize
from ingest.parse import to_str
from tests.conftest import checkpoint, load_edited, load_tables, value_at
from warehouse.errors import MetaError

RUNS = "hitchhiker/aggregated_eval/datablations_losses.csv"
CODE = "hitchhiker/aggregated_eval/datablations_code_losses.csv"


def test_counts():
    t = load_tables("datablations")
    assert t["families"].height == 18
    assert t["models"].height == 48 + 229 + 9
    assert t["checkpoints"].height == 9261 + 229 + 148
    assert t["metrics"].height == 9261 + 229 + 296
    scaled = t["families"].filter("scaled")
    assert scaled.height == 16
    sizes = t["models"].filter(pl.col("family").is_in(scaled["family"].implode()))
    per_family = sizes.group_by("family").agg(pl.col("num_params").sort())
    assert all(p == [2.8e9, 4.2e9, 8.7e9] for p in per_family["num_params"].to_list())


def test_names_follow_colpret():
    t = load_tables("datablations")
    fams = set(t["families"]["family"])
    assert {"GPT2-c4-44.0", "GPT2-oscar-1.0", "datablations-contour", "datablations-code"} <= fams
    m = t["models"].filter(pl.col("model_id") == "datablations/GPT2-2.80B-c4-44.0").row(
        0, named=True
    )
    assert (m["family"], m["epochs"], m["data"], m["num_params"]) == (
        "GPT2-c4-44.0", 44.0, "c4", 2_800_000_000
    )
    assert to_str(2.8e9) == "2.80B"
    assert to_str(44) == "44.0"
    assert to_str(1.34e8) == "0.13B"  # ColPret's thresholds are 10x below the unit


def test_flops_are_6nd_and_flagged():
    t = load_tables("datablations")
    # Line 2: c4, 44 epochs, 104857600 tokens, loss 6.9756693840026855, 2.8B (flops 4.878e23)
    cp = "datablations/GPT2-2.80B-c4-44.0@104857600tokens"
    assert value_at(t, cp, "loss") == pytest.approx(6.9756693840026855)
    row = checkpoint(t, cp)
    assert row["flops"] == pytest.approx(6 * 2.8e9 * 104857600)
    assert row["flops_imputed"]
    assert row["revision"] == "https://huggingface.co/datablations/lm1-2b8-55b-c4-repetitions"
    flagged = t["models"].filter(pl.col("flag").is_not_null())["family"].unique()
    assert "datablations-contour" not in set(flagged)
    assert t["models"].filter(pl.col("family").str.starts_with("GPT2-"))["flag"].is_not_null().all()


def test_contour_keeps_its_flops():
    t = load_tables("datablations")
    cp = "datablations/GPT2-2b84b4b@4000000000tokens"
    assert value_at(t, cp, "openLM_loss") == pytest.approx(3.265024)
    row = checkpoint(t, cp)
    assert (row["flops"], row["flops_imputed"]) == (6.744e19, False)


def test_code_seeds_are_two_metrics_of_one_run():
    t = load_tables("datablations")
    cp = "datablations/GPT2-4.20B-c4-10%-code-90%-1.0@5242880000tokens"
    assert value_at(t, cp, "gen_loss") == pytest.approx(3.576049805)  # Seed 1, line 2
    assert value_at(t, cp, "code_loss") == pytest.approx(0.7698280215263367)  # Seed 2, line 150
    code = t["models"].filter(pl.col("family") == "datablations-code")
    assert code.height == 9
    assert code.filter(pl.col("model_id").str.contains("-10%-code-"))["data"][0] == (
        "c4 90% + python code 10%"
    )
    fam = t["families"].filter(pl.col("family") == "datablations-code").row(0, named=True)
    assert (fam["scaled"], fam["perf_metric"]) == (False, ["code_loss", "gen_loss"])


def test_non_numeric_loss_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"losses\.csv, line 100: loss is not a number"):
        load_edited(datablations, RUNS, 100, "3.054949283599853", "3.05x", tmp_path)


def test_negative_size_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"datablations_losses\.csv, line 100: num_params"):
        data = load_edited(datablations, RUNS, 100, ",2.8B,", ",-2.8B,", tmp_path)
        normalize("datablations", data)


def test_unknown_seed_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"datablations_code_losses\.csv, line 150: Seed is not"):
        load_edited(datablations, CODE, 150, "c4py,2", "c4py,3", tmp_path)
