"""Intervals of what the report computes over families: the families resampled.

A macro cell (e.g. 5 models x p = 0.5 in the paper's heatmap) is the mean over families of
each family's value in it (:func:`analyses.hitchhiker.tables.macro`), so the evidence varies
with the families: a resample draws as many families as there are, with replacement, and the
same draw serves every cell, as the families of one resample are one world. Each cell's
interval is the central percentile interval of its resampled means. A cell with a value from
fewer than :data:`MIN_FAMILIES` families gets ``too few families`` and no interval (a
bootstrap of one to four families says little, and one family gives a zero width), and is
never resolved. A claim or guideline (:func:`family_interval`) is any statistic of a
frame with one or more rows per family: the same draw of families, the statistic recomputed on
each resample. Pure: frames in, frames or :class:`Interval` out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from warehouse.errors import MetaError

SEED, RESAMPLES, LEVEL = 0, 1000, 0.9  # what the report shows
MIN_FAMILIES = 5
RESOLVED_WIDTH = 0.05  # a cell is resolved when its interval is narrower (ARE 5 points)
TOO_FEW = "too few families"
NO_INTERVAL = "no finite resample"


def macro_intervals(
    cells: pl.DataFrame,
    keys: Sequence[str],
    *,
    value: str = "are",
    n_resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
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


@dataclass(frozen=True)
class Interval:
    """A statistic over families with its interval over resampled families.

    Attributes
    ----------
    value : float
        The statistic on the families as they are.
    low, high : float or None
        The central percentile interval (None when ``status`` is ``too few families``); a
        bound may be infinite where the statistic can be (no prefix reaches a threshold).
    n_families : int
    status : str
        ``ok``, ``too few families``, or ``no finite resample`` (the statistic was NaN on
        every resample).
    level : float
    n_resamples : int
    seed : int
    """

    value: float
    low: float | None
    high: float | None
    n_families: int
    status: str
    level: float
    n_resamples: int
    seed: int

    def contains(self, x: float) -> bool | None:
        """Whether ``x`` lies in the interval; None without one."""
        return None if self.low is None else bool(self.low <= x <= self.high)

    def side(self, threshold: float) -> int | None:
        """-1 when the whole interval lies below ``threshold``, 1 above, 0 when it straddles
        it (or touches it); None without an interval."""
        if self.low is None:
            return None
        return -1 if self.high < threshold else 1 if self.low > threshold else 0


def family_interval(
    evidence: pl.DataFrame,
    statistic: Callable[[pl.DataFrame], float],
    *,
    n_resamples: int = RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
    min_families: int = MIN_FAMILIES,
) -> Interval:
    """A statistic of per-family evidence with its interval over resampled families.

    Each resample draws as many families as ``evidence`` has, with replacement, and
    recomputes ``statistic`` on their rows; a family drawn twice enters twice, under a
    new name for each draw (``statistic`` must read everything it needs from ``evidence``:
    it sees ``family`` values such as ``"3"``). The interval is the central percentile
    interval of the resampled statistics, taken as order statistics (numpy's
    ``inverted_cdf``), so that a statistic with few distinct values (a share of the run, a
    count) or an infinite one keeps values it can take; resamples whose statistic is NaN
    are dropped.

    Parameters
    ----------
    evidence : pl.DataFrame
        One or more rows per family, in a ``family`` column.
    statistic : callable
        Frame to float.
    n_resamples, seed, level, min_families
        As :func:`macro_intervals`.

    Returns
    -------
    Interval

    Examples
    --------
    >>> ev = pl.DataFrame({"family": list("abcdef"), "are": [0.1, 0.2, 0.1, 0.3, 0.2, 0.1]})
    >>> iv = family_interval(ev, lambda f: float(f["are"].median()), n_resamples=200)
    >>> iv.status, round(iv.value, 3), iv.low <= 0.15 <= iv.high, iv.contains(0.9)
    ('ok', 0.15, True, False)
    >>> family_interval(ev.head(3), lambda f: float(f["are"].mean())).status
    'too few families'
    """
    _check(n_resamples, level, min_families, "family_interval")
    value = float(statistic(evidence))
    names = evidence["family"].unique().sort()
    common = dict(value=value, n_families=names.len(), level=level,
                  n_resamples=n_resamples, seed=seed)
    if names.len() < min_families:
        return Interval(low=None, high=None, status=TOO_FEW, **common)
    index = evidence.with_row_index("_row").group_by("family").agg("_row").sort("family")
    rows = [np.asarray(r, dtype=np.int64) for r in index["_row"]]
    sizes = np.array([r.size for r in rows])
    rng = np.random.default_rng(seed)
    stats = np.empty(n_resamples)
    for r, draw in enumerate(rng.integers(names.len(), size=(n_resamples, names.len()))):
        sample = evidence[np.concatenate([rows[d] for d in draw])].with_columns(
            family=pl.Series(np.repeat(np.arange(draw.size), sizes[draw]).astype(str)))
        stats[r] = statistic(sample)
    stats = stats[~np.isnan(stats)]
    if stats.size == 0:
        return Interval(low=None, high=None, status=NO_INTERVAL, **common)
    low, high = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2], method="inverted_cdf")
    return Interval(low=float(low), high=float(high), status="ok", **common)


def median_of(column: str) -> Callable[[pl.DataFrame], float]:
    """The statistic "median of ``column``", for :func:`family_interval`."""
    return lambda f: float(f[column].median())


def mean_of(column: str) -> Callable[[pl.DataFrame], float]:
    """The statistic "mean of ``column``" (booleans as shares), for :func:`family_interval`."""
    return lambda f: float(f[column].cast(pl.Float64).mean())


def _check(n_resamples: object, level: object, min_families: object,
           name: str = "macro_intervals") -> None:
    if not isinstance(n_resamples, int) or isinstance(n_resamples, bool) or n_resamples < 1:
        raise MetaError(f"The 'n_resamples' parameter of {name} must be an int in "
                        f"the range [1, inf). Got {n_resamples!r} instead.")
    if not isinstance(level, float) or not 0 < level < 1:
        raise MetaError(f"The 'level' parameter of {name} must be a float in the "
                        f"range (0, 1). Got {level!r} instead.")
    if not isinstance(min_families, int) or isinstance(min_families, bool) or min_families < 1:
        raise MetaError(f"The 'min_families' parameter of {name} must be an int in "
                        f"the range [1, inf). Got {min_families!r} instead.")
