"""The guideline report's advice, each sentence computed from the warehouse with the per-family
evidence behind it, so that its interval over resampled families can be given beside it.

A :class:`Guideline` is one sentence built from point estimates, the per-family rows it rests
on (``evidence``), the statistic of those rows it turns on, and where the sentence decides
something ("use at least 5 models", "the cut is no clear win"), the threshold of that statistic
at which its advice flips. :func:`analyses.hitchhiker.verdicts.judge_guideline` resamples the
families and says whether the advice holds across the interval. All use the paper's estimator
(``curvefit-hitchhiker``) on the corrected conventions, as the report's other guidance does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from analyses.document import percent_or_na as _pct
from analyses.hitchhiker import claims, study_tables, tables
from analyses.hitchhiker.aggregate import by_fraction, entering, full_data, macro
from analyses.hitchhiker.intervals import mean_of, median_of
from analyses.hitchhiker.tables import BASELINES, CURVEFIT, HUBER


@dataclass(frozen=True)
class Guideline:
    """One sentence of advice and what it rests on.

    Attributes
    ----------
    key : str
    text : str
        The sentence (Markdown), from the point estimates.
    measure : str
        What ``statistic`` measures, as a reader would name it.
    unit : {"are", "points", "share", "run"}
        ``are``: an ARE; ``points``: a difference of AREs; ``share``: a share of families;
        ``run``: a share of a run.
    evidence : pl.DataFrame
        Per-family rows (a ``family`` column).
    statistic : callable
        Frame to float; its value on ``evidence`` is the number the sentence turns on.
    threshold : float or None
        The sentence's advice is one thing below it and another above; None where the
        sentence only reports a number.
    """

    key: str
    text: str
    measure: str
    unit: str
    evidence: pl.DataFrame = field(repr=False, compare=False)
    statistic: Callable[[pl.DataFrame], float] = field(repr=False, compare=False)
    threshold: float | None = None


def guidelines(con) -> list[Guideline]:
    """Every guideline the data supports, in the report's order (a guideline whose evidence
    is empty is left out)."""
    found = (expect(con), models(con), training_share(con), cut(con), self_prefix(con),
             suffix(con), scale_up(con), fit_or_carry(con), estimator(con), outliers(con))
    return [g for g in found if g is not None]


def expect(con) -> Guideline | None:
    best = entering(tables.best_are(con, CURVEFIT))
    if best.is_empty():
        return None
    return Guideline(
        "expect",
        f"**Expect** a best-case ARE of {_pct(best['are'].median())} (median over "
        f"{best.height} families of their best law); the worst family's best is "
        f"{_pct(best['are'].max())} ({best['family'][-1]}).",
        "median best ARE", "are", best.select("family", "are"), median_of("are"))


def _five_minus_few(per: pl.DataFrame) -> float:
    return float(per["five"].mean() - per["few"].mean())


def models(con) -> Guideline | None:
    per, m = claims.five_models_table(con, CURVEFIT)
    if per.is_empty():
        return None
    more = "at least 5" if m["five"] < m["few"] else "more than 5"
    return Guideline(
        "models",
        f"**Models:** in the {per.height} families with 5 or more smaller models, mean ARE "
        f"over p is {_pct(m['few'])} with 2-4 models, {_pct(m['five'])} with 5 and "
        f"{_pct(m['most'])} with all of them, so use {more} models where you can.",
        "ARE with 5 models minus with 2-4", "points", per, _five_minus_few, 0.0)


def _last_minus_best_other(cells: pl.DataFrame) -> float:
    """ARE at the largest p minus the lowest ARE at any other p (macro over bins)."""
    rows = by_fraction(macro(cells, ["bin", "fraction"])).drop_nulls("are")
    if rows.height < 2:
        return float("nan")
    return float(rows["are"][-1] - rows["are"][:-1].min())


def training_share(con) -> Guideline | None:
    cells = entering(tables.heatmap_cells(con, "num-models", CURVEFIT)).drop_nulls("are")
    rows = by_fraction(macro(cells, ["bin", "fraction"])).drop_nulls("are")
    if rows.height < 2:
        return None
    first, last = rows.row(0, named=True), rows.row(-1, named=True)
    best_p = rows.sort("are").row(0, named=True)
    advice = (
        "fit on the runs as far along as you have them"
        if best_p["fraction"] == last["fraction"]
        else f"more of the runs did not help beyond p = {best_p['fraction']:g}"
    )
    return Guideline(
        "training-share",
        f"**Training share:** averaged over the model-count bins, ARE is "
        f"{_pct(first['are'])} with p = {first['fraction']:g} of training, "
        f"{_pct(last['are'])} with p = {last['fraction']:g}, and lowest "
        f"({_pct(best_p['are'])}) at p = {best_p['fraction']:g}: {advice}.",
        f"ARE at p = {last['fraction']:g} minus the lowest at a smaller p (below 0: the "
        f"whole runs are best)", "points",
        cells.select("family", "in_aggregate", "bin", "fraction", "are"),
        _last_minus_best_other, 0.0)


def _cut_wins(both: pl.DataFrame) -> float:
    return float((both["num-models"] < both["num-models-nocut"]).mean())


def cut(con) -> Guideline | None:
    parts = []
    for study in ("num-models", "num-models-nocut"):
        df = full_data(tables.laws(con, study, CURVEFIT))
        parts.append(entering(df).select("family", pl.col("are").alias(study)))
    both = parts[0].join(parts[1], on="family").drop_nulls()
    if both.is_empty():
        return None
    share = _cut_wins(both)
    head = ("Discard checkpoints before 10B tokens" if share > 0.5
            else "The 10B-token cut is no clear win here")
    return Guideline(
        "cut",
        f"**{head}:** with all smaller models and whole runs, the cut lowers ARE in "
        f"{round(share * both.height)} of {both.height} families; the mean is "
        f"{_pct(both['num-models'].mean())} with it and "
        f"{_pct(both['num-models-nocut'].mean())} without (medians "
        f"{_pct(both['num-models'].median())} and {_pct(both['num-models-nocut'].median())}).",
        "share of families where the cut lowers ARE", "share", both, _cut_wins, 0.5)


def self_prefix(con) -> Guideline | None:
    per = entering(tables.self_prefix(con, CURVEFIT)).drop_nulls("are")
    sp = macro(per, ["fraction"]).drop_nulls("are")
    if sp.is_empty():
        return None
    first = claims.first_reliable(per)
    return Guideline(
        "self-prefix",
        f"**Predicting a run from its own start:** the macro ARE is {_pct(sp['are'][0])} from "
        f"the first {sp['fraction'][0]:.0%} and {_pct(sp['are'][-1])} from "
        f"{sp['fraction'][-1]:.0%}; it first reaches {_pct(claims.SELF_OK)} at "
        + (f"{first:.0%} of the run." if first != float("inf") else "no prefix measured."),
        f"smallest prefix with macro ARE at most {_pct(claims.SELF_OK)}", "run", per,
        claims.first_reliable)


def _suffix_medians(cells: pl.DataFrame) -> dict[str, float] | None:
    """Median macro cell ARE of the suffix study and of the whole runs (p = 1), over the
    model-count bins both have; None without a bin in common."""
    heat = {part: macro(cells.filter(pl.col("part") == part), ["bin", "column"])
            .drop_nulls("are") for part in ("suffix", "prefix")}
    bins = list(set(heat["suffix"]["bin"]) & set(heat["prefix"]["bin"]))
    if not bins:
        return None
    return {k: float(h.filter(pl.col("bin").is_in(bins))["are"].median())
            for k, h in heat.items()}


def _suffix_minus_prefix(cells: pl.DataFrame) -> float:
    med = _suffix_medians(cells)
    return float("nan") if med is None else med["suffix"] - med["prefix"]


def suffix(con) -> Guideline | None:
    columns = ["family", "in_aggregate", "bin", "column", "are"]
    suf = tables.heatmap_cells(con, "suffix", CURVEFIT, column="suffix").rename(
        {"suffix": "column"}).select(columns).with_columns(part=pl.lit("suffix"))
    pre = tables.heatmap_cells(con, "num-models", CURVEFIT).filter(
        pl.col("fraction") == 1.0).rename({"fraction": "column"}).select(columns).with_columns(
        part=pl.lit("prefix"))
    cells = entering(pl.concat([suf, pre])).drop_nulls("are")
    med = _suffix_medians(cells)
    if med is None:
        return None
    head = ("Keep the middle of the runs" if med["suffix"] > med["prefix"]
            else "The ends of the runs suffice here")
    return Guideline(
        "suffix",
        f"**{head}:** fitting only on the ends of the runs (the suffix study) gives a median "
        f"cell ARE of {_pct(med['suffix'])} against {_pct(med['prefix'])} for fits on the "
        f"whole runs after 10B tokens, over the same model-count bins (medians, as a few "
        f"diverging laws dominate the suffix means).",
        "median suffix cell ARE minus whole-run cell ARE", "points", cells,
        _suffix_minus_prefix, 0.0)


def scale_up(con) -> Guideline | None:
    cells = entering(study_tables.window_cells(con, CURVEFIT)).filter(
        pl.col("fraction") == 1.0).drop_nulls("are")
    win = study_tables.windows(con, CURVEFIT).filter(pl.col("fraction") == 1.0).drop_nulls("are")
    if win.is_empty():
        return None
    largest = win["scale"][-1]
    return Guideline(
        "scale-up",
        "**Scale-up:** with 4 consecutive sizes and whole runs, ARE by how much larger the "
        "target is than the largest training model: "
        + ", ".join(f"{r['scale']}: {_pct(r['are'])}" for r in win.iter_rows(named=True))
        + ".",
        f"macro ARE at {largest}", "are", cells.filter(pl.col("scale") == largest),
        lambda f: float(macro(f, ["scale"])["are"][0]))


def _beats_both(both: pl.DataFrame) -> float:
    return float(both.select(pl.col(CURVEFIT) < pl.min_horizontal(*BASELINES)).to_series()
                 .mean())


def fit_or_carry(con) -> Guideline | None:
    both = entering(tables.baselines(con)).drop_nulls([CURVEFIT, *BASELINES])
    if both.is_empty():
        return None
    share = _beats_both(both)
    head = ("Fit a law rather than carry a loss over" if share > 0.5
            else "A fitted law rarely beats the baselines here")
    return Guideline(
        "fit-or-carry",
        f"**{head}:** with all smaller models and whole runs, the fitted law beats both no-fit "
        f"baselines in {round(share * both.height)} of {both.height} families.",
        "share of families where the law beats both baselines", "share",
        both.select("family", CURVEFIT, *BASELINES), _beats_both, 0.5)


def _huber_minus_curvefit(full: pl.DataFrame) -> float:
    return float(full[HUBER].mean() - full[CURVEFIT].mean())


def estimator(con) -> Guideline | None:
    full = entering(full_data(tables.laws(con, "num-models"))).pivot(
        on="estimator", index="family", values="are").drop_nulls()
    if full.is_empty() or HUBER not in full.columns or CURVEFIT not in full.columns:
        return None
    h_better = int((full[HUBER] < full[CURVEFIT]).sum())
    return Guideline(
        "estimator",
        f"**Estimator:** with all smaller models and whole runs, `huber-lbfgs` has the lower "
        f"ARE in {h_better} of {full.height} families (mean {_pct(full[HUBER].mean())} vs "
        f"{_pct(full[CURVEFIT].mean())} for `curvefit-hitchhiker`).",
        "mean ARE of huber-lbfgs minus curvefit-hitchhiker", "points", full,
        _huber_minus_curvefit)


def outliers(con) -> Guideline | None:
    loo = study_tables.leave_one_out(con, CURVEFIT)
    if loo.is_empty():
        return None
    found = loo["match"].mean()
    return Guideline(
        "outliers",
        f"**Outlier models:** leaving one training size out made the target's ARE worse in "
        f"{loo['share_worse'].mean():.0%} of the cases (mean over {loo.height} families); the "
        f"model the law predicts worst is the one whose removal hurts the target most in "
        f"{found:.0%} of the families, so cross-validation "
        f"{'usually finds' if found > 0.5 else 'does not reliably find'} a bad model.",
        "share of families where the worst-predicted model is the most harmful", "share",
        loo.select("family", "match"), mean_of("match"), 0.5)
