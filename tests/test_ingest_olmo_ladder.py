"""olmo-ladder: 30 ladder runs and 4 target models with N, D and FLOPs as SOURCE.md says, the
configs as tags, the published tables as rows, the family out of the Hitchhiker averages."""

import polars as pl
import pytest

import warehouse
from ingest import olmo_ladder
from ingest.run import ingest
from tests.conftest import checkpoint, load_edited, load_tables, value_at
from warehouse.errors import MetaError

RUNS = olmo_ladder.RUNS
MMLU_STEM_BPB = "eval/downstream_bpb/mmlu_stem_test_rc_5shot_bpb"


def models() -> dict[str, dict]:
    return {r["model_id"]: r for r in load_tables("olmo-ladder")["models"].iter_rows(named=True)}


def test_counts():
    t = load_tables("olmo-ladder")
    m = models()
    assert sum(r["family"] == "olmo-ladder" for r in m.values()) == 30
    assert {k for k, r in m.items() if r["family"] == "olmo-ladder-targets"} == {
        "olmo-ladder/7B-4T", "olmo-ladder/7B", "olmo-ladder/7B-medlr", "olmo-ladder/13B-5T"}
    per_model = t["checkpoints"].group_by("model_id").len()
    rows = dict(per_model.iter_rows())
    # SOURCE.md's row counts: 0.5 / 1 / 2 / 5 / 10 xC / rerun
    assert [rows[f"olmo-ladder/190M-{m}"] for m in
            ("0.5xC", "1xC", "2xC", "5xC", "10xC", "1xC-rerun")] == [72, 37, 73, 73, 73, 73]
    assert rows["olmo-ladder/3B-2xC"] == 202 and rows["olmo-ladder/3B-1xC"] == 101
    assert rows["olmo-ladder/7B-4T"] == 1 and rows["olmo-ladder/7B"] == 186
    assert rows["olmo-ladder/7B-medlr"] == 98 and rows["olmo-ladder/13B-5T"] == 94
    assert t["checkpoints"].height == 3569 + 379


def test_n_d_and_flops_as_source_md_says():
    t = load_tables("olmo-ladder")
    m = models()
    assert m["olmo-ladder/1B-10xC"]["num_params"] == 1_279_395_840
    assert m["olmo-ladder/3B-1xC-rerun"]["num_params"] == 3_169_537_280
    assert m["olmo-ladder/13B-5T"]["num_params"] == 13_202_396_160
    last = checkpoint(t, "olmo-ladder/190M-1xC@step7272")  # the final step breaks the spacing
    assert last["tokens"] == 3_812_622_336
    assert last["flops"] == pytest.approx(3_812_622_336 * 1_903_391_232, rel=1e-12)
    assert not last["flops_imputed"]
    anneal = checkpoint(t, "olmo-ladder/7B-4T@step940577")  # no _step: D / batch size
    assert anneal["tokens"] == 3_945_065_873_408
    assert checkpoint(t, "olmo-ladder/13B-5T@step596057")["tokens"] == 5_000_088_518_656


def test_metrics_kinds_and_tasks():
    t = load_tables("olmo-ladder")
    kinds = t["metrics"].unique("metric").select("metric", "kind", "task", "shots")
    k = {r["metric"]: r for r in kinds.iter_rows(named=True)}
    assert sum(r["kind"] == "loss" for r in k.values()) == 11
    assert k[MMLU_STEM_BPB]["kind"] == "bpb" and k[MMLU_STEM_BPB]["shots"] == 5
    assert k[MMLU_STEM_BPB]["task"] == "mmlu_stem_test"
    assert k["eval/downstream/boolq_val_rc_5shot_acc"]["kind"] == "acc"
    assert k["eval/downstream/piqa_val_rc_5shot_len_norm"]["kind"] == "acc_norm"
    assert k["eval/c4_en-validation/CrossEntropyLoss"]["task"] == "c4_en"
    # the targets' multiple-choice accuracies, which the ladder runs skipped
    assert k["eval/downstream/hellaswag_val_mc_5shot_acc"]["kind"] == "acc"
    assert value_at(t, "olmo-ladder/190M-1xC@step200", "eval/c4_en-validation/CrossEntropyLoss"
                    ) == pytest.approx(6.029934883117676, rel=1e-15)


def test_configs_become_tags():
    m = models()
    train = sorted(k for k, r in m.items() if "final:train" in r["tags"])
    assert len(train) == 16
    assert all(("-0.5xC" not in k and "rerun" not in k and "3B" not in k) for k in train)
    assert {k for k, r in m.items() if "final:eval" in r["tags"]} == {
        "olmo-ladder/7B-4T", "olmo-ladder/13B-5T"}
    assert {k for k, r in m.items() if "final_7b_only:eval" in r["tags"]} == {
        "olmo-ladder/7B-4T"}
    assert "rerun" in m["olmo-ladder/760M-1xC-rerun"]["tags"]
    assert "multiplier=0.5" in m["olmo-ladder/3B-0.5xC"]["tags"]


def test_published_tables_are_rows():
    p = load_tables("olmo-ladder")["published"]
    assert p["result"].n_unique() == 10
    row = p.filter(pl.col("result") == "chained_main", pl.col("task") == "mmlu_avg_test_5shot",
                   pl.col("quantity") == "Pred")
    assert row["value"].item() == 0.5126799915287485
    assert p.filter(pl.col("result") == "variance").height == 10 * 7


def test_family_is_scaled_but_out_of_the_averages(tmp_path, data_root):
    con = warehouse.connect(tmp_path / "w.duckdb")
    ingest(con, ["olmo-ladder"], data_root)
    rows = con.execute("SELECT family, scaled, in_aggregate FROM families ORDER BY family"
                       ).fetchall()
    assert rows == [("olmo-ladder", True, False), ("olmo-ladder-targets", False, False)]
    n = con.execute("SELECT count(*) FROM published WHERE source = 'olmo-ladder'").fetchone()
    assert n == (318,)
    con.close()


def test_partial_file_must_be_a_subset_of_its_full_file(tmp_path):
    with pytest.raises(MetaError, match=r"peteish13_eval_final\.csv, line 13: step 596057 "
                                        r"differs from \(or is not in\) .*peteish13_eval_full"):
        load_edited(olmo_ladder, f"{RUNS}/peteish13_eval_final.csv", 13, "596057,", "596057,9",
                    tmp_path)


def test_tokens_must_match_steps(tmp_path):
    with pytest.raises(MetaError, match=r"190M-2xC\.csv, line 2: throughput/total_tokens is "
                                        r"not _step x batch_size_in_tokens"):
        load_edited(olmo_ladder, f"{RUNS}/190M-2xC.csv", 2, ",104857600.0,", ",104857601.0,",
                    tmp_path)


def test_unknown_column_is_refused(tmp_path):
    with pytest.raises(MetaError, match=r"190M-5xC\.csv, line 1: unknown column 'eval/x'"):
        load_edited(olmo_ladder, f"{RUNS}/190M-5xC.csv", 1, ",learning_rate_peak,", ",eval/x,",
                    tmp_path)
