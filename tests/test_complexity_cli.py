"""`meta complexity fit` and `meta report complexity` through CliRunner."""

import json

import pytest
from click.testing import CliRunner

from meta.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def paper_db(tmp_path_factory, data_root):
    db = tmp_path_factory.mktemp("cli") / "w.duckdb"
    result = run("ingest", "gzip-pcfg", "--data-root", str(data_root), "--warehouse", str(db))
    assert result.exit_code == 0, result.output
    return db


def test_fit_json(paper_db):
    result = run("complexity", "fit", "--grid", "small", "--json", "--warehouse", str(paper_db))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    (s,) = doc["sets"]
    assert s["run_set"] == "gzip-pcfg" and len(s["laws"]) == 5
    assert {r["param"] for r in s["regression"]} >= {"E", "A", "B", "alpha", "beta"}
    assert s["frontier"]["toward_data"] is True
    assert 0.23 < s["frontier"]["crossings"][0] < 0.45
    eq6 = s["eq6"]
    assert eq6["epsilon"] == eq6["chosen_epsilon"] and 0 <= eq6["epsilon"] <= 1
    errors = {r["method"]: r for r in eq6["errors"]}
    assert errors["eq6"]["are_held_out"] <= min(errors["eq5"]["are_held_out"],
                                                errors["chinchilla"]["are_held_out"])
    assert len(eq6["blended"]) == 5 and len(eq6["held_out_curve"]) == 101


def test_fit_epsilon(paper_db):
    result = run("complexity", "fit", "--grid", "small", "--epsilon", "0.5", "--json",
                 "--warehouse", str(paper_db))
    assert result.exit_code == 0, result.output
    eq6 = json.loads(result.stdout)["sets"][0]["eq6"]
    assert eq6["epsilon"] == 0.5 and eq6["chosen_epsilon"] != 0.5
    assert {r["method"]: r["epsilon"] for r in eq6["errors"]}["eq6"] == 0.5


@pytest.mark.parametrize("bad", ["-0.1", "2", "x"])
@pytest.mark.parametrize("command", [("complexity", "fit"), ("report", "complexity")])
def test_bad_epsilon(paper_db, command, bad):
    result = run(*command, "--epsilon", bad, "--warehouse", str(paper_db))
    assert result.exit_code == 1
    assert result.stderr == f"Error: --epsilon must be a number in [0, 1] or 'fit'; got '{bad}'.\n"


def test_fit_text_and_errors(paper_db):
    result = run("complexity", "fit", "--grid", "small", "--family", "gzipscale-0.12-10M",
                 "--family", "gzipscale-0.61-10M", "--warehouse", str(paper_db))
    assert result.exit_code == 0 and "[[Run set]] gzip-pcfg: 2 corpora" in result.stdout
    result = run("complexity", "fit", "--grid", "huge", "--warehouse", str(paper_db))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Unknown grid 'huge'. Known grids: ")


def test_report(paper_db, tmp_path):
    out = tmp_path / "report"
    result = run("report", "complexity", "--out", str(out), "--grid", "small", "--warehouse",
                 str(paper_db))
    assert result.exit_code == 0, result.output
    md = (out / "complexity.md").read_text()
    assert "H rises with grammar complexity** (reproduced)" in md
    assert "gzip-pcfg: the frontier moves toward data as H rises" in md
    assert "### Epsilon-adjusted Chinchilla law (Eq. 6)" in md
    assert "| Eq. 5, the regression lines (ε = 1) | 1 |" in md
    assert (out / "complexity.html").exists()
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "epsilon.png", "frontier_exponent.png", "frontiers.png", "params_vs_h.png"]
