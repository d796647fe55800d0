"""OPT trajectories + BIG-bench: tokens from steps × batch, log10 columns, the two files joined."""

import math

import polars as pl
import pytest

from ingest import opt
from ingest.normalize import normalize
from ingest.run import ingest
from tests.conftest import checkpoint, load_edited, load_tables, value_at
from warehouse.errors import MetaError

TRAJ, BENCH = opt.SOURCE.files


def test_counts():
    t = load_tables("opt")
    assert t["families"]["family"].to_list() == ["OPT"]
    assert t["families"]["perf_metric"].to_list() == [["ppl"]]
    assert t["models"].height == 6
    # 142 trajectory checkpoints + 5 that only opt.csv has (30b: 3, 175b: 2)
    assert t["checkpoints"].height == 147
    assert t["metrics"].height == 142 + 6 * 147
    assert set(t["models"]["family"]) == {"OPT"}


def test_175b_tokens_and_flops_at_a_step():
    t = load_tables("opt")
    c = checkpoint(t, "opt/OPT-175b@step140000")
    assert c["tokens"] == 140_000 * 2e6  # 2M tokens per step for 175B, not 4M
    assert c["flops"] == 6 * 175e9 * 2.8e11
    assert not c["flops_imputed"]
    # the file's log10 columns give the same numbers
    assert c["tokens"] == pytest.approx(10**11.44715803134222, rel=1e-12)
    assert c["flops"] == pytest.approx(10**23.468347330412158, rel=1e-12)
    assert value_at(t, "opt/OPT-175b@step140000", "ppl") == pytest.approx(9.768875130499486)


def test_batch_by_size():
    t = load_tables("opt")
    c = t["checkpoints"].filter(pl.col("step") == 2000).select("model_id", "tokens")
    assert dict(c.iter_rows()) == {
        "opt/OPT-125m": 1e9, "opt/OPT-1.3b": 2e9, "opt/OPT-6.7b": 4e9,
        "opt/OPT-13b": 8e9, "opt/OPT-30b": 8e9,
    }


def test_bigbench_attached_to_the_same_checkpoint():
    t = load_tables("opt")
    cid = "opt/OPT-125m@step2000"
    assert value_at(t, cid, "ppl") == pytest.approx(67.52265444265277)
    assert value_at(t, cid, "bigbench__codelinedescription") == pytest.approx(0.45)
    m = t["metrics"].filter(pl.col("checkpoint_id") == cid)
    assert m.height == 7
    assert set(m.filter(pl.col("metric") != "ppl")["kind"]) == {"acc"}
    only_bench = t["checkpoints"].join(
        t["metrics"].filter(pl.col("metric") == "ppl"), on="checkpoint_id", how="anti"
    )
    assert sorted(only_bench["checkpoint_id"]) == [
        "opt/OPT-175b@step44000", "opt/OPT-175b@step64000", "opt/OPT-30b@step18000",
        "opt/OPT-30b@step34000", "opt/OPT-30b@step6000",
    ]


def test_perf_is_log2_ppl(db, data_root):
    ingest(db, ["opt"], data_root)
    perf = db.execute(
        "SELECT perf FROM perf WHERE checkpoint_id = 'opt/OPT-175b@step140000'"
    ).fetchone()[0]
    assert perf == pytest.approx(math.log2(9.768875130499486))


def test_non_numeric_ppl_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"opt_trajectories\.csv, line 5: ppl is not a number"):
        load_edited(opt, TRAJ, 5, "41.70683160563832", "n/a", tmp_path)


def test_token_disagreement_names_file_and_line(tmp_path):
    message = r"opt\.csv, line 4: tokens \(6000000000.0\) disagrees with steps x batch"
    with pytest.raises(MetaError, match=message):
        load_edited(opt, BENCH, 4, "5000000000.0", "6000000000.0", tmp_path)


def test_negative_size_names_file_and_line(tmp_path):
    with pytest.raises(MetaError, match=r"opt_trajectories\.csv, line 2: model_size is not a size"):
        normalize("opt", load_edited(opt, TRAJ, 2, "OPT,125m", "OPT,-125m", tmp_path))
