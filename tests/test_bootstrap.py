"""Law intervals (`meta bootstrap`, `fit-all --bootstrap`): seeded, stored with their seed and
resample count, resumable without refitting or duplicating, no interval on too few runs."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

import analyses.hitchhiker.bootstrap as boot
import warehouse
from analyses.hitchhiker.run import fit_all
from ingest.run import ingest
from meta.cli import cli
from tests.conftest import copy_of
from warehouse.sql import one, query

SELECTION = {"studies": ["num-models"], "estimators": ["huber-lbfgs"],
             "families": ["t5-pile", "chinchilla"]}
INTERVALS = "SELECT * EXCLUDE (seconds, computed_at) FROM law_bootstraps ORDER BY law_id"
ROWS = "SELECT * FROM law_intervals ORDER BY law_id, quantity, level"


@pytest.fixture(scope="module")
def fitted_db(tmp_path_factory, data_root):
    path = tmp_path_factory.mktemp("boot") / "w.duckdb"
    con = warehouse.connect(path)
    ingest(con, ["t5-pile", "chinchilla"], data_root)
    fit_all(con, **SELECTION)
    con.close()
    return path


@pytest.fixture
def db(fitted_db, tmp_path):
    with warehouse.connect(copy_of(fitted_db, tmp_path)) as con:
        yield con


def test_every_fitted_law_gets_a_bootstrap_with_its_seed(db):
    calls = []
    result = boot.bootstrap_all(db, **SELECTION, n_resamples=10, seed=5,
                                progress=lambda *args, work: calls.append((*args, work)))
    # progress after every chunk: laws done and the share of the estimated work, both rising
    done, shares = [c[0] for c in calls], [c[3] for c in calls]
    assert done == sorted(done) and done[-1] == calls[-1][1] == result.bootstrapped
    assert shares == sorted(shares) and shares[0] >= 0 and shares[-1] == pytest.approx(1.0)
    assert all(", chinchilla law (" in c[2] for c in calls)
    n_fitted = one(db, "SELECT count(*) FROM laws WHERE status IN ('ok', 'at_bound', "
                       "'max_iter')")[0]
    assert result.bootstrapped == n_fitted > 20 and result.resumed == 0
    assert one(db, "SELECT count(*), min(n_resamples), max(seed) FROM law_bootstraps") == (
        n_fitted, 10, 5)
    assert result.too_few_runs > 0 and result.too_few_runs < n_fitted
    # too few runs: no interval; otherwise every quantity at every level, low <= high
    assert one(db, """SELECT count(*) FROM law_intervals JOIN law_bootstraps b
                      USING (law_id, n_resamples, seed) WHERE b.status <> 'ok'""")[0] == 0
    ok = one(db, "SELECT count(*) FROM law_bootstraps WHERE status = 'ok'")[0]
    assert one(db, "SELECT count(*) FROM law_intervals")[0] == ok * 6 * 3
    assert one(db, "SELECT count(*) FROM law_intervals WHERE NOT (low <= median "
                   "AND median <= high)")[0] == 0
    assert one(db, """SELECT min(n_units) FROM law_bootstraps WHERE status = 'ok'""")[0] >= 3
    # the time is the refits': a law with too few runs is not refitted and costs nothing
    assert one(db, """SELECT max(seconds) FILTER (status = 'too_few_runs'),
                             min(seconds) FILTER (status = 'ok') FROM law_bootstraps""")[0] == 0
    assert one(db, "SELECT min(seconds) FROM law_bootstraps WHERE status = 'ok'")[0] > 0


def test_same_seed_same_intervals_other_seed_others(db, fitted_db, tmp_path):
    boot.bootstrap_all(db, **SELECTION, n_resamples=10, seed=5)
    boot.bootstrap_all(db, **SELECTION, n_resamples=10, seed=6)
    con = warehouse.connect(copy_of(fitted_db, tmp_path, "again.duckdb"))
    boot.bootstrap_all(con, **SELECTION, n_resamples=10, seed=5)
    rows = db.execute(ROWS.replace("ORDER", "WHERE seed = 5 ORDER")).fetchall()
    assert con.execute(ROWS).fetchall() == rows
    con.close()
    other = db.execute(ROWS.replace("ORDER", "WHERE seed = 6 ORDER")).fetchall()
    assert len(other) == len(rows) and other != rows


def test_interrupted_bootstrap_resumes_without_refits_or_duplicates(db, fitted_db, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr(boot, "REFITS", 30)  # 3 laws a chunk
    real_write, real_fit = boot.write_intervals, boot.refit
    written = []

    def write_twice(con, bootstraps, intervals):
        if len(written) == 2:
            raise KeyboardInterrupt
        real_write(con, bootstraps, intervals)
        written.append(bootstraps["law_id"].to_list())

    monkeypatch.setattr(boot, "write_intervals", write_twice)
    with pytest.raises(KeyboardInterrupt):
        boot.bootstrap_all(db, **SELECTION, n_resamples=10, seed=1)
    first = {law for chunk in written for law in chunk}
    assert one(db, "SELECT count(*) FROM law_bootstraps")[0] == len(first) > 0

    refitted = []
    monkeypatch.setattr(boot, "write_intervals", real_write)
    monkeypatch.setattr(boot, "refit", lambda items, n, seed: (
        refitted.extend(p.law_id for p in items), real_fit(items, n, seed))[1])
    result = boot.bootstrap_all(db, **SELECTION, n_resamples=10, seed=1)
    assert result.resumed == len(first) and not first & set(refitted)
    assert one(db, "SELECT count(*) = count(DISTINCT law_id) FROM law_bootstraps")[0]
    # the same intervals as an uninterrupted run
    con = warehouse.connect(copy_of(fitted_db, tmp_path, "clean.duckdb"))
    boot.bootstrap_all(con, **SELECTION, n_resamples=10, seed=1)
    assert db.execute(INTERVALS).fetchall() == con.execute(INTERVALS).fetchall()
    got, want = query(db, ROWS), query(con, ROWS)
    con.close()
    assert got.select("law_id", "quantity", "level").equals(want.select("law_id", "quantity",
                                                                        "level"))
    # a chunk's laws share one batched fit: refitted in other company, a law may move in
    # the last digits (as fit-all's laws do), never more
    for column in ("low", "median", "high"):
        np.testing.assert_allclose(got[column].to_numpy(), want[column].to_numpy(),
                                   rtol=1e-6)


def test_intervals_of_removed_laws_are_deleted(db):
    boot.bootstrap_all(db, **SELECTION, n_resamples=5, seed=0)
    law = one(db, "SELECT law_id FROM law_bootstraps WHERE status = 'ok' LIMIT 1")[0]
    db.execute("DELETE FROM laws WHERE law_id = ?", [law])
    result = boot.bootstrap_all(db, **SELECTION, n_resamples=5, seed=0)
    assert result.orphans == 1 and result.bootstrapped == 0
    assert one(db, "SELECT count(*) FROM law_intervals WHERE law_id = ?", [law])[0] == 0


def test_bad_resamples_or_seed_is_one_error(db):
    with pytest.raises(boot.MetaError, match="'n_resamples' parameter of the bootstrap must "
                                             "be an int in the range \\[1, inf\\). Got 0"):
        boot.bootstrap_all(db, **SELECTION, n_resamples=0)
    with pytest.raises(boot.MetaError, match="'seed' parameter .* Got -1 instead."):
        boot.bootstrap_all(db, **SELECTION, seed=-1)


def test_cli_estimates_then_bootstraps_and_resumes(fitted_db, tmp_path):
    path = copy_of(fitted_db, tmp_path)
    args = ["--study", "num-models", "--family", "t5-pile", "--estimator", "huber-lbfgs",
            "--jobs", "1", "--warehouse", str(path)]
    r = CliRunner().invoke(cli, ["bootstrap", "-n", "8", "--seed", "2", *args])
    assert r.exit_code == 0, r.output
    assert r.stdout == ""
    estimate, *_, summary = r.stderr.strip().splitlines()
    assert estimate.startswith("bootstrap: 20 laws to do (0 already done), 10 of them "
                               "refitted x 8 resamples = 80 fits; 10 have fewer than 3 runs")
    assert "Estimated from the laws' own fit times" in estimate
    assert estimate.endswith(" on 1 worker.")
    assert summary.startswith("20 laws bootstrapped (10 with too few runs")
    r = CliRunner().invoke(cli, ["fit-all", "--bootstrap", "8", "--seed", "2", "--no-report",
                                 *args])
    assert r.exit_code == 0, r.output
    assert "0 laws to do (20 already done)" in r.stderr
    assert "0 laws bootstrapped" in r.stderr and "20 already there" in r.stderr


def test_cli_address_without_ray_is_one_error(tmp_path):
    r = CliRunner().invoke(cli, ["bootstrap", "--address", "auto", "--warehouse",
                                 str(tmp_path / "w.duckdb")])
    assert r.exit_code == 1
    assert r.stderr == "Error: --address is for the ray executor; got --executor local.\n"


def test_the_best_law_per_family_shows_its_own_interval_once_bootstrapped(db, tmp_path):
    from analyses.hitchhiker import tables
    from analyses.hitchhiker.report import write_report
    from analyses.hitchhiker.report_intervals import with_law_intervals

    def best():
        return with_law_intervals(db, tables.best_are(db, tables.HUBER), "are", "law_id"
                                  ).unnest("are").sort("family")

    before = best()
    assert before.height == 2 and before["low"].null_count() == 2
    boot.bootstrap_all(db, **SELECTION, n_resamples=10, seed=0)
    after = best()
    ok = query(db, "SELECT law_id FROM law_bootstraps WHERE status = 'ok'")["law_id"]
    assert after["are"].to_list() == before["are"].to_list()
    assert after["low"].null_count() < 2  # at least one best law is on 3 or more runs
    assert after.filter(pl.col("low").is_not_null())["law_id"].sort().to_list() == sorted(
        set(after["law_id"]) & set(ok))
    assert after.filter(pl.col("low") > pl.col("high")).is_empty()
    best = write_report(db, tmp_path)[0].read_text().split("### Best ARE per family")[1]
    assert "*In brackets: the 90% interval of the ARE of the law refitted" in best
    law = after.filter(pl.col("low").is_not_null()).row(0, named=True)
    assert f"{100 * law['are']:.1f}% [{100 * law['low']:.1f}, {100 * law['high']:.1f}]" in best


def test_chunks_are_cut_by_estimated_cost_and_the_costliest_go_first(db, monkeypatch):
    monkeypatch.setattr(boot, "CHUNK_SECONDS", 0.5)
    seconds = dict(query(db, "SELECT law_id, seconds FROM laws").iter_rows())
    chunks, real = [], boot.bootstrap_specs
    monkeypatch.setattr(boot, "bootstrap_specs", lambda items, **kw: (
        chunks.append([p.law_id for p in items]), real(items, **kw))[1])
    result = boot.bootstrap_all(db, **SELECTION, n_resamples=10, seed=0)  # one job: in order
    assert sorted(law for c in chunks for law in c) == sorted(set(
        query(db, "SELECT law_id FROM law_bootstraps")["law_id"]))
    assert len(chunks) > 1 and sum(map(len, chunks)) == result.bootstrapped
    ok = set(query(db, "SELECT law_id FROM law_bootstraps WHERE status <> 'too_few_runs'"
                   )["law_id"])
    costs = [sum(10 * seconds[law] for law in c if law in ok) for c in chunks]
    assert len(chunks) >= sum(costs) / 0.5  # the cost cut them, not the count (200 laws)
    assert costs == sorted(costs, reverse=True)
    assert all(cost <= 0.5 or len(c) == 1 for cost, c in zip(costs, chunks, strict=True))
