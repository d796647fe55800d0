"""The two-step prediction beside the observational one (issue 15 item 4): BLOOM-7B1, the
largest BLOOM of the Pythia source's evaluations, is also in ObsScaling's analysis set."""

from __future__ import annotations

import polars as pl
import pytest

import warehouse
from analyses.observational import experiment_for_target, run
from analyses.tasks.observational import BENCHMARKS, side_by_side
from analyses.tasks.run import fit_tasks, predictability
from ingest.run import ingest
from warehouse.errors import MetaError
from warehouse.sql import query


@pytest.fixture(scope="module")
def con(tmp_path_factory, data_root):
    con = warehouse.connect(tmp_path_factory.mktemp("obs") / "w.duckdb")
    ingest(con, ["pythia", "obsscaling"], data_root)
    yield con
    con.close()


def test_nothing_to_compare_before_the_fit(con):
    with pytest.raises(MetaError, match="^The warehouse holds no laws of study 'tasks'"):
        side_by_side(con)


def test_both_predictions_of_the_same_target(con):
    fit_tasks(con, ["bloom"])
    table = side_by_side(con)
    assert table.select("target", "benchmark", "obs_metric").rows() == [
        ("pythia/bloom-7b1", "arc_challenge", "ARC-C"),
        ("pythia/bloom-7b1", "winogrande", "Winograd")]
    stored = predictability(con, ["bloom"]).filter(
        pl.col("sizes") == 4, pl.col("benchmark").is_in(list(BENCHMARKS))).sort("benchmark")
    assert table["two_step_points"].to_list() == stored["abs_points"].to_list()
    assert (table["obs_points"] - (table["obs_predicted"] - table["obs_actual"]).abs()
            ).abs().max() < 1e-9


def test_the_observational_fit_never_sees_the_target(con):
    """Its training models are those trained with less compute than BLOOM-7B1."""
    flops = query(con, "SELECT flops FROM checkpoints "
                       "WHERE model_id = 'obsscaling/bigscience/bloom-7b1'")["flops"][0]
    fit = run(con, experiment_for_target(con, "ARC-C"), cutoff_flops=flops * (1 - 1e-6))
    rows = fit.methods["pc"].predictions
    assert rows.filter(pl.col("model") == "bigscience/bloom-7b1")["test"].to_list() == [True]
    assert rows.filter(~pl.col("test"))["flops"].max() < flops
    assert side_by_side(con)["obs_train"].to_list() == [fit.methods["pc"].n_train] * 2
