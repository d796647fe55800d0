"""Study `tasks`: the ladder's two steps over other families (here the over-training grid on
C4), stored as laws of accuracies, never fitted on a target, reproducible, judged by the one
definition of a predictable task (the view `task_predictability`)."""

from __future__ import annotations

import dataclasses
import json

import polars as pl
import pytest
from click.testing import CliRunner

import warehouse
from analyses.document import Document
from analyses.tasks.data import LOSS, families, load_family
from analyses.tasks.report import predictability_section
from analyses.tasks.run import fit_tasks, predictability, shares
from analyses.tasks.study import BASELINE, CHAINED, fit_family, split
from ingest.run import ingest
from meta.cli import cli
from warehouse.errors import MetaError
from warehouse.sql import query

FAMILY = "overtrain-C4"
N_TASKS = 46
N_SIZES = 3  # 3, 4 and 5 training sizes below the 6.9B


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, data_root):
    con = warehouse.connect(tmp_path_factory.mktemp("tasks") / "w.duckdb")
    ingest(con, ["overtrain"], data_root)
    done = fit_tasks(con, [FAMILY])
    yield con, done
    con.close()


def test_eligible_families_and_runs(fitted):
    con, _ = fitted
    assert families(con).rows() == [(f"overtrain-{d}", 6)
                                    for d in ("C4", "RedPajama", "RefinedWeb")]
    runs = load_family(con, FAMILY)
    assert len(runs.runs) == 34 and len(runs.tasks) == N_TASKS  # the -rest runs included
    train, targets = split(runs.runs, 5)
    assert [t.model_id for t in targets] == ["overtrain/c4_original-open_lm_7b-1.0"]
    assert len(train) == 33


def test_laws_are_stored_once_as_accuracies(fitted):
    con, done = fitted
    assert (done.laws, done.written, done.deleted) == (2 * N_TASKS * N_SIZES,) * 2 + (0,)
    rows = query(con, "SELECT DISTINCT study, family, quantity, estimator FROM laws ORDER BY 4")
    assert rows.rows() == [("tasks", FAMILY, "accuracy", "chained"),
                           ("tasks", FAMILY, "accuracy", "none")]
    counts = query(con, "SELECT (SELECT count(*) FROM are), (SELECT count(*) FROM task_are)")
    assert counts.row(0) == (0, done.laws)
    again = fit_tasks(con, [FAMILY])
    assert (again.written, again.deleted) == (0, 0)


def test_no_target_checkpoint_enters_any_law(fitted):
    """No law was fitted on a run of the largest size; every prediction is of one."""
    con, _ = fitted
    trained = query(con, """
        SELECT DISTINCT m.num_params FROM laws l, unnest(l.train_spec.models) AS u(m)
        JOIN models m ON m.model_id = u.m WHERE l.study = 'tasks'""")
    predicted = query(con, """
        SELECT DISTINCT m.model_id, m.num_params FROM predictions p JOIN laws l USING (law_id)
        JOIN checkpoints c USING (checkpoint_id) JOIN models m USING (model_id)
        WHERE l.study = 'tasks'""")
    assert predicted["model_id"].to_list() == ["overtrain/c4_original-open_lm_7b-1.0"]
    assert trained["num_params"].max() < predicted["num_params"][0]


def test_targets_change_no_fitted_parameter(fitted):
    """Scrambling the target's loss and accuracies changes predictions' actuals only."""
    con, _ = fitted
    runs = load_family(con, FAMILY)
    tasks = runs.tasks[:4]
    changed = [dataclasses.replace(r, values={k: v * 0.5 for k, v in r.values.items()})
               if r.num_params == max(x.num_params for x in runs.runs) else r
               for r in runs.runs]
    before = fit_family(runs, tasks)
    after = fit_family(dataclasses.replace(runs, runs=changed), tasks)
    assert [law.coefficients for law in before] == [law.coefficients for law in after]
    assert all(a.predictions[t][2] == 0.5 * b.predictions[t][2]
               for a, b in zip(after, before, strict=True) for t in a.predictions)


def test_fitting_twice_gives_identical_laws(fitted):
    con, _ = fitted
    runs = load_family(con, FAMILY)
    first, second = fit_family(runs, runs.tasks[:3]), fit_family(runs, runs.tasks[:3])
    assert [(law.coefficients, law.predictions) for law in first] == \
        [(law.coefficients, law.predictions) for law in second]


def test_a_run_evaluated_once_keeps_its_point(fitted):
    """Over-training runs have one checkpoint each: step 2 fits one point per run."""
    con, _ = fitted
    runs = load_family(con, FAMILY)
    assert all(r.values[LOSS].size == 1 for r in runs.runs)
    laws = fit_family(runs, runs.tasks[:1])
    chained = [law for law in laws if law.name == CHAINED]
    # step 1: one point per run; step 2: one per run plus the ideal point
    assert [law.n_points for law in chained] == [2 * n + 1 for n in (24, 31, 33)]


def test_predictable_is_the_conjunction_of_the_four_criteria(fitted):
    con, _ = fitted
    table = predictability(con)
    assert table.height == N_TASKS * N_SIZES
    expected = (pl.col("abs_points") < 2) & (pl.col("fit_points") < 2) \
        & (pl.col("accuracy") - pl.col("chance") >= 5) \
        & (pl.col("abs_points") < pl.col("baseline_points"))
    assert table["predictable"].to_list() == table.select(expected.fill_null(False)
                                                          ).to_series().to_list()
    baseline = query(con, "SELECT law_id, coefficients['accuracy'] AS acc FROM laws "
                          "WHERE json_extract_string(settings, '$.variant') = ?", [BASELINE])
    assert baseline.height == N_TASKS * N_SIZES
    piqa = table.filter(pl.col("task") == "acc_piqa @10", pl.col("sizes") == 5).row(0, named=True)
    assert piqa["chance"] == 50.0 and piqa["accuracy"] == pytest.approx(77.80, abs=0.01)


def test_shares_by_family_and_overall(fitted):
    con, _ = fitted
    table = shares(predictability(con))
    assert table["family"].to_list() == [FAMILY, "all"]
    row = table.row(0, named=True)
    assert (row["sizes"], row["tasks"]) == (5, N_TASKS)
    assert row["share"] == pytest.approx(row["predictable"] / N_TASKS)
    assert row["predictable"] <= min(row["within_points"], row["fits"], row["above_chance"],
                                     row["beats_baseline"])


def test_an_unknown_family_is_one_error(fitted):
    con, _ = fitted
    with pytest.raises(MetaError, match="^Family 'nope' has no task accuracies at 4 or more "
                                        "sizes beside a loss. Eligible families: overtrain-C4, "):
        fit_tasks(con, ["nope"])


def test_split_needs_a_size_left_to_predict():
    with pytest.raises(ValueError, match="k must be in"):
        split([], 1)


def test_report_section_states_the_measured_shares(fitted):
    con, _ = fitted
    doc = Document("t")
    predictability_section(doc, con)
    text = doc.markdown()
    row = shares(predictability(con)).row(0, named=True)
    assert f"Overall, {row['predictable']} of {N_TASKS} (family, task) pairs" in text
    assert "C4 " + f"{row['predictable']} of {N_TASKS} tasks predictable" in text
    assert "misses by under 2 accuracy points" in text


def test_cli_fits_the_families_and_prints_the_shares(tmp_path, data_root):
    db = str(tmp_path / "w.duckdb")
    runner = CliRunner()
    assert runner.invoke(cli, ["ingest", "overtrain", "--data-root", str(data_root),
                               "--warehouse", db]).exit_code == 0
    result = runner.invoke(cli, ["tasks", "fit", "--families", "--family", FAMILY, "--json",
                                 "--warehouse", db])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [r["family"] for r in rows] == [FAMILY, "all"]
    assert rows[0]["tasks"] == N_TASKS
    assert f"{2 * N_TASKS * N_SIZES} task laws written" in result.stderr
    wrong = runner.invoke(cli, ["tasks", "fit", "--family", FAMILY, "--warehouse", db])
    assert (wrong.exit_code, wrong.stderr) == (1, "Error: --family needs --families.\n")
