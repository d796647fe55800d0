"""The guideline report: its tables on hand-built laws, the parameter PCA on synthetic data, the
claims and the written report on a small fitted warehouse, and `meta report guidelines`."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

import warehouse
from analyses.hitchhiker import aggregate, claims, pca, tables
from analyses.hitchhiker.report import _Report, write_report
from analyses.hitchhiker.run import fit_all
from analyses.hitchhiker.studies import STUDIES
from ingest.run import ingest
from meta.cli import cli

PNG = b"\x89PNG\r\n\x1a\n"
ALL = tables.Selection(families="all")  # the hand-made families are not the paper's

# -- hand-built laws -------------------------------------------------------------------------


def add_family(con, family: str, in_aggregate: bool = True) -> None:
    con.execute(
        "INSERT INTO families (family, source, perf_metric, scaled, in_aggregate) "
        "VALUES (?, 'test', ['loss'], true, ?)",
        [family, in_aggregate],
    )


def add_law(con, law_id, family, *, n_models, fraction, are, study="num-models",
            estimator=tables.CURVEFIT, params=None, k=None, status="ok") -> None:
    """A law scored on one test checkpoint with actual 1.0, so its ARE is ``are`` (None:
    a failed fit with no prediction)."""
    spec = {"models": [f"m{i}" for i in range(k or n_models)], "n_models": n_models,
            "fraction": fraction, "min_tokens": 1e10, "suffix": None, "left_out": None,
            "target": "t", "scale_up": 2.0}
    con.execute(
        """INSERT INTO laws (law_id, study, family, form, estimator, settings, params,
               train_spec, status, objective, n_points, train_flops, data_hash, seconds,
               fitted_at)
           VALUES (?, ?, ?, 'chinchilla', ?, '{}', ?, ?, ?, NULL, 10, 1.0, 'h', 0.0, now())""",
        [law_id, study, family, estimator, params, spec, status],
    )
    con.execute("INSERT INTO law_sets VALUES ('corrected', ?)", [law_id])
    con.execute(
        "INSERT INTO predictions VALUES (?, 'c', ?, 1.0)",
        [law_id, None if are is None else 1.0 + are],
    )


@pytest.fixture
def hand(db):
    """Families A, B, D in aggregates, C not, with laws whose ARE is known."""
    for fam, agg in (("A", True), ("B", True), ("C", False), ("D", True)):
        add_family(db, fam, agg)
    laws = [
        ("a1", "A", 2, 0.1, 0.1), ("a2", "A", 2, 0.1, 0.3), ("a3", "A", 2, 0.2, 0.4),
        ("a4", "A", 9, 0.1, 0.05), ("a5", "A", 10, 0.1, 0.15),
        ("b1", "B", 2, 0.1, 0.6), ("b2", "B", 2, 0.2, None), ("b3", "B", 2, 0.3, 0.2),
        ("c1", "C", 2, 0.1, 5.0),
        ("d1", "D", 3, 0.1, None), ("d2", "D", 3, 0.2, 0.3),
    ]
    for law_id, fam, n, p, are in laws:
        add_law(db, law_id, fam, n_models=n, fraction=p, are=are)
    return db


def cell(heat: pl.DataFrame, label: str, p: float):
    rows = heat.filter((pl.col("label") == label) & (pl.col("fraction") == p))
    assert rows.height == 1, (label, p, heat)
    return rows.row(0, named=True)


def test_laws_carry_are_and_spec(hand):
    df = tables.laws(hand, "num-models")
    assert df.height == 11
    a2 = df.filter(pl.col("law_id") == "a2").row(0, named=True)
    assert a2["are"] == pytest.approx(0.3) and a2["n_models"] == 2 and a2["fraction"] == 0.1
    assert df.filter(pl.col("law_id") == "b2")["are"][0] is None


def test_macro_heatmap_is_a_macro_average_with_interpolation(hand):
    heat = tables.macro_heatmap(hand, "num-models", tables.CURVEFIT, sel=ALL)
    # bin 2, p = 0.1: A's two laws average 0.2, B has 0.6; C is left out of aggregates
    assert cell(heat, "2", 0.1)["are"] == pytest.approx(0.4)
    assert cell(heat, "2", 0.1)["n_families"] == 2
    # B's failed p = 0.2 is interpolated between 0.6 (p = 0.1) and 0.2 (p = 0.3)
    assert cell(heat, "2", 0.2)["are"] == pytest.approx((0.4 + 0.4) / 2)
    assert cell(heat, "2", 0.3)["are"] == pytest.approx(0.2)
    # 9 and 10 models share the 8+ bin
    assert cell(heat, "8+", 0.1)["are"] == pytest.approx(0.1)
    # D's failed p = 0.1 takes the next scored value
    assert cell(heat, "3", 0.1)["are"] == pytest.approx(0.3)


def test_unidentified_laws_are_counted_and_can_be_left_out(hand):
    hand.execute("UPDATE laws SET unidentified = '2 sizes (alpha needs 3)' "
                 "WHERE law_id IN ('a2', 'b1')")
    heat = tables.macro_heatmap(hand, "num-models", tables.CURVEFIT, sel=ALL)
    assert cell(heat, "2", 0.1)["are"] == pytest.approx(0.4)  # the paper scores them
    assert (cell(heat, "2", 0.1)["n_scored"], cell(heat, "2", 0.1)["n_unidentified"]) == (3, 2)
    without = tables.macro_heatmap(hand, "num-models", tables.CURVEFIT,
                                   sel=tables.Selection(identified=True, families="all"))
    # bin 2, p = 0.1: A keeps a1 (0.1); B's only law there is left out, so B has no cell
    assert cell(without, "2", 0.1)["are"] == pytest.approx(0.1)
    assert cell(without, "2", 0.1)["n_families"] == 1
    assert cell(without, "2", 0.1)["n_unidentified"] == 0
    identified = tables.laws(hand, "num-models", sel=tables.Selection(identified=True))
    assert set(identified["law_id"]) == {
        "a1", "a3", "a4", "a5", "b2", "b3", "c1", "d1", "d2"}


def test_macro_heatmap_without_fill_and_as_released(hand):
    none = tables.macro_heatmap(hand, "num-models", tables.CURVEFIT, fill="none", sel=ALL)
    assert cell(none, "2", 0.2)["are"] == pytest.approx(0.4)  # A alone
    assert cell(none, "2", 0.2)["n_families"] == 1
    assert cell(none, "3", 0.1)["are"] is None
    released = tables.macro_heatmap(hand, "num-models", tables.CURVEFIT, fill="released",
                                     sel=ALL)
    assert cell(released, "2", 0.2)["n_families"] == 1  # only p = 0.1 is ever filled
    assert cell(released, "3", 0.1)["are"] == pytest.approx(0.3)


def test_fill_empty_rules():
    c = pl.DataFrame({"f": ["x"] * 5, "fraction": [0.1, 0.2, 0.3, 0.4, 0.5],
                      "are": [None, 0.2, None, None, None]})
    linear = aggregate.fill_empty(c, by=["f"])
    assert linear["are"].to_list() == [0.2, 0.2, None, None, None]  # nothing after: empty
    assert linear["filled"].to_list() == [True, False, False, False, False]
    c = c.with_columns(are=pl.Series([0.5, None, None, 0.2, None]))
    assert aggregate.fill_empty(c, by=["f"])["are"].to_list()[:4] == pytest.approx(
        [0.5, 0.4, 0.3, 0.2])
    assert aggregate.fill_empty(c, by=["f"], how="released")["are"].to_list()[1] is None
    with pytest.raises(ValueError, match="Unknown fill 'spline'"):
        aggregate.fill_empty(c, by=["f"], how="spline")


def test_best_are_and_full_data(hand):
    best = tables.best_are(hand, tables.CURVEFIT, sel=ALL)
    assert dict(zip(best["family"], best["are"], strict=True)) == pytest.approx(
        {"A": 0.05, "B": 0.2, "C": 5.0, "D": 0.3})
    full = aggregate.full_data(tables.laws(hand, "num-models"))
    assert full.filter(pl.col("family") == "A")["law_id"][0] == "a5"  # most models


def test_one_model_claim_is_measured_on_olmo_when_it_has_laws(db):
    add_family(db, "olmo")
    add_law(db, "o1", "olmo", study="one-model", n_models=1, k=1, fraction=1.0, are=0.009)
    add_law(db, "o2", "olmo", study="one-model", n_models=1, k=1, fraction=0.5, are=0.02)
    c = claims.one_model(db)
    assert c.verdict == claims.REPRODUCED and c.value == pytest.approx(0.009)
    assert "0.90%" in c.reason and "under 1%" in c.reason


# -- PCA --------------------------------------------------------------------------------------


def test_cut_claim_gives_the_laws_own_intervals_where_bootstrapped(db):
    for family, nocut, cut in (("OPT", 0.2, 0.05), ("pythia", 0.3, 0.08)):
        add_family(db, family)
        for study, are in (("num-models-nocut", nocut), ("num-models", cut)):
            add_law(db, f"{family}-{study}", family, n_models=3, fraction=1.0, are=are,
                    study=study)
            add_law(db, f"{family}-{study}-huber", family, n_models=3, fraction=1.0,
                    are=are / 2, study=study, estimator=tables.HUBER)
    db.execute("INSERT INTO law_intervals VALUES ('OPT-num-models', 200, 0, 'are', 0.9, "
               "0.03, 0.05, 0.09), ('OPT-num-models', 50, 0, 'are', 0.9, 0.0, 0.05, 0.5), "
               "('OPT-num-models-huber', 200, 0, 'are', 0.9, 0.01, 0.025, 0.04)")
    c = claims.cut_10b(db)
    assert c.verdict == claims.REPRODUCED and c.evidence is None  # two named families
    assert "to 5.0% [3.0, 9.0] with it (huber-lbfgs 10.0% -> 2.5% [1.0, 4.0])" in c.reason
    assert "pythia goes from 30.0% without the cut to 8.0% with it" in c.reason
    assert "90% intervals over 200 resamples of the laws' runs" in c.reason


def test_pca_recovers_a_known_rank():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(40, 2)) @ rng.normal(size=(2, 5)) + np.array([6, 7, 0.5, 0.3, 0.3])
    p = pca.fit_pca(x)
    assert pca.cumulative(p, 2) == pytest.approx(1.0, abs=1e-12)
    assert p.explained_variance_ratio_[2:].sum() < 1e-12
    np.testing.assert_allclose(p.mean_, x.mean(axis=0))
    # sklearn's sign convention: each component's largest loading is positive
    top = p.components_[np.arange(5), np.abs(p.components_).argmax(axis=1)]
    assert (top > 0).all()
    # the projection reconstructs the data
    back = p.transform(x) @ p.components_ + p.mean_
    np.testing.assert_allclose(back, x, atol=1e-9)


def test_pca_of_one_direction():
    x = np.outer(np.arange(6.0), [0.0, -3.0, 4.0, 0.0, 0.0])
    p = pca.fit_pca(x)
    np.testing.assert_allclose(p.components_[0], [0, -0.6, 0.8, 0, 0], atol=1e-12)
    assert p.explained_variance_ratio_[0] == pytest.approx(1.0)


def test_pca_rejects_bad_input():
    with pytest.raises(ValueError, match="at least 2 rows"):
        pca.fit_pca(np.ones((1, 5)))
    with pytest.raises(ValueError, match="finite"):
        pca.fit_pca(np.array([[1.0, np.nan], [2.0, 3.0]]))


def test_pca_over_warehouse_laws_takes_one_full_law_per_family(db):
    rng = np.random.default_rng(0)
    z = rng.normal(size=(6, 2))
    logs = z @ np.array([[1.0, 0.5, 0.2, 0.05, 0.0], [0.0, 1.0, -0.3, 0.0, 0.04]])
    logs += np.array([6.0, 7.0, 0.5, 0.35, 0.35])
    for i, row in enumerate(logs):
        fam = f"F{i}"
        add_family(db, fam)
        params = {"E": float(np.exp(row[2])), "A": float(np.exp(row[0])),
                  "B": float(np.exp(row[1])), "alpha": float(row[3]), "beta": float(row[4])}
        add_law(db, f"{fam}-full", fam, n_models=3, fraction=1.0, are=0.1, params=params)
        # a law on fewer models: not the family's full law, so not in the "full" PCA
        add_law(db, f"{fam}-small", fam, n_models=2, fraction=1.0, are=0.1,
                params={**params, "A": 1e9})
    add_family(db, "Z")
    add_law(db, "zero-E", "Z", n_models=3, fraction=1.0, are=0.1,
            params={"E": 0.0, "A": 5.0, "B": 5.0, "alpha": 0.3, "beta": 0.3})
    used = pca.law_params(db, tables.CURVEFIT, sel=ALL)
    assert sorted(used["law_id"]) == [f"F{i}-full" for i in range(6)]  # E = 0 has no log
    p, _ = pca.param_pca(db, tables.CURVEFIT, sel=ALL)
    assert pca.cumulative(p, 2) == pytest.approx(1.0)
    ex = pca.explained(db, (tables.CURVEFIT,), sel=ALL)
    assert set(ex["selection"]) == {"full", "all"}
    assert ex.filter(pl.col("selection") == "all")["n_laws"][0] == 12


# -- a small fitted warehouse -----------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(tmp_path_factory, data_root):
    """chinchilla, gpt3 and t5-pile ingested; every study fitted on t5-pile (the small one),
    the no-fit baselines on all three."""
    path = tmp_path_factory.mktemp("report") / "w.duckdb"
    con = warehouse.connect(path)
    ingest(con, ["chinchilla", "gpt3", "t5-pile"], data_root)
    fit_all(con, studies=list(STUDIES), families=["t5-pile"], jobs=1)
    fit_all(con, studies=["baselines"], families=["gpt3", "chinchilla"], jobs=1)
    con.close()
    return path


@pytest.fixture(scope="module")
def report(fitted, tmp_path_factory):
    out = tmp_path_factory.mktemp("guidelines")
    con = warehouse.connect(fitted, read_only=True)
    try:
        paths = write_report(con, out)
    finally:
        con.close()
    return out, paths


def test_claims_have_the_promised_shape(fitted):
    con = warehouse.connect(fitted, read_only=True)
    try:
        found = claims.all_claims(con)
    finally:
        con.close()
    assert [c.key for c in found] == ["best-are", "useful-20", "baselines", "five-models",
                                      "self-prefix", "cut-10b", "pca", "one-model", "outliers"]
    for c in found:
        assert c.verdict in claims.VERDICTS
        assert c.claim and c.paper and c.measured
        assert c.reason.endswith(".") and len(c.reason) > 30
        if c.evidence is not None and c.value is not None:  # the number an interval is of
            assert c.statistic(c.evidence) == pytest.approx(c.value, nan_ok=True)
            assert "family" in c.evidence.columns
    by = {c.key: c for c in found}
    # no OPT or Pythia here, and one family is too few for a PCA
    assert by["cut-10b"].verdict == claims.NOT_MEASURABLE
    assert by["pca"].verdict == claims.NOT_MEASURABLE
    assert by["one-model"].verdict == claims.NOT_MEASURABLE
    # t5-pile is the only family with fits: its best ARE is the measured one
    con = warehouse.connect(fitted, read_only=True)
    try:
        best = tables.best_are(con, tables.CURVEFIT)
    finally:
        con.close()
    assert best["family"].to_list() == ["t5-pile"]
    assert by["best-are"].value == pytest.approx(best["are"][0])
    assert claims.claims_frame(found).columns == ["claim", "paper", "measured", "verdict",
                                                  "reason"]


def test_baselines_table_on_real_fits(fitted):
    con = warehouse.connect(fitted, read_only=True)
    try:
        b = tables.baselines(con)
    finally:
        con.close()
    assert set(b["family"]) == {"chinchilla", "gpt3", "t5-pile"}
    t5 = b.filter(pl.col("family") == "t5-pile").row(0, named=True)
    assert 0 < t5["best-seen"] < 1 and t5[tables.CURVEFIT] is not None
    assert b.filter(pl.col("family") == "gpt3")[tables.CURVEFIT][0] is None  # not fitted


def test_report_writes_markdown_html_and_figures(report):
    out, paths = report
    md, page = paths[0], paths[1]
    assert md == out / "guidelines.md" and page == out / "guidelines.html"
    pngs = paths[2:]
    assert len(pngs) >= 5
    for p in pngs:
        assert p.read_bytes()[:8] == PNG
    text = md.read_text()
    assert ("| paper's claim | paper | warehouse | identified laws only | verdict | 90% interval "
            "over families | with the interval | why |") in text
    assert "## Guidelines from this data" in text and "No claim changes verdict" not in text
    assert "### Macro ARE without unidentified laws, curvefit-hitchhiker" in text
    assert ("## How sure: the main heatmap under the corrected conventions, against the paper"
            in text)
    assert "too few families" in text  # a handful of families: no interval anywhere
    sections = {part.split("\n", 1)[0]: part for part in text.split("\n## ")}
    for name in ("Predicting a run from its own beginning", "Only the end of training",
                 "Scale-down: predicting the smallest model"):
        section = sections[name]  # each macro table's cells with their interval or why not
        assert "| p=" in section or "| m=" in section or "| 0.1 |" in section, section
        assert "(too few families) |" in section
        assert "*Each cell: the macro ARE with its 90% interval over 1,000 resamples" in section
    assert "Scored num-models laws not identified: " in text
    headline = re.search(r"With the most models and whole runs \(the heatmap's top row at "
                         r"p = 1\), the macro ARE is (\S+) with curvefit-hitchhiker \(3 models, "
                         r"1 family; (\S+) without them\); .* In brackets: 90% intervals over "
                         r"resampled families, where 5 or more families enter\.", text)
    assert headline and headline[1].endswith("%")  # one family: no interval
    assert "*In brackets: the 90% interval" not in text  # no law bootstrapped here
    for key in ("4% is the best ARE", "3 principal components", "OLMo 1B -> 7B"):
        assert key in text
    referenced = re.findall(r"\]\((figures/[^)]+\.png)\)", text)
    assert referenced and all((out / r).exists() for r in referenced)
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html
    assert sorted(re.findall(r'<img src="(figures/[^"]+)"', html)) == sorted(referenced)
    assert 'class="verdict' in html


def test_a_macro_table_gives_each_cell_its_interval_in_the_rows_order(tmp_path):
    """Six families give intervals, four do not; the scale-up rows keep their order (4x
    before 16x), not the order of their labels as strings."""
    rows = [(f"f{i}", scale, p, 0.1 + 0.01 * i)
            for i in range(6) for scale in ("4x", "16x") for p in (0.5, 1.0)]
    cells = pl.DataFrame(rows, schema=["family", "scale", "fraction", "are"], orient="row"
                         ).with_columns(in_aggregate=pl.col("family") != "f0")
    cells = cells.filter((pl.col("scale") == "4x") | (pl.col("family") < "f3"))
    builder = _Report(None, tmp_path)
    builder._macro_table(cells, "scale", "fraction", "scale-up",
                         order={s: i for i, s in enumerate(aggregate.SCALE_LABELS)})
    text = builder.doc.markdown()
    assert text.index("| 4x | ") < text.index("| 16x | ")
    assert "| scale-up | p=0.5 | p=1.0 |" in text
    assert "| 4x | 13.0% [12.0, 14.0] | 13.0% [12.0, 14.0] |" in text  # f1..f5, f0 left out
    assert "| 16x | 11.5% (too few families) | 11.5% (too few families) |" in text
    assert "*Each cell: the macro ARE with its 90% interval" in text


def test_report_command(fitted, tmp_path):
    result = CliRunner().invoke(
        cli, ["report", "guidelines", "--out", str(tmp_path / "g"), "--warehouse", str(fitted)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g" / "guidelines.md").exists()
    assert (tmp_path / "g" / "guidelines.html").exists()
    assert "guidelines.md" in result.stderr and result.stdout == ""


def test_report_command_without_laws(tmp_path):
    db = tmp_path / "empty.duckdb"
    warehouse.connect(db).close()
    result = CliRunner().invoke(
        cli, ["report", "guidelines", "--out", str(tmp_path / "g"), "--warehouse", str(db)]
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: The warehouse holds no fitted num-models laws; run 'meta fit-all' first.\n"
    )


def test_report_help_lists_guidelines():
    result = CliRunner().invoke(cli, ["report", "--help"])
    assert result.exit_code == 0 and "guidelines" in result.stdout
    assert "Example:" in cli.commands["report"].commands["guidelines"].help


def test_baselines_not_fitted_are_not_measurable(hand):
    """Only num-models laws: the baselines table keeps its columns (empty) and the claim says
    it cannot be measured, instead of the report failing."""
    b = tables.baselines(hand, sel=ALL)
    assert {"best-seen (all)", "most-trained (all)", "best-seen"} <= set(b.columns)
    assert b["best-seen (all)"].null_count() == b.height
    assert claims.baselines(hand, sel=ALL).verdict == claims.NOT_MEASURABLE


def test_a_study_not_fitted_says_so_instead_of_an_empty_section(hand, tmp_path):
    md = write_report(hand, tmp_path)[0].read_text()  # num-models laws only
    for title, study in (("Only the end of training", "suffix"),
                         ("Leaving one size out", "leave-one-out")):
        assert (f"## {title}\n\nNot fitted: the warehouse has no law of study `{study}` "
                f"(`meta fit-all --study {study}` fits it).\n\n##") in md
    assert "## How many models, how much of their training\n\nLaws are fitted" in md


def test_a_mean_over_families_has_its_interval_or_says_n_a():
    six = pl.DataFrame({"family": list("abcdef"), "x": [0.1, 0.2, 0.1, 0.3, 0.2, 0.1]})
    assert _Report._family_mean(six) == "16.7% [11.7, 21.7]"
    assert _Report._family_mean(six.head(3)) == "13.3% (too few families)"
    assert _Report._family_mean(six.clear()) == "n/a"  # an estimator not fitted


def test_a_macro_table_keeps_a_row_no_family_has_a_value_in():
    from analyses.hitchhiker.report_intervals import macro_table
    rows = [(f"f{i}", b, p, None if b == 2 else 0.1 + 0.01 * i)
            for i in range(6) for b in (2, 3) for p in (0.5, 1.0)]
    cells = pl.DataFrame(rows, schema=["family", "bin", "fraction", "are"], orient="row",
                         ).with_columns(in_aggregate=pl.lit(True))
    found = macro_table(cells, ["bin", "fraction"]).unnest("are")
    assert found["bin"].to_list() == [2, 2, 3, 3]
    assert found["are"].to_list()[:2] == [None, None] and found["status"][2] == "ok"
