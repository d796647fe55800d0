"""The ladder's laws in the warehouse: their rows, the views that keep accuracies apart from
losses, the training rows of every law, and coexistence with the Hitchhiker studies."""

from __future__ import annotations

import pytest

import analyses.hitchhiker.run as run
import warehouse
from analyses.ladder.run import fit_ladder, predict_at, stored_predictions
from ingest.run import ingest

N_LAWS = 10 * (4 + 3 + 2) + 1  # 10 tasks x (step-1, step-2, chained variants) + one C4 law


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, data_root):
    con = warehouse.connect(tmp_path_factory.mktemp("ladder") / "w.duckdb")
    ingest(con, ["olmo-ladder"], data_root)
    study, written, deleted = fit_ladder(con)
    yield con, study, written, deleted
    con.close()


def test_laws_and_predictions_are_stored_once(fitted):
    con, _, written, deleted = fitted
    assert (written, deleted) == (N_LAWS, 0)
    assert con.execute("SELECT count(*) FROM predictions").fetchone() == (2 * N_LAWS,)
    _, again, removed = fit_ladder(con)
    assert (again, removed) == (0, 0)


def test_no_target_checkpoint_enters_any_law(fitted):
    """Every ladder law's training runs carry the config's train tag, none is a target, and
    no prediction is of a training run."""
    con, _, _, _ = fitted
    rows = con.execute("""
        SELECT DISTINCT u.m, m.family, list_contains(m.tags, 'final:train')
        FROM laws l, unnest(l.train_spec.models) AS u(m) JOIN models m ON m.model_id = u.m
        WHERE l.study = 'ladder'""").fetchall()
    assert len(rows) == 16
    assert all(family == "olmo-ladder" and train for _, family, train in rows)
    predicted = con.execute("""
        SELECT DISTINCT m.model_id FROM predictions p JOIN laws l USING (law_id)
        JOIN checkpoints c USING (checkpoint_id) JOIN models m USING (model_id)
        WHERE l.study = 'ladder' ORDER BY 1""").fetchall()
    assert predicted == [("olmo-ladder/13B-5T",), ("olmo-ladder/7B-4T",)]


def test_accuracy_errors_never_mix_with_loss_errors(fitted):
    con, _, _, _ = fitted
    in_are = con.execute("SELECT DISTINCT l.quantity FROM are JOIN laws l USING (law_id)"
                         ).fetchall()
    in_task = con.execute("SELECT DISTINCT l.quantity FROM task_are JOIN laws l USING (law_id)"
                          ).fetchall()
    assert in_are == [("loss",)] and in_task == [("accuracy",)]
    n_are, n_task = con.execute(
        "SELECT (SELECT count(*) FROM are), (SELECT count(*) FROM task_are)").fetchone()
    assert n_are + n_task == N_LAWS
    # the 13B MMLU chained law: published 0.35 points (methods/ladder.md Sec. 5)
    points = con.execute("""
        SELECT 100 * abs(p.predicted - p.actual) FROM laws l JOIN predictions p USING (law_id)
        WHERE l.settings LIKE '%"variant": "chained_main"%'
          AND l.settings LIKE '%mmlu_avg_test_5shot%' AND p.checkpoint_id LIKE '%13B%'
    """).fetchone()[0]
    assert points == pytest.approx(0.346, abs=1e-3)


def test_step2_and_flops_laws_keep_their_parameters(fitted):
    con, _, _, _ = fitted
    row = con.execute("""
        SELECT form, params, coefficients['x0'], coefficients['k'] FROM laws
        WHERE settings LIKE '%"variant": "step2_main"%' AND settings LIKE '%hellaswag%'
    """).fetchone()
    assert row[0] == "sigmoid" and row[1] is None
    assert row[2] == pytest.approx(0.76674, abs=1e-5)  # methods/ladder.md Sec. 6
    assert row[3] == pytest.approx(12.7417, abs=1e-4)
    flops = con.execute("SELECT map_keys(coefficients) FROM laws WHERE form = 'flops' LIMIT 1"
                        ).fetchone()[0]
    assert flops == ["a", "alpha", "E"]


def test_hitchhiker_fit_all_keeps_the_ladder_laws(fitted):
    """fit-all deletes only the laws of its own studies that no convention set holds: the
    ladder's stay."""
    con, _, _, _ = fitted
    ladder = "SELECT count(*) FROM laws WHERE study = 'ladder'"
    before = con.execute(ladder).fetchone()[0]
    result = run.fit_all(con, studies=["num-models"], estimators=["huber-lbfgs"],
                         families=["olmo-ladder"])
    assert result.fitted > 0 and con.execute(ladder).fetchone()[0] == before > 0


def test_predictions_from_stored_laws(fitted):
    con, study, _, _ = fitted
    stored = stored_predictions(con)
    chained = stored.filter(variant="chained_main", target="olmo-ladder/13B-5T",
                            task="mmlu_avg_test_5shot")
    assert chained["predicted"].item() == pytest.approx(0.5126799915287485, rel=1e-6)
    at = predict_at(con, 13_202_396_160, 5_000_088_518_656, 91_335_915_520)
    mmlu = at.filter(task="mmlu_avg_test_5shot").row(0, named=True)
    assert mmlu["accuracy"] == pytest.approx(0.5126799915287485, rel=1e-6)
    assert mmlu["accuracy_flops"] == pytest.approx(0.4834258227956778, rel=1e-5)
