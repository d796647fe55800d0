"""The Hitchhiker guideline report: claims, computed guidance, tables and figures.

:func:`write_report` reads the fitted laws (``meta fit-all``) and writes ``guidelines.md``,
``guidelines.html`` and ``figures/*.png`` into a folder. Every sentence of guidance is built
from measured numbers; where the warehouse disagrees with the paper, the claim's reason says so
and why (:mod:`analyses.hitchhiker.claims`).

The file stays whole (about 570 lines): one class writes one document, a short method per
section in reading order over shared figure and table helpers; the sections on the paper's
data conventions and on intervals are apart (:mod:`~analyses.hitchhiker.report_conventions`,
:mod:`~analyses.hitchhiker.report_intervals`), and every number comes from
:mod:`~analyses.hitchhiker.tables`, :mod:`~analyses.hitchhiker.study_tables`,
:mod:`~analyses.hitchhiker.claims`, :mod:`~analyses.hitchhiker.guidelines` and
:mod:`~analyses.hitchhiker.verdicts`.

References
----------
Choshen, Zhang & Andreas (2024), "A Hitchhiker's Guide to Scaling Law Estimation".
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import duckdb
import numpy as np
import polars as pl

from analyses.document import Document, percent, percent_interval
from analyses.document import percent_or_na as _pct
from analyses.hitchhiker import (
    aggregate,
    claims,
    figures,
    guidelines,
    intervals,
    pca,
    report_conventions,
    report_intervals,
    study_tables,
    tables,
    verdicts,
)
from analyses.hitchhiker.tables import BASELINES, CURVEFIT, ESTIMATORS, HUBER, Selection
from warehouse.errors import MetaError
from warehouse.sql import one

MAIN_FAMILIES = ("pythia", "pythia-deduped", "OPT", "gpt3", "chinchilla", "t5-pile",
                 "GPT2-c4-1.0", "GPT2-oscar-44.0", "lambda")
ONE_MODEL_FAMILIES = ("olmo", "OPT", "gpt3", "pythia", "pythia-deduped", "lambda", "t5-pile")
FIGURES = "figures"


def write_report(con, out_dir: Path | str) -> list[Path]:
    """Write the guideline report into ``out_dir``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A warehouse with fitted laws (read-only is enough).
    out_dir : Path or str
        Created if missing; figures go to ``out_dir/figures``.

    Returns
    -------
    list of Path
        ``guidelines.md``, ``guidelines.html``, then every PNG written.
    """
    _require_laws(con)
    out = Path(out_dir)
    try:
        (out / FIGURES).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MetaError(f"Cannot write the report into {out}: {e.strerror}.") from None
    report = _Report(con, out)
    doc = report.build()
    md, page = doc.write(out, "guidelines")
    return [md, page, *report.pngs]


def _require_laws(con) -> None:
    """Raise a clear error unless the warehouse holds scored num-models laws."""
    try:
        n = one(con, "SELECT count(*) FROM laws WHERE study = 'num-models'")[0]
    except duckdb.CatalogException:
        n = 0
    if not n:
        raise MetaError("The warehouse holds no fitted num-models laws; run 'meta fit-all' first.")


def _share(column: str, digits: int = 0) -> pl.Expr:
    """A column of fractions as percent text (not shaded: these are shares, not ARE)."""
    return pl.col(column).map_elements(lambda v: percent(v, digits), return_dtype=pl.String)


class _TopCell(NamedTuple):
    """The heatmap's top cell, as the headline names it: its row, families and ARE text."""

    label: str
    n_families: int
    are: str

    def where(self) -> str:
        """``8+ models, 1 family``."""
        if not self.label:
            return "no scored law"
        return (f"{self.label} models, {self.n_families} "
                f"famil{'y' if self.n_families == 1 else 'ies'}")


class _Report:
    """Builds the document section by section, writing figures as it goes."""

    def __init__(self, con, out: Path):
        self.con = con
        self.out = out
        self.pngs: list[Path] = []
        self.doc = Document("Scaling-law estimation guidelines, measured on the warehouse")

    def fig(self, name: str) -> Path:
        return self.out / FIGURES / f"{name}.png"

    def add_figure(self, path: Path | None, caption: str) -> None:
        if path is None:
            return
        self.pngs.append(path)
        self.doc.figure(f"{FIGURES}/{path.name}", caption)

    def build(self) -> Document:
        laws = tables.laws
        self.cells = {e: tables.heatmap_cells(self.con, "num-models", e) for e in ESTIMATORS}
        self.heat = {e: tables.heatmap_of(self.cells[e]) for e in ESTIMATORS}
        self.fam = tables.families_studied(self.con)
        self.studies = {r[0] for r in self.con.execute("SELECT DISTINCT study FROM laws")
                        .fetchall()}
        n_laws = int(self.fam["n_laws"].sum())
        fitted = self.fam.filter(pl.col("n_laws") > 0)
        with_scores = fitted.filter(pl.col("n_scored") > 0)
        scored = {e: laws(self.con, "num-models", e)["are"].count() for e in ESTIMATORS}
        self.doc.paragraph(
            f"What the public evidence in this warehouse says about fitting a scaling law on "
            f"small models to predict a large one, following Choshen, Zhang & Andreas (2024), "
            f"*A Hitchhiker's Guide to Scaling Law Estimation*. {n_laws:,} laws were fitted on "
            f"{fitted.height} families, {with_scores.height} of which have scored laws "
            f"({int(with_scores['in_aggregate'].sum())} of those enter the averages); "
            f"{scored[CURVEFIT]:,} num-models laws were scored with the paper's estimator "
            f"(`curvefit-hitchhiker`) and {scored[HUBER]:,} with `huber-lbfgs`. ARE is the "
            f"mean over the target's last 30% of checkpoints of |L - L^| / L."
        )
        self.claims = claims.all_claims(self.con)
        self.identified_claims = claims.all_claims(self.con, sel=Selection(identified=True))
        self.cells_identified = {e: tables.heatmap_cells(self.con, "num-models", e,
                                                         sel=Selection(identified=True))
                                 for e in ESTIMATORS}
        self._identification_paragraph()
        self.section_claims()
        report_conventions.add_sections(self.doc, self.con)
        self.section_guidelines()
        self.section_models()
        report_intervals.add_section(self.doc, self.con, self.add_figure,
                                     self.fig("macro_intervals"))
        self.section_families()
        self.section_curves()
        self.section_baselines()
        self.section_self_prefix()
        self.section_cut()
        self.section_one_model()
        self.section_windows()
        self.section_suffix()
        self.section_scale_down()
        self.section_leave_one_out()
        self.section_pca()
        self.section_notes()
        return self.doc

    # -- claims and guidance ----------------------------------------------------------------

    def _identification_paragraph(self) -> None:
        """How many scored laws their data cannot identify, and the headline without them."""
        parts = []
        for e in ESTIMATORS:
            df = tables.laws(self.con, "num-models", e)
            scored = df.filter(pl.col("are").is_not_null())
            flagged = scored.filter(pl.col("unidentified").is_not_null())
            parts.append(f"{flagged.height:,} of {scored.height:,} with {e}")
        top = {e: self._top_cell(self.cells[e]) for e in ESTIMATORS}
        top_id = {e: self._top_cell(self.cells_identified[e]) for e in ESTIMATORS}
        self.doc.paragraph(
            "Some scored laws cannot be identified by their data (fewer than 3 sizes for "
            "E + A/N^alpha, E pinned at 0 or above the lowest loss, an exponent at its bound "
            "or outside [0.01, 3]; `laws.unidentified` says why). The paper scores them, and so "
            "do the tables here; every headline is also given without them. Scored num-models "
            f"laws not identified: {'; '.join(parts)}. With the most models and whole runs "
            f"(the heatmap's top row at p = 1), the macro ARE is "
            + "; ".join(f"{top[e].are} with {e} ({top[e].where()}; {top_id[e].are} without "
                        f"them)"
                        for e in ESTIMATORS)
            + f". In brackets: {intervals.LEVEL:.0%} intervals over resampled families, "
            f"where {intervals.MIN_FAMILIES} or more families enter."
        )

    @staticmethod
    def _top_cell(cells: pl.DataFrame) -> _TopCell:
        """The macro ARE of the top row of the heatmap (the most models) at p = 1."""
        found = report_intervals.macro_table(cells, ["bin", "fraction"])
        if found.is_empty():
            return _TopCell("", 0, "n/a")
        cell = found.filter((pl.col("bin") == found["bin"].max()) & (pl.col("fraction") == 1.0))
        if not cell.height:
            return _TopCell("", 0, "n/a")
        c, n = cell["are"][0], cell["n_families"][0]
        return _TopCell(aggregate.bin_label(cell["bin"][0]), n,
                        percent_interval(c["are"], c["low"], c["high"]) or "n/a")

    def section_claims(self) -> None:
        d = self.doc
        d.heading("Claims of the paper, checked")
        judged = [verdicts.judge_claim(c) for c in self.claims]
        frame = claims.claims_frame(self.claims).with_columns(
            identified=pl.Series([c.measured for c in self.identified_claims]),
            interval=pl.Series([j.text for j in judged]),
            judged=pl.Series([j.verdict for j in judged]),
        ).rename(
            {"claim": "paper's claim", "paper": "paper", "measured": "warehouse",
             "identified": "identified laws only", "verdict": "verdict", "reason": "why",
             "interval": f"{intervals.LEVEL:.0%} interval over families",
             "judged": "with the interval"}
        ).select("paper's claim", "paper", "warehouse", "identified laws only", "verdict",
                 f"{intervals.LEVEL:.0%} interval over families", "with the interval", "why")
        d.table(frame, verdict="verdict")
        counts = {v: sum(c.verdict == v for c in self.claims) for v in claims.VERDICTS}
        changed = [c.key for c, j in zip(self.claims, judged, strict=True) if j.changed]
        d.paragraph(
            f"{counts[claims.REPRODUCED]} of {len(self.claims)} claims are reproduced, "
            f"{counts[claims.NOT_REPRODUCED]} are not, and {counts[claims.NOT_MEASURABLE]} "
            f"cannot be measured on this data. Thresholds are set in "
            f"`analyses/hitchhiker/claims.py` and stated in each reason. The interval is over "
            f"{intervals.RESAMPLES:,} resamples of the families the claim averages (seed "
            f"{intervals.SEED}; '{intervals.TOO_FEW}' below {intervals.MIN_FAMILIES}; a "
            f"bound 'never': so many resamples reach no prefix that qualifies); a claim "
            f"about named families (the 10B cut) has none, and its reason gives the laws' own "
            f"intervals over resampled runs where `meta bootstrap` computed them. "
            + (f"Once intervals are shown, the verdict changes for {len(changed)} of "
               f"{len(self.claims)} claims ({', '.join(changed)}): a reproduced claim whose "
               f"interval excludes the paper's number, one not reproduced whose interval holds "
               f"it, or one resting on too few families." if changed
               else "No claim changes verdict once intervals are shown.")
        )

    def section_guidelines(self) -> None:
        d = self.doc
        d.heading("Guidelines from this data")
        judged = [(g, verdicts.judge_guideline(g)) for g in guidelines.guidelines(self.con)]
        d.bullets([f"{g.text} *{g.measure}: {j.text} over {j.interval.n_families} families"
                   + ("" if j.verdict in (verdicts.REPORTS, intervals.TOO_FEW)
                      else f"; {j.verdict}") + ".*" for g, j in judged])
        changed = [g.key for g, j in judged if j.changed]
        advice = [g.key for g, _ in judged if g.threshold is not None]
        d.paragraph(
            f"In italics, each sentence's number with its {intervals.LEVEL:.0%} interval over "
            f"{intervals.RESAMPLES:,} resamples of the families (seed {intervals.SEED}); advice "
            f"'{verdicts.HOLDS}' when the whole interval lies on the side of the threshold it "
            f"was taken from, '{verdicts.NOT_RESOLVED}' when the interval straddles it, and "
            f"'{intervals.TOO_FEW}' below {intervals.MIN_FAMILIES} families. "
            + f"The sentences that give advice are {', '.join(advice)}; "
            + (f"once intervals are shown, {len(changed)} of {len(advice)} "
               f"{'is' if len(changed) == 1 else 'are'} no longer supported: "
               f"{', '.join(changed)}." if changed else "each holds across its interval.")
        )

    # -- sections ---------------------------------------------------------------------------

    def section_models(self) -> None:
        d = self.doc
        d.heading("How many models, how much of their training")
        d.paragraph(
            "Laws are fitted on the k smallest models of a family with the checkpoints between "
            "10B tokens and p times the longest of their runs, and predict the largest model. "
            "Rows bin k as the paper does (2, 3, ..., 7, 8+; k counts the distinct sizes left in "
            "the training rows after the cuts, `train_spec.n_models`); cells are averaged per "
            "family, then over families (macro average, leaving out the intervention, 5-shot and "
            "v0 families). Empty cells (failed fits, or no checkpoint in range) are interpolated "
            "along p within each family and bin before averaging, as the released `fill_nas` "
            "means to; that code's guard only ever filled p = 0.1 (`fill_empty(how='released')` "
            "reproduces it)."
        )
        panels = [(f"{e} (macro average)", self.heat[e]) for e in ESTIMATORS]
        path = figures.heatmaps(panels, self.fig("macro_num-models"), row="bin", col="fraction",
                                row_label=aggregate.bin_label)
        self.add_figure(path, "ARE (%) by number of training models and share of training, "
                              "averaged over families; colour scale 0-35% as in the paper.")
        for e in ESTIMATORS:
            d.heading(f"Macro ARE, {e}", 3)
            self._macro_table(self.cells[e], "bin", "fraction", "training models")
            n = self.heat[e].group_by("label", maintain_order=True).agg(
                pl.col("n_families").max())
            d.paragraph("Families per row (at most): " + ", ".join(
                f"{r['label']}: {r['n_families']}" for r in n.iter_rows(named=True)) + ".",
                note=True)
            heat = self.heat[e].with_columns(
                flagged=pl.format("{} of {}", "n_unidentified", "n_scored"))
            d.paragraph("Scored laws per cell that their data cannot identify:", note=True)
            d.table(heat.pivot(on="fraction", index="label", values="flagged",
                               sort_columns=True).rename(
                {"label": "training models", **{c: f"p={c}" for c in
                                                heat["fraction"].unique().cast(pl.String)}},
                strict=False))
            d.heading(f"Macro ARE without unidentified laws, {e}", 3)
            self._macro_table(self.cells_identified[e], "bin", "fraction", "training models")

    def _study_heading(self, title: str, study: str) -> bool:
        """The heading of a study's section, and whether the study has laws to show; a study
        not fitted gets a line saying how to fit it instead of an empty section."""
        self.doc.heading(title)
        if study in self.studies:
            return True
        self.doc.paragraph(f"Not fitted: the warehouse has no law of study `{study}` "
                           f"(`meta fit-all --study {study}` fits it).")
        return False

    def _macro_table(self, cells: pl.DataFrame, row: str, col: str, row_name: str,
                     order: dict[str, int] | None = None) -> None:
        """The table of the macro average of per-family ``cells`` by ``row`` x ``col``, each
        cell with its interval over resampled families; rows sorted by ``order`` if given."""
        found = report_intervals.macro_table(cells, [row, col])
        if order:
            found = found.sort(pl.col(row).replace_strict(order, return_dtype=pl.Int32),
                               pl.col(col))
        table, are = report_intervals.wide_table(found, row, col, row_name)
        self.doc.table(table, are=are)
        self._interval_note()

    def _interval_note(self) -> None:
        self.doc.paragraph(f"Each cell: the macro ARE with its {intervals.LEVEL:.0%} interval "
                           f"over {intervals.RESAMPLES:,} resamples of the families, or "
                           f"'{intervals.TOO_FEW}' below {intervals.MIN_FAMILIES} families; "
                           f"blank: no law scored there.",
                           note=True)

    def section_families(self) -> None:
        d = self.doc
        d.heading("Per family")
        for e in ESTIMATORS:
            cells = tables.family_cells(self.con, "num-models", e)
            present = [f for f in MAIN_FAMILIES
                       if cells.filter(pl.col("family") == f)["are"].count() > 0]
            if not present:
                continue
            panels = [(f, cells.filter(pl.col("family") == f)) for f in present]
            path = figures.heatmaps(panels, self.fig(f"families_num-models_{e}"), row="n_models",
                                    col="fraction", cols=3, size=(4.6, 3.3))
            self.add_figure(path, f"ARE (%) per family ({e}): rows are the number of smaller "
                                  f"models used, columns the share of training; hatched cells "
                                  f"are failed fits or had no checkpoint in range.")
        d.heading("Best ARE per family", 3)
        best = {e: report_intervals.with_law_intervals(self.con, tables.best_are(self.con, e),
                                                       "are", "law_id") for e in ESTIMATORS}
        t = best[CURVEFIT].select(
            "family", "in_aggregate", pl.col("are").alias(CURVEFIT),
            pl.col("n_models").alias("k"), pl.col("fraction").alias("p"), "n_laws"
        ).join(best[HUBER].select("family", pl.col("are").alias(HUBER)), on="family",
               how="full", coalesce=True).sort(pl.col(CURVEFIT).struct.field("are"),
                                               nulls_last=True)
        d.table(t, are=(CURVEFIT, HUBER))
        if any(b["are"].struct.field("low").is_not_null().any() for b in best.values()):
            d.paragraph(
                f"In brackets: the {intervals.LEVEL:.0%} interval of the ARE of the law "
                "refitted on resampled runs (`meta bootstrap`; a law on fewer than 3 runs gets "
                "none). The best law of a family is the lowest ARE of many, so its own ARE "
                "often lies below the interval of its refits: the interval says how much that "
                "law's ARE moves with the runs, and the selection makes its point optimistic.",
                note=True)

    def section_curves(self) -> None:
        d = self.doc
        d.heading("Fitted curves against the data")
        d.paragraph("For each family, the num-models law with the lowest ARE: the points of "
                    "its training models (grey) and of the target (red), with the law's "
                    "prediction along each run.")
        for e in ESTIMATORS:
            best = tables.best_are(self.con, e).sort("family")
            panels = []
            for r in best.iter_rows(named=True):
                pts = study_tables.fit_curve(self.con, r["law_id"])
                if pts.height:
                    panels.append((f"{r['family']}: ARE {_pct(r['are'])} (k={r['n_models']}, "
                                   f"p={r['fraction']:g})", pts))
            if panels:
                path = figures.curves(panels, self.fig(f"curves_{e}"))
                self.add_figure(path, f"Best num-models law per family, {e}.")

    def section_baselines(self) -> None:
        d = self.doc
        if not self._study_heading("Baselines without a fit", "baselines"):
            return
        base = tables.baselines(self.con)
        d.paragraph(
            "Sec. 5.2: predict the target's loss by the best loss seen in training "
            "(`best-seen`) or by the loss of the most-trained training model, argmax of N x D "
            "(`most-trained`), on the same training sets as the fits. The released code "
            "stored both under one name, so its 'last' numbers were the 'best' ones; here they "
            "are computed separately."
        )
        cols = (*BASELINES, *ESTIMATORS)
        agg = base.filter(pl.col("in_aggregate"))
        d.table(base.filter(pl.any_horizontal(pl.col(c).is_not_null() for c in cols)),
                are=(*cols, "best-seen (all)", "most-trained (all)"))
        d.paragraph(
            "Mean over the families in the averages, with its "
            f"{intervals.LEVEL:.0%} interval over resampled families: " + ", ".join(
                f"{c} {self._family_mean(agg.select('family', c).drop_nulls())}"
                for c in cols) + "; the '(all)' columns average every training set (k, p) "
            "of the study.", note=True)
        path = figures.baselines(agg, self.fig("baselines"), cols)
        self.add_figure(path, "Full-data ARE of the baselines and of both fits per family.")

    @staticmethod
    def _family_mean(per_family: pl.DataFrame) -> str:
        """The mean of the one value column of ``per_family`` (one row per family) with its
        interval over resampled families; ``n/a`` without a row."""
        if per_family.is_empty():
            return "n/a"
        column = per_family.columns[1]
        return verdicts.interval_text(
            intervals.family_interval(per_family, intervals.mean_of(column)), "are")

    def section_self_prefix(self) -> None:
        d = self.doc
        if not self._study_heading("Predicting a run from its own beginning", "self-prefix"):
            return
        d.paragraph("Sec. 5.1: each model's own last 30% is predicted by a law fitted on the "
                    "first p of its run (checkpoints after 1e8 tokens). Curves: mean over "
                    "models per family, then over families.")
        series = []
        per = {e: tables.self_prefix(self.con, e) for e in ESTIMATORS}
        for i, ((fam,), g) in enumerate(per[CURVEFIT].filter(pl.col("in_aggregate"))
                                        .group_by("family", maintain_order=True)):
            series.append(("per family (curvefit)" if i == 0 else f"_{fam}", g,
                           {"color": "#afb8c1", "lw": 0.7}))
        for e in ESTIMATORS:
            series.append((f"{e}, macro", aggregate.macro(per[e], ["fraction"]),
                           {"color": figures.ESTIMATOR_COLOURS[e], "lw": 2.2, "marker": "o"}))
        path = figures.lines(series, self.fig("self_prefix"), x="fraction",
                             xlabel="share of its own run used (p)", hline=claims.SELF_OK)
        self.add_figure(path, f"ARE (%) of a model's own end against the share of its run "
                              f"used; dashed: {_pct(claims.SELF_OK)}.")
        found = {e: report_intervals.macro_table(per[e], ["fraction"]) for e in ESTIMATORS}
        t = found[CURVEFIT].select("fraction", pl.col("are").alias(CURVEFIT), "n_families").join(
            found[HUBER].select("fraction", pl.col("are").alias(HUBER)), on="fraction",
            how="left")
        d.table(t, are=ESTIMATORS)
        self._interval_note()

    def section_cut(self) -> None:
        d = self.doc
        if not self._study_heading("Discarding the first 10B tokens", "num-models-nocut"):
            return
        d.paragraph("Sec. 6.1: the num-models laws again without the 1e10-token cut "
                    "(`num-models-nocut`). `full`: all smaller models and whole runs; `best` "
                    "and `mean` over every (k, p).")
        t = pl.concat([study_tables.cut_effect(self.con, e).with_columns(estimator=pl.lit(e))
                       for e in ESTIMATORS])
        if t.height:
            d.table(t.select("family", "estimator", "study", "full", "best", "mean", "n_scored"),
                    are=("full", "best", "mean"))
        panels = []
        for fam in ("OPT", "pythia"):
            for study in ("num-models-nocut", "num-models"):
                cells = tables.family_cells(self.con, study, CURVEFIT).filter(
                    pl.col("family") == fam)
                if cells.height:
                    label = "no cut" if study.endswith("nocut") else "10B cut"
                    panels.append((f"{fam}, {label}", cells))
        if panels:
            path = figures.heatmaps(panels, self.fig("cut_10b"), row="n_models",
                                    col="fraction")
            self.add_figure(path, "ARE (%) without and with the 10B-token cut "
                                  "(curvefit-hitchhiker).")

    def section_one_model(self) -> None:
        d = self.doc
        if not self._study_heading("One model with borrowed exponents", "one-model"):
            return
        olmo = self.fam.filter(pl.col("family") == "olmo")
        n_olmo = olmo["n_models"][0] if olmo.height else 0
        has_olmo = bool(olmo.height and olmo["n_laws"][0])
        d.paragraph(
            "Sec. 5 and App. A: E, B and beta fitted on one model's curve, A and alpha fixed "
            "at Muennighoff et al.'s values, predicting the family's largest model. "
            + ("The paper's OLMo 1B -> 7B example is in the table below. " if has_olmo else
               f"The paper's OLMo 1B -> 7B example cannot be run: the olmo family here has "
               f"{n_olmo} models and the studies skip families with fewer than 3. ")
            + "`best` is the lowest ARE over p, `p=1` uses the whole curve."
        )
        best = study_tables.one_model_best(self.con, CURVEFIT)
        hub = study_tables.one_model_best(self.con, HUBER).select(
            "model", pl.col("at_full").alias(f"p=1 ({HUBER})"))
        t = best.filter(pl.col("family").is_in(list(ONE_MODEL_FAMILIES))).join(
            hub, on="model", how="left").select(
            "family", pl.col("model").str.split("/").list.last().alias("model"),
            "scale_up", "best", "best_fraction", pl.col("at_full").alias("p=1"),
            f"p=1 ({HUBER})")
        if t.height:
            d.table(t, are=("best", "p=1", f"p=1 ({HUBER})"))
        cells = study_tables.one_model(self.con, CURVEFIT)
        panels = []
        for fam in ONE_MODEL_FAMILIES:
            c = cells.filter((pl.col("family") == fam) & (pl.col("scale_up") > 1))
            if c["are"].count():
                panels.append((fam, c.with_columns(
                    size=pl.col("num_params"))))
        if panels:
            path = figures.heatmaps(panels, self.fig("one_model"), row="size", col="fraction",
                                    cols=3, size=(4.6, 3.2), ylabel="training model (params)",
                                    row_label=lambda v: f"{v / 1e9:.2g}B")
            self.add_figure(path, "ARE (%) of one-model laws (curvefit-hitchhiker) by the "
                                  "training model's size and the share of its run used.")

    def section_windows(self) -> None:
        d = self.doc
        if not self._study_heading("Scale-up: windows of four sizes", "windows"):
            return
        d.paragraph("Fig. 1(a), Sec. 7: laws on 4 consecutive sizes, binned by how much larger "
                    "the target is than the largest of them (test checkpoints after 10B tokens).")
        panels = []
        order = {s: i for i, s in enumerate(aggregate.SCALE_LABELS)}
        cells = {e: study_tables.window_cells(self.con, e) for e in ESTIMATORS}
        for e in ESTIMATORS:
            w = study_tables.windows_of(cells[e])
            if w.height:
                panels.append((e, w.with_columns(
                    row=pl.col("scale").replace_strict(order, return_dtype=pl.Int32))))
        if panels:
            path = figures.heatmaps(panels, self.fig("windows"), row="row", col="fraction",
                                    ylabel="scale-up", row_label=lambda i:
                                    aggregate.SCALE_LABELS[i])
            self.add_figure(path, "ARE (%) by scale-up and share of training (macro average).")
            self._macro_table(cells[panels[0][0]], "scale", "fraction", "scale-up",
                              order=order)

    def section_suffix(self) -> None:
        d = self.doc
        if not self._study_heading("Only the end of training", "suffix"):
            return
        d.paragraph("Fig. 4: laws fitted only on checkpoints with m x 0.7 T <= tokens < 0.7 T "
                    "(and after 10B tokens).")
        cells = {e: tables.heatmap_cells(self.con, "suffix", e, column="suffix")
                 for e in ESTIMATORS}
        panels = [(e, tables.heatmap_of(cells[e], "suffix")) for e in ESTIMATORS]
        panels = [(e, s) for e, s in panels if s.height]
        if panels:
            path = figures.heatmaps(panels, self.fig("suffix"), row="bin", col="suffix",
                                    row_label=aggregate.bin_label,
                                    xlabel="start of the window (m)")
            self.add_figure(path, "ARE (%) of suffix-only fits by number of models and m.")
            self._macro_table(cells[panels[0][0]], "bin", "suffix", "training models")

    def section_scale_down(self) -> None:
        d = self.doc
        if not self._study_heading("Scale-down: predicting the smallest model", "scale-down"):
            return
        cells = {e: tables.heatmap_cells(self.con, "scale-down", e) for e in ESTIMATORS}
        panels = [(e, tables.heatmap_of(cells[e])) for e in ESTIMATORS]
        panels = [(e, s) for e, s in panels if s.height]
        if not panels:
            return
        p = aggregate.by_fraction(panels[0][1]).drop_nulls("are")
        down = tables.laws(self.con, "scale-down", CURVEFIT).select("family", "fraction", "are")
        medians = [(p_, verdicts.interval_text(intervals.family_interval(
            g, intervals.median_of("are")), "are"))
            for (p_,), g in down.drop_nulls("are").group_by("fraction")]
        d.paragraph(
            "App. C: the k largest models predict the smallest. Means are dominated by laws "
            "that diverge far from the small model (ARE up to "
            f"{_pct(down['are'].max())}); the median ARE over laws, with its "
            f"{intervals.LEVEL:.0%} interval over resampled families, is "
            + ", ".join(f"{text} at p = {p_:g}" for p_, text in sorted(medians)) + "."
        )
        path = figures.heatmaps(panels, self.fig("scale_down"), row="bin", col="fraction",
                                row_label=aggregate.bin_label)
        self.add_figure(path, "ARE (%) predicting the smallest model (macro average).")
        if p.height:
            self._macro_table(cells[panels[0][0]], "bin", "fraction", "training models")

    def section_leave_one_out(self) -> None:
        d = self.doc
        if not self._study_heading("Leaving one size out", "leave-one-out"):
            return
        loo = study_tables.leave_one_out(self.con, CURVEFIT)
        d.paragraph(
            "App. D: in families with 4 to 19 smaller models, each is left out of a law on "
            "the others (p = 0.7) and the law is scored on the target and on the model left "
            "out. `match`: the worst-predicted model is the one whose removal hurts the target "
            "most (the paper: 58% of the cases)."
        )
        if loo.height:
            short = [pl.col(c).str.split("/").list.last()
                     for c in ("worst_predicted", "worst_generalising")]
            d.table(loo.with_columns(*short, _share("share_worse")), are=("full",))

    def section_pca(self) -> None:
        d = self.doc
        d.heading("How many parameters the laws really have")
        ex = pca.explained(self.con, ESTIMATORS)
        if ex.is_empty():
            return
        d.paragraph(
            "Sec. 9: PCA (centred, not scaled) of (log A, log B, log E, alpha, beta). "
            "`full`: per family the law on the most models with whole runs (the paper's "
            "choice, every family with status ok and E > 0); `all`: every num-models law."
        )
        if ex.filter(pl.col("selection") == "full").height:
            path = figures.scree(ex, self.fig("pca_scree"), paper=pca.PAPER_EVR3)
            self.add_figure(path, "Explained variance of the per-family laws' parameters.")
        wide = ex.pivot(on="component", index=["estimator", "selection", "n_laws"],
                        values="cumulative")
        d.table(wide.rename({c: f"{c} components" for c in wide.columns[3:]}).with_columns(
            *[_share(f"{c} components", 2) for c in wide.columns[3:]]))
        if pca.law_params(self.con, CURVEFIT).height < 2:
            return
        fit, _ = pca.param_pca(self.con, CURVEFIT)
        load = pca.loadings(fit)
        k = load.height
        cos = np.abs(np.sum(fit.components_[:k] * pca.PAPER_COMPONENTS[:k], axis=1)
                     / np.linalg.norm(pca.PAPER_COMPONENTS[:k], axis=1))
        d.table(load.with_columns(**{"|cos| with paper's": pl.Series(cos)}))
        d.paragraph(
            "Loadings of the curvefit-hitchhiker per-family PCA over (a, b, e, alpha, beta) "
            "and their absolute cosine with the paper's hard-coded components.", note=True)

    def section_notes(self) -> None:
        d = self.doc
        d.heading("Data and method notes")
        fam = self.fam.with_columns(
            studied=pl.col("n_laws") > 0,
        ).filter(pl.col("n_models") >= 2)
        d.table(fam)
        skipped = self.fam.filter(pl.col("n_laws") == 0)
        d.bullets([
            (f"{skipped.height} scaled families have no law: " + ", ".join(
                f"{r['family']} ({r['n_models']} model{'s' if r['n_models'] != 1 else ''})"
                for r in skipped.iter_rows(named=True)) + ".") if skipped.height
            else "Every scaled family has laws.",
            "A law's training models are counted by distinct size among the chosen models "
            "(`train_spec.n_models`), while the released code counted sizes among the "
            "checkpoints left after the cuts.",
            "Known differences from the paper's data: " + "; ".join(claims.CAVEATS.values())
            + ".",
        ])
