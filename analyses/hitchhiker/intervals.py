"""Intervals of macro averages: the families resampled.

A macro cell (e.g. 5 models x p = 0.5 in the paper's heatmap) is the mean over families of
each family's value in it (:func:`analyses.hitchhiker.tables.macro`), so the evidence varies
with the families: a resample draws as many families as there are, with replacement, and the
same draw serves every cell, as the families of one resample are one world. Each cell's
interval is the central percentile interval of its resampled means. A cell with a value from
fewer than :data:`MIN_FAMILIES` families gets ``too few families`` and no interval (a
bootstrap of one to four families says little, and one family gives a zero width), and is
never resolved. Pure: frames in, a frame out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from warehouse.errors import MetaError

MIN_FAMILIES = 5
RESOLVED_WIDTH = 0.05  # a cell is resolved when its interval is narrower (ARE 5 points)
TOO_FEW = "too few families"


def macro_intervals(
    cells: pl.DataFrame,
    keys: Sequence[str],
    *,
    value: str = "are",
    n_resamples: int = 1000,
    seed: int = 0,
    level: float = 0.9,
    min_families: int = MIN_FAMILIES,
    resolved_width: float = RESOLVED_WIDTH,
) -> pl.DataFrame:
    """The macro average of every cell with its interval over resampled families.

    Parameters
    ----------
    cells : pl.DataFrame
        Per-family values: ``family``, ``in_aggregate`` (only those true count), ``keys``
        and ``value`` (null or NaN: the family has no value in the cell).
    keys : sequence of str
        The columns that name a cell (``["bin", "fraction"]``).
    value : str, default="are"
    n_resamples : int, default=1000
    seed : int, default=0
        Seed of the family draws (``numpy.random.default_rng``).
    level : float, default=0.9
        Of the central percentile interval.
    min_families : int, default=5
        Families with a value a cell needs for an interval.
    resolved_width : float, default=0.05
        A cell is resolved when its interval is narrower than this.

    Returns
    -------
    pl.DataFrame
        ``keys, <value>, n_families, status ("ok" or "too few families"), low, high,
        resolved, level, n_resamples, seed``, one row per cell, sorted by ``keys``.

    Examples
    --------
    >>> cells = pl.DataFrame({"family": list("abcdef"), "in_aggregate": True,
    ...                       "bin": 2, "are": [0.1, 0.2, 0.1, 0.3, 0.2, 0.1]})
    >>> out = macro_intervals(cells, ["bin"], n_resamples=200)
    >>> out["status"][0], round(out["are"][0], 3), out["low"][0] < 0.167 < out["high"][0]
    ('ok', 0.167, True)
    """
    _check(n_resamples, level, min_families)
    per_family = (
        cells.filter(pl.col("in_aggregate"))
        .with_columns(pl.col(value).cast(pl.Float64).fill_nan(None))
        .group_by("family", *keys).agg(pl.col(value).mean())
        .drop_nulls(value)
    )
    table = per_family.select(*keys).unique().sort(keys)
    cell = per_family.join(table.select(*keys).with_row_index("_cell"), on=list(keys))
    family = cell["family"].rank("dense").to_numpy().astype(int) - 1
    n_fam = int(family.max()) + 1 if family.size else 0
    matrix = np.zeros((n_fam, table.height))
    present = np.zeros((n_fam, table.height))
    matrix[family, cell["_cell"]] = cell[value].to_numpy()
    present[family, cell["_cell"]] = 1.0
    rng = np.random.default_rng(seed)
    weight = np.zeros((n_resamples, n_fam))  # times each family is drawn, per resample
    np.add.at(weight, (np.arange(n_resamples)[:, None],
                       rng.integers(n_fam, size=(n_resamples, n_fam))), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = (weight @ matrix) / (weight @ present)  # (resamples, cells)
    counts = present.sum(0)
    enough = counts >= min_families
    bounds = np.full((2, table.height), np.nan)
    if enough.any():
        bounds[:, enough] = np.nanquantile(means[:, enough],
                                           [(1 - level) / 2, (1 + level) / 2], axis=0)
    return table.with_columns(
        pl.Series(value, matrix.sum(0) / counts), n_families=pl.Series(counts.astype(int)),
        status=pl.Series(np.where(enough, "ok", TOO_FEW)),
        low=pl.Series(bounds[0]), high=pl.Series(bounds[1]),
        resolved=pl.Series(enough & (bounds[1] - bounds[0] < resolved_width)),
        level=pl.lit(level), n_resamples=pl.lit(n_resamples), seed=pl.lit(seed),
    )


def _check(n_resamples: object, level: object, min_families: object) -> None:
    if not isinstance(n_resamples, int) or isinstance(n_resamples, bool) or n_resamples < 1:
        raise MetaError(f"The 'n_resamples' parameter of macro_intervals must be an int in "
                        f"the range [1, inf). Got {n_resamples!r} instead.")
    if not isinstance(level, float) or not 0 < level < 1:
        raise MetaError(f"The 'level' parameter of macro_intervals must be a float in the "
                        f"range (0, 1). Got {level!r} instead.")
    if not isinstance(min_families, int) or isinstance(min_families, bool) or min_families < 1:
        raise MetaError(f"The 'min_families' parameter of macro_intervals must be an int in "
                        f"the range [1, inf). Got {min_families!r} instead.")
