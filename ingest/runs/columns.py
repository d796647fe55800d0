"""Cells to numbers, and the columns of an export that are bookkeeping, not data.

Text cells are stripped; an empty cell and ``NA``, ``N/A``, ``null``, ``None`` are missing;
``nan`` and ``inf`` are numbers (a non-finite loss is then named, not silently dropped). Sizes
may carry a unit: ``125M``, ``1.3B``, ``70k``.
"""

from __future__ import annotations

import polars as pl

from ingest.runs.mapping import key

_MISSING = ["", "na", "n/a", "null", "none"]
_SIZE = r"^([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMbBtT])$"
_SCALE = {"k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}

# Weights & Biases bookkeeping: '_runtime', '_timestamp', '_wandb' ... (every column starting
# with '_' but '_step'), and the run table's own columns.
_WANDB = {"runtime", "created", "state", "notes", "user", "tags", "sweep", "id", "hostname",
          "commit", "job_type", "updated", "end_time", "heartbeat"}


def bookkeeping(name: str) -> bool:
    """Whether a column is an export's bookkeeping (W&B ``_runtime``, ``State`` ...).

    Examples
    --------
    >>> [bookkeeping(c) for c in ("_runtime", "_step", "State", "train/loss")]
    [True, False, True, False]
    """
    k = key(name)
    return (k.startswith("_") and k != "_step") or k in _WANDB


def scalar(dtype: pl.DataType) -> bool:
    """Whether cells of ``dtype`` are single values (not lists, structs or bytes)."""
    return not (dtype.is_nested() or dtype in (pl.Binary, pl.Object))


def text(column: str) -> pl.Expr:
    """A column as stripped text, with empty and NA-like cells null."""
    s = pl.col(column).cast(pl.String).str.strip_chars()
    return pl.when(s.str.to_lowercase().is_in(_MISSING)).then(None).otherwise(s)


def number(column: str, dtype: pl.DataType, *, sizes: bool = False) -> tuple[pl.Expr, pl.Expr]:
    """``(value, bad)`` expressions: the column as Float64, and where a cell is present but is
    not a number (``bad``). With ``sizes``, '125M' and '1.3B' are numbers too."""
    if dtype.is_numeric() or dtype == pl.Boolean:
        return pl.col(column).cast(pl.Float64), pl.lit(False)
    if dtype not in (pl.String, pl.Categorical, pl.Null):
        return pl.lit(None, pl.Float64), pl.col(column).is_not_null()
    s = text(column)
    value = s.cast(pl.Float64, strict=False)
    if sizes:
        parts = s.str.extract_groups(_SIZE)
        scaled = parts.struct.field("1").cast(pl.Float64, strict=False) * parts.struct.field(
            "2"
        ).str.to_lowercase().replace_strict(_SCALE, default=None, return_dtype=pl.Float64)
        value = pl.coalesce(value, scaled)
    return value, s.is_not_null() & value.is_null()


def parse(series: pl.Series, *, sizes: bool = False) -> tuple[pl.Series, pl.Series | None]:
    """``(values, bad)``: the cells as Float64, and a mask of cells that are present but not
    numbers (None when there are none). Plain numbers take one cast; only a column with other
    text goes through ``number``'s stripping and unit parsing."""
    dtype = series.dtype
    if dtype.is_numeric() or dtype == pl.Boolean:
        return series.cast(pl.Float64), None
    if dtype in (pl.String, pl.Categorical):
        fast = series.cast(pl.String).cast(pl.Float64, strict=False)
        if not (fast.is_null() & series.is_not_null()).any():
            return fast, None
    name = series.name
    value, bad = number(name, dtype, sizes=sizes)
    out = pl.DataFrame([series]).select(value.alias("v"), bad.alias("bad"))
    mask = out["bad"]
    return out["v"].alias(name), (mask if mask.any() else None)


class Cells:
    """The columns of one frame parsed as numbers, each once."""

    def __init__(self, df: pl.DataFrame):
        self.df = df
        self._parsed: dict[tuple[str, bool], tuple[pl.Series, pl.Series | None]] = {}

    def number(self, column: str, *, sizes: bool = False) -> tuple[pl.Series, pl.Series | None]:
        """``parse`` of one column, cached."""
        if (column, sizes) not in self._parsed:
            self._parsed[(column, sizes)] = parse(self.df[column], sizes=sizes)
        return self._parsed[(column, sizes)]

    def numeric(self, column: str) -> bool:
        """Whether every present cell is a number, and at least one is present."""
        value, bad = self.number(column)
        return bad is None and value.null_count() < len(value)


def show(value: object) -> str:
    """A value for a message: numbers as ``%g``, text as is."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
