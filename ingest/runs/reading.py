"""Reading one run file, whatever its format, into a frame with the line each row came from.

The format is the file's extension: ``.csv``; ``.tsv`` or ``.tab``; ``.parquet`` or ``.pq``;
``.jsonl`` or ``.ndjson``. Text formats are read with polars' readers, every column as text
(``ingest.runs.columns`` turns them into numbers, so a bad cell is named, not guessed around);
Parquet and JSON Lines keep their own types.

Row numbers in messages follow what the user sees: for CSV and TSV the line in an editor,
counting the header as line 1 (so the first data row is line 2); for JSON Lines the line
(blank lines counted); for Parquet the 1-based data row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from warehouse.errors import MetaError

# Internal columns carry this prefix; no export we know of starts a column name with it.
LINE = "@line"

FORMATS = {
    ".csv": "CSV",
    ".tsv": "TSV",
    ".tab": "TSV",
    ".parquet": "Parquet",
    ".pq": "Parquet",
    ".jsonl": "JSON Lines",
    ".ndjson": "JSON Lines",
}


@dataclass(frozen=True)
class Table:
    """One input file as read.

    Attributes
    ----------
    name : str
        The path as the user gave it; error messages name the file by it.
    format : str
        'CSV', 'TSV', 'Parquet' or 'JSON Lines'.
    unit : str
        'line' (text formats: the line as an editor numbers it, header = line 1) or 'row'
        (Parquet: the 1-based data row).
    frame : pl.DataFrame
        The file's columns, plus ``@line`` (Int64): where each row is, in ``unit``.
    """

    name: str
    format: str
    unit: str
    frame: pl.DataFrame

    @property
    def columns(self) -> list[str]:
        """The file's own columns, in file order."""
        return [c for c in self.frame.columns if c != LINE]


def read_table(path: Path, name: str | None = None) -> Table:
    """Read ``path`` by its extension.

    Parameters
    ----------
    path : Path
        A CSV, TSV, Parquet or JSON Lines file.
    name : str, optional
        How messages name the file (default: ``str(path)``).

    Returns
    -------
    Table

    Raises
    ------
    MetaError
        An unknown extension, a missing or empty file, a file without data rows, or one its
        reader refuses (named with its line where the reader can tell).
    """
    name = name or str(path)
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(FORMATS))
        raise MetaError(f"{name}: unknown file type '{path.suffix}'; known extensions: {known}.")
    if not path.is_file():
        raise MetaError(f"{name}: no such file.")
    if path.stat().st_size == 0:
        raise MetaError(f"{name}: the file is empty.")
    if fmt == "Parquet":
        frame, unit = _parquet(path, name), "row"
    elif fmt == "JSON Lines":
        frame, unit = _jsonl(path, name), "line"
    else:
        frame, unit = _text(path, name, "\t" if fmt == "TSV" else ","), "line"
    if frame.height == 0:
        raise MetaError(f"{name}: no data rows (only a header).")
    return Table(name=name, format=fmt, unit=unit, frame=frame)


def _text(path: Path, name: str, separator: str) -> pl.DataFrame:
    try:
        df = pl.read_csv(
            path,
            separator=separator,
            infer_schema=False,
            row_index_name=LINE,
            row_index_offset=2,
        )
    except pl.exceptions.PolarsError as e:
        kind = "TSV" if separator == "\t" else "CSV"
        where = _csv_error_line(path, separator)
        if where:
            line, reason = where
            raise MetaError(f"{name}, line {line}: cannot be read as {kind}: {reason}.") from None
        raise MetaError(f"{name}: cannot be read as {kind} ({_first_line(e)}).") from None
    duplicated = [c for c in df.columns if "_duplicated_" in c]
    if duplicated:
        column = duplicated[0].split("_duplicated_")[0]
        raise MetaError(f"{name}, line 1: column '{column}' appears twice in the header.")
    return df.with_columns(pl.col(LINE).cast(pl.Int64))


def _csv_error_line(path: Path, separator: str) -> tuple[int, str] | None:
    """(line, reason) of the first record DuckDB's reader refuses; it names the line, which
    polars' reader does not. None when it cannot tell."""
    import duckdb

    try:
        header = pl.read_csv(path, separator=separator, n_rows=0, infer_schema=False).columns
        duckdb.read_csv(
            str(path),
            sep=separator,
            header=True,
            columns=dict.fromkeys(header, "VARCHAR"),
            auto_detect=False,
            quotechar='"',
        ).fetchall()
    except pl.exceptions.PolarsError:
        return None
    except duckdb.Error as e:
        text = str(e)
        line = re.search(r"CSV Error on Line: (\d+)", text)
        fields = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
        if line and fields:
            return int(line.group(1)), f"expected {fields.group(1)} fields, found {fields.group(2)}"
        if line and "unicode" in text.lower():
            return int(line.group(1)), "not UTF-8 text"
    return None


def _parquet(path: Path, name: str) -> pl.DataFrame:
    try:
        df = pl.read_parquet(path)
    except pl.exceptions.PolarsError as e:
        raise MetaError(f"{name}: cannot be read as Parquet ({_first_line(e)}).") from None
    return df.with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64))


def _jsonl(path: Path, name: str) -> pl.DataFrame:
    try:
        df = pl.read_ndjson(path, infer_schema_length=None)
    except pl.exceptions.PolarsError as e:
        raise MetaError(f"{name}: cannot be read as JSON Lines ({_first_line(e)}).") from None
    data = path.read_bytes()
    if b"\n\n" in data or data.startswith(b"\n") or b"\n\r\n" in data:
        # The reader skips blank lines; number the rows as an editor does.
        lines = [i for i, raw in enumerate(data.splitlines(), start=1) if raw.strip()]
        return df.with_columns(pl.Series(LINE, lines[: df.height], pl.Int64))
    return df.with_row_index(LINE, offset=1).with_columns(pl.col(LINE).cast(pl.Int64))


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0].rstrip(".") if str(error).strip() else type(
        error
    ).__name__
