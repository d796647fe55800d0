"""What every loader shares: its description, the frames it returns, and checked readers.

A loader is one module with ``SOURCE = SourceInfo(...)`` and ``load(data_root) -> SourceData``.
It reads upstream files in their original format and returns three frames; it never sees the
warehouse. ``ingest.normalize`` validates them and derives the warehouse tables.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import polars as pl

from warehouse.errors import BadRow, MissingInput


@dataclass(frozen=True)
class SourceInfo:
    """Provenance of one source.

    Attributes
    ----------
    name : str
        Registry key and the ``sources.source`` value.
    citation, upstream, license : str
        Paper, ``repository@commit`` and licence of the upstream files.
    files : tuple of str
        Glob patterns, relative to the data root, of every file the loader reads; their bytes
        make the source's content hash.
    """

    name: str
    citation: str
    upstream: str
    license: str
    files: tuple[str, ...]


# Column types of the frames a loader returns. Columns a loader leaves out are added as nulls
# (or the default named in ingest.normalize).
FAMILY_SCHEMA: dict[str, pl.DataType] = {
    "family": pl.String,
    "model_type": pl.String,
    "arch": pl.String,
    "data": pl.String,
    "perf_metric": pl.List(pl.String),
    "scaled": pl.Boolean,
    # False keeps a scaled family out of the Hitchhiker macro averages (null: the default
    # rule of ingest.normalize); a loader can narrow that rule, never widen it.
    "in_aggregate": pl.Boolean,
    "original_paper": pl.String,
}
MODEL_SCHEMA: dict[str, pl.DataType] = {
    "model_id": pl.String,
    "family": pl.String,
    "num_params": pl.Float64,
    "seed": pl.Int64,
    "epochs": pl.Float64,
    "data": pl.String,
    "tags": pl.List(pl.String),
    "flag": pl.String,
    "file": pl.String,
    "row": pl.Int64,
}
POINT_SCHEMA: dict[str, pl.DataType] = {
    "model_id": pl.String,
    "step": pl.Int64,
    "tokens": pl.Float64,
    "flops": pl.Float64,
    "revision": pl.String,
    "metric": pl.String,
    "value": pl.Float64,
    "kind": pl.String,
    "task": pl.String,
    "shots": pl.Int64,
    "stderr": pl.Float64,
    "lo": pl.Float64,
    "hi": pl.Float64,
    "flag": pl.String,
    "file": pl.String,
    "row": pl.Int64,
}
# Numbers the source's authors published from its data: one row per (result table, task,
# column), ``file``/``row`` saying where each was read.
PUBLISHED_SCHEMA: dict[str, pl.DataType] = {
    "result": pl.String,
    "task": pl.String,
    "quantity": pl.String,
    "value": pl.Float64,
    "file": pl.String,
    "row": pl.Int64,
}
# Readings a loader averaged into one value (a digitised curve's repeated readings at one x),
# kept as read: one row per reading, numbered from 1 in file order.
READING_SCHEMA: dict[str, pl.DataType] = {
    "model_id": pl.String,
    "step": pl.Int64,
    "tokens": pl.Float64,
    "metric": pl.String,
    "reading": pl.Int64,
    "value": pl.Float64,
    "file": pl.String,
    "row": pl.Int64,
}
# Chance levels of a source's downstream tasks: one row per task (``metrics.task``), the
# accuracy of a random answer and where that level comes from.
CHANCE_SCHEMA: dict[str, pl.DataType] = {
    "task": pl.String,
    "chance": pl.Float64,
    "origin": pl.String,
    "file": pl.String,
    "row": pl.Int64,
}
KINDS = frozenset(
    {"loss", "ppl", "acc", "acc_norm", "error", "bpb", "byte_ppl", "em", "f1", "score", "other"}
)


@dataclass(frozen=True)
class SourceData:
    """The frames one loader returns.

    Attributes
    ----------
    families : pl.DataFrame
        One row per family (``FAMILY_SCHEMA``).
    models : pl.DataFrame
        One row per trained model (``MODEL_SCHEMA``); ``file``/``row`` say where it was read.
    points : pl.DataFrame
        One row per (checkpoint, metric) value (``POINT_SCHEMA``), long format; a checkpoint is
        identified by ``model_id`` and ``step`` (or ``tokens`` where there is no step). Rows
        with a null ``value`` are dropped; ``file``/``row`` say where each value was read.
        ``lo``/``hi`` (optional) narrow the range a value must lie in below that of its
        kind (``ingest.normalize.DOMAINS``) where the loader knows the metric's scale (a
        percentage, a chance-normalised score at most 1). ``flag`` (null for almost every
        value) says why a value that upstream publishes outside its range is kept; it is
        not stored per value but summed up in the model's ``flag``. None of the three is
        written to the warehouse.
    n_files : int
        Number of input files read.
    published : pl.DataFrame, optional
        Results the source's authors published from this data (``PUBLISHED_SCHEMA``), for
        the analyses that reproduce them; None for a source that ships none.
    readings : pl.DataFrame, optional
        The readings behind values the loader averaged (``READING_SCHEMA``; a checkpoint is
        named as in ``points``); None for a source that averages nothing.
    chance : pl.DataFrame, optional
        The chance level of each downstream task (``CHANCE_SCHEMA``), for the analyses that
        ask whether a task's accuracy is above it; None where no level is known.
    """

    families: pl.DataFrame
    models: pl.DataFrame
    points: pl.DataFrame
    n_files: int
    published: pl.DataFrame | None = None
    readings: pl.DataFrame | None = None
    chance: pl.DataFrame | None = None


def relpath(path: Path, data_root: Path) -> str:
    """``path`` relative to the data root, for messages and ``file`` columns."""
    try:
        return path.relative_to(data_root).as_posix()
    except ValueError:
        return str(path)


def require(path: Path) -> Path:
    """``path`` if it exists, else a MissingInput error naming it."""
    if not path.exists():
        raise MissingInput(
            f"{path} not found; point --data-root (or $META_DATA_ROOT) at the shared data folder."
        )
    return path


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


def first_bad(df: pl.DataFrame, mask: pl.Expr, reason: str | pl.Expr) -> None:
    """Raise BadRow at the first row of ``df`` (which has ``file`` and ``row``) where ``mask``
    holds; ``reason`` is a sentence, or an expression that formats one from the row."""
    reason = pl.lit(reason) if isinstance(reason, str) else reason
    bad = df.filter(mask).select("file", "row", reason.alias("_reason"))
    if bad.height:
        r = bad.row(0, named=True)
        raise BadRow(r["file"], r["row"], r["_reason"])


def require_constant(df: pl.DataFrame, column: str, *, per: str, reason: str | pl.Expr) -> None:
    """Raise BadRow at the first row of ``df`` whose ``per`` group holds more than one value of
    ``column`` (a model whose rows disagree on its size, say); ``reason`` as in ``first_bad``."""
    first_bad(df, pl.col(column).n_unique().over(per) > 1, reason)


def _records(
    reader, name: str, header: Sequence[str] | None, required: Sequence[str], skip_rows: int
) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header and the (line, fields) records of a CSV reader, checking their shape."""
    if header is None:
        try:
            header = next(reader)
        except StopIteration:
            raise BadRow(name, 1, "the file is empty") from None
    header = list(header)
    missing = [c for c in required if c not in header]
    if missing:
        raise BadRow(name, 1, f"missing column {missing[0]!r}")
    records = []
    for record in reader:
        line = reader.line_num
        if skip_rows and line <= 1 + skip_rows:
            continue
        if not record:
            continue
        if len(record) != len(header):
            raise BadRow(
                name, line, f"expected {len(header)} fields, found {len(record)} (truncated?)"
            )
        records.append((line, record))
    return header, records


_BOM = b"\xef\xbb\xbf"


def read_text(path: Path, name: str) -> str:
    """The text of a UTF-8 file (a leading byte-order mark dropped).

    Parameters
    ----------
    path : Path
        The file.
    name : str
        The file as messages name it (relative to the data root).

    Raises
    ------
    BadRow
        A byte sequence that is not UTF-8, or a NUL byte (binary data), naming its line.
    """
    data = require(path).read_bytes()
    body = data[len(_BOM):] if data.startswith(_BOM) else data
    nul = body.find(b"\0")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        at = e.start if nul < 0 else min(e.start, nul)
    else:
        if nul < 0:
            return text
        at = nul
    line = body.count(b"\n", 0, at) + 1
    column = at - (body.rfind(b"\n", 0, at) + 1) + 1
    what = "a NUL byte (binary data)" if at == nul else f"byte 0x{body[at]:02x}, which is not UTF-8"
    raise BadRow(name, line, f"{what} at column {column}; the file must be UTF-8 text")


def read_csv(
    path: Path,
    *,
    data_root: Path,
    numeric: Iterable[str] | Callable[[str], bool] = (),
    integer: Iterable[str] = (),
    required: Sequence[str] = (),
    header: Sequence[str] | None = None,
    skip_rows: int = 0,
) -> pl.DataFrame:
    """Read a CSV, checking every record, into a frame with a ``row`` column (line number).

    Parameters
    ----------
    path : Path
        The file.
    data_root : Path
        Root that error messages and the ``file`` column are relative to.
    numeric : iterable of str or callable, default=()
        Columns parsed as Float64 (the rest stay strings, empty ones null); a callable decides
        per column name.
    integer : iterable of str, default=()
        Columns parsed as Int64 (steps, counts): '1500' and '1500.0' are fine, '1500.5' is not.
    required : sequence of str, default=()
        Columns that must exist and be non-empty in every record.
    header : sequence of str, optional
        Column names for a file without a header line.
    skip_rows : int, default=0
        Lines after the header to skip (a second header line).

    Raises
    ------
    BadRow
        Bytes that are not UTF-8 text, an empty file or one with a header and no data rows (a
        source never silently loses a file), a record with the wrong number of fields or a
        quoted field that the end of the file cuts off (a truncated file), a missing required
        column or value, or a value in a numeric column that is not a finite number.
    """
    name = relpath(require(path), data_root)
    text = read_text(path, name)
    if not text.strip():
        raise BadRow(name, 1, "the file is empty")
    # strict: a quoted field that the end of the file cuts off is an error, not a value
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header, records = _records(reader, name, header, required, skip_rows)
    except csv.Error as e:
        raise BadRow(name, reader.line_num, f"not valid CSV ({e}; truncated?)") from None
    if not records:
        raise BadRow(name, reader.line_num, "the file has no data rows after its header")
    integers = set(integer)
    is_numeric = numeric if callable(numeric) else set(numeric).__contains__
    lines = [line for line, _ in records]
    columns: dict[str, list] = {"row": lines}
    for j, column in enumerate(header):
        if not column or column in columns:
            continue
        values = [record[j] for _, record in records]
        if column in integers:
            values = [parse_int(v, name, n, column) for v, n in zip(values, lines, strict=True)]
        elif is_numeric(column):
            values = [parse_float(v, name, n, column) for v, n in zip(values, lines, strict=True)]
        else:
            values = [v if v.strip() else None for v in values]
        if column in required:
            for v, n in zip(values, lines, strict=True):
                if v is None:
                    raise BadRow(name, n, f"{column} is empty")
        columns[column] = values
    schema = {
        c: pl.Int64 if c in integers else pl.Float64 if is_numeric(c) else pl.String
        for c in columns
    }
    schema["row"] = pl.Int64
    return pl.DataFrame(columns, schema=schema).with_columns(file=pl.lit(name))


def json_error(e: orjson.JSONDecodeError) -> str:
    """The reason of a JSON error without its position (the message names the line)."""
    return f"not valid JSON ({e.msg} at column {e.colno})"


def read_json(path: Path, *, data_root: Path) -> object:
    """Parse a JSON file; a malformed one (not UTF-8, empty, cut short, an infinite number) is
    a BadRow naming it and the line."""
    require(path)
    try:
        return orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as e:
        raise BadRow(relpath(path, data_root), e.lineno, json_error(e)) from None


def read_jsonl(path: Path, name: str) -> Iterator[tuple[int, object]]:
    """(line number, parsed object) for every non-blank line of a JSON-lines file; a line that
    is not valid JSON is a BadRow naming ``name`` and the line, and so is a file without a
    line."""
    empty = True
    for line, raw in enumerate(require(path).read_bytes().splitlines(), start=1):
        if not raw.strip():
            continue
        empty = False
        try:
            yield line, orjson.loads(raw)
        except orjson.JSONDecodeError as e:
            raise BadRow(name, line, json_error(e)) from None
    if empty:
        raise BadRow(name, 1, "the file is empty")


def read_xlsx(path: Path, *, data_root: Path, columns: int) -> list[tuple]:
    """The rows (values of the first ``columns`` columns) of a workbook's first sheet.

    Raises
    ------
    BadRow
        A file that is not a readable workbook: not a zip, cut short, a damaged member.
    """
    import openpyxl  # only the spreadsheet inputs need it

    name = relpath(require(path), data_root)
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        try:
            return list(book.worksheets[0].iter_rows(max_col=columns, values_only=True))
        finally:
            book.close()
    except Exception as e:  # a damaged zip or XML raises whatever zipfile, zlib or XML raise
        reason = " ".join(f"{type(e).__name__}: {e}".split())[:200]
        raise BadRow(name, None, f"not a readable .xlsx file ({reason})") from None


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


def unpivot(
    frame: pl.DataFrame,
    metrics: Sequence[str],
    *,
    index: Sequence[str],
    kind: Callable[[str], str] = metric_kind,
    task: Callable[[str], str | None] = lambda m: None,
    shots: int = 0,
) -> pl.DataFrame:
    """Wide metric columns to long point rows: one row per (record, metric) with a value."""
    long = frame.unpivot(on=list(metrics), index=list(index), variable_name="metric")
    long = long.filter(pl.col("value").is_not_null())
    names = long["metric"].unique().to_list()
    return long.with_columns(
        kind=pl.col("metric").replace_strict({m: kind(m) for m in names}, return_dtype=pl.String),
        task=pl.col("metric").replace_strict({m: task(m) for m in names}, return_dtype=pl.String),
        shots=pl.lit(shots, pl.Int64),
    )


def frame(rows: list[dict] | dict[str, list], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """A frame with exactly ``schema``'s columns; absent columns are null."""
    df = pl.DataFrame(rows)
    return conform(df, schema)


def conform(df: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select ``schema``'s columns in order, cast, and add absent ones as nulls."""
    return df.select(
        [
            (pl.col(c).cast(t) if c in df.columns else pl.lit(None, t)).alias(c)
            for c, t in schema.items()
        ]
    )
