"""Corrupted copies of a source's input files, for the corruption tests.

Each kind of damage is a function ``(data, path, lines, draw) -> bytes`` that returns the
damaged bytes of one input file: ``data`` is the file's bytes, ``lines`` the line numbers of
records the source loads from it (values a parser must read, so that damage there cannot go
unseen) and ``draw`` a hypothesis ``data.draw``. :data:`APPLIES` says which files a kind can
damage (bad encoding bytes need a text file, a header needs a CSV that has one).
"""

from __future__ import annotations

import io
import math
import pickletools
import re
import struct
from collections.abc import Callable
from pathlib import Path

from hypothesis import strategies as st

TEXT = (".csv", ".json", ".jsonl")
BAD_BYTES = (b"\xff", b"\xfe\xff", b"\xe9t\xe9", b"\xc3\x28", b"\x80", b"\xed\xa0\x80")
NON_FINITE = ("inf", "-inf", "Infinity", "1e999", "-1e999", "INF")
# A JSON number with a fraction or an exponent (integers are counts, shots and steps).
JSON_FLOAT = re.compile(rb"(?<![\w.\"])-?\d+(?:\.\d+(?:[eE][-+]?\d+)?|[eE][-+]?\d+)(?![\w.])")


def _csv_fields(line: bytes) -> list[tuple[int, int]]:
    """(start, end) byte spans of the unquoted fields of one CSV line."""
    spans, start, quoted = [], 0, False
    for i, b in enumerate(line + b","):
        if b == ord('"'):
            quoted = not quoted
        elif b == ord(",") and not quoted:
            spans.append((start, i))
            start = i + 1
    return spans


def _is_number(text: bytes) -> bool:
    try:
        value = float(text)
    except ValueError:
        return False
    return math.isfinite(value)


def has_header(data: bytes) -> bool:
    """Whether a CSV's first line is a header (not every field a number)."""
    first = data.split(b"\n", 1)[0].rstrip(b"\r")
    return not all(_is_number(first[a:b].strip(b'"')) for a, b in _csv_fields(first))


def _edit_lines(data: bytes, lines: list[int], draw, edit: Callable[[bytes], bytes]) -> bytes:
    """``data`` with ``edit`` applied to every number field of one drawn line of ``lines``."""
    text = data.split(b"\n")
    line = draw(st.sampled_from(sorted(lines)))
    raw = text[line - 1]
    out, at = [], 0
    for a, b in _csv_fields(raw):
        field = raw[a:b]
        out.append(raw[at:a])
        quoted = len(field) >= 2 and field[:1] == field[-1:] == b'"'
        inner = field[1:-1] if quoted else field
        if _is_number(inner.strip()):
            inner = edit(inner)
        out.append(b'"' + inner + b'"' if quoted else inner)
        at = b
    out.append(raw[at:])
    text[line - 1] = b"".join(out)
    return b"\n".join(text)


def _pickle_arrays(data: bytes, pattern: bytes) -> bytes:
    """A pickle with the payload of every bytes object whose length is a multiple of 8 (the
    raw data of numpy arrays) overwritten by repeats of the 8-byte ``pattern``."""
    out = bytearray(data)
    for op, arg, pos in pickletools.genops(data):
        if op.name in ("SHORT_BINBYTES", "BINBYTES", "BINBYTES8") and arg and len(arg) % 8 == 0:
            start = pos + 1 + {"SHORT_BINBYTES": 1, "BINBYTES": 4, "BINBYTES8": 8}[op.name]
            out[start:start + len(arg)] = pattern * (len(arg) // 8)
    return bytes(out)


def _xlsx_size(data: bytes, draw, value: object) -> bytes:
    """``gpt3_metadata.xlsx`` with the size cell (column B) of one model row set to ``value``."""
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.worksheets[0]
    rows = [r[0].row for r in sheet.iter_rows(min_col=2, max_col=2) if r[0].value is not None]
    sheet.cell(row=draw(st.sampled_from(rows)), column=2, value=value)
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def encoding(data: bytes, path: Path, lines: list[int], draw) -> bytes:
    """A byte sequence that is not UTF-8 inserted anywhere in a text file."""
    at = draw(st.integers(0, len(data)))
    return data[:at] + draw(st.sampled_from(BAD_BYTES)) + data[at:]


def cut_inside_a_record(data: bytes, fraction: float) -> bytes:
    """Truncate ``data`` strictly inside a line of two or more bytes past its second line: the
    cut never falls right after a newline and always removes at least one byte."""
    first = data.find(b"\n") + 1
    starts = [i + 1 for i, b in enumerate(data) if b == 10 and i + 1 < len(data)][1:]
    ends = [data.find(b"\n", start) % (len(data) + 1) for start in starts]  # -1: the end
    lines = [(start, end) for start, end in zip(starts, ends, strict=True) if end - start >= 2]
    if not lines:
        return data[: min(len(data) - 1, max(first, int(len(data) * fraction)))]
    start, end = lines[int(fraction * (len(lines) - 1))]
    return data[: start + max(1, (end - start) // 2)]


def truncation(data: bytes, path: Path, lines: list[int], draw) -> bytes:
    """The file cut short: inside a record that a parser can see is cut (a CSV line loses a
    field separator, a JSON document or line its closing bracket), or anywhere in a binary
    file."""
    if path.suffix not in TEXT:
        return data[: draw(st.integers(1, len(data) - 1))]
    if path.suffix == ".csv":
        text = data.split(b"\n")
        line = draw(st.sampled_from(sorted(n for n in lines if text[n - 1].rfind(b",") > 0)))
        raw = text[line - 1]
        cut = draw(st.integers(1, raw.rindex(b",")))  # 0 would leave a whole, shorter file
        return b"\n".join(text[: line - 1] + [raw[:cut]])
    return cut_inside_a_record(data, draw(st.floats(0, 1)))


def empty(data: bytes, path: Path, lines: list[int], draw) -> bytes:
    """No bytes at all."""
    return b""


def header_only(data: bytes, path: Path, lines: list[int], draw) -> bytes:
    """A CSV's first line (its header) and nothing else."""
    return data.split(b"\n", 1)[0] + draw(st.sampled_from([b"", b"\n", b"\r\n", b"\n\n"]))


def non_finite(data: bytes, path: Path, lines: list[int], draw) -> bytes:
    """Every number of a loaded record (a CSV or JSON-lines line, a JSON file's every fraction,
    a pickle's every array, a spreadsheet's size cell) made infinite."""
    token = draw(st.sampled_from(NON_FINITE)).encode()
    if path.suffix == ".pkl":
        return _pickle_arrays(data, struct.pack("<d", draw(st.sampled_from([math.inf, -math.inf,
                                                                            math.nan]))))
    if path.suffix == ".xlsx":
        return _xlsx_size(data, draw, token.decode())
    if path.suffix == ".csv":
        return _edit_lines(data, lines, draw, lambda field: token)
    if path.suffix == ".jsonl":
        text = data.split(b"\n")
        line = draw(st.sampled_from(sorted(lines)))
        text[line - 1] = JSON_FLOAT.sub(b"1e999", text[line - 1])
        return b"\n".join(text)
    return JSON_FLOAT.sub(b"1e999", data)


def _negate(field: bytes) -> bytes:
    stripped = field.strip()
    if float(stripped) == 0:
        return b"-1"
    return stripped[1:] if stripped.startswith(b"-") else b"-" + stripped


def negative(data: bytes, path: Path, lines: list[int], draw) -> bytes:
    """Every number of a loaded record negated (zero becomes -1), as ``non_finite`` picks it."""
    if path.suffix == ".pkl":
        return _pickle_arrays(data, struct.pack("<d", -draw(st.floats(0.5, 1e6))))
    if path.suffix == ".xlsx":
        return _xlsx_size(data, draw, draw(st.sampled_from(["-1.3B", -1.3e9, "-125M", 0])))
    if path.suffix == ".csv":
        return _edit_lines(data, lines, draw, _negate)

    def sub(text: bytes) -> bytes:
        return JSON_FLOAT.sub(lambda m: _negate(m.group()), text)

    if path.suffix == ".jsonl":
        text = data.split(b"\n")
        line = draw(st.sampled_from(sorted(lines)))
        text[line - 1] = sub(text[line - 1])
        return b"\n".join(text)
    return sub(data)


def garbage(data: bytes, path: Path, lines: list[int], draw) -> bytes:
    """Binary garbage in place of the file (a NUL and a byte that is never UTF-8 first)."""
    return b"\x00\xff" + draw(st.binary(min_size=0, max_size=256))


DAMAGE: dict[str, Callable] = {
    "encoding": encoding,
    "truncation": truncation,
    "empty": empty,
    "header-only": header_only,
    "non-finite": non_finite,
    "negative": negative,
    "garbage": garbage,
}


def applies(kind: str, path: Path, data: bytes, lines: list[int]) -> bool:
    """Whether damage ``kind`` can be done to this file in a way a parser must see."""
    if kind == "encoding":
        return path.suffix in TEXT
    if kind == "header-only":
        return path.suffix == ".csv" and has_header(data)
    if kind == "truncation":
        if path.suffix == ".csv":
            text = data.split(b"\n")
            return any(text[n - 1].rfind(b",") > 0 for n in lines)
        return len(data) > 1
    if kind in ("non-finite", "negative"):
        if path.suffix in (".csv", ".jsonl"):
            return bool(lines)
        return path.suffix in (".json", ".pkl", ".xlsx")
    return True
