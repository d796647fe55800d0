"""Checked readers of a loader's upstream files: CSV, JSON, JSON lines, text and workbooks.

Every reader names the file (relative to the data root) and the line of what it refuses, as a
``BadRow``; a missing file is a ``MissingInput``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import orjson
import polars as pl

from ingest.parse import parse_float, parse_int
from warehouse.errors import BadRow, MissingInput


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
