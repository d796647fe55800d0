"""Values in upstream files: numbers in text fields, sizes ('2.8B') and their names, metric kinds.

A value that cannot be read is a ``BadRow`` naming the file, the line and the column.
"""

from __future__ import annotations

import math
import re

import polars as pl

from warehouse.errors import BadRow

_MISSING = frozenset({"", "nan", "NaN", "NAN", "None", "null", "NULL"})


def parse_float(text: str, path: str, row: int, column: str) -> float | None:
    """A float from a CSV field: empty or 'nan' is None; anything else not a number is BadRow."""
    text = text.strip()
    if text in _MISSING:
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRow(path, row, f"{column} is not a number ({text!r})") from None
    if math.isinf(value):
        raise BadRow(path, row, f"{column} is infinite ({text!r})")
    return None if math.isnan(value) else value  # '-nan': missing, as 'nan' is


def parse_int(text: str, path: str, row: int, column: str) -> int | None:
    """An integer from a CSV field ('1500' or '1500.0'); empty is None; '1.5' is BadRow."""
    value = parse_float(text, path, row, column)
    if value is None:
        return None
    if value != int(value):
        raise BadRow(path, row, f"{column} is not an integer ({text.strip()!r})")
    return int(value)


def metric_kind(name: str) -> str:
    """The Hitchhiker classification of a metric column by its name (``metric_per_column``)."""
    n = name.lower()
    if "byte_perplexity" in n:
        return "byte_ppl"
    if "bits_per_byte" in n or n.endswith("bpb"):
        return "bpb"
    if "loss" in n:
        return "loss"
    if "perp" in n or "ppl" in n:
        return "ppl"
    if "acc_norm" in n or "len_norm" in n:
        return "acc_norm"
    if "acc" in n:
        return "acc"
    if "err" in n:
        return "error"
    if re.search(r"(^|[^a-z])em([^a-z]|$)|exact_match", n):
        return "em"
    if "f1" in n:
        return "f1"
    return "other"


_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*([kmbt]?)\s*$", re.IGNORECASE)
_SCALE = {"": 1, "k": 1e3, "m": 1e6, "b": 1e9, "t": 1e12}


def parse_size(
    text: str | float | int, path: str, row: int | None, column: str, *, positive: bool = False
) -> float:
    """A count from '2.8B', '70m', '125M', '1e9' or a number (the Hitchhiker ``to_int``).

    Raises
    ------
    BadRow
        Text that is not a size, or a size that is not a finite, non-negative number (a
        positive one with ``positive``).
    """
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise BadRow(path, row, f"{column} is not a size ({text!r})")
    m = _SIZE.match(text) if isinstance(text, str) else None
    try:
        value = float(m.group(1)) * _SCALE[m.group(2).lower()] if m else float(text)
    except (ValueError, OverflowError):
        raise BadRow(path, row, f"{column} is not a size ({text!r})") from None
    if not math.isfinite(value) or value < 0 or (positive and value == 0):
        what = "positive" if positive else "non-negative"
        raise BadRow(path, row, f"{column} is not a finite, {what} count ({text!r})")
    return value


_UNITS = ((1e18, "E"), (1e15, "P"), (1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K"))


def to_str(num: float) -> str:
    """A number as ColPret's ``util.naming.to_str`` writes it in model and family names.

    The unit is the largest one whose tenth ``num`` exceeds (so 1.34e8 is '0.13B'), with
    two decimals; a number up to 100 is written as a float.

    Examples
    --------
    >>> to_str(2.8e9), to_str(1.34e8), to_str(44)
    ('2.80B', '0.13B', '44.0')
    """
    for scale, unit in _UNITS:
        if num > scale / 10:
            return f"{num / scale:.2f}{unit}"
    return str(float(num))


def parse_sizes(df: pl.DataFrame, column: str) -> pl.Series:
    """``df[column]`` (size strings such as '2.8B' or '125m', numbers or nulls) as Float64 counts.

    Each distinct value is parsed once with ``parse_size``; a bad one is a BadRow naming the
    first line (``df``'s ``file`` and ``row``) that holds it.
    """
    first = df.select(column, "file", "row").drop_nulls(column)
    sizes = {
        r[column]: parse_size(r[column], r["file"], r["row"], column)
        for r in first.unique(column, keep="first", maintain_order=True).iter_rows(named=True)
    }
    return df[column].replace_strict(sizes, default=None, return_dtype=pl.Float64)
