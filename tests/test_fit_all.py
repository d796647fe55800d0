"""`meta fit-all` and `meta fit` on a small real warehouse: every law a row, resumable,
atomic per chunk, stale laws replaced."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import analyses.hitchhiker.fitting as fitting
import analyses.hitchhiker.run as run
import warehouse
from ingest.run import ingest
from meta.cli import cli
from tests.conftest import copy_of
from warehouse.laws import without_a_fit
from warehouse.sql import one

STUDIES = ["num-models", "baselines", "leave-one-out"]


@pytest.fixture(scope="module")
def source_db(tmp_path_factory, data_root):
    path = tmp_path_factory.mktemp("fit") / "w.duckdb"
    con = warehouse.connect(path)
    ingest(con, ["t5-pile", "gpt3", "chinchilla"], data_root)
    con.close()
    return path


@pytest.fixture
def db(source_db, tmp_path):
    with warehouse.connect(copy_of(source_db, tmp_path)) as con:
        yield con


def law_ids(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT law_id FROM laws").fetchall()}


def test_every_planned_law_is_a_row(db):
    planned, skipped = run.plan(run.load_families(db), STUDIES, None)
    result = run.fit_all(db, studies=STUDIES)
    assert result.fitted == len(planned) > 100 and skipped == []
    assert law_ids(db) == {p.law_id for p in planned}
    statuses = {r[0] for r in db.execute("SELECT DISTINCT status FROM laws").fetchall()}
    assert statuses <= {"ok", "at_bound", "max_iter", "nan_objective", "too_few_points",
                        "nan_prediction"}
    assert one(db, "SELECT count(*) FROM laws WHERE status = 'too_few_points'")[0] > 0
    # a failed law has NULL predictions and a NULL ARE, never a crash
    assert one(db, """SELECT count(*) FROM are JOIN laws USING (law_id)
                      WHERE status = 'too_few_points' AND are IS NOT NULL""")[0] == 0


def test_are_is_the_mean_relative_error_of_the_test_rows(db):
    run.fit_all(db, studies=["num-models"], estimators=["huber-lbfgs"], families=["t5-pile"])
    law, are = one(db, "SELECT law_id, are FROM are WHERE are IS NOT NULL LIMIT 1")
    rows = db.execute(
        "SELECT predicted, actual FROM predictions WHERE law_id = ?", [law]
    ).fetchall()
    assert are == pytest.approx(sum(abs(a - p) / a for p, a in rows) / len(rows))
    # actual is the perf of the target's last 30% (t5-pile: log2 of val_perplexity)
    n, lo = one(db, """SELECT count(*), min(c.tokens / m.max_tokens) FROM predictions p
                       JOIN checkpoints c USING (checkpoint_id) JOIN models m USING (model_id)
                       WHERE law_id = ?""", [law])
    assert n == len(rows) and lo >= 0.7


def test_second_run_resumes(db):
    first = run.fit_all(db, studies=STUDIES)
    before = law_ids(db)
    second = run.fit_all(db, studies=STUDIES)
    assert second.fitted == 0 and second.resumed == first.fitted
    assert law_ids(db) == before


def test_interrupted_run_keeps_finished_chunks(db, monkeypatch):
    monkeypatch.setattr(fitting, "CHUNK", 20)
    real_write = run.write_laws
    calls = []

    def write_then_stop(con, laws, predictions):
        if len(calls) == 2:
            raise KeyboardInterrupt
        calls.append(1)
        real_write(con, laws, predictions)

    monkeypatch.setattr(run, "write_laws", write_then_stop)
    with pytest.raises(KeyboardInterrupt):
        run.fit_all(db, studies=["num-models"], families=["gpt3"])
    assert len(law_ids(db)) == 40
    assert one(db, "SELECT count(*) FROM predictions WHERE law_id NOT IN "
                   "(SELECT law_id FROM laws)")[0] == 0
    monkeypatch.setattr(run, "write_laws", real_write)
    rest = run.fit_all(db, studies=["num-models"], families=["gpt3"])
    assert rest.resumed == 40 and rest.fitted > 0


def test_laws_on_changed_data_are_replaced(db):
    run.fit_all(db, studies=["num-models"], families=["t5-pile"])
    n = len(law_ids(db))
    db.execute("""UPDATE metrics SET value = value * 1.001 WHERE checkpoint_id =
                  (SELECT checkpoint_id FROM perf WHERE family = 't5-pile'
                   ORDER BY tokens DESC, checkpoint_id LIMIT 1)""")
    result = run.fit_all(db, studies=["num-models"], families=["t5-pile"])
    assert result.stale == n and result.fitted == n and result.resumed == 0
    assert one(db, "SELECT count(DISTINCT data_hash) FROM laws")[0] == 1


def test_law_ids_depend_on_data_alone(db):
    """A changed source hash (new loader code, a migration) keeps every law; so does a
    reload of the same rows."""
    run.fit_all(db, studies=["num-models"], families=["t5-pile"])
    before = law_ids(db)
    db.execute("UPDATE sources SET content_hash = 'new code' WHERE source = 't5-pile'")
    result = run.fit_all(db, studies=["num-models"], families=["t5-pile"])
    assert result.stale == 0 and result.fitted == 0 and law_ids(db) == before


def test_cli_fit_all_and_fit(source_db, tmp_path):
    path = copy_of(source_db, tmp_path)
    r = CliRunner().invoke(cli, ["fit-all", "--study", "num-models", "--family", "t5-pile",
                                 "--jobs", "2", "--no-report", "--warehouse", str(path)])
    assert r.exit_code == 0, r.output
    assert "laws fitted" in r.stderr and r.stdout == ""
    r = CliRunner().invoke(cli, ["fit", "--family", "t5-pile", "--where", "tokens > 1e10",
                                 "--grid", "small", "--json", "--warehouse", str(path)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert set(doc["params"]) == {"E", "A", "B", "alpha", "beta"}
    assert doc["status"] in ("ok", "at_bound") and doc["objective"] >= 0
    r = CliRunner().invoke(cli, ["fit-all", "--study", "nope", "--warehouse", str(path)])
    assert r.exit_code == 1 and "Unknown study 'nope'" in r.stderr
    r = CliRunner().invoke(cli, ["fit-all", "--family", "nope", "--warehouse", str(path)])
    assert r.exit_code == 1
    assert r.stderr == "Error: Unknown family 'nope'. 'meta status --families' lists them.\n"
    r = CliRunner().invoke(cli, ["fit-all", "--study", "num-models", "--family", "t5-pile",
                                 "--no-report", "--warehouse", str(path)])
    assert "--verbose names them" in r.stderr and "left out" not in r.stderr
    r = CliRunner().invoke(cli, ["fit-all", "--study", "num-models", "--family", "t5-pile",
                                 "--no-report", "-v", "--warehouse", str(path)])
    assert r.exit_code == 0, r.output
    # t5-pile's 4 checkpoints at 0 tokens never reach a fit
    assert "  t5-pile: 4 points left out (a non-positive size or tokens" in r.stderr


def test_a_study_in_which_no_law_fits_is_named(db):
    run.fit_all(db, studies=["num-models", "one-model"], families=["t5-pile"])
    ids = law_ids(db)
    assert without_a_fit(db, ids) == []
    db.execute("UPDATE laws SET status = 'too_few_points' WHERE study = 'one-model'")
    assert without_a_fit(db, ids) == ["t5-pile: one-model (too_few_points)"]
    db.execute("UPDATE laws SET status = 'too_few_points' WHERE study = 'num-models'")
    assert without_a_fit(db, ids) == ["t5-pile: num-models, one-model (too_few_points)"]
    assert without_a_fit(db, []) == []


def test_chunks_cap_laws_and_padded_points():
    from types import SimpleNamespace

    import numpy as np

    def law(points, form="chinchilla", estimator="huber-lbfgs", settings=None):
        spec = SimpleNamespace(form=form, train=np.zeros(points, dtype=int))
        return SimpleNamespace(spec=spec, estimator=estimator, settings=settings or {})

    laws = ([law(10)] * 300 + [law(40_000)] * 13 + [law(50, estimator="curvefit-hitchhiker")]
            + [law(3, estimator="curvefit-hitchhiker", settings={"min_points": 1})])
    chunks = fitting.chunked(laws)
    assert sorted(map(len, chunks)) == [1, 1, 1, 6, 6, 50, 250]  # 40k-point laws: 6 a chunk
    assert all(len({(p.spec.form, p.estimator, str(p.settings)) for p in c}) == 1
               for c in chunks)
    for c in chunks:
        assert len(c) <= fitting.CHUNK
        assert len(c) == 1 or len(c) * max(p.spec.train.size for p in c) <= fitting.CHUNK_POINTS
    assert sum(map(len, chunks)) == len(laws)


def test_laws_the_plan_no_longer_makes_are_removed_in_scope_only(db):
    run.fit_all(db, studies=["num-models"], estimators=["huber-lbfgs"], families=["t5-pile"])
    planned = law_ids(db)
    # an old law of the same study (a protocol change since) and one of another study
    for law_id, study in (("old-num-models", "num-models"), ("old-windows", "windows")):
        db.execute("INSERT INTO laws SELECT * REPLACE (? AS law_id, ? AS study) FROM laws "
                   "LIMIT 1", [law_id, study])
        db.execute("INSERT INTO law_sets VALUES ('corrected', ?)", [law_id])
    result = run.fit_all(db, studies=["num-models"], estimators=["huber-lbfgs"],
                         families=["t5-pile"])
    assert result.stale == 1 and result.fitted == 0
    assert law_ids(db) == planned | {"old-windows"}
