"""`meta predict` on a generated family with a known law and a learning-rate sweep: the best
runs are fitted, the interval covers the truth and is reproducible; the calibration table
and its leave-one-family-out check."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

import warehouse
from analyses.predict import calibration
from analyses.predict.family import predict_family
from ingest.runs.load import ingest_runs
from ingest.runs.options import RunsOptions
from meta.cli import cli
from tests.runsdata import sweep_rows, true_loss, write_family
from warehouse.errors import MetaError

TARGET = (1.2e9, 2.4e10)


@pytest.fixture(scope="module")
def sweep_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("predict")
    path = folder / "w.duckdb"
    con = warehouse.connect(path)
    write_family(con, "mine", sweep_rows(), folder)
    con.close()
    return path


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_the_best_runs_predict_a_larger_run_within_the_interval(sweep_db):
    con = warehouse.connect(sweep_db, read_only=True)
    result = predict_family(con, "mine", params=TARGET[0], tokens=TARGET[1], n_boot=100)
    con.close()
    law = result.law
    assert len(law.runs) == 4 and all(r.endswith("-lr0.003") for r in law.runs)
    assert law.design.n_sizes == 4 and law.status == "ok"
    truth = float(true_loss(*TARGET))
    pred = result.prediction
    assert abs(pred.loss - truth) / truth < 0.02
    for interval in pred.combined:
        assert interval.low <= truth <= interval.high
    assert pred.combined[0].high - pred.combined[0].low < pred.combined[1].high - \
        pred.combined[1].low
    assert pred.calibration["rows"] >= calibration.MIN_ROWS


def test_predict_cli_is_reproducible_and_says_what_the_interval_rests_on(sweep_db):
    args = ["predict", "--family", "mine", "--params", f"{TARGET[0]}", "--tokens",
            f"{TARGET[1]}", "--boot", "50", "--seed", "3", "--json", "--warehouse",
            str(sweep_db)]
    first, second = run(*args), run(*args)
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    doc = json.loads(first.stdout)
    assert doc["prediction"]["bootstrap"] == {"unit": "runs", "resamples": 50, "finite": 50,
                                              "seed": 3}
    assert doc["n_runs_fitted"] == 4 and doc["law"]["status"] == "ok"
    assert run(*args[:-3], "--seed", "4", "--json", "--warehouse",
               str(sweep_db)).stdout != first.stdout
    text = run("predict", "--family", "mine", "--flops", "1e20", "--warehouse", str(sweep_db))
    assert text.exit_code == 0, text.output
    assert "the compute-optimal run of N = " in text.stdout
    assert "parameters: 200 resamples of runs (seed 0" in text.stdout
    assert "sizes, a scale-up within" in text.stdout or "sizes, any scale-up" in text.stdout
    assert "extrapolation: " in text.stdout and "public laws" in text.stdout


def test_all_runs_and_bad_arguments(sweep_db):
    doc = json.loads(run("predict", "--family", "mine", "--params", "1e9", "--tokens", "2e10",
                         "--runs", "all", "--boot", "20", "--json", "--warehouse",
                         str(sweep_db)).stdout)
    assert doc["n_runs_fitted"] == 12
    for args, message in [
        (["--params", "1e9"], "Error: Give --params and --tokens, or --flops alone.\n"),
        (["--flops", "1e20", "--params", "1e9"],
         "Error: Give --params and --tokens, or --flops alone.\n"),
        (["--params", "-1e9", "--tokens", "1e10"],
         "Error: Invalid value for '--params': -1000000000.0 is not in the range x>0.\n"),
        (["--flops", "inf"], "Error: Invalid value for '--flops': 'inf' is not a finite number.\n"),
        (["--flops", "1e20", "--boot", "0"],
         "Error: Invalid value for '--boot': 0 is not in the range x>=1.\n"),
    ]:
        r = run("predict", "--family", "mine", *args, "--warehouse", str(sweep_db))
        assert r.exit_code == 1 and r.stderr == message, (args, r.output)
    r = run("predict", "--family", "nope", "--flops", "1e20", "--warehouse", str(sweep_db))
    assert r.stderr == "Error: Unknown family 'nope'. 'meta status --families' lists them.\n"
    con = warehouse.connect(sweep_db, read_only=True)
    with pytest.raises(MetaError, match=r"^--params must be a positive, finite number; "
                                         r"got -1.0\.$"):
        predict_family(con, "mine", params=-1.0, tokens=1e10)
    con.close()


def test_errors_for_widens_until_enough_rows_and_sources():
    table, _, meta = calibration.load()
    assert meta["version"] == calibration.VERSION and meta["rows"] == table.height
    errors, weights, d = calibration.errors_for(table, 4, 5.0)
    assert d["rows"] >= calibration.MIN_ROWS and d["sources"] >= calibration.MIN_SOURCES
    assert errors.size == weights.size == d["rows"] and np.isfinite(errors).all()
    assert set(d) >= {"n_sizes", "scale_window", "fraction"}
    # every source weighs the same in total: 1 / (its rows) each
    assert np.isclose(weights.sum(), d["sources"])
    none, _, d0 = calibration.errors_for(table, 4, 5.0,
                                         exclude_sources=table["source"].unique().to_list())
    assert none.size == 0 and d0 == {"rows": 0}


def test_calibration_and_coverage_on_public_families(tmp_path, data_root):
    from ingest.run import ingest

    con = warehouse.connect(tmp_path / "w.duckdb")
    ingest(con, ["gpt3", "t5-pile", "opt"], data_root)
    table = calibration.compute(con)
    assert set(table["source"]) == {"gpt3", "t5-pile", "opt"}
    assert table.filter(table["n_sizes"] < 2).is_empty()
    assert (table["scale_up"] > 1).all() and set(table["fraction"]) == {0.5, 1.0}
    finite = table.filter(table["error"].is_finite())
    assert np.allclose(finite["error"], (finite["predicted"] - finite["actual"])
                       / finite["actual"])
    laws = calibration.public_laws(con)
    assert set(laws["family"]) == set(table["family"])
    calibration.save(table, laws, "digest", tmp_path / "cal")
    loaded, loaded_laws, info = calibration.load(tmp_path / "cal")
    assert loaded.equals(table) and loaded_laws.equals(laws) and info["data_digest"] == "digest"
    # a public family's own source never calibrates its own prediction
    result = predict_family(con, "gpt3", params=1e12, tokens=3e11, n_boot=10,
                            calibration_dir=tmp_path / "cal")
    _, _, expected = calibration.errors_for(table, result.law.design.n_sizes,
                                            result.prediction.scale_up,
                                            exclude_sources=["gpt3"])
    assert result.prediction.calibration == expected
    cover = calibration.coverage(con, table, n_boot=20)
    assert set(cover["family"]) == set(table["family"])
    summary = calibration.summarize(cover)
    assert summary["families"] + len(summary["no_prediction"]) == cover.height
    assert 0 <= summary["coverage80"] <= summary["coverage95"] <= 1
    con.close()


def test_similar_ranks_public_laws_and_a_single_size_borrows(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    write_family(con, "mine", sweep_rows(), tmp_path)
    write_family(con, "one", sweep_rows(sizes=(1e8,), checkpoints=12), tmp_path)
    con.close()
    path = str(tmp_path / "w.duckdb")
    r = run("similar", "mine", "--json", "--warehouse", path)
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert abs(doc["law"]["alpha"] - 0.34) < 0.1 and doc["law"]["n_sizes"] == 4
    distances = [row["distance"] for row in doc["similar"]]
    assert distances == sorted(distances) and len(distances) == 10
    assert doc["borrow"]["loss_kind"] == "loss" and doc["borrow"]["unidentified"] is None
    one = json.loads(run("similar", "one", "--json", "--warehouse", path).stdout)
    assert one["law"]["alpha"] is None and one["similar"][0]["features"] == "beta, reducible"
    r = run("predict", "--family", "one", "--params", "1e9", "--tokens", "2e10", "--boot",
            "20", "--json", "--warehouse", path)
    assert r.exit_code == 0, r.output
    law = json.loads(r.stdout)["law"]
    assert law["borrowed_from"] == one["borrow"]["family"]
    assert law["params"]["alpha"] == pytest.approx(one["borrow"]["alpha"])
    text = run("similar", "mine", "--warehouse", path).stdout
    assert "a single size would borrow A = " in text and "nearest public laws" in text


def test_report_runs_writes_markdown_html_and_figures(sweep_db, tmp_path):
    out = tmp_path / "report"
    r = run("report", "runs", "--family", "mine", "--out", str(out), "--warehouse",
            str(sweep_db))
    assert r.exit_code == 0, r.output
    md = (out / "runs.md").read_text()
    assert md.startswith("# Runs of mine: the law, a prediction, and how far to trust it")
    # the default prediction: 4x the largest size at its tokens per parameter
    assert "is the predicted loss of a run of N = 1.2e+09 parameters on D = 2.4e+10" in md
    assert "12 runs; `fitted` marks the runs" in md
    for section in ("## The law", "## The prediction", "## Public families that behave alike",
                    "## What the public evidence says about this design"):
        assert section in md
    assert (out / "runs.html").read_text().count("<h2") == 5
    for png in ("curves.png", "prediction.png"):
        assert (out / "figures" / png).read_bytes()[:4] == b"\x89PNG"


def test_intermediate_checkpoints_of_a_decaying_schedule_are_flagged(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    path = tmp_path / "cosine.csv"
    rows = sweep_rows(sizes=(2e7, 5e7, 1.2e8, 3e8, 7e8))
    rows.with_columns(schedule=pl.lit("cosine")).write_csv(path)
    ingest_runs(con, [path], RunsOptions(family="cosine"))
    con.close()
    args = ["predict", "--family", "cosine", "--params", "1e9", "--tokens", "2e10", "--boot",
            "20", "--warehouse", str(tmp_path / "w.duckdb")]
    doc = json.loads(run(*args, "--json").stdout)
    assert len(doc["decaying_schedule_runs"]) == 5  # the fitted runs: each sweep's best
    assert "note: 5 fitted runs have a decaying learning-rate schedule" in run(*args).stdout
    r = run(*args, "--finals-only", "--json")
    assert r.exit_code == 0, r.output
    finals = json.loads(r.stdout)
    assert finals["decaying_schedule_runs"] == [] and finals["n_points"] == 5
    assert doc["n_points"] > finals["n_points"]


def test_a_family_too_small_to_fit_gets_one_error_line(tmp_path):
    con = warehouse.connect(tmp_path / "w.duckdb")
    path = tmp_path / "two.csv"
    path.write_text("run,params,tokens,loss\na,1e7,1e8,5.0\na,1e7,2e8,4.6\n"
                    "b,2e7,2e8,4.4\nb,2e7,4e8,4.1\n")
    ingest_runs(con, [path], RunsOptions(family="two"))
    con.close()
    w = ["--warehouse", str(tmp_path / "w.duckdb")]
    for args, message in [
        (["similar", "two"], "Error: The law of two could not be fitted (status "
                             "too_few_points), so there is nothing to compare.\n"),
        (["predict", "--family", "two", "--params", "1e9", "--tokens", "2e10"],
         "Error: The law of two could not be fitted (status too_few_points); 4 points of 2 "
         "runs.\n"),
        (["report", "runs", "--family", "two", "--out", str(tmp_path / "r")],
         "Error: The law of two could not be fitted (status too_few_points); 4 points of 2 "
         "runs.\n"),
    ]:
        r = run(*args, *w)
        assert r.exit_code == 1 and r.stderr == message, (args, r.output)


def test_levels_that_coincide_are_said_so_and_too_few_resamples_warn(tmp_path):
    # two runs fitted: their resamples take three values, so the 80% and 95% bounds of the
    # parameter part are the same extreme fits; the output must say so, not imply precision
    con = warehouse.connect(tmp_path / "w.duckdb")
    write_family(con, "two", sweep_rows(sizes=(2e7, 5e7)), tmp_path)
    con.close()
    args = ["predict", "--family", "two", "--params", "2e8", "--tokens", "4e9",
            "--warehouse", str(tmp_path / "w.duckdb")]
    r = run(*args)
    assert r.exit_code == 0, r.output
    assert "note: the parameter part's 80% and 95% lower and upper bounds coincide" in r.stdout
    assert r.stderr == ""
    r = run(*args, "--boot", "3")
    assert r.exit_code == 0, r.output
    assert r.stderr == ("Warning: --boot 3 is too few resamples for a 95% interval (its 2.5% "
                        "tails need at least 40); the parameter part is rough.\n")
