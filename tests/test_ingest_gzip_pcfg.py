"""gzip-pcfg: one family per corpus, a checkpoint per training step, the final validation loss."""

import orjson
import polars as pl
import pytest

from ingest import gzip_pcfg
from tests.conftest import load_tables, mirror_source, value_at
from warehouse.errors import MetaError

RESULTS = "hitchhiker/raw_data/gzip/results_new.jsonl"
FIRST = "gzip-pcfg/gzipscale-0.12-10M-N4178368-D99695"  # line 1


def test_counts():
    t = load_tables("gzip-pcfg")
    fams = t["families"]
    assert fams["family"].to_list() == [f"gzipscale-{h}-10M" for h in
                                        ("0.12", "0.23", "0.33", "0.45", "0.61")]
    assert fams["scaled"].all()
    assert all(p == ["valid_loss"] for p in fams["perf_metric"].to_list())
    per_family = t["models"].group_by("family").agg(
        pl.len(), pl.col("num_params").n_unique().alias("sizes")
    )
    assert per_family["len"].to_list() == [30] * 5 and per_family["sizes"].to_list() == [6] * 5
    # steps per budget: 13, 123, 245, 611, 1160, for 6 sizes and 5 corpora
    assert t["checkpoints"].height == 30 * (13 + 123 + 245 + 611 + 1160)
    # + valid_loss, gzip_median, gzip_std per run, and 2 or 4 per-batch validation losses
    assert t["metrics"].height == t["checkpoints"].height + 150 * 3 + 30 * 2 + 120 * 4


def test_tokens_per_step():
    t = load_tables("gzip-pcfg")
    c = t["checkpoints"].sort("model_id", "step")
    last = c.group_by("model_id").agg(pl.col("tokens").last(), pl.col("step").max())
    budgets = last.with_columns(
        d=pl.col("model_id").str.extract(r"-D(\d+)$").cast(pl.Float64)
    )
    assert (budgets["tokens"] == budgets["d"]).all()  # the last step is exactly token_ct
    steps = c.group_by("model_id").agg((pl.col("tokens").diff().drop_nulls() > 0).all())
    assert steps["tokens"].all()
    first = c.filter(pl.col("checkpoint_id") == f"{FIRST}@step1")["tokens"][0]
    assert first == pytest.approx(99695 / 390 * 32)  # 390 rows of ~255.6 tokens, 32 per step
    assert gzip_pcfg.train_rows(9487175, 1160) == 37120  # 1159 full batches + a partial one


def test_final_validation_loss_and_compressibility():
    t = load_tables("gzip-pcfg")
    final = f"{FIRST}@step13"
    # valid_loss [10.031084060668945, 10.02585220336914] over 39 rows: batches of 32 and 7
    expected = (32 * 10.031084060668945 + 7 * 10.02585220336914) / 39
    assert value_at(t, final, "valid_loss") == pytest.approx(expected)
    assert value_at(t, final, "valid_loss_batch2") == pytest.approx(10.02585220336914)
    assert value_at(t, final, "gzip_median") == 0.1201171875
    assert value_at(t, final, "gzip_std") == pytest.approx(0.0036404038859652005)
    assert value_at(t, f"{FIRST}@step1", "train_loss") == pytest.approx(10.343668937683105)
    valid = t["metrics"].filter(pl.col("metric") == "valid_loss")
    assert valid.height == 150
    assert valid["checkpoint_id"].str.ends_with("@step13").sum() == 30


def _rewrite(path, line, change):
    lines = path.read_bytes().splitlines()
    doc = orjson.loads(lines[line - 1])
    change(doc)
    lines[line - 1] = orjson.dumps(doc)
    path.write_bytes(b"\n".join(lines) + b"\n")


def test_truncated_line_names_file_and_line(tmp_path):
    path = mirror_source(gzip_pcfg.SOURCE, RESULTS, tmp_path)
    lines = path.read_bytes().splitlines()
    lines[6] = lines[6][: len(lines[6]) // 2]
    path.write_bytes(b"\n".join(lines) + b"\n")
    with pytest.raises(MetaError, match=r"results_new\.jsonl, line 7: not valid JSON"):
        gzip_pcfg.load(tmp_path)


def test_negative_token_count_names_file_and_line(tmp_path):
    path = mirror_source(gzip_pcfg.SOURCE, RESULTS, tmp_path)
    _rewrite(path, 3, lambda d: d.update(token_ct=-d["token_ct"]))
    with pytest.raises(MetaError, match=r"results_new\.jsonl, line 3: token_ct is not positive"):
        gzip_pcfg.load(tmp_path)


def test_non_numeric_loss_names_file_and_line(tmp_path):
    path = mirror_source(gzip_pcfg.SOURCE, RESULTS, tmp_path)
    _rewrite(path, 5, lambda d: d["train_loss"].__setitem__(2, "nan"))
    with pytest.raises(MetaError, match=r"results_new\.jsonl, line 5: train_loss is not a number"):
        gzip_pcfg.load(tmp_path)
