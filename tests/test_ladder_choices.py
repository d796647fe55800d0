"""Method choices: runs selected per choice, chosen on the 3B rung, reported on the targets."""

from __future__ import annotations

import polars as pl
import pytest

import warehouse
from analyses.ladder.choices import (
    ALL_SIZES,
    CHOICES,
    PAPER,
    PAPER_SIZES,
    RUNG_TARGETS,
    Choice,
    catalog,
    choice_study,
    training_runs,
)
from analyses.ladder.tasks import TASKS
from ingest.run import ingest


@pytest.fixture(scope="module")
def con(tmp_path_factory, data_root):
    con = warehouse.connect(tmp_path_factory.mktemp("choices") / "w.duckdb")
    ingest(con, ["olmo-ladder"], data_root)
    yield con
    con.close()


def test_runs_of_each_choice(con):
    cat = catalog(con)
    paper = training_runs(cat, PAPER_SIZES, PAPER)
    assert len(paper) == 16
    assert set(paper) == set(warehouse.query(
        con, "SELECT model_id FROM models WHERE list_contains(tags, 'final:train')"
    )["model_id"])
    assert len(training_runs(cat, PAPER_SIZES, Choice(one_x="both", half=True))) == 24
    assert all("rerun" in m for m in training_runs(cat, PAPER_SIZES, Choice(one_x="rerun"))
               if "-1xC" in m)
    for choice in CHOICES:  # the rung's targets are never trained on at its sizes
        ids = training_runs(cat, PAPER_SIZES, choice)
        assert not any(m.split("/")[1] in RUNG_TARGETS or "/3B-" in m for m in ids)
    assert len(training_runs(cat, ALL_SIZES, PAPER)) == 20


def test_choice_is_the_rung_minimum_and_the_paper_row_is_the_papers(con):
    study = choice_study(con, TASKS[:2])
    best = study.rung.row(0, named=True)
    assert best["rung_points"] == pytest.approx(study.rung["rung_points"].min(), abs=1e-6)
    assert (study.chosen.optimizer, study.chosen.one_x, study.chosen.half) == (
        best["optimizer"], best["one_x"], best["half"])
    assert study.targets.height == 2 * len(CHOICES)
    paper = study.targets.filter(pl.col("optimizer") == "single-start",
                                 pl.col("one_x") == "plain", ~pl.col("half"),
                                 pl.col("sizes") == 4).row(0, named=True)
    # methods/ladder.md Sec. 5, 13B chained: MMLU 0.35 and HellaSwag 2.11 points
    assert paper["13B-5T points"] == pytest.approx((0.346 + 2.113) / 2, abs=1e-3)
