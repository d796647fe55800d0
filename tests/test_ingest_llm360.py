"""LLM360: Mamba tokens = step x 500B / 176,703, K2's even spacing and evals, the Amber exports."""

import math

import polars as pl
import pytest

from ingest import llm360
from tests.conftest import checkpoint, load_edited, load_tables, value_at
from warehouse.errors import MetaError

K2 = "hitchhiker/aggregated_eval/K2.csv"
MAMBA = "hitchhiker/aggregated_eval/llm360Mamba3B.csv"
ARXIV = "hitchhiker/raw_data/lm360/Amber/wandb_export_2023-12-27T16_38_53.374-05_00.csv"


def test_counts():
    t = load_tables("llm360")
    fams = t["families"].sort("family")
    assert fams["family"].to_list() == ["llm360-Amber", "llm360-K2", "llm360Mamba"]
    assert fams["scaled"].to_list() == [False, False, True]
    assert t["models"].height == 3
    assert t["checkpoints"].height == 44174 + 9986 + 357
    # Mamba: loss, lr, grad_norm; K2: the loss + 5 evals at 118 rows; Amber: 36 exports of
    # 178 even checkpoints and 4 of 356.
    assert t["metrics"].height == 3 * 44174 + 9986 + 5 * 118 + 36 * 178 + 4 * 356


def test_mamba_tokens():
    t = load_tables("llm360")
    cp = "llm360/LLM360Mamba3B@step176700"
    assert value_at(t, cp, "loss") == pytest.approx(0.8201606869697571)
    row = checkpoint(t, cp)
    assert row["tokens"] == pytest.approx(176700 * 500e9 / 176703)
    assert row["flops"] == pytest.approx(6 * 3e9 * row["tokens"])
    assert value_at(t, "llm360/LLM360Mamba3B@step4", "loss") == pytest.approx(21.78346443176269)


def test_k2_even_spacing_and_evals():
    t = load_tables("llm360")
    cp = "llm360/K2@step3712800"  # row index 81
    row = checkpoint(t, cp)
    assert row["tokens"] == pytest.approx(81 * 1.4e12 / 9985)
    assert value_at(t, cp, "k2 training - lm loss") == pytest.approx(2.373379707336426)
    assert value_at(t, cp, "k2 eval - race@0") == pytest.approx(0.295)
    assert value_at(t, cp, "k2 eval - mbpp@10") == pytest.approx(0.002)
    evals = t["metrics"].filter(pl.col("metric").str.starts_with("k2 eval"))
    shots = dict(evals.select("task", "shots").unique().iter_rows())
    assert shots == {"race": 0, "arc_easy": 5, "medmcqa": 5, "openbookqa5": 5, "mbpp": 10}
    assert not t["metrics"]["metric"].str.contains("spike|ministage|__M").any()
    last = checkpoint(t, "llm360/K2@step495101880")
    assert last["tokens"] == 1.4e12 and last["revision"] == "ckpt_359"


def test_first_points_kept_without_tokens():
    t = load_tables("llm360")
    c = t["checkpoints"].filter(pl.col("tokens").is_null()).sort("checkpoint_id")
    assert c["checkpoint_id"].to_list() == ["llm360/Amber@step0", "llm360/K2@step179520"]
    assert c["revision"].to_list() == [None, "ckpt_0"]
    assert value_at(t, "llm360/K2@step179520", "k2 training - lm loss") == pytest.approx(
        7.304169654846191
    )


def test_amber():
    t = load_tables("llm360")
    cp = "llm360/Amber@step354"
    assert value_at(t, cp, "perplexity_eval - ArXiv") == pytest.approx(15.14923958498938)
    row = checkpoint(t, cp)
    assert row["tokens"] == pytest.approx(354 * 1.25e12 / 356)
    assert value_at(t, "llm360/Amber@step356", "downstream_eval - hellaswag") == pytest.approx(
        0.7390957976498706
    )
    fam = t["families"].filter(pl.col("family") == "llm360-Amber").row(0, named=True)
    assert len(fam["perf_metric"]) == 18
    assert all(m.startswith("perplexity_eval - ") for m in fam["perf_metric"])
    kinds = t["metrics"].filter(pl.col("metric").is_in(fam["perf_metric"]))["kind"].unique()
    assert kinds.to_list() == ["ppl"]


def test_amber_perf_is_mean_log2_ppl(db, data_root):
    from ingest.run import ingest

    ingest(db, ["llm360"], data_root)
    perf, n = db.execute(
        "SELECT perf, n_metrics FROM perf WHERE checkpoint_id = 'llm360/Amber@step354'"
    ).fetchone()
    values = db.execute(
        "SELECT value FROM metrics WHERE checkpoint_id = 'llm360/Amber@step354' "
        "AND kind = 'ppl'"
    ).fetchall()
    assert n == 18
    assert perf == pytest.approx(sum(math.log2(v) for (v,) in values) / 18)


def test_non_numeric_loss_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"llm360Mamba3B\.csv, line 3: loss is not a number"):
        load_edited(llm360, MAMBA, 3, "21.554725646972656", "21.55.4", tmp_path)


def test_k2_tokens_off_the_even_grid_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"K2\.csv, line 4: tokens_seen is not index"):
        load_edited(llm360, K2, 4, "280420630.94641966", "290420630.94641966", tmp_path)


def test_amber_fractional_step_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"16_38_53\.374-05_00\.csv, line 3: Step is not an int"):
        load_edited(llm360, ARXIV, 3, '"2",', '"2.5",', tmp_path)
