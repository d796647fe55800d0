"""`meta tasks fit|predict` and `meta report tasks` on a warehouse holding olmo-ladder."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from meta.cli import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture(scope="module")
def db(tmp_path_factory, data_root):
    path = tmp_path_factory.mktemp("tasks") / "w.duckdb"
    result = run("ingest", "olmo-ladder", "--data-root", str(data_root), "--warehouse",
                 str(path))
    assert result.exit_code == 0, result.output
    return path


def test_predict_before_fit_is_one_error_line(db):
    result = run("tasks", "predict", "--warehouse", str(db))
    assert result.exit_code == 1
    assert result.stderr == ("Error: The warehouse holds no ladder laws; run 'meta tasks fit' "
                             "first.\n")


@pytest.fixture(scope="module")
def fitted(db):
    result = run("tasks", "fit", "--json", "--warehouse", str(db))
    assert result.exit_code == 0, result.output
    return db, result


def test_fit_prints_every_prediction_and_the_reproduction(fitted):
    _, result = fitted
    rows = json.loads(result.stdout)
    assert len(rows) == 10 * (5 + 3 + 2) * 2  # tasks x variants x targets
    chained = {(r["task"], r["target"]): r for r in rows if r["result"] == "chained_main"}
    mmlu = chained[("mmlu_avg_test_5shot", "olmo-ladder/13B-5T")]
    assert mmlu["predicted"] == pytest.approx(0.5126799915287485, rel=1e-6)
    assert "91 ladder laws written" in result.stderr
    assert "reproduced: 318 of 318" in result.stderr


def test_predict_at_n_and_d(fitted):
    db, _ = fitted
    result = run("tasks", "predict", "--params", "13202396160", "--tokens", "5000088518656",
                 "--json", "--warehouse", str(db))
    assert result.exit_code == 0, result.output
    rows = {r["task"]: r for r in json.loads(result.stdout)}
    assert rows["hellaswag_val_5shot"]["accuracy"] == pytest.approx(0.8530359563499285,
                                                                    rel=1e-6)
    assert rows["hellaswag_val_5shot"]["task_loss"] == pytest.approx(0.6531765996418648,
                                                                     rel=1e-6)


def test_predict_needs_both_n_and_d(fitted):
    db, _ = fitted
    result = run("tasks", "predict", "--params", "1e9", "--warehouse", str(db))
    assert result.exit_code == 1
    assert result.stderr == "Error: Give both --params and --tokens, or neither.\n"


def test_report(fitted, tmp_path):
    db, _ = fitted
    result = run("report", "tasks", "--out", str(tmp_path / "r"), "--skip-choices",
                 "--warehouse", str(db))
    assert result.exit_code == 0, result.output
    md = (tmp_path / "r" / "tasks.md").read_text()
    assert "13B-5T: mean absolute chained error 4.17 points" in md
    assert "7B-4T: mean absolute chained error 3.82 points" in md
    assert "| figures/chained_main.csv | 24 |" in md
    assert (tmp_path / "r" / "tasks.html").exists()
    assert (tmp_path / "r" / "figures" / "step2.png").stat().st_size > 10_000
