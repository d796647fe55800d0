"""`meta ingest runs`: the same runs in every format give the same warehouse; run identity,
options, the dry run, idempotent reloads, and a real W&B export."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

import warehouse
from ingest import LOADERS
from ingest.base import SourceData
from ingest.normalize import normalize
from ingest.runs import RunsOptions, plan_runs
from meta.cli import cli
from tests.runfiles import (
    TOKENS_PER_STEP,
    runs_frame,
    write_long,
    write_mapping,
    write_wandb_charts,
    write_wandb_history,
    write_wide,
)
from warehouse.status import digest

FAMILY_TABLES = ("families", "models", "checkpoints", "metrics", "hyperparameters")
OLMO = "hitchhiker/raw_data/OLMO"


def run(*args: str):
    return CliRunner().invoke(cli, [str(a) for a in args])


def contents(path: Path, tables=FAMILY_TABLES) -> dict:
    con = warehouse.connect(path, read_only=True)
    try:
        d = digest(con)
        return {t: d[t] for t in tables}
    finally:
        con.close()


def sql(path: Path, query: str, params: list | None = None) -> pl.DataFrame:
    con = warehouse.connect(path, read_only=True)
    try:
        return warehouse.query(con, query, params)
    finally:
        con.close()


def load(db: Path, files, *options: str, family: str = "ladder") -> str:
    result = run("ingest", "runs", *files, "--family", family, "--warehouse", db, *options)
    assert result.exit_code == 0, result.output
    return result.stderr


@pytest.fixture
def runs() -> pl.DataFrame:
    return runs_frame()


def test_every_format_gives_the_same_warehouse(tmp_path, runs):
    expected = contents(_loaded(tmp_path, "csv", [write_wide(runs, tmp_path / "runs.csv")]))
    assert [expected[t][0] for t in FAMILY_TABLES] == [1, 12, 144, 288, 48]
    charts = tmp_path / "charts"
    charts.mkdir()
    forms = {
        "tsv": ([write_wide(runs, tmp_path / "runs.tsv")], []),
        "parquet": ([write_wide(runs, tmp_path / "runs.parquet")], []),
        "jsonl": ([write_wide(runs, tmp_path / "runs.jsonl")], []),
        "long csv": ([write_long(runs, tmp_path / "long.csv")], []),
        "long parquet": ([write_long(runs, tmp_path / "long.parquet")], []),
        "wandb history": (
            [write_wandb_history(runs, tmp_path / "history.csv")],
            ["--mapping", write_mapping(runs, tmp_path / "sizes.toml", hyper=False)],
        ),
        "wandb charts": (
            write_wandb_charts(runs, charts),
            ["--mapping", write_mapping(runs, tmp_path / "runs.toml")],
        ),
    }
    for name, (files, options) in forms.items():
        assert contents(_loaded(tmp_path, name, files, *options)) == expected, name


def _loaded(tmp_path: Path, name: str, files, *options) -> Path:
    db = tmp_path / f"{name.replace(' ', '_')}.duckdb"
    load(db, files, *options)
    return db


def test_the_tables_hold_runs_sizes_tokens_and_hyperparameters(tmp_path, runs):
    db = tmp_path / "w.duckdb"
    log = load(db, [write_wide(runs, tmp_path / "runs.csv")])
    assert re.fullmatch(r"runs:ladder: 12 runs, 144 checkpoints, 288 metric values, "
                        r"48 hyperparameters \(\d+\.\d s\)\n", log)
    fam = sql(db, "SELECT * FROM families").row(0, named=True)
    assert fam == {"family": "ladder", "source": "runs:ladder", "model_type": "user",
                   "arch": None, "data": None, "perf_metric": ["val_loss"], "scaled": True,
                   "in_aggregate": False, "original_paper": None, "origin": "user",
                   "target": None}
    model = sql(db, "SELECT * FROM models WHERE model_id = 'runs:ladder/n1e08-lr0.001'")
    assert model.select("num_params", "seed", "max_tokens").row(0) == (
        100_000_000, 1021, 3000.0 * TOKENS_PER_STEP)
    hyper = sql(db, "SELECT name, value, text FROM hyperparameters "
                    "WHERE model_id = 'runs:ladder/n1e08-lr0.001' ORDER BY name")
    assert hyper.rows() == [("batch_size", 512.0, None), ("lr", 0.001, None),
                            ("seed", 1021.0, None), ("warmup", 200.0, None)]
    ck = sql(db, "SELECT * FROM checkpoints WHERE checkpoint_id = "
                 "'runs:ladder/n1e08-lr0.001@step500'").row(0, named=True)
    assert (ck["step"], ck["tokens"], ck["flops"], ck["flops_imputed"]) == (
        500, 500.0 * TOKENS_PER_STEP, 6 * 1e8 * 500 * TOKENS_PER_STEP, True)
    kinds = sql(db, "SELECT metric, kind, count(*) AS n FROM metrics GROUP BY ALL ORDER BY 1")
    assert kinds.rows() == [("train/loss", "loss", 144), ("val_loss", "loss", 144)]
    perf = sql(db, "SELECT count(*) AS n, min(perf) AS lo FROM perf WHERE family = 'ladder'")
    assert perf.row(0) == (144, runs["val_loss"].min())


def test_the_tables_follow_the_conventions_of_normalize(tmp_path, runs):
    """The tables built for speed equal what ``ingest.normalize`` derives from the same rows."""
    plan = plan_runs([write_wide(runs, tmp_path / "runs.csv")], RunsOptions(family="ladder"))
    t = plan.tables
    points = t["metrics"].join(t["checkpoints"], on="checkpoint_id").select(
        "model_id", "step", "tokens", pl.when(~pl.col("flops_imputed")).then("flops")
        .alias("flops"), "metric", "value", "kind", "shots",
        pl.lit("runs.csv").alias("file"), pl.lit(2).alias("row"))
    models = t["models"].select("model_id", "family", "num_params", "seed",
                                pl.lit("runs.csv").alias("file"), pl.lit(2).alias("row"))
    tables = normalize("runs:ladder", SourceData(t["families"], models, points, 1))
    for name in ("checkpoints", "metrics"):
        assert tables[name].sort(tables[name].columns).equals(
            t[name].select(tables[name].columns).sort(tables[name].columns)), name
    assert tables["models"].equals(t["models"].select(tables["models"].columns))


def test_target_and_in_aggregate(tmp_path, runs):
    db = tmp_path / "w.duckdb"
    load(db, [write_wide(runs, tmp_path / "runs.csv")], "--target", "n3e08-lr0.001",
         "--in-aggregate")
    assert sql(db, "SELECT in_aggregate, target FROM families").row(0) == (
        True, "runs:ladder/n3e08-lr0.001")


def test_inferred_runs_start_where_the_step_goes_back_or_the_size_changes(tmp_path, runs):
    # Two runs of one size, then a run of another size that starts at a later step.
    df = pl.DataFrame({"step": [10, 20, 10, 20, 30, 40], "params": [1e6] * 4 + [2e6] * 2,
                       "tokens": [1e7, 2e7, 1e7, 2e7, 3e7, 4e7],
                       "loss": [4.0, 3.5, 4.1, 3.6, 3.2, 3.1]})
    write_wide(df, tmp_path / "sweep.csv")
    db = tmp_path / "w.duckdb"
    load(db, [tmp_path / "sweep.csv"])
    rows = sql(db, "SELECT model_id, num_params, count(*) AS n FROM models JOIN checkpoints "
                   "USING (model_id) GROUP BY ALL ORDER BY model_id").rows()
    assert rows == [("runs:ladder/sweep#1", 1_000_000, 2), ("runs:ladder/sweep#2", 1_000_000, 2),
                    ("runs:ladder/sweep#3", 2_000_000, 2)]


def test_inferred_runs_of_a_long_file_do_not_depend_on_its_sort(tmp_path, runs):
    wide = runs.drop("run")
    long = wide.unpivot(on=["val_loss", "train/loss"], index=[c for c in wide.columns if c not in
                        ("val_loss", "train/loss")], variable_name="metric", value_name="value")
    by_metric = write_wide(long, tmp_path / "runs.parquet")  # all val_loss rows, then train/loss
    by_step = tmp_path / "sorted" / "runs.parquet"
    by_step.parent.mkdir()
    write_wide(long.with_row_index().sort(pl.col("index") % wide.height, "metric").drop("index"),
               by_step)
    a, b = tmp_path / "a.duckdb", tmp_path / "b.duckdb"
    load(a, [by_metric])
    load(b, [by_step])
    assert contents(a) == contents(b)
    assert sql(a, "SELECT count(*) FROM models").item() == 12
    assert sql(a, "SELECT model_id FROM models ORDER BY model_id LIMIT 1").item() == (
        "runs:ladder/runs#1")


def test_run_by_names_runs_by_their_columns(tmp_path, runs):
    db = tmp_path / "w.duckdb"
    load(db, [write_wide(runs.drop("run"), tmp_path / "runs.parquet")], "--run-by", "params,lr")
    names = sql(db, "SELECT model_id FROM models ORDER BY model_id").to_series().to_list()
    assert len(names) == 12
    assert names[:2] == ["runs:ladder/params=10000000,lr=0.0003",
                         "runs:ladder/params=10000000,lr=0.001"]


def test_mapping_file_and_map_name_the_other_columns(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pl.DataFrame({
        "model": ["s", "s", "m", "m"], "size": ["70M", "70M", "160M", "160M"],
        "seen": [1e9, 2e9, 1e9, 2e9], "valid-loss": [3.5, 3.2, 3.3, 3.0],
        "warmup_steps": [100, 100, 200, 200], "sched": ["cosine"] * 4,
        "_runtime": [1.0, 2.0, 3.0, 4.0],
    }).write_csv("runs.csv")
    Path("m.toml").write_text('[columns]\nrun = "model"\nparams = "size"\nschedule = "sched"\n')
    options = ["--mapping", "m.toml", "--map", "tokens=seen", "--map", "warmup=warmup_steps"]
    dry = run("ingest", "runs", "runs.csv", "--family", "pythia-like", "--dry-run",
              "--warehouse", "w.duckdb", *options)
    assert dry.exit_code == 0, dry.output
    lines = dry.stdout.splitlines()
    assert lines[6:15] == [
        "  run identity: run column 'model' (m.toml)",
        "  run      <- model (m.toml)",
        "  params   <- size (m.toml)",
        "  tokens   <- seen (--map)",
        "  flops    <- 6·N·D (derived, flops_imputed)",
        "  loss     <- valid-loss (recognised)",
        "  schedule <- sched (m.toml)",
        "  warmup   <- warmup_steps (--map)",
        "  metrics: valid-loss",
    ]
    assert "  ignored: _runtime (export bookkeeping)" in lines
    assert not Path("w.duckdb").exists()
    load(Path("w.duckdb"), ["runs.csv"], *options, family="pythia-like")
    hyper = sql(Path("w.duckdb"), "SELECT model_id, name, value, text FROM hyperparameters "
                                  "ORDER BY ALL")
    assert hyper.rows() == [
        ("runs:pythia-like/m", "schedule", None, "cosine"),
        ("runs:pythia-like/m", "warmup", 200.0, None),
        ("runs:pythia-like/s", "schedule", None, "cosine"),
        ("runs:pythia-like/s", "warmup", 100.0, None),
    ]
    assert sql(Path("w.duckdb"), "SELECT num_params FROM models ORDER BY 1").to_series(
    ).to_list() == [70_000_000, 160_000_000]


def test_tokens_from_flops_when_there_are_none(tmp_path):
    """An isoFLOP table: size, compute and loss; tokens = C / 6N, FLOPs as given."""
    df = pl.DataFrame({"N": [1e8, 1e8, 4e8], "C": [6e17, 1.2e18, 1.2e18], "loss": [3.1, 3.0, 2.9]})
    db = tmp_path / "w.duckdb"
    load(db, [write_wide(df, tmp_path / "isoflop.csv")])
    rows = sql(db, "SELECT checkpoint_id, tokens, flops, flops_imputed FROM checkpoints "
                   "ORDER BY flops, tokens").rows()
    assert rows == [("runs:ladder/isoflop#1@1000000000tokens", 1e9, 6e17, False),
                    ("runs:ladder/isoflop#2@500000000tokens", 5e8, 1.2e18, False),
                    ("runs:ladder/isoflop#1@2000000000tokens", 2e9, 1.2e18, False)]


def test_a_wandb_run_table_gives_one_checkpoint_per_run(tmp_path, monkeypatch):
    """The runs table of the W&B UI: one row per run, summary values, bookkeeping columns."""
    monkeypatch.chdir(tmp_path)
    Path("runs.csv").write_text(
        "Name,State,Notes,User,Tags,Created,Runtime,Sweep,_step,train/loss,val_loss,lr,n_params,"
        "tokens_per_step\n"
        "r1,finished,,me,,2024-01-01,100,,1000,3.1,3.2,0.001,1e8,1e6\n"
        "r2,finished,,me,,2024-01-02,200,,1000,2.9,3.0,0.001,2e8,1e6\n")
    load(Path("w.duckdb"), ["runs.csv"])
    rows = sql(Path("w.duckdb"), "SELECT checkpoint_id, tokens, perf FROM perf ORDER BY 1").rows()
    assert rows == [("runs:ladder/r1@step1000", 1e9, 3.2), ("runs:ladder/r2@step1000", 1e9, 3.0)]


def test_a_learning_rate_schedule_is_stored_at_its_peak(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    pl.DataFrame({
        "Name": ["r1"] * 4, "_step": [1, 2, 3, 4], "_timestamp": [1.0, 2.0, 3.0, 4.0],
        "train/lr": [1e-4, 6e-4, 3e-4, 1e-4], "train/loss": [5.0, 4.0, 3.5, 3.4],
    }).write_csv("history.csv")
    Path("m.toml").write_text('tokens_per_step = 1024\n[params]\nr1 = "10M"\n')
    load(Path("w.duckdb"), ["history.csv"], "--mapping", "m.toml", "--map", "lr=train/lr")
    assert sql(Path("w.duckdb"), "SELECT name, value FROM hyperparameters").rows() == [
        ("lr", 6e-4)]
    assert sql(Path("w.duckdb"), "SELECT DISTINCT metric, kind FROM metrics ORDER BY 1").rows() \
        == [("train/loss", "loss")]


def test_reloading_is_unchanged_and_a_changed_file_replaces_the_runs(tmp_path, runs):
    db, csv = tmp_path / "w.duckdb", tmp_path / "runs.csv"
    load(db, [write_wide(runs.head(24), tmp_path / "other.csv")], family="other")
    other = sql(db, "SELECT * FROM sources WHERE source = 'runs:other'")
    write_wide(runs, csv)
    load(db, [csv])
    before = contents(db, warehouse.TABLES)
    assert load(db, [csv]) == "runs:ladder: unchanged\n"
    assert contents(db, warehouse.TABLES) == before
    write_wide(runs.filter(pl.col("params") >= 1e8), csv)
    log = load(db, [csv])
    assert log.startswith("runs:ladder: 6 runs, 72 checkpoints, 144 metric values, "
                          "24 hyperparameters (")
    kept = sql(db, "SELECT min(num_params) FROM models WHERE family = 'ladder'").item()
    assert kept == 100_000_000
    assert sql(db, "SELECT count(*) FROM hyperparameters WHERE source = 'runs:ladder'").item() \
        == 24
    assert sql(db, "SELECT count(*) FROM models WHERE family = 'other'").item() == 2
    assert sql(db, "SELECT * FROM sources WHERE source = 'runs:other'").equals(other)
    # Other options are another load: counting the family in the averages reloads it.
    assert "unchanged" not in load(db, [csv], "--in-aggregate")


def test_dry_run_prints_the_plan_and_writes_nothing(tmp_path, runs, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_wide(runs, Path("runs.csv"))
    result = run("ingest", "runs", "runs.csv", "--family", "ladder", "--dry-run",
                 "--warehouse", "w.duckdb")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[:20] == [
        "Dry run: nothing is written.",
        "source  runs:ladder (new; the warehouse does not exist yet)",
        "family  ladder: origin user, in_aggregate false, perf_metric ['val_loss'], target "
        "the studies' default rule",
        "loss    val_loss (recognised; other losses stay metrics: train/loss)",
        "",
        "runs.csv: CSV, wide, 144 rows",
        "  run identity: run column 'run' (recognised)",
        "  run        <- run (recognised)",
        "  params     <- params (recognised)",
        "  tokens     <- tokens (recognised)",
        "  step       <- step (recognised)",
        "  flops      <- 6·N·D (derived, flops_imputed)",
        "  loss       <- val_loss (recognised)",
        "  lr         <- lr (recognised)",
        "  seed       <- seed (recognised)",
        "  batch_size <- batch_size (recognised)",
        "  metrics: val_loss, train/loss",
        "  hyperparameters: lr, seed, batch_size, warmup",
        "",
        "12 runs, 4 sizes, 144 checkpoints, 288 metric values, 48 hyperparameters",
    ]
    assert lines[20].split() == ["run", "num_params", "checkpoints", "first_step", "last_step",
                                 "max_tokens", "final_loss", "lr", "batch_size", "seed"]
    assert lines[22].split()[:3] == ["n1e07-lr0.0003", "10000000", "12"]
    assert len(lines) == 34
    assert not Path("w.duckdb").exists()
    load(Path("w.duckdb"), ["runs.csv"])
    before = contents(Path("w.duckdb"), warehouse.TABLES)
    again = run("ingest", "runs", "runs.csv", "--family", "ladder", "--dry-run",
                "--warehouse", "w.duckdb")
    assert again.stdout.splitlines()[1] == (
        "source  runs:ladder (unchanged: these files and options are what it holds; a load "
        "changes nothing)")
    assert contents(Path("w.duckdb"), warehouse.TABLES) == before


def test_inferred_identity_is_shown_by_the_dry_run(tmp_path, runs):
    write_wide(runs.drop("run"), tmp_path / "sweep.csv")
    result = run("ingest", "runs", tmp_path / "sweep.csv", "--family", "s", "--dry-run",
                 "--warehouse", tmp_path / "w.duckdb")
    assert ("  run identity: inferred: in file order, a new run starts where step goes "
            "backwards or the size changes; runs named sweep#1, sweep#2, ...") in (
        result.stdout.splitlines())
    assert "sweep#12" in result.stdout


def test_a_family_of_another_source_is_refused(tmp_path, runs, data_root):
    db = tmp_path / "w.duckdb"
    assert run("ingest", "chinchilla", "--data-root", data_root, "--warehouse", db).exit_code == 0
    result = run("ingest", "runs", write_wide(runs, tmp_path / "runs.csv"), "--family",
                 "chinchilla", "--warehouse", db)
    assert result.exit_code == 1
    assert result.stderr == ("Error: --family 'chinchilla' is already a family of source "
                             "'chinchilla'; choose another name for your runs.\n")


def test_ingest_keeps_its_usage_and_names_the_runs_subcommand():
    result = run("ingest", "--help")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[0].endswith(" ingest [OPTIONS] [SOURCES]...")
    assert "meta ingest runs FILE... --family NAME" in result.stdout
    assert run("ingest", "runs", "--help").stdout.splitlines()[0].endswith(
        " ingest runs [OPTIONS] FILES...")
    assert "runs" not in LOADERS
    unknown = run("ingest", "nosuch", "--data-root", ".", "--warehouse", "w.duckdb")
    assert unknown.stderr.startswith("Error: Unknown source 'nosuch'. Known sources: ")


def test_a_real_wandb_chart_export_loads_with_a_size_mapping(tmp_path, data_root):
    """Two of OLMo's W&B chart exports (read in place): OLMo-1B's pile loss (a group) and
    OLMo-7B's ice loss (36 restarts of one training, each a W&B run)."""
    files = [data_root / OLMO / "wandb_export_2024-02-23T15_16_28.655-05_00.csv",
             data_root / OLMO / "wandb_export_2024-02-23T14_58_09.703-05_00.csv"]
    runs = sorted({c.split(" - ")[0].removeprefix("Group: ")
                   for f in files for c in pl.read_csv(f, n_rows=0).columns if " - " in c})
    sizes = "\n".join(f'"{r}" = "{"1.2B" if "1B" in r else "6.9B"}"' for r in runs)
    mapping = tmp_path / "olmo.toml"
    mapping.write_text(f"tokens_per_step = 4194304\n[params]\n{sizes}\n")
    db = tmp_path / "w.duckdb"
    load(db, files, "--mapping", mapping, family="olmo-wandb")
    assert sql(db, "SELECT perf_metric FROM families").item().to_list() == [
        "eval/pile/CrossEntropyLoss"]
    models = sql(db, "SELECT num_params, count(*) AS n FROM models GROUP BY 1 ORDER BY 1").rows()
    assert models == [(1_200_000_000, 1), (6_900_000_000, len(runs) - 1)]
    first = sql(db, "SELECT c.step, c.tokens, x.value, x.kind FROM checkpoints c JOIN metrics x "
                    "USING (checkpoint_id) WHERE c.model_id = 'runs:olmo-wandb/OLMo-1B' "
                    "ORDER BY c.step LIMIT 1").row(0)
    assert first == (1000, 1000 * 4194304.0, 3.9241786003112793, "loss")
    assert sql(db, "SELECT count(*) FROM metrics WHERE metric LIKE '%__MIN' OR "
                   "metric LIKE '%__MAX'").item() == 0
