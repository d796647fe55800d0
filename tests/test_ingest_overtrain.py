"""Over-training testbed (Gadre et al. 2024): counts, families, known values, D = 20·M·N."""

import polars as pl
import pytest

from ingest.normalize import normalize
from ingest.overtrain import SOURCE, load
from ingest.parse import parse_size
from tests.conftest import DATA_ROOT, load_tables, mirror_source, value_at
from warehouse.errors import MetaError

SEVEN_B = "overtrain/rpj-open_lm_7b-1.0"


def _models() -> pl.DataFrame:
    """Models with their one checkpoint's tokens and the multiplier parsed from the name."""
    t = load_tables("overtrain")
    return t["models"].join(t["checkpoints"], on="model_id").with_columns(
        mult=pl.col("model_id").str.extract(r"-([0-9.]+)$").cast(pl.Float64)
    )


def test_counts():
    t = load_tables("overtrain")
    assert t["models"].height == 104
    assert t["checkpoints"].height == 104  # final checkpoints only
    # 8 losses + 46 tasks per model, and 4 centred aggregates in 3 files
    assert t["metrics"].height == 104 * (8 + 46) + 12
    per_data = dict(t["models"].group_by("data").len().iter_rows())
    assert per_data == {"C4": 34, "RedPajama": 35, "RefinedWeb": 35}
    assert t["metrics"].filter(pl.col("kind") == "acc")["metric"].n_unique() == 46


def test_families_follow_colpret():
    t = load_tables("overtrain")
    fams = t["families"].sort("family")
    assert fams["family"].to_list() == [
        "overtrain-C4", "overtrain-C4-rest", "overtrain-RedPajama", "overtrain-RedPajama-rest",
        "overtrain-RefinedWeb", "overtrain-RefinedWeb-rest",
    ]
    assert fams.filter("scaled")["family"].to_list() == [
        "overtrain-C4", "overtrain-RedPajama", "overtrain-RefinedWeb"
    ]
    assert all(p == ["loss_c4_val"] for p in fams["perf_metric"].to_list())
    m = _models()
    # ColPret keeps the largest multiplier per (data, size); C4 has no 411M run at 32x.
    c4 = m.filter(pl.col("family") == "overtrain-C4").sort("num_params")
    assert c4["mult"].to_list() == [32.0, 32.0, 32.0, 16.0, 4.0, 1.0]
    rpj = m.filter(pl.col("family") == "overtrain-RedPajama").sort("num_params")
    assert rpj["mult"].to_list() == [32.0, 32.0, 32.0, 32.0, 32.0, 1.0]
    rw = m.filter(pl.col("family") == "overtrain-RefinedWeb").sort("num_params")
    assert rw["mult"].to_list() == [32.0, 32.0, 32.0, 32.0, 16.0, 1.0]
    sizes = m.group_by("family").agg(pl.col("num_params").n_unique())
    assert set(sizes.filter(pl.col("family").str.ends_with("-rest"))["num_params"]) == {5}


def test_tokens_are_20_m_n_and_sizes_exact():
    m = _models()
    assert m.height == 104
    assert (m["tokens"] == m["num_params"] * 20 * m["mult"]).all()
    assert set(m["num_params"]) == {
        10569312, 78914048, 153677376, 411616256, 1439795200, 6889410560
    }
    assert m["flops_imputed"].all()
    assert (m["flops"] == 6 * m["num_params"] * m["tokens"]).all()
    assert set(m["seed"]) == {124}
    # ColPret's nominal size, one tag per model, within 5% of the exact count
    assert (m["tags"].list.len() == 1).all()
    nominal = [parse_size(t[0].removeprefix("nominal-params="), "", None, "") for t in m["tags"]]
    assert all(abs(n / p - 1) < 0.05 for n, p in zip(nominal, m["num_params"], strict=True))


def test_known_values():
    t = load_tables("overtrain")
    cp = f"{SEVEN_B}@{20 * 6889410560}tokens"
    assert value_at(t, cp, "loss_c4_val") == pytest.approx(2.425, abs=5e-4)
    assert value_at(t, cp, "loss_paloma_redpajama") == pytest.approx(1.886, abs=5e-4)
    assert value_at(t, cp, "loss_openlm") == pytest.approx(1.900, abs=5e-4)
    tags = t["models"].filter(pl.col("model_id") == SEVEN_B)["tags"].to_list()
    assert tags == [["nominal-params=6.9B"]]
    assert parse_size(tags[0][0].removeprefix("nominal-params="), "", None, "") == 6.9e9
    assert value_at(t, cp, "acc_arc_easy") == pytest.approx(0.6809764504432678)
    row = t["metrics"].filter(
        (pl.col("checkpoint_id") == cp) & (pl.col("metric") == "acc_hellaswag_zeroshot")
    ).row(0, named=True)
    assert (row["kind"], row["task"], row["shots"]) == ("acc", "hellaswag", 0)
    # stderr from the sequence-level 95% interval (1.8410868 .. 1.9586137 for openlm)
    se = t["metrics"].filter(
        (pl.col("checkpoint_id") == cp) & (pl.col("metric") == "loss_openlm")
    )["stderr"][0]
    assert se == pytest.approx((1.9586136563618977 - 1.8410868485768637) / 3.919927969)


def test_matches_parse_model_jsons_output():
    """ColPret's overtrain_downstreams.csv is parse_model_jsons over these files: same numbers."""
    ref = pl.read_csv(DATA_ROOT / "hitchhiker/raw_data/overtrain/overtrain_downstreams.csv")
    t = load_tables("overtrain")
    wide = (
        t["metrics"].join(t["checkpoints"].select("checkpoint_id", "model_id"), on="checkpoint_id")
        .with_columns(name=pl.col("model_id").str.strip_prefix("overtrain/"))
        .pivot(on="metric", index="name", values="value")
    )
    both = ref.join(wide, on="name", how="inner")
    assert both.height == 104
    for col in [c for c in ref.columns if c.startswith("loss_") and "_upper_" not in c
                and "_lower_" not in c]:
        assert (both[col] - both[f"{col}_right"]).abs().max() < 1e-12, col
    for col in [c for c in ref.columns if c.startswith("err_") and not c.startswith("err_avg")]:
        acc = f"acc_{col.removeprefix('err_')}"
        assert (both[col] - (1 - both[acc])).abs().max() < 1e-12, col


def _copy(tmp_path):
    return mirror_source(SOURCE, "overtrain/exp_data/models/rpj-open_lm_7b-1.0.json", tmp_path)


def test_non_numeric_params_names_file_and_line(tmp_path):
    path = _copy(tmp_path)
    text = path.read_text()
    line = text[: text.index('"params":')].count("\n") + 1
    path.write_text(text.replace('"params": 6889410560', '"params": "6.9B"'))
    with pytest.raises(MetaError, match=rf"rpj-open_lm_7b-1\.0\.json, line {line}: params"):
        load(tmp_path)


def test_negative_tokens_names_file_and_line(tmp_path):
    path = _copy(tmp_path)
    text = path.read_text()
    path.write_text(text.replace('"tokens": 137788211200', '"tokens": -137788211200'))
    first_loss = text[: text.index('"loss":')].count("\n") + 1
    with pytest.raises(MetaError, match=rf"rpj-open_lm_7b-1\.0\.json, line {first_loss}: tokens"):
        normalize("overtrain", load(tmp_path))


def test_truncated_json_names_file_and_line(tmp_path):
    path = _copy(tmp_path)
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(MetaError, match=r"rpj-open_lm_7b-1\.0\.json, line \d+: not valid JSON"):
        load(tmp_path)


def test_chance_levels_from_eval_metadata():
    """Every task's "Random baseline" is kept (as a fraction): each of the 46 accuracies has
    one, the free-form tasks at 0."""
    t = load_tables("overtrain")
    chance = dict(t["task_chance"].select("task", "chance").iter_rows())
    assert chance["hellaswag"] == 0.25 and chance["piqa"] == 0.5 and chance["jeopardy"] == 0.0
    tasks = set(t["metrics"].filter(pl.col("kind") == "acc")["task"])
    assert len(tasks) == 44 and tasks <= set(chance)  # hellaswag and mmlu at two shot counts
    assert t["task_chance"]["source"].unique().to_list() == ["overtrain"]
