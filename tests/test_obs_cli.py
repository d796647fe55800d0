"""`meta obs ...` and `meta report observational` through CliRunner on a real warehouse."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from meta.cli import cli
from tests.obsdata import build


@pytest.fixture(scope="module")
def db(tmp_path_factory, data_root):
    return build(tmp_path_factory.mktemp("obscli"), data_root, ("obsscaling", "overtrain"))


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_pca_json_gives_the_explained_variance(db):
    result = run("obs", "pca", "--json", "--warehouse", str(db))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    ratio = doc["explained_variance_ratio"]
    assert len(ratio) == 8 and sum(ratio) == pytest.approx(1.0)
    assert round(ratio[0], 2) == 0.80 and round(sum(ratio[:3]), 2) == 0.97
    assert doc["models"] == 77 and len(doc["components"]) == 8
    assert doc["benchmarks"][0] == "MMLU" and doc["family_trends"][0]["r2"] > 0.99


def test_pca_table(db):
    result = run("obs", "pca", "--warehouse", str(db))
    assert result.exit_code == 0
    assert "PC-1 explains 80.2%; PC-1..3 explain 96.7% of the variance." in result.stdout


def test_fit_json_gives_every_methods_mse(db):
    result = run("obs", "fit", "--target", "word_unscrambling_2_exact_match", "--json",
                 "--warehouse", str(db))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["experiment"] == "emergent/word-unscramble"
    assert set(doc["methods"]) == {"pc", "flops", "size"}
    for m in doc["methods"].values():
        assert m["train_mse"] > 0 and m["test_mse"] > 0
    assert doc["methods"]["pc"]["n_test"] == 21 and doc["methods"]["flops"]["n_test"] == 19
    assert doc["methods"]["pc"]["test_mse"] < doc["methods"]["flops"]["test_mse"]
    assert doc["split"]["value"] == 8.4e22 and len(doc["common_test"]) == 19


def test_fit_cutoff_and_bootstrap(db):
    result = run("obs", "fit", "--target", "leaderboard_gpqa", "--cutoff-flops", "1e23",
                 "--bootstrap", "4", "--json", "--warehouse", str(db))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["split"] == {"kind": "cutoff", "value": 1e23,
                            "rule": "train C <= 1e+23 FLOPs; test: the rest and unknown C"}
    assert doc["bootstrap"]["n_resamples"] == 4 and doc["bootstrap"]["intervals"]


def test_fit_agents_has_no_compute_baseline_test_models(db):
    result = run("obs", "fit", "--experiment", "agents/agentbench", "--json",
                 "--warehouse", str(db))
    doc = json.loads(result.stdout)
    assert doc["methods"]["flops"]["n_test"] == 0
    assert doc["methods"]["flops"]["test_mse"] is None  # NaN is null in JSON


def test_fit_table_names_dropped_models(db):
    result = run("obs", "fit", "--target", "GSM8K", "--warehouse", str(db))
    assert result.exit_code == 0
    assert "custom/GSM8K" in result.stdout
    assert "note: flops: 2 test model(s) of unknown FLOPs dropped" in result.stdout


def test_fit_errors_are_one_line(db):
    result = run("obs", "fit", "--target", "nope", "--warehouse", str(db))
    assert result.exit_code == 1
    assert result.stderr == "Error: Unknown target 'nope': no obsscaling metric has that name.\n"
    result = run("obs", "fit", "--experiment", "nope", "--warehouse", str(db))
    assert result.exit_code == 1 and result.stderr.startswith(
        "Error: Unknown experiment 'nope'. Known experiments: agents/agentbench,")
    result = run("obs", "fit", "--warehouse", str(db))
    assert result.exit_code == 1
    assert result.stderr == "Error: Give exactly one of --target and --experiment.\n"


def test_experiments_list(db):
    result = run("obs", "experiments", "--json")
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert len(rows) == 17 and rows[0]["experiment"] == "emergent/word-unscramble"


def test_place_csv(db):
    result = run("obs", "place", "--source", "overtrain", "--format", "csv",
                 "--warehouse", str(db))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("checkpoint_id,source,step,tokens,flops,n_benchmarks,PC-1")
    assert len(lines) == 105


def check_report(out, n_experiments: int, n_checkpoints: int) -> None:
    md = (out / "observational.md").read_text()
    assert "**PC-1 explains 80.2%**" in md and "PC-1..3 explain 96.7%" in md
    assert (out / "observational.html").read_text().startswith("<!DOCTYPE html>")
    figures = {p.name for p in (out / "figures").glob("*.png")}
    assert {"scree.png", "loadings.png", "pc1_vs_flops.png", "weights.png",
            "checkpoints.png"} <= figures
    assert sum(name.startswith("fit_") for name in figures) == n_experiments
    for name in figures:
        assert f"figures/{name}" in md
    assert len(json.loads((out / "experiments.json").read_text())) == n_experiments
    assert (out / "checkpoints.csv").read_text().count("\n") == n_checkpoints + 1


def test_report_writes_markdown_html_and_figures(db, tmp_path):
    out = tmp_path / "report"
    result = run("report", "observational", "--out", str(out), "--bootstrap", "3",
                 "--experiment", "post-training/gsm8k-cot", "--experiment", "agents/agentbench",
                 "--warehouse", str(db))
    assert result.exit_code == 0, result.output
    assert result.stdout == "" and "wrote" in result.stderr
    check_report(out, 2, 104)
    assert "fit_post-training_gsm8k-cot.png" in {p.name for p in (out / "figures").iterdir()}


def test_report_rejects_an_unknown_experiment(db, tmp_path):
    result = run("report", "observational", "--out", str(tmp_path), "--experiment", "nope",
                 "--warehouse", str(db))
    assert result.exit_code == 1 and result.stderr.startswith("Error: Unknown experiment 'nope'")


def test_full_report(db, tmp_path):
    result = run("report", "observational", "--out", str(tmp_path), "--bootstrap", "10",
                 "--warehouse", str(db))
    assert result.exit_code == 0, result.output
    check_report(tmp_path, 17, 104)
