"""Pythia evals (EleutherAI/pythia evals/ @ 0931c9a5): counts, tokens, known values, quirks."""

import inspect
import shutil
import time
from pathlib import Path

import orjson
import polars as pl
import pytest

from ingest import pythia
from ingest.run import fingerprint
from tests.conftest import DATA_ROOT, load_tables, mirror_source, value_at
from warehouse.errors import BadRow, MetaError

LAMBADA, WIKITEXT = "lambada_openai ppl", "wikitext word_perplexity"


def _lambada(t, checkpoint_id: str, shots: int = 0) -> float:
    m = t["metrics"].filter(
        (pl.col("checkpoint_id") == checkpoint_id)
        & (pl.col("metric") == LAMBADA)
        & (pl.col("shots") == shots)
    )
    assert m.height == 1, f"{checkpoint_id}: {m.height} rows"
    return m["value"][0]


def test_counts():
    t = load_tables("pythia")
    # 60 trained networks (SOURCE.md) + 8 baseline re-evaluations (4 v1, 4 v0) of deduped networks
    assert t["models"].height == 68
    assert t["families"].height == 15
    assert t["checkpoints"].height == 1095
    assert t["metrics"].height == 209338
    per_family = t["models"].group_by("family").len()
    scaled3 = sorted(per_family.filter(pl.col("len") >= 3)["family"])
    assert scaled3 == [
        "bloom", "opt-final", "pythia", "pythia-0.5MtokBS", "pythia-baseline-deduped",
        "pythia-baseline-deduped-v0", "pythia-deduped", "pythia-deduped-v0",
        "pythia-intervention-deduped", "pythia-intervention-deduped-v0", "pythia-v0",
    ]
    sizes = dict(per_family.iter_rows())
    assert sizes["pythia"] == sizes["pythia-deduped"] == sizes["pythia-v0"] == 8
    assert sizes["opt-final"] == 8 and sizes["bloom"] == 5
    steps = t["checkpoints"].group_by("model_id").len()
    assert steps.filter(pl.col("model_id") == "pythia/pythia-70m")["len"][0] == 27
    assert steps.filter(pl.col("model_id") == "pythia/pythia-70m-v0")["len"][0] == 15


def test_known_values():
    t = load_tables("pythia")
    assert _lambada(t, "pythia/pythia-70m@step143000") == pytest.approx(142.43, abs=0.01)
    assert _lambada(t, "pythia/pythia-70m@step0") == pytest.approx(3.684e6, rel=1e-3)
    assert _lambada(t, "pythia/pythia-12b@step143000") == pytest.approx(3.924, abs=1e-3)
    assert _lambada(t, "pythia/opt-66b@300000000000tokens") == pytest.approx(3.288, abs=1e-3)
    assert _lambada(t, "pythia/bloom-7b1@341000000000tokens") == pytest.approx(6.620, abs=1e-3)
    assert _lambada(t, "pythia/pythia-12b-v0@step123000") == pytest.approx(3.975, abs=1e-3)
    wikitext = value_at(t, "pythia/pythia-12b-v0@step123000", WIKITEXT)
    assert wikitext == pytest.approx(11.49, abs=5e-3)
    # 0- and 5-shot evaluations are one checkpoint; shots tells them apart.
    assert _lambada(t, "pythia/pythia-70m@step143000", shots=5) == pytest.approx(319.64, abs=0.01)
    # stderr is a column, not a metric
    row = t["metrics"].filter(
        (pl.col("checkpoint_id") == "pythia/pythia-70m@step143000") & (pl.col("metric") == LAMBADA)
        & (pl.col("shots") == 0)
    ).row(0, named=True)
    assert row["stderr"] == pytest.approx(6.0438, abs=1e-4)
    assert (row["kind"], row["task"]) == ("ppl", "lambada_openai")
    assert not t["metrics"]["metric"].str.ends_with("_stderr").any()


def test_tokens_use_each_runs_batch():
    c = load_tables("pythia")["checkpoints"].select("checkpoint_id", "step", "tokens")
    tokens = dict(zip(c["checkpoint_id"], c["tokens"], strict=True))
    assert tokens["pythia/pythia-410m-v0@step71500"] == 71500 * 4_194_304  # v0 4M batch
    assert tokens["pythia/pythia-baseline-1.4b-deduped-v0@step71500"] == 71500 * 4_194_304
    assert tokens["pythia/pythia-70m-v0@step143000"] == 143000 * 2_097_152
    assert tokens["pythia/pythia-410m@step143000"] == 143000 * 2_097_152
    assert tokens["pythia/pythia-70m-0.25MtokBS@step1144000"] == 1144000 * 262_144
    assert tokens["pythia/pythia-1.4b-1MtokBS@step286000"] == 286000 * 1_048_576
    assert tokens["pythia/pythia-70m@step0"] == 0  # step 0 kept (ColPret drops it)
    assert tokens["pythia/opt-66b@300000000000tokens"] == 300e9


def test_families_and_perf_metrics():
    f = load_tables("pythia")["families"]
    perf = dict(zip(f["family"], f["perf_metric"].to_list(), strict=True))
    assert perf["pythia"] == [LAMBADA]
    assert perf["pythia-v0"] == perf["pythia-deduped-v0"] == [LAMBADA, WIKITEXT]
    assert perf["pythia-0.5MtokBS"] == []  # batch-size runs were evaluated 5-shot only
    assert "OPT" not in perf  # the `opt` source owns OPT


def test_quirks_fixed():
    t = load_tables("pythia")
    models = t["models"]
    params = dict(zip(models["model_id"], models["num_params"], strict=True))
    # old v0 names renamed: the bias-study 19m/1.3b/6.7B runs carry the new sizes
    assert params["pythia/pythia-baseline-70m-deduped-v0"] == 70_000_000
    assert params["pythia/pythia-long-intervention-1.4b-deduped-v0"] == 1_400_000_000
    assert params["pythia/pythia-baseline-6.9b-deduped-v0"] == 6_900_000_000
    # the v0-era 6.7B baseline no longer lands in v1's pythia-6.9b-deduped
    v1 = t["checkpoints"].filter(pl.col("model_id") == "pythia/pythia-6.9b-deduped")
    assert v1.height == 27
    # long and short 1.4b interventions are two models
    ckpts = t["checkpoints"].group_by("model_id").len()
    n = dict(zip(ckpts["model_id"], ckpts["len"], strict=True))
    assert n["pythia/pythia-intervention-1.4b-deduped"] == 10
    assert n["pythia/pythia-long-intervention-1.4b-deduped"] == 30
    # v0 160m "five-shot" files are 0-shot: no 5-shot rows, one value per 0-shot metric
    m = t["metrics"].filter(pl.col("checkpoint_id").str.starts_with("pythia/pythia-160m-v0@"))
    assert m["shots"].unique().to_list() == [0]
    # v0 70m step 123000 was evaluated twice: one kept
    assert _lambada(t, "pythia/pythia-70m-v0@step123000") == pytest.approx(91.503, abs=1e-3)
    flag = models.filter(pl.col("model_id") == "pythia/pythia-70m-v0")["flag"][0]
    assert "kept the latest" in flag
    # the misnamed v1 1b-bf16-5shot files are 0-shot checkpoints of pythia-1b
    assert _lambada(t, "pythia/pythia-1b@step128") > 0


def test_winobias_belongs_to_intervention_runs():
    m = load_tables("pythia")["metrics"]
    em = "wino_bias_type1_anti-refers_to em"
    a = value_at({"metrics": m}, "pythia/pythia-intervention-410m-deduped@step134000", em)
    b = value_at({"metrics": m}, "pythia/pythia-baseline-410m-deduped@step134000", em)
    assert a == pytest.approx(0.328283, abs=1e-6)
    assert b == pytest.approx(0.045455, abs=1e-6)
    # v0 intervention WinoBias, whose step is only in model_args.iteration
    assert value_at(
        {"metrics": m}, "pythia/pythia-intervention-70m-deduped-v0@step135000",
        "wino_bias_type1_pro-refers_to em",
    ) == pytest.approx(0.007576, abs=1e-6)
    assert set(m.filter(pl.col("metric").str.ends_with(" em"))["kind"]) == {"em"}


def test_one_revision_per_checkpoint():
    points = pythia.load(DATA_ROOT).points
    per_checkpoint = points.group_by("model_id", "step").agg(pl.col("revision").n_unique())
    assert (per_checkpoint["revision"] == 1).all()
    c = load_tables("pythia")["checkpoints"]
    revision = dict(zip(c["checkpoint_id"], c["revision"], strict=True))
    # the HF revision of the v1 file, not the bias-evals file's none or NeoX path
    assert revision["pythia/pythia-long-intervention-1.4b-deduped@step134000"] == (
        "EleutherAI/intervention-pythia-v1.1-1.4b-deduped-long@step134000"
    )
    assert revision["pythia/pythia-baseline-6.9b-deduped@step137000"] == (
        "EleutherAI/pythia-v1.1-6.9b-deduped@step137000"
    )
    # two NeoX paths: that of the first file in path order (bias-evals/ before pythia-v0/)
    assert revision["pythia/pythia-baseline-70m-deduped-v0@step113000"] == (
        "/fsx/hailey/pythia/ckpts/19M_dedup/global_step113000"
    )
    assert revision["pythia/opt-66b@300000000000tokens"] == "facebook/opt-66b"


def test_load_is_fast():
    start = time.perf_counter()
    pythia.load(DATA_ROOT)
    assert time.perf_counter() - start < 15


V1 = "pythia/evals/pythia-v1/pythia-70m/zero-shot/70m_step143000.json"
V0 = ("pythia/evals/pythia-v0/pythia-410m/zero-shot/"
      "pythia-410m-0shot-global_step71500_eval_results_12-30-2022-21-51-27.json")
OPT = "pythia/evals/opt/opt-66b.json"


@pytest.fixture
def small_root(tmp_path: Path) -> Path:
    """A data root holding three of the real files at their real paths."""
    for rel in (V1, V0, OPT):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(DATA_ROOT / rel, tmp_path / rel)
    return tmp_path


def test_small_copy_loads(small_root: Path):
    data = pythia.load(small_root)
    assert data.n_files == 3
    assert sorted(data.models["model_id"]) == [
        "pythia/opt-66b", "pythia/pythia-410m-v0", "pythia/pythia-70m",
    ]
    tokens = data.points.filter(pl.col("model_id") == "pythia/pythia-410m-v0")["tokens"]
    assert tokens.unique().to_list() == [71500 * 4_194_304]


def test_truncated_file_names_it(small_root: Path):
    path = small_root / V1
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(MetaError, match=rf"^{V1}, line \d+: not valid JSON"):
        pythia.load(small_root)


def test_non_numeric_value_names_file(small_root: Path):
    doc = orjson.loads((small_root / OPT).read_bytes())
    doc["results"]["lambada_openai"]["ppl"] = "n/a"
    (small_root / OPT).write_bytes(orjson.dumps(doc))
    with pytest.raises(BadRow, match=f"^{OPT}: lambada_openai ppl is not a number"):
        pythia.load(small_root)


def test_step_disagreeing_with_config_is_an_error(small_root: Path):
    (small_root / V0).rename(small_root / V0.replace("step71500", "step70500"))
    with pytest.raises(BadRow, match="step 70500 in the name, 71500 in model_args"):
        pythia.load(small_root)


def test_unknown_layout_is_an_error(small_root: Path):
    stray = small_root / "pythia/evals/pythia-v1/pythia-70m/zero-shot/notes.json"
    stray.write_text("{}")
    with pytest.raises(BadRow, match="notes.json: path matches none of the layouts"):
        pythia.load(small_root)


REPEAT = ("pythia/evals/pythia-v0/pythia-1.4b-deduped/five-shot/"
          "pythia-1.4b-deduped-5shot-global_step11500_eval_results_12-30-2022-03-48-08.json")


def test_a_damaged_repeat_is_named_although_it_is_dropped(tmp_path: Path):
    """A five-shot-folder file that is 0-shot by its config repeats a zero-shot file and is
    dropped; its values are still checked, so damage there does not pass unseen."""
    path = mirror_source(pythia.SOURCE, REPEAT, tmp_path)
    assert pythia.load(tmp_path).models.height == 68  # the repeat is dropped, as upstream
    path.write_bytes(path.read_bytes().replace(b'"acc": 0.21', b'"acc": -0.21', 1))
    with pytest.raises(BadRow) as e:
        pythia.load(tmp_path)
    assert str(e.value) == (
        f"{REPEAT}: hendrycksTest-elementary_mathematics acc is -0.214286, but an accuracy "
        "(kind acc) is between 0 and 1"
    )


def test_chance_levels_of_the_accuracy_tasks():
    """Each lm-eval task scored by accuracy has its chance level: 1 / its answer choices."""
    t = load_tables("pythia")
    chance = dict(t["task_chance"].select("task", "chance").iter_rows())
    assert (chance["arc_easy"], chance["piqa"], chance["lambada_openai"]) == (0.25, 0.5, 0.0)
    assert chance["hendrycksTest-anatomy"] == 0.25 and chance["blimp_passive_1"] == 0.5
    tasks = set(t["metrics"].filter(pl.col("kind") == "acc")["task"])
    assert tasks == set(chance)


def test_a_change_of_the_file_reading_code_reloads_the_source(monkeypatch):
    """The content hash covers the modules named in the loader's CODE_MODULES, as the loader."""
    before = fingerprint("pythia", DATA_ROOT).digest
    source = inspect.getsource
    monkeypatch.setattr(inspect, "getsource", lambda module: source(module) + (
        "# changed" if module.__name__ == "ingest.pythia_files" else ""))
    assert fingerprint("pythia", DATA_ROOT).digest != before
