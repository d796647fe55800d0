"""A user's runs in the studies: a learning-rate sweep reduced to its best runs, the named
target, and no mixing into the paper's macro averages unless asked."""

from __future__ import annotations

import pytest

import analyses.hitchhiker.run as run
import warehouse
from analyses.hitchhiker import tables
from ingest.run import ingest
from ingest.runs.load import ingest_runs
from ingest.runs.options import RunsOptions
from tests.runsdata import sweep_rows
from warehouse.sql import query


@pytest.fixture(scope="module")
def user_db(tmp_path_factory, data_root):
    folder = tmp_path_factory.mktemp("user")
    con = warehouse.connect(folder / "w.duckdb")
    ingest(con, ["gpt3"], data_root)
    path = folder / "mine.csv"
    rows = sweep_rows(checkpoints=12)
    # 1,000 tokens per parameter: the runs pass the Hitchhiker 10B-token cut
    rows.with_columns(tokens=rows["tokens"] * 50).write_csv(path)
    ingest_runs(con, [path], RunsOptions(family="mine"))
    yield con
    con.close()


def test_the_family_is_a_user_family_out_of_the_averages(user_db):
    row = query(user_db, "SELECT origin, in_aggregate, target FROM families "
                         "WHERE family = 'mine'").row(0, named=True)
    assert row == {"origin": "user", "in_aggregate": False, "target": None}
    lr = query(user_db, "SELECT DISTINCT value FROM hyperparameters WHERE name = 'lr' "
                        "ORDER BY value")["value"].to_list()
    assert lr == [1e-3, 3e-3, 1e-2]


def test_fit_all_uses_each_sweeps_best_run_and_never_the_target_size(user_db):
    run.fit_all(user_db, studies=["num-models"], estimators=["huber-lbfgs"])
    laws = query(user_db, "SELECT train_spec FROM laws WHERE family = 'mine'")
    assert laws.height > 0
    for spec in laws["train_spec"]:
        assert spec["target"] == "runs:mine/n3e+08-lr0.003"  # the largest size's best run
        assert all(m.endswith("-lr0.003") and not m.startswith("runs:mine/n3e+08")
                   for m in spec["models"])
    assert max(len(s["models"]) for s in laws["train_spec"]) == 3  # all smaller sizes
    # the macro heatmap is the public one: the same without the user family's laws
    heat = tables.macro_heatmap(user_db, "num-models", "huber-lbfgs")
    user_db.execute("BEGIN TRANSACTION")
    user_db.execute("DELETE FROM laws WHERE family = 'mine'")
    public = tables.macro_heatmap(user_db, "num-models", "huber-lbfgs")
    user_db.execute("ROLLBACK")
    assert heat.equals(public) and heat["are"].drop_nulls().len() > 0
    scored = query(user_db, "SELECT count(*) AS n FROM are WHERE family = 'mine' "
                            "AND are IS NOT NULL")["n"][0]
    assert scored > 0  # the user family's laws are there and scored, only not averaged


def test_a_named_target_is_the_studies_target(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    path = tmp_path / "mine.csv"
    sweep_rows().write_csv(path)
    ingest_runs(con, [path], RunsOptions(family="mine", target="n3e+08-lr0.01"))
    family = run.load_families(con, ["mine"])[0]
    assert family.target == "runs:mine/n3e+08-lr0.01"
    assert "runs:mine/n3e+08-lr0.01" in family.model_ids  # kept although not the best
    con.close()
