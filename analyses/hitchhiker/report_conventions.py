"""The guideline report's sections on the paper's own data handling: the claims under the
released conventions and the corrected ones, what each convention moves, how closely the
paper's figures are reproduced, what the paper had and the warehouse cannot rebuild, and the
families outside the paper's set."""

from __future__ import annotations

import polars as pl

from analyses.document import Document, percent
from analyses.hitchhiker import tables
from analyses.hitchhiker.conventions import CONVENTIONS, DEFAULT, RELEASED
from analyses.hitchhiker.paper import NOT_REBUILT, PAPER_FAMILIES, REBUILT_TYPES, WITHIN
from analyses.hitchhiker.sensitivity import Sensitivity, fitted_sets, sensitivity
from analyses.hitchhiker.tables import CURVEFIT, HUBER, Selection


def add_sections(doc: Document, con) -> None:
    """Append the convention sections to ``doc``."""
    doc.heading("The paper's data handling, convention by convention")
    doc.paragraph(
        "The released code shapes some data differently from this warehouse. Each difference "
        "is a named convention (`analyses/hitchhiker/conventions.py`); the set `released` "
        "switches all of them on, `corrected` (every other table of this report) none, and "
        "`corrected+<name>` one alone. Claims and macro tables average the paper's "
        f"{len(PAPER_FAMILIES)} families (`analyses/hitchhiker/paper.py`)."
    )
    doc.table(pl.DataFrame(
        [{"convention": c.name, "acts on": c.acts_on, "released code": c.released,
          "meta (corrected)": c.corrected} for c in CONVENTIONS.values()]))
    sets = fitted_sets(con)
    if RELEASED not in sets:
        doc.paragraph("The released conventions are not fitted in this warehouse: run "
                      "`meta fit-all --conventions all` to fill this section.", note=True)
    else:
        found = sensitivity(con)
        _claims(doc, found)
        _changes(doc, found)
        _figures(doc, con)
    _not_rebuilt(doc)
    _other_families(doc, con)


def _claims(doc: Document, found: Sensitivity) -> None:
    doc.heading("Claims under both convention sets", 3)
    frame = found.claims_table().drop("key").rename(
        {"claim": "paper's claim", "corrected": "warehouse (corrected)",
         "released": "warehouse (released)"})
    doc.table(frame, verdict="released verdict")
    flips = frame.filter(pl.col("corrected verdict") != pl.col("released verdict")).height
    doc.paragraph(
        f"{flips} of {frame.height} verdicts differ between the two sets. 'moved by' names "
        "each convention that, switched on alone, flips the corrected verdict."
    )


def _changes(doc: Document, found: Sensitivity) -> None:
    changes = found.changes()
    if changes.is_empty():
        return
    doc.heading("Sensitivity: each convention alone", 3)
    cell = pl.when(pl.col("flips")).then(pl.lit("flips")).otherwise(
        pl.col("change").map_elements(lambda v: f"{100 * v:+.1f}", return_dtype=pl.String)
    ).fill_null("-")
    wide = (changes.with_columns(cell=cell)
            .pivot(on="convention", index="key", values="cell", aggregate_function="first"))
    doc.table(wide.rename({"key": "claim"}))
    doc.paragraph(
        "Change of each claim's number (ARE points, or share points) when one convention is "
        "switched on over the corrected default; 'flips' where the verdict changes, '-' where "
        "a claim has no single number."
    )


def _figures(doc: Document, con) -> None:
    doc.heading("The paper's heatmaps, cell by cell", 3)
    rows = []
    for name in (RELEASED, DEFAULT):
        cmp = tables.against_paper(con, sel=Selection(conventions=name))
        per = cmp.group_by("model_type").agg(
            cells=pl.len(), measured=pl.col("measured").count(), within=pl.col("within").sum(),
            mean_gap=pl.col("difference").abs().mean()).sort("model_type")
        rows.append(per.with_columns(conventions=pl.lit(name)))
    table = pl.concat(rows).select(
        "conventions", pl.col("model_type").alias("model type"), "cells", "measured",
        "within", pl.col("mean_gap").map_elements(lambda v: f"{100 * v:.1f}",
                                                  return_dtype=pl.String).alias("mean |gap|"))
    doc.table(table)
    released = rows[0]
    rebuilt = released.filter(pl.col("model_type").is_in(list(REBUILT_TYPES)))
    within, cells = int(rebuilt["within"].sum()), int(rebuilt["cells"].sum())
    every, total = int(released["within"].sum()), int(released["cells"].sum())
    doc.paragraph(
        f"Under the released conventions, {within} of the {cells} populated num-models cells "
        f"of the model types the warehouse rebuilds ({', '.join(REBUILT_TYPES)}; "
        f"{percent(within / cells, 0)}) match the paper within {100 * WITHIN:.0f} ARE points "
        f"(curve_fit, the paper's families), and {every} of {total} with the macro average "
        "(`all`) and overtrain, which also average families that are not public. The figures "
        "are the authors' own heatmaps (IBM/ColPret `figs/hist_*`); OPT's are not in the copy "
        "read here, and its numbers in the paper's text are checked by the claims above."
    )


def _not_rebuilt(doc: Document) -> None:
    doc.heading("What the paper had and the warehouse cannot rebuild", 3)
    doc.bullets([f"**{name}**: {what}." for name, what in NOT_REBUILT.items()])


def _other_families(doc: Document, con) -> None:
    doc.heading("Families outside the paper's set", 3)
    sel = Selection(families="all")
    best = {e: tables.best_are(con, e, sel=sel) for e in (CURVEFIT, HUBER)}
    other = (best[CURVEFIT].filter(~pl.col("family").is_in(list(PAPER_FAMILIES)))
             .select("family", pl.col("are").alias(CURVEFIT), pl.col("n_models").alias("k"),
                     pl.col("fraction").alias("p"))
             .join(best[HUBER].select("family", pl.col("are").alias(HUBER)), on="family",
                   how="left")
             .sort(CURVEFIT, nulls_last=True))
    fitted = {f for (f,) in con.execute(
        "SELECT DISTINCT family FROM laws WHERE study = 'num-models'").fetchall()}
    scored = set(best[CURVEFIT]["family"]) | set(best[HUBER]["family"])
    unscored = sorted(fitted - scored - set(PAPER_FAMILIES))
    if other.is_empty() and not unscored:
        doc.paragraph("Every family with num-models laws is one of the paper's.")
        return
    if other.height:
        doc.paragraph(
            f"{other.height} families with num-models laws are not among those the paper "
            "fitted (this project's PCFG runs, Pythia's evaluation finals, the revisiting LM "
            "runs, users' own runs); they enter no average above. Their best ARE:"
        )
        doc.table(other, are=(CURVEFIT, HUBER))
    if unscored:
        doc.paragraph(
            f"No num-models law of {len(unscored)} more "
            f"famil{'y' if len(unscored) == 1 else 'ies'} outside the paper's set has an ARE "
            f"(too few points once checkpoints before 10B tokens are cut, or no target "
            f"checkpoint; `meta fit-all -v` says which status): {', '.join(unscored)}."
        )
