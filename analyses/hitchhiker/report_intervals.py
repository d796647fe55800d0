"""The guideline report's intervals: every macro cell with its 90% interval over resampled
families (:func:`analyses.hitchhiker.intervals.macro_intervals`) as the report's tables print
it (:func:`macro_table`), and the main heatmap's section: whether the paper's number lies
inside, and which cells the evidence resolves."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from analyses.document import Document
from analyses.hitchhiker import figures, study_tables, tables
from analyses.hitchhiker.aggregate import bin_label
from analyses.hitchhiker.conventions import DEFAULT, RELEASED
from analyses.hitchhiker.intervals import (
    LEVEL,
    MIN_FAMILIES,
    RESAMPLES,
    RESOLVED_WIDTH,
    SEED,
    TOO_FEW,
    macro_intervals,
)
from analyses.hitchhiker.paper import paper_heatmaps
from analyses.hitchhiker.sensitivity import fitted_sets
from analyses.hitchhiker.tables import CURVEFIT, Selection

_SHORT = {"fraction": "p", "suffix": "m"}  # a column's name in a table's header
# A cell as a Document table prints it with its interval (analyses.document.percent_interval)
_CELL = pl.struct("are", "low", "high", "status").alias("are")


def macro_table(cells: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """The macro average of per-family ``cells`` per ``keys``, each with its interval.

    Returns
    -------
    pl.DataFrame
        ``keys, are, n_families``, where ``are`` is a struct ``{are, low, high, status}``
        that a :class:`~analyses.document.Document` table prints as ``10.4% [6.1, 15.8]``
        or ``2.0% (too few families)``; a cell with no value in any family stays, blank.
    """
    found = macro_intervals(cells, keys).with_columns(pl.col("low", "high").fill_nan(None))
    every = cells.filter(pl.col("in_aggregate")).select(keys).unique()
    return every.join(found, on=keys, how="left").sort(keys).select(*keys, _CELL, "n_families")


def with_law_intervals(con, frame: pl.DataFrame, value: str, law: str) -> pl.DataFrame:
    """``frame`` with its ``value`` column (a law's ARE) as a struct ``{are, low, high,
    status}``: the 90% interval of the ARE of the law in column ``law`` over resampled runs,
    where ``meta bootstrap`` stored one (:func:`~analyses.hitchhiker.study_tables.are_intervals`);
    a law never bootstrapped, or on too few runs for an interval, keeps its bare value."""
    stored = study_tables.are_intervals(con, frame[law].drop_nulls().to_list()).select(
        pl.col("law_id").alias(law), "low", "high")
    return frame.join(stored, on=law, how="left").with_columns(
        pl.struct(pl.col(value).alias("are"), "low", "high",
                  status=pl.lit(None, pl.String)).alias(value)).drop("low", "high")


def wide_table(cells: pl.DataFrame, row: str, col: str, row_name: str
               ) -> tuple[pl.DataFrame, tuple[str, ...]]:
    """Macro cells as a table, one row per ``row`` value (a model bin by its label), one
    column per ``col`` value (``p=0.5``, ``m=0.3``); returns the table and its ARE columns."""
    short = _SHORT.get(col, col)
    frame = cells.pivot(on=col, index=row, values="are", sort_columns=True)
    frame = frame.rename({row: row_name, **{c: f"{short}={c}" for c in frame.columns[1:]}})
    if row == "bin":
        frame = frame.with_columns(pl.col(row_name).map_elements(bin_label,
                                                                 return_dtype=pl.String))
    return frame, tuple(frame.columns[1:])


def cell_intervals(con, sel: Selection = Selection()) -> pl.DataFrame:
    """The num-models macro heatmap (curve_fit) with intervals and the paper's cell beside.

    Returns
    -------
    pl.DataFrame
        ``bin, fraction, are, low, high, status, resolved, n_families, paper, inside``
        (``inside``: the paper's number lies in the interval; null without one of the two).
    """
    cells = tables.heatmap_cells(con, "num-models", CURVEFIT, sel=sel)
    out = macro_intervals(cells, ["bin", "fraction"]).with_columns(
        pl.col("low", "high").fill_nan(None))
    paper = paper_heatmaps().filter(pl.col("model_type") == "all").select(
        "bin", "fraction", paper="are")
    return out.join(paper, on=["bin", "fraction"], how="left").with_columns(
        inside=pl.when(pl.col("low").is_not_null() & pl.col("paper").is_not_null())
        .then(pl.col("paper").is_between("low", "high")))


def add_section(doc: Document, con, figure: Callable[[Path | None, str], None],
                path: Path) -> None:
    """Append the intervals section to ``doc``; ``figure`` adds the resolved-cells figure
    written to ``path``."""
    conventions = RELEASED if RELEASED in fitted_sets(con) else DEFAULT
    found = cell_intervals(con, Selection(conventions=conventions))
    if found.is_empty():
        return
    doc.heading(f"How sure: the main heatmap under the {conventions} conventions, "
                f"against the paper")
    cells = found.select("bin", "fraction", _CELL)
    table, are = wide_table(cells, "bin", "fraction", "training models")
    doc.table(table, are=are)
    ok = found.filter(pl.col("status") != TOO_FEW)
    judged = ok.filter(pl.col("inside").is_not_null())
    doc.paragraph(
        f"ARE of the curve_fit num-models laws under the {conventions} conventions (those "
        f"that reproduce the paper's data handling, when fitted), macro-averaged over the "
        f"paper's families, "
        f"with the {LEVEL:.0%} interval of {RESAMPLES:,} resamples of the families (seed "
        f"{SEED}); a cell with a value from fewer than {MIN_FAMILIES} families shows "
        f"'{TOO_FEW}'. {ok.height} of {found.height} cells have an interval, "
        f"{int(ok['resolved'].sum())} are resolved (narrower than "
        f"{100 * RESOLVED_WIDTH:.0f} ARE points), and the paper's number lies inside "
        f"{int(judged['inside'].sum())} of the {judged.height} intervals it can be set against."
    )
    width = found.with_columns(are=pl.when(pl.col("status") != TOO_FEW)
                               .then(pl.col("high") - pl.col("low")))
    figure(figures.heatmaps([("interval width", width)], path, row="bin", col="fraction",
                            cols=1, row_label=bin_label, outline="resolved",
                            label="interval width (ARE points)"),
           f"Width of each macro cell's {LEVEL:.0%} interval (ARE points); framed: resolved, "
           f"narrower than {100 * RESOLVED_WIDTH:.0f} points; hatched: {TOO_FEW}.")
