"""How the guideline tables turn laws' ARE into heatmap cells: binned, filled and averaged.

The released code's aggregation (IBM/ColPret ``util/fit_utils.aggregate_hist``): the number
of training models is binned 2, 3, ..., 7, 8+; ARE is averaged per (family, bin, p), empty
cells of a family are filled along p (:func:`fill_empty`), and the cells are then averaged
over families (:func:`macro`). Pure functions of polars frames; :mod:`analyses.hitchhiker.
tables` reads the laws they aggregate.
"""

from __future__ import annotations

import numpy as np
import polars as pl

TOP_BIN = 8  # the last bin of the number of models holds 8 and more
FILLS = ("linear", "released", "none")
SCALE_BINS = (2.0, 4.0, 8.0, 16.0, 32.0)  # upper edges of the scale-up bins (right-closed)
SCALE_LABELS = ("1-2x", "4x", "8x", "16x", "32x", "32+x")


def model_bin(n_models: pl.Expr) -> pl.Expr:
    """The paper's bins of the number of models: 2, 3, ..., 7, then 8 for "8+"."""
    return pl.min_horizontal(n_models, pl.lit(TOP_BIN)).cast(pl.Int32)



def bin_label(b: int) -> str:
    """``"8+"`` for the top bin, else the number."""
    return f"{TOP_BIN}+" if b >= TOP_BIN else str(b)



def cell_means(df: pl.DataFrame, keys: list[str], column: str) -> pl.DataFrame:
    """Mean ARE of the laws of ``df`` per ``keys`` and ``column`` (rows with a null
    ``column`` left out), with the laws, scored laws and unidentified scored laws counted."""
    return (
        df.filter(pl.col(column).is_not_null())
        .group_by(*keys, column)
        .agg(are=pl.col("are").mean(), n_laws=pl.len(), n_scored=pl.col("are").count(),
             n_unidentified=(pl.col("are").is_not_null()
                             & pl.col("unidentified").is_not_null()).sum())
        .sort(*keys, column)
    )



def fill_empty(
    cells: pl.DataFrame, *, by: list[str], column: str = "fraction", how: str = "linear"
) -> pl.DataFrame:
    """Fill empty (null-ARE) cells along ``column`` within each ``by`` group.

    ``how="linear"`` does what ``fill_nas`` in the released code means to do: a cell between
    two scored cells of its row gets their linear interpolation (by position among the
    sorted values of ``column``); a cell with scored cells only after it gets the nearest
    one; a cell with none after it stays empty. ``how="released"`` does what that code
    actually does: its guard ``replace_with_idx_after not in column_vals`` compares a
    position with the values of p, so only the first column (p = 0.1) is ever filled, from
    the second. ``how="none"`` leaves cells as they are.

    Parameters
    ----------
    cells : pl.DataFrame
        Holds ``by``, ``column`` and ``are``.
    by : list of str
        The row of a heatmap, e.g. ``["family", "bin"]``.
    column : str, default="fraction"
    how : {"linear", "released", "none"}, default="linear"

    Returns
    -------
    pl.DataFrame
        ``cells`` with ``are`` filled and a boolean ``filled`` column.

    Examples
    --------
    >>> c = pl.DataFrame({"f": ["a"] * 4, "fraction": [0.1, 0.2, 0.3, 0.4],
    ...                   "are": [None, 0.2, None, 0.4]})
    >>> fill_empty(c, by=["f"])["are"].to_list()
    [0.2, 0.2, 0.30000000000000004, 0.4]
    """
    if how not in FILLS:
        raise ValueError(f"Unknown fill {how!r}. Known fills: {', '.join(FILLS)}.")
    positions = {v: i for i, v in enumerate(sorted(cells[column].unique().drop_nulls()))}
    out = []
    for _, part in cells.sort(column).group_by(by, maintain_order=True):
        raw = part["are"].cast(pl.Float64).fill_null(np.nan).to_numpy()
        pos = np.array([positions[v] for v in part[column]], dtype=float)
        new = _fill(raw, pos, how)
        out.append(part.with_columns(
            are=pl.Series(new), filled=pl.Series(np.isnan(raw) & ~np.isnan(new))
        ))
    if not out:
        return cells.with_columns(filled=pl.lit(False))
    return pl.concat(out).with_columns(are=pl.col("are").fill_nan(None))



def _fill(are: np.ndarray, pos: np.ndarray, how: str) -> np.ndarray:
    """Fill the NaNs of one heatmap row (values ``are`` at column positions ``pos``)."""
    if how == "none":
        return are
    filled = are.copy()
    known = ~np.isnan(are)
    for i in np.flatnonzero(~known):
        after = np.flatnonzero(known & (pos > pos[i]))
        if after.size == 0:
            continue
        a = after[0]
        if how == "released":
            if pos[i] == 0 and pos[a] == 1:
                filled[i] = are[a]
            continue
        before = np.flatnonzero(known & (pos < pos[i]))
        if before.size == 0:
            filled[i] = are[a]
            continue
        b = before[-1]
        w = (pos[i] - pos[b]) / (pos[a] - pos[b])
        filled[i] = are[b] * (1 - w) + are[a] * w
    return filled



def entering(df: pl.DataFrame) -> pl.DataFrame:
    """The rows of the families that enter averages (``in_aggregate``)."""
    return df.filter(pl.col("in_aggregate"))


def macro(
    cells: pl.DataFrame, keys: list[str], *, value: str = "are"
) -> pl.DataFrame:
    """Mean over the ``in_aggregate`` families of per-family values, per ``keys``.

    Returns ``keys, are, n_families`` (families with a value in that cell), and where the
    cells count laws, ``n_scored`` and ``n_unidentified`` (scored laws their data cannot
    identify) summed over those families.
    """
    counts = [pl.col(c).sum() for c in ("n_scored", "n_unidentified") if c in cells.columns]
    return (
        cells.filter(pl.col("in_aggregate"))
        .group_by(keys)
        .agg(pl.col(value).mean().alias("are"), *counts, n_families=pl.col(value).count())
        .sort(keys)
    )



def full_data(df: pl.DataFrame) -> pl.DataFrame:
    """Per family (and estimator) the law on the most models with the whole runs (largest
    ``k``, then largest p): the paper's "full F"."""
    return (
        df.sort("family", "estimator", "k", "fraction", nulls_last=False)
        .group_by("family", "estimator", maintain_order=True)
        .last()
    )



def scale_up_bin(scale_up: pl.Expr) -> pl.Expr:
    """The paper's scale-up bins (right-closed, as ``pd.cut``): (1, 2] is 1-2x, (2, 4] is 4x,
    ..., (16, 32] is 32x, above 32 is 32+x; 1 and below have no bin (null)."""
    expr = pl.when(scale_up <= 1).then(pl.lit(None, pl.String))
    for edge, label in zip(SCALE_BINS, SCALE_LABELS, strict=False):
        expr = expr.when(scale_up <= edge).then(pl.lit(label))
    return expr.otherwise(pl.lit(SCALE_LABELS[-1]))



def by_fraction(heatmap: pl.DataFrame, column: str = "fraction") -> pl.DataFrame:
    """Mean of a macro heatmap over its bins, per ``column``: ``column, are``."""
    return heatmap.group_by(column).agg(pl.col("are").mean()).sort(column)
