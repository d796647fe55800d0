"""The released code's conventions: each changes what it claims to change and nothing else,
and both convention sets live in one warehouse with the corrected laws' ids unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

import analyses.hitchhiker.run as run
import warehouse
from analyses.hitchhiker import conventions, fitting, tables
from analyses.hitchhiker.paper import PAPER_FAMILIES, paper_heatmaps
from analyses.hitchhiker.protocol import Family
from analyses.hitchhiker.studies import get_study
from ingest.run import ingest
from tests.conventiondata import points
from tests.paperfigures import paper_cells
from warehouse.errors import UnknownName
from warehouse.sql import query

STUDIES = ["num-models", "baselines", "leave-one-out"]


def shaped(frame: pl.DataFrame, name: str, con=None) -> pl.DataFrame:
    return conventions.shape_points(frame, con, frozenset({name}))


def unchanged_outside(before: pl.DataFrame, after: pl.DataFrame, family: str) -> None:
    """Every row of the other families is exactly as it was."""
    keep = pl.col("family") != family
    assert after.filter(keep).sort("checkpoint_id").equals(
        before.filter(keep).sort("checkpoint_id"))


def test_opt_perplexity_fits_raw_perplexity_of_opt_only():
    before = points()
    after = shaped(before, "opt-perplexity")
    opt = pl.col("family") == "OPT"
    assert np.allclose(after.filter(opt)["perf"], 2.0 ** before.filter(opt)["perf"])
    assert after.filter(opt).drop("perf").equals(before.filter(opt).drop("perf"))
    unchanged_outside(before, after, "OPT")


def test_chinchilla_sizes_are_rounded_to_10m_and_merge_models():
    before = points()
    after = shaped(before, "chinchilla-rounded-sizes")
    chin = pl.col("family") == "chinchilla"
    sizes = after.filter(chin)["num_params"]
    assert (sizes % 1e7 == 0).all() and sizes.n_unique() == 2
    assert after.filter(chin)["model_id"].n_unique() == 2  # 4 digitised sizes, 2 rounded
    kept = ["checkpoint_id", "tokens", "perf"]
    assert after.filter(chin).select(kept).sort("checkpoint_id").equals(
        before.filter(chin).select(kept).sort("checkpoint_id"))
    unchanged_outside(before, after, "chinchilla")


def test_a_set_without_points_conventions_returns_the_points_themselves():
    before = points()
    assert conventions.shape_points(before, None, frozenset({"fit-few-points"})) is before


@pytest.fixture(scope="module")
def bimix_db(tmp_path_factory, data_root):
    path = tmp_path_factory.mktemp("bimix") / "w.duckdb"
    con = warehouse.connect(path)
    ingest(con, ["bimix", "t5-pile"], data_root)
    yield con
    con.close()


def test_bimix_log2_averages_log2_of_the_domain_values_of_bimix_only(bimix_db):
    from warehouse.identity import family_points

    before = family_points(bimix_db)
    after = shaped(before, "bimix-log2", bimix_db)
    logs = query(bimix_db, """
        SELECT c.checkpoint_id, avg(log2(x.value)) AS expected FROM metrics x
        JOIN checkpoints c USING (checkpoint_id) JOIN models m USING (model_id)
        JOIN families f ON f.family = m.family
        WHERE f.family = 'Pile' AND x.shots = 0 AND list_contains(f.perf_metric, x.metric)
        GROUP BY ALL""")
    pile = after.filter(pl.col("family") == "Pile").join(logs, on="checkpoint_id")
    assert pile.height == after.filter(pl.col("family") == "Pile").height > 10
    assert np.allclose(pile["perf"], pile["expected"])
    bimix = set(query(bimix_db, "SELECT family FROM families WHERE source = 'bimix'")["family"])
    assert set(after.filter(pl.col("perf") != before["perf"])["family"]) <= bimix
    assert after.filter(~pl.col("family").is_in(list(bimix))).equals(
        before.filter(~pl.col("family").is_in(list(bimix))))


def sweep() -> pl.DataFrame:
    """Two runs (a sweep) at each of 4 sizes, the second one worse."""
    rows = []
    for i, n in enumerate((1e8, 2e8, 4e8, 8e8)):
        for run_, worse in (("a", 0.0), ("b", 0.1)):
            for d in np.array([2, 5, 10, 20, 50]) * 1e9:
                rows.append({"model_id": f"m{i}{run_}", "checkpoint_id": f"m{i}{run_}@{d:.0f}",
                             "num_params": n, "tokens": d, "flops": 6 * n * d,
                             "perf": 1.8 + 400 / n**0.34 + 400 / d**0.28 + worse})
    return pl.DataFrame(rows)


def ladder(n_sizes: int, worse: int | None = None) -> pl.DataFrame:
    """One run per size; the run ``worse`` is 0.5 worse than the law at every checkpoint."""
    rows = sweep().filter(pl.col("model_id").str.ends_with("a"))
    extra = [sweep().filter(pl.col("model_id") == "m3a").with_columns(
        model_id=pl.lit(f"m{i}a"), checkpoint_id=pl.format("m{}a@{}", pl.lit(i), "tokens"),
        num_params=pl.lit(1e8 * 2**i)) for i in range(4, n_sizes)]
    rows = pl.concat([rows, *extra])
    if worse is not None:
        rows = rows.with_columns(perf=pl.when(pl.col("model_id") == f"m{worse}a")
                                 .then(pl.col("perf") + 0.5).otherwise(pl.col("perf")))
    return rows


def test_leave_one_out_drops_the_neighbour_only_under_its_convention():
    rows = ladder(5)
    plain = Family("f", rows, "h")
    released = Family("f", rows, "h", conventions=frozenset({"loo-drops-neighbour"}))
    loo = get_study("leave-one-out")
    ours = {(s.spec["left_out"], s.spec["target"]): s.spec["models"] for s in loo.specs(plain)}
    theirs = {(s.spec["left_out"], s.spec["target"]): s.spec["models"]
              for s in loo.specs(released)}
    assert ours.keys() == theirs.keys()
    assert ours[None, "m4a"] == theirs[None, "m4a"] == ["m0a", "m1a", "m2a", "m3a"]
    assert ours["m0a", "m4a"] == theirs["m0a", "m4a"] == ["m1a", "m2a", "m3a"]  # no neighbour
    assert ours["m2a", "m4a"] == ["m0a", "m1a", "m3a"] and theirs["m2a", "m4a"] == ["m0a", "m3a"]


def spec_of(family: Family, study: str, estimator: str):
    specs = list(get_study(study).specs(family))
    return specs, [fitting.law_settings(s, estimator) for s in specs]


def test_fit_few_points_sets_min_points_on_small_curvefit_laws_only():
    released = Family("f", sweep(), "h", conventions=frozenset({"fit-few-points"}))
    specs, settings = spec_of(released, "num-models", "curvefit-hitchhiker")
    base = fitting.estimator_settings("curvefit-hitchhiker")
    small = [s.train.size < 5 and s.train.size > 0 for s in specs]
    assert any(small) and not all(small)
    for spec, few, got in zip(specs, small, settings, strict=True):
        assert got == ({**base, "min_points": 1} if few else base), spec.spec
    _, huber = spec_of(released, "num-models", "huber-lbfgs")
    assert all(s == fitting.estimator_settings("huber-lbfgs") for s in huber)
    # the fit itself: a law on 3 points is fitted instead of too_few_points
    law = next(i for i, (s, f) in enumerate(zip(specs, small, strict=True)) if f)
    item = fitting.Pending(specs[law], "curvefit-hitchhiker", settings[law], "x")
    assert fitting.fit_specs([item]).laws["status"][0] != "too_few_points"
    plain = fitting.Pending(specs[law], "curvefit-hitchhiker", base, "y")
    assert fitting.fit_specs([plain]).laws["status"][0] == "too_few_points"


def test_baselines_share_cache_scores_most_trained_as_best_seen():
    # the most-trained training run (m2) is worse than a smaller one: the baselines differ
    released = Family("f", ladder(4, worse=2), "h",
                      conventions=frozenset({"baselines-share-cache"}))
    specs, settings = spec_of(released, "baselines", "most-trained")
    assert all(s == {"scored_as": "best-seen"} for s in settings)
    assert spec_of(released, "baselines", "best-seen")[1] == [{}] * len(specs)
    spec = specs[-1]
    best = fitting.fit_specs([fitting.Pending(spec, "best-seen", {}, "b")]).predictions
    as_best = fitting.fit_specs(
        [fitting.Pending(spec, "most-trained", settings[-1], "r")]).predictions
    most = fitting.fit_specs([fitting.Pending(spec, "most-trained", {}, "m")]).predictions
    assert as_best["predicted"].to_list() == best["predicted"].to_list()
    assert most["predicted"].to_list() != best["predicted"].to_list()


def test_fill_released_changes_the_tables_fill_only():
    assert tables.Selection().fill == "linear"
    assert tables.Selection(conventions="corrected+fill-released").fill == "released"
    assert tables.Selection(conventions="released").fill == "released"


def test_every_set_and_choice_is_known_and_bad_names_are_one_error():
    sets = conventions.convention_sets()
    assert sets["corrected"] == () and set(sets["released"]) == set(conventions.CONVENTIONS)
    assert all(f"corrected+{n}" in sets for n in conventions.CONVENTIONS)
    assert conventions.CHOICES["both"] == ("corrected", "released")
    assert set(conventions.CHOICES["all"]) == set(sets)
    with pytest.raises(UnknownName, match="convention set"):
        conventions.get_set("paper")
    with pytest.raises(UnknownName):
        tables.Selection(conventions="nope")


# -- both sets in one warehouse ----------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, data_root):
    """t5-pile, gpt3 and chinchilla fitted under corrected alone (ids recorded), then under
    corrected and released."""
    path = tmp_path_factory.mktemp("conventions") / "w.duckdb"
    con = warehouse.connect(path)
    ingest(con, ["t5-pile", "gpt3", "chinchilla"], data_root)
    run.fit_all(con, studies=STUDIES, estimators=["huber-lbfgs"])
    corrected = set(query(con, "SELECT law_id FROM laws")["law_id"])
    result = run.fit_all(con, studies=STUDIES, estimators=["huber-lbfgs"],
                         conventions=("corrected", "released"))
    yield con, corrected, result
    con.close()


def members(con, name: str) -> set[str]:
    return set(query(con, "SELECT law_id FROM law_sets WHERE conventions = ?", [name])["law_id"])


def test_corrected_laws_keep_their_ids_beside_the_released_ones(fitted):
    con, corrected, result = fitted
    assert members(con, "corrected") == corrected
    released = members(con, "released")
    assert result.fitted == len(released - corrected) > 0 and result.stale == 0
    shared = query(con, "SELECT DISTINCT family FROM laws WHERE law_id IN (SELECT law_id FROM "
                        "law_sets WHERE conventions = 'released' INTERSECT SELECT law_id FROM "
                        "law_sets WHERE conventions = 'corrected')")["family"]
    assert "t5-pile" in shared.to_list()  # no data convention touches t5-pile's points
    rounded = query(con, "SELECT DISTINCT num_params FROM perf_released "
                         "WHERE family = 'chinchilla'")["num_params"]
    assert 10 < rounded.len() < 142 and (rounded % 1e7 == 0).all()


def test_a_rerun_of_one_set_keeps_the_other(fitted):
    con, corrected, _ = fitted
    released = members(con, "released")
    again = run.fit_all(con, studies=STUDIES, estimators=["huber-lbfgs"])
    assert again.fitted == 0 and again.stale == 0
    assert members(con, "released") == released and members(con, "corrected") == corrected
    assert query(con, "SELECT count(*) AS n FROM laws")["n"][0] == len(released | corrected)


def test_tables_read_the_set_they_are_asked_for(fitted):
    con, corrected, _ = fitted
    ours = tables.laws(con, "num-models", "huber-lbfgs")
    theirs = tables.laws(con, "num-models", "huber-lbfgs",
                         sel=tables.Selection(conventions="released"))
    assert set(ours["law_id"]) <= corrected
    assert set(theirs["law_id"]) == members(con, "released") & set(
        query(con, "SELECT law_id FROM laws WHERE study = 'num-models'")["law_id"])
    chin = pl.col("family") == "chinchilla"
    assert theirs.filter(chin).height < ours.filter(chin).height  # 43 sizes, not 142


def test_the_paper_set_decides_which_families_are_averaged(fitted):
    con, _, _ = fitted
    df = tables.laws(con, "num-models", "huber-lbfgs")
    assert df.filter(pl.col("in_aggregate"))["family"].is_in(list(PAPER_FAMILIES)).all()
    every = tables.laws(con, "num-models", "huber-lbfgs", sel=tables.Selection(families="all"))
    assert every.filter(pl.col("in_aggregate")).height == df.height


def test_shipped_paper_heatmaps_are_the_figures_numbers(data_root):
    figures = data_root.parent / "methods" / "hitchhiker_figures.md"
    assert paper_cells(figures).equals(paper_heatmaps())


def test_the_readme_query_runs(fitted):
    con, _, _ = fitted
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    sql = readme.split("```sql\n", 1)[1].split("```", 1)[0]
    result = query(con, sql.replace("'OPT'", "'chinchilla'")
                   .replace("'curvefit-hitchhiker'", "'huber-lbfgs'"))  # what the fixture fits
    assert result.columns == ["conventions", "mean_are", "laws"]
    assert result["conventions"].to_list() == ["corrected", "released"]


def test_every_reading_fits_the_digitised_readings_of_gpt3_only(fitted):
    from warehouse.identity import family_points

    con, _, _ = fitted
    before = family_points(con)
    after = shaped(before, "every-reading", con)
    readings = query(con, "SELECT checkpoint_id, avg(value) AS mean, count(*) AS n "
                          "FROM readings WHERE metric = 'val_loss' GROUP BY 1")
    assert readings.height > 100 and (readings["n"] > 1).all()
    gpt3 = pl.col("family") == "gpt3"
    grew = after.filter(gpt3).height - before.filter(gpt3).height
    assert grew == int(readings["n"].sum()) - readings.height
    expanded = (after.filter(pl.col("checkpoint_id").str.contains("#"))
                .with_columns(checkpoint_id=pl.col("checkpoint_id").str.replace("#.*", ""))
                .group_by("checkpoint_id").agg(pl.col("perf").mean())
                .join(before.select("checkpoint_id", "perf"), on="checkpoint_id",
                      suffix="_stored"))
    assert expanded.height == readings.height
    assert np.allclose(expanded["perf"], expanded["perf_stored"])  # the stored value: the mean
    unchanged_outside(before, after, "gpt3")


def pythia_points() -> pl.DataFrame:
    ids = {"pythia/pythia-70m": ("pythia", 7e7), "pythia/pythia-1b": ("pythia", 1e9),
           "pythia/pythia-6.9b-deduped": ("pythia-deduped", 6.9e9),
           "pythia/pythia-baseline-70m-deduped-v0": ("pythia-baseline-deduped-v0", 7e7),
           "pythia/pythia-baseline-6.9b-deduped-v0": ("pythia-baseline-deduped-v0", 6.9e9),
           "pythia/pythia-160m-v0": ("pythia-v0", 1.6e8)}
    return pl.DataFrame([
        {"family": fam, "model_id": m, "checkpoint_id": f"{m}@step{s}", "num_params": n,
         "tokens": s * 2_097_152.0, "flops": None, "perf": 3.0, "usable": True}
        for m, (fam, n) in ids.items() for s in (1000, 2000)])


def test_pythia_membership_moves_the_released_runs_only():
    before = pythia_points()
    after = conventions.pythia_membership(before, None)
    moved = after.join(before, on="checkpoint_id", suffix="_was").filter(
        (pl.col("family") != pl.col("family_was")) | (pl.col("model_id") != pl.col("model_id_was"))
        | (pl.col("num_params") != pl.col("num_params_was")))
    assert sorted(set(moved["model_id_was"])) == [
        "pythia/pythia-1b", "pythia/pythia-baseline-6.9b-deduped-v0",
        "pythia/pythia-baseline-70m-deduped-v0"]
    row = after.filter(pl.col("checkpoint_id").str.starts_with("pythia/pythia-baseline-70m"))
    assert row["family"].unique().to_list() == ["pythia-deduped"] and row["num_params"][0] == 19e6
    merged = after.filter(pl.col("model_id") == "pythia/pythia-6.9b-deduped")
    assert merged.height == 4 and merged["family"].unique().to_list() == ["pythia-deduped"]
    assert after.filter(pl.col("model_id") == "pythia/pythia-1b")["family"][0] == "pythia-1b-bf16"
    assert after.select("checkpoint_id", "tokens", "perf").equals(
        before.select("checkpoint_id", "tokens", "perf"))


def test_pythia_v0_batch_halves_the_tokens_of_the_flagged_runs_only():
    import duckdb

    con = duckdb.connect()
    con.execute("CREATE TABLE models (model_id VARCHAR, source VARCHAR, flag VARCHAR)")
    con.execute("INSERT INTO models VALUES ('pythia/pythia-160m-v0', 'pythia', 'trained with "
                "4,194,304 tokens per step for 71,500 steps (ColPret: 2,097,152)'), "
                "('pythia/pythia-70m', 'pythia', NULL)")
    before = pythia_points()
    after = conventions.pythia_v0_batch(before, con)
    v0 = pl.col("model_id") == "pythia/pythia-160m-v0"
    assert np.allclose(after.filter(v0)["tokens"], before.filter(v0)["tokens"] / 2)
    assert after.filter(~v0).equals(before.filter(~v0))
    assert after.drop("tokens").equals(before.drop("tokens"))


def test_every_run_studies_the_whole_sweep_under_its_convention_only(fitted):
    con, _, _ = fitted
    rows = sweep()
    best = Family("f", rows, "h")
    every = Family("f", rows, "h", runs="all", conventions=frozenset({"every-run"}))
    assert len(best.model_ids) == 4 and len(every.model_ids) == 8
    # load_families gives the set's families runs="all", and only under every-run
    for name, runs in (("corrected", "best"), ("corrected+every-run", "all"),
                       ("corrected+opt-perplexity", "best")):
        assert {f.runs for f in run.load_families(con, conventions=name)} == {runs}


def test_moved_by_says_when_no_convention_was_fitted_alone(fitted):
    from analyses.hitchhiker.sensitivity import NOT_FITTED, sensitivity

    con, _, _ = fitted
    found = sensitivity(con)
    assert set(found.by_set) == {"corrected", "released"} and found.alone == []
    assert set(found.claims_table()["moved by"]) == {NOT_FITTED}
    assert found.changes().is_empty()


def test_stored_points_follow_each_write_of_a_set(tmp_path):
    from warehouse.laws import POINTS, write_points

    con = warehouse.connect(tmp_path / "w.duckdb")
    first = points().select(POINTS)
    stored = "SELECT * EXCLUDE (conventions) FROM convention_points ORDER BY checkpoint_id"
    write_points(con, "released", first)
    assert query(con, stored).equals(first.sort("checkpoint_id"))
    # one value changed, one row gone, one new: the stored rows are exactly the new ones
    second = pl.concat([
        first.slice(1).with_columns(perf=pl.when(pl.col("checkpoint_id") == "OPT/1@20000000000")
                                    .then(9.0).otherwise("perf")),
        first.slice(0, 1).with_columns(checkpoint_id=pl.lit("OPT/0@new")),
    ])
    write_points(con, "released", second)
    write_points(con, "corrected+opt-perplexity", first.filter(pl.col("family") == "OPT"))
    assert query(con, stored.replace("ORDER", "WHERE conventions = 'released' ORDER")).equals(
        second.sort("checkpoint_id"))
    assert query(con, "SELECT count(*) AS n FROM convention_points")["n"][0] == (
        second.height + first.filter(pl.col("family") == "OPT").height)
    con.close()
