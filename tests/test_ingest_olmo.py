"""OLMo: tokens = Step × 4e6, CrossEntropyLoss columns as perf, Twin-2T outside the olmo family."""

import polars as pl
import pytest

from ingest import olmo
from tests.conftest import checkpoint, load_tables, mirror_source, value_at
from warehouse.errors import MetaError

CID = "olmo/OLMo-7B@step556000"


def test_counts():
    t = load_tables("olmo")
    f = {r["family"]: r for r in t["families"].iter_rows(named=True)}
    assert set(f) == {"olmo", "olmo-twin-2t"}
    assert f["olmo"]["scaled"] and not f["olmo-twin-2t"]["scaled"]
    assert len(f["olmo"]["perf_metric"]) == 36
    assert all(m.endswith("CrossEntropyLoss") for m in f["olmo"]["perf_metric"])
    models = dict(t["models"].select("model_id", "family").iter_rows())
    assert models == {
        "olmo/OLMo-1B": "olmo", "olmo/OLMo-7B": "olmo", "olmo/OLMo-7B-Twin-2T": "olmo-twin-2t",
    }
    assert t["checkpoints"].height == 1708  # 735 + 529 + 444
    assert t["metrics"].height == 45557


def test_olmo_7b_loss_at_step_556000():
    t = load_tables("olmo")
    assert value_at(t, CID, "pile-validation/CrossEntropyLoss") == pytest.approx(1.9077, abs=1e-4)
    assert value_at(t, CID, "c4_en-validation/CrossEntropyLoss") == pytest.approx(2.3712, abs=1e-4)
    c = checkpoint(t, CID)
    assert c["tokens"] == 556_000 * 4e6  # the Hitchhiker 4M = 4e6, not 2**22
    assert c["revision"] == "step556000-tokens2460B"
    assert c["flops_imputed"]


def test_kinds_and_sizes():
    t = load_tables("olmo")
    kinds = dict(
        t["metrics"].unique("metric").select("metric", "kind").iter_rows()
    )
    assert kinds["c4_en-validation/Perplexity"] == "ppl"
    assert kinds["downstream/hellaswag_len_norm"] == "acc_norm"
    assert kinds["downstream/mrpc_f1"] == "f1"
    assert sum(k == "loss" for k in kinds.values()) == 36
    sizes = dict(t["models"].select("model_id", "num_params").iter_rows())
    assert sizes["olmo/OLMo-1B"] == 1_000_000_000
    # OLMo-1B's last 181 steps have no HF revision
    late = t["checkpoints"].filter(pl.col("model_id") == "olmo/OLMo-1B", pl.col("step") > 557_000)
    assert late.height == 181 and late["revision"].null_count() == 181


def test_models_share_no_loss_column():
    """The Hitchhiker perf of OLMo-1B and OLMo-7B averages disjoint validation sets."""
    t = load_tables("olmo")
    m = t["metrics"].filter(pl.col("kind") == "loss").join(
        t["checkpoints"].select("checkpoint_id", "model_id"), on="checkpoint_id"
    )
    sets = m.group_by("model_id").agg(pl.col("metric").unique())
    sets = {r["model_id"]: set(r["metric"]) for r in sets.iter_rows(named=True)}
    assert len(sets["olmo/OLMo-1B"]) == 23 and len(sets["olmo/OLMo-7B"]) == 13
    assert not sets["olmo/OLMo-1B"] & sets["olmo/OLMo-7B"]


def test_truncated_line_names_file_and_line(tmp_path):
    path = mirror_source(olmo.SOURCE, olmo.SOURCE.files[0], tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    lines[9] = lines[9][: len(lines[9]) // 2] + "\n"
    path.write_text("".join(lines))
    with pytest.raises(MetaError, match=r"olmo\.csv, line 10: expected 66 fields"):
        olmo.load(tmp_path)
