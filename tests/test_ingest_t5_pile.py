"""Pile-T5: tokens = steps × 1e6, nominal sizes, log2(val_perplexity) as perf, step 0 kept."""

import math

import polars as pl
import pytest

from ingest import t5_pile
from ingest.run import ingest
from tests.conftest import checkpoint, load_tables, mirror_source, value_at
from warehouse.errors import MetaError


def test_counts():
    t = load_tables("t5-pile")
    assert t["families"]["family"].to_list() == ["t5-pile"]
    assert t["families"]["arch"].to_list() == ["enc-dec"]
    assert t["checkpoints"].height == 807
    # val_perplexity and accuracy at all 807; loss and cross_ent_loss NaN at 7 xxl steps
    assert t["metrics"].height == 807 * 4 - 2 * 7
    sizes = dict(t["models"].select("model_id", "num_params").iter_rows())
    assert sizes == {
        "t5-pile/pile-t5-base": 247_586_304, "t5-pile/pile-t5-large": 783_173_632,
        "t5-pile/pile-t5-xl": 2_849_804_288, "t5-pile/pile-t5-xxl": 11_135_426_560,
    }


def test_xl_final_checkpoint(db, data_root):
    t = load_tables("t5-pile")
    cid = "t5-pile/pile-t5-xl@step2000000"
    assert value_at(t, cid, "val_perplexity") == pytest.approx(1.03579, abs=1e-5)
    c = checkpoint(t, cid)
    assert c["tokens"] == 2e12 and c["revision"] == "step_2000000"
    ingest(db, ["t5-pile"], data_root)
    perf = db.execute("SELECT perf FROM perf WHERE checkpoint_id = ?", [cid]).fetchone()[0]
    assert perf == pytest.approx(math.log2(value_at(t, cid, "val_perplexity")))


def test_step_zero_and_flags():
    t = load_tables("t5-pile")
    zero = t["checkpoints"].filter(pl.col("step") == 0)
    assert zero.height == 4 and set(zero["tokens"]) == {0.0}
    flags = dict(t["models"].select("model_id", "flag").iter_rows())
    assert "196 of 204 values of accuracy are outside the range" in flags["t5-pile/pile-t5-xxl"]
    assert "NaN at 7 steps" in flags["t5-pile/pile-t5-xxl"]


def test_missing_column_names_file_and_line(tmp_path):
    path = mirror_source(t5_pile.SOURCE, t5_pile.SOURCE.files[0], tmp_path)
    text = path.read_text()
    path.write_text(text.replace(",val_perplexity,", ",val_ppl,", 1))
    with pytest.raises(MetaError, match=r"t5_pile\.csv, line 1: missing column 'val_perplexity'"):
        t5_pile.load(tmp_path)
