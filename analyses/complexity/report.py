"""The data-dependent scaling report: H per corpus, per-corpus laws, regressions on H, frontier.

:func:`write_report` renders what the analyses computed: the laws of every corpus with an H in
the warehouse (:func:`~analyses.complexity.fit.complexity_fit`: the paper's own runs,
``gzip-pcfg``, and this project's, ``pcfg-runs``, side by side) and the H of the paper's grammars
drawn here (:func:`~analyses.complexity.grammars.grammar_h`): the paper's claims checked against
the numbers, then the tables, in ``complexity.md``, ``complexity.html`` and ``figures/*.png``.

References
----------
Pandey 2024, "gzip Predicts Data-dependent Scaling Laws" (arXiv:2405.16684).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from analyses.complexity.blend import EPSILON_GRID, METHODS
from analyses.complexity.fit import ComplexityFit, RunSetFit
from analyses.complexity.frontier import optimal_allocation
from analyses.complexity.grammars import GrammarH
from analyses.document import Document, save_figure
from warehouse.errors import MetaError

FIGURES = "figures"


def _laws_table(s: RunSetFit) -> pl.DataFrame:
    law = s.laws
    return pl.DataFrame({
        "family": list(law.families), "H": law.h.round(4),
        "E": law.params[:, 0], "A": law.params[:, 1], "B": law.params[:, 2],
        "alpha": law.params[:, 3].round(4), "beta": law.params[:, 4].round(4),
        "a = beta/(alpha+beta)": s.frontier.exponent.round(4),
        "points": law.n_points.astype(int), "status": list(law.status),
        "not identified": [u or "" for u in law.unidentified],
    })


def _regression_table(s: RunSetFit) -> pl.DataFrame:
    return pl.DataFrame(s.regression.to_rows()).select(
        "param", "slope", "intercept", "slope_se", "r", "p_value", "n")


def _frontier_table(s: RunSetFit) -> pl.DataFrame:
    fr = s.frontier
    cols = {"family": list(s.laws.families), "H": fr.h.round(4)}
    for j, c in enumerate(fr.compute):
        cols[f"N_opt @ {c:.0e}"] = fr.n_opt[:, j]
        cols[f"D/N @ {c:.0e}"] = fr.d_opt[:, j] / fr.n_opt[:, j]
    return pl.DataFrame(cols)


def _blend_text(s: RunSetFit) -> str:
    b = s.blend
    names = ("E'", "A'", "B'", "alpha'", "beta'")
    prime = ", ".join(f"{n} = {v:g}" for n, v in zip(names, b.law.chinchilla, strict=True))
    raw = [f"the raw OLS line of {k} is not positive at H = "
           f"{', '.join(f'{x:.3f}' for x in hs)}" for k, hs in b.raw_line_nonpositive().items()
           if hs]
    raw_text = ("; ".join(raw) + " of these corpora" if raw else
                "the raw OLS lines of A and B stay positive at these corpora's H")
    cross = b.law.crossing
    lo, hi = float(np.min(s.laws.h)), float(np.max(s.laws.h))
    if np.isfinite(cross):
        where = "inside" if lo <= cross <= hi else "outside"
        cross_text = (f"The blended law's compute-optimal frontier (Eq. 2) crosses the 1:1 line "
                      f"(alpha_ε(H) = beta_ε(H)) at H = {cross:.3f}, {where} the corpora's "
                      f"H = {lo:.2f}-{hi:.2f} (the paper: between 0.23 and 0.45).")
    else:
        cross_text = "The blended law's compute-optimal frontier never crosses the 1:1 line."
    return (
        f"Eq. 6 blends Hoffmann et al.'s law ({prime}) into the regression lines with weight ε; "
        f"the paper gives no ε. This report uses ε = {b.law.epsilon:.2f}; the runs choose "
        f"ε = {b.chosen:.2f}, the value on a 0.01 grid of [0, 1] with the lowest mean ARE of "
        f"the final loss when each corpus's runs are predicted from regressions fitted without "
        f"that corpus (leave-one-corpus-out). Choosing ε again without each corpus in turn "
        f"gives {', '.join(f'{e:.2f}' for e in b.nested)}; scoring each corpus with its own "
        f"re-chosen ε (row '{METHODS['eq6_nested']}') is the held-out error of the whole "
        f"procedure. "
        f"A and B are blended on the log scale, A_ε = A'^(1-ε)·A(H)^ε with A(H) from the "
        f"log10 A line (B likewise), because {raw_text}; a blended parameter that is not "
        f"positive is left out (NaN). {cross_text}")


def _blend_params_table(s: RunSetFit) -> pl.DataFrame:
    law = s.blend.law
    p = law.params_at(s.laws.h)
    return pl.DataFrame({
        "family": list(s.laws.families), "H": s.laws.h.round(4), "E": p[:, 0], "A": p[:, 1],
        "B": p[:, 2], "alpha": p[:, 3].round(4), "beta": p[:, 4].round(4),
        "a = beta/(alpha+beta)": law.exponent_at(s.laws.h).round(4),
    })


def _blend_errors_table(s: RunSetFit) -> tuple[pl.DataFrame, tuple[str, ...]]:
    b = s.blend
    per_corpus = {f"held-out, H = {h:.2f}": b.held_out[:, i] for i, h in enumerate(b.h)}
    frame = pl.DataFrame({
        "method": [METHODS[m] for m in b.methods], "ε": b.epsilons,
        "in-sample": b.pooled(b.in_sample), "held-out": b.pooled(b.held_out), **per_corpus,
    }).fill_nan(None)
    return frame, ("in-sample", "held-out", *per_corpus)


def _figures(fit: ComplexityFit, out: Path) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    made = []

    def add(fig, name: str, caption: str) -> None:
        fig.tight_layout()
        save_figure(fig, out / FIGURES / name, dpi=110)
        made.append((f"{FIGURES}/{name}", caption))

    names = [("E", "E"), ("log10_A", "log10 A"), ("log10_B", "log10 B"), ("alpha", "alpha"),
             ("beta", "beta")]
    fig, axes = plt.subplots(len(fit.sets), 5, figsize=(16, 3.2 * len(fit.sets)),
                             squeeze=False)
    for row, s in zip(axes, fit.sets, strict=True):
        p = s.laws.params
        values = {"E": p[:, 0], "log10_A": np.log10(p[:, 1]), "log10_B": np.log10(p[:, 2]),
                  "alpha": p[:, 3], "beta": p[:, 4]}
        hh = np.linspace(s.laws.h.min(), s.laws.h.max(), 50)
        for ax, (key, label) in zip(row, names, strict=True):
            ax.plot(s.laws.h, values[key], "o")
            ax.plot(hh, s.regression.at(key, hh), "-", alpha=0.7)
            ax.set_title(f"{s.laws.run_set}: {label}", fontsize=9)
            ax.set_xlabel("H (gzip median)")
    add(fig, "params_vs_h.png", "Per-corpus law parameters against H, with their OLS lines "
        "(one row per run set).")

    fig, ax = plt.subplots(figsize=(6, 4))
    for s in fit.sets:
        ax.plot(s.frontier.h, s.frontier.exponent, "o-", label=s.laws.run_set)
    ax.axhline(0.5, color="k", ls="--", lw=1, label="1:1 (Chinchilla)")
    ax.set_xlabel("H (gzip median)")
    ax.set_ylabel("a = beta/(alpha+beta)  (N_opt ∝ C^a)")
    ax.legend(fontsize=8)
    add(fig, "frontier_exponent.png", "Exponent of the compute-optimal parameter count "
        "N_opt ∝ C^a per corpus; below the dashed 1:1 line a corpus puts more of each extra "
        "FLOP into data.")

    fig, axes = plt.subplots(1, len(fit.sets), figsize=(6 * len(fit.sets), 4), squeeze=False)
    for ax, s in zip(axes[0], fit.sets, strict=True):
        c = np.logspace(13, 21, 40)
        n_opt, _ = optimal_allocation(s.laws.params, c)
        for i in range(len(s.laws.families)):
            ax.loglog(c, n_opt[i], label=f"H={s.laws.h[i]:.2f}")
        ref = n_opt[:, len(c) // 2]
        ref = np.nanmedian(ref[np.isfinite(ref)]) if np.isfinite(ref).any() else 1.0
        ax.loglog(c, ref * (c / c[len(c) // 2]) ** 0.5, "k--", lw=1, label="slope 1/2 (1:1)")
        ax.set_title(s.laws.run_set, fontsize=10)
        ax.set_xlabel("C (FLOPs)")
        ax.set_ylabel("N_opt")
        ax.legend(fontsize=7)
    add(fig, "frontiers.png", "Compute-optimal N_opt(C) of each corpus's law (Eq. 2) against "
        "a slope-1/2 reference.")

    fig, ax = plt.subplots(figsize=(6, 4))
    for s in fit.sets:
        line, = ax.semilogy(EPSILON_GRID, s.blend.curve, label=s.laws.run_set)
        ax.plot([s.blend.chosen], [np.interp(s.blend.chosen, EPSILON_GRID, s.blend.curve)], "o",
                color=line.get_color())
    ax.set_xlabel("ε (0: Hoffmann's law, 1: Eq. 5)")
    ax.set_ylabel("held-out mean ARE of the final loss")
    ax.legend(fontsize=8)
    add(fig, "epsilon.png", "Leave-one-corpus-out error of Eq. 6 against ε per run set; "
        "the dot is the chosen ε.")
    return made


def _claims(fit: ComplexityFit, grammars: GrammarH) -> list[str]:
    out = []
    paper, iso = grammars.h("paper"), grammars.h("equal vocabulary")
    verdict = "reproduced" if grammars.rises else "not reproduced"
    out.append(f"**H rises with grammar complexity** ({verdict}): the paper's six grammars "
               f"give H = {', '.join(f'{h:.3f}' for h in paper)} here (the paper: 0.11, 0.22, "
               f"0.35, 0.42, 0.51, 0.61); with 300 terminals throughout, "
               f"{', '.join(f'{h:.3f}' for h in iso)} (the paper: 0.11, 0.25, 0.36, 0.47).")
    for s in fit.sets:
        fr = s.frontier
        direction = "toward data" if fr.toward_data else "toward parameters"
        if fr.crossings:
            where = ", ".join(f"{c:.3f}" for c in fr.crossings)
            inside = any(0.23 < c < 0.45 for c in fr.crossings)
            cross = (f"it crosses the 1:1 line between corpora at H = {where}"
                     + (" (inside the paper's 0.23-0.45)" if inside else
                        " (outside the paper's 0.23-0.45)"))
        else:
            side = "above" if np.nanmin(fr.exponent) > 0.5 else "below"
            cross = (f"a stays {side} 1/2 over H = {fr.h.min():.2f}-{fr.h.max():.2f}, so the "
                     f"frontier does not cross the 1:1 line between these corpora")
        out.append(
            f"**{s.laws.run_set}: the frontier moves {direction} as H rises** (slope of "
            f"a = beta/(alpha+beta) on H: {fr.exponent_slope:.3f}); {cross}; the regression "
            f"lines alpha(H) and beta(H) meet at H = {fr.regression_crossing:.3f} (the paper: "
            f"about 0.27).")
    return out


def write_report(fit: ComplexityFit, grammars: GrammarH, out_dir: Path | str) -> list[Path]:
    """Write ``complexity.md``, ``complexity.html`` and the figures into ``out_dir``.

    Parameters
    ----------
    fit : ComplexityFit
        The laws of every run set (:func:`~analyses.complexity.fit.complexity_fit`).
    grammars : GrammarH
        H of the paper's grammars (:func:`~analyses.complexity.grammars.grammar_h`).
    out_dir : Path or str

    Returns
    -------
    list of Path
        The Markdown, the HTML, then every PNG.
    """
    out = Path(out_dir)
    try:
        (out / FIGURES).mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise MetaError(f"Cannot write the report into {out}: {e.strerror}.") from None
    doc = Document("Data-dependent scaling laws: gzip compressibility of PCFG corpora")
    doc.paragraph(
        "Pandey (2024) trains language models on synthetic PCFG corpora of controlled "
        "complexity, measures each corpus's gzip compressibility H (median compressed/raw "
        "size of 256-token rows as 4-byte integers, gzip level 9), fits one Chinchilla law "
        "L = E + A/N^alpha + B/D^beta per corpus, regresses the parameters on H, and derives "
        "a compute-optimal frontier that depends on H. This report does the same on the "
        "paper's own runs (`gzip-pcfg`: its 10M-token round, 5 corpora × 6 sizes × 5 budgets, "
        "N counting a 32,001-row embedding) and on this project's runs (`pcfg-runs`: small "
        "Llama models with a vocabulary-sized embedding, so N is not the paper's N; "
        "`pcfg-cpu`: a CPU grid with a faster schedule, `pcfg-gpu`: the paper's grid, "
        "optimizer and schedule, as far as it has run), side by side. Laws: `huber-lbfgs` "
        "(Huber δ = 1e-3 on log loss, L-BFGS, start grid "
        f"`{fit.grid}`), fitted on each run's final validation loss.")
    doc.heading("Claims checked")
    doc.bullets(_claims(fit, grammars))
    doc.heading("H per grammar")
    doc.paragraph(f"The paper's grammars and equal-vocabulary controls, drawn here with seed "
                  f"{grammars.seed} ({grammars.rows:,} rows each); the paper's values are read "
                  f"from its dataset names.")
    doc.table(grammars.table)
    for s in fit.sets:
        doc.heading(f"Run set {s.laws.run_set}")
        doc.heading("Per-corpus laws", 3)
        doc.table(_laws_table(s))
        doc.heading("Regressions on H", 3)
        doc.paragraph("OLS x(H) = slope·H + intercept over the corpora; p-value of the slope "
                      "(two-sided t, n - 2 degrees of freedom).")
        doc.table(_regression_table(s))
        doc.heading("Compute-optimal allocation (Eq. 2)", 3)
        doc.table(_frontier_table(s))
        doc.heading("Epsilon-adjusted Chinchilla law (Eq. 6)", 3)
        doc.paragraph(_blend_text(s))
        doc.paragraph(f"Blended parameters at each corpus's H (ε = {s.blend.law.epsilon:.2f}):")
        doc.table(_blend_params_table(s))
        errors, are = _blend_errors_table(s)
        doc.paragraph("Mean absolute relative error (ARE) of the final loss over the runs; "
                      "in-sample: regressions on every corpus; held-out: regressions without "
                      "the predicted corpus.")
        doc.table(errors, are=are)
    figures = _figures(fit, out)
    doc.heading("Figures")
    for path, caption in figures:
        doc.figure(path, caption)
    md, page = doc.write(out, "complexity")
    return [md, page, *(out / p for p, _ in figures)]
