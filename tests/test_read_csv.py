"""Property tests of the checked CSV reader: good tables round-trip, every bad row is named; the
row checks and size parsing loaders share."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.base import first_bad, require_constant
from ingest.parse import parse_size, parse_sizes, to_str
from ingest.readers import read_csv
from warehouse.errors import BadRow

finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
names = st.text("abcdefghij_", min_size=1, max_size=8)
tables = st.integers(1, 5).flatmap(
    lambda n_cols: st.tuples(
        st.lists(names, min_size=n_cols, max_size=n_cols, unique=True),
        st.lists(st.lists(finite, min_size=n_cols, max_size=n_cols), min_size=1, max_size=30),
    )
)
SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def write(path: Path, header, rows) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue())


@SETTINGS
@given(table=tables)
def test_good_tables_round_trip(tmp_path, table):
    header, rows = table
    path = tmp_path / "t.csv"
    write(path, header, [[repr(v) for v in r] for r in rows])
    df = read_csv(path, data_root=tmp_path, numeric=header, required=header)
    assert df["row"].to_list() == list(range(2, len(rows) + 2))
    for j, column in enumerate(header):
        assert df[column].to_list() == [r[j] for r in rows]


@SETTINGS
@given(table=tables, data=st.data())
def test_a_non_numeric_cell_is_named(tmp_path, table, data):
    header, rows = table
    i = data.draw(st.integers(0, len(rows) - 1))
    j = data.draw(st.integers(0, len(header) - 1))
    junk = data.draw(st.sampled_from(["abc", "1.2.3", "--", "x1", "1,5e"]))
    cells = [[repr(v) for v in r] for r in rows]
    cells[i][j] = junk
    path = tmp_path / "t.csv"
    write(path, header, cells)
    with pytest.raises(BadRow) as e:
        read_csv(path, data_root=tmp_path, numeric=header)
    # csv quoting keeps a comma inside one field, so the line is always i + 2
    assert str(e.value) == f"t.csv, line {i + 2}: {header[j]} is not a number ({junk!r})"


@SETTINGS
@given(table=tables, data=st.data())
def test_a_truncated_file_is_named(tmp_path, table, data):
    header, rows = table
    if len(header) < 2:
        header, rows = header + ["extra"], [r + [0.0] for r in rows]
    path = tmp_path / "t.csv"
    write(path, header, [[repr(v) for v in r] for r in rows])
    text = path.read_text()
    last_field = text.rstrip("\n").rfind(",")
    path.write_text(text[:last_field])  # cut inside the last record
    with pytest.raises(
        BadRow, match=rf"t.csv, line {len(rows) + 1}: expected {len(header)} fields"
    ):
        read_csv(path, data_root=tmp_path, numeric=header)


def test_a_missing_column_is_named(tmp_path):
    path = tmp_path / "t.csv"
    write(path, ["a", "b"], [["1", "2"]])
    with pytest.raises(BadRow, match=r"t.csv, line 1: missing column 'loss'"):
        read_csv(path, data_root=tmp_path, required=["loss"])


def test_an_empty_required_value_is_named(tmp_path):
    path = tmp_path / "t.csv"
    write(path, ["a", "loss"], [["1", "2"], ["3", ""]])
    with pytest.raises(BadRow, match=r"t.csv, line 3: loss is empty"):
        read_csv(path, data_root=tmp_path, numeric=["loss"], required=["loss"])


def test_a_quoted_field_cut_off_is_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text('a,note\n1,"fine"\n2,"cut off by the end of the fi')
    with pytest.raises(BadRow, match=r"t\.csv, line 3: not valid CSV \(unexpected end of data"):
        read_csv(path, data_root=tmp_path, numeric=["a"])


def test_missing_values_are_null(tmp_path):
    path = tmp_path / "t.csv"
    write(path, ["a", "b"], [["1", ""], ["nan", "3"]])
    df = read_csv(path, data_root=tmp_path, numeric=["a", "b"])
    assert df["a"].to_list() == [1.0, None]
    assert df["b"].to_list() == [None, 3.0]


def test_infinity_is_refused(tmp_path):
    path = tmp_path / "t.csv"
    write(path, ["a"], [["inf"]])
    with pytest.raises(BadRow, match="a is infinite"):
        read_csv(path, data_root=tmp_path, numeric=["a"])


@pytest.mark.parametrize(
    "text, value", [("2.8B", 2.8e9), ("70m", 7e7), ("125M", 1.25e8), ("1e9", 1e9), ("1.4T", 1.4e12)]
)
def test_parse_size(text, value):
    assert parse_size(text, "f", 1, "size") == pytest.approx(value)


def test_parse_size_refuses_junk():
    with pytest.raises(BadRow, match="f, line 3: size is not a size"):
        parse_size("big", "f", 3, "size")


def test_integer_columns(tmp_path):
    path = tmp_path / "t.csv"
    write(path, ["step", "name"], [["1500", " "], ["1500.0", "x"], ["", "y"]])
    df = read_csv(path, data_root=tmp_path, integer=["step"])
    assert df.schema["step"] == pl.Int64
    assert df["step"].to_list() == [1500, 1500, None]
    assert df["name"].to_list() == [None, "x", "y"]  # blank text is null too
    write(path, ["step"], [["1"], ["1500.5"]])
    with pytest.raises(BadRow, match=r"t\.csv, line 3: step is not an integer \('1500\.5'\)"):
        read_csv(path, data_root=tmp_path, integer=["step"])


def frame_of(**columns) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    return pl.DataFrame(columns).with_columns(file=pl.lit("f.csv"), row=pl.int_range(2, n + 2))


def test_parse_sizes_names_the_first_bad_line():
    df = frame_of(size=["2.8B", None, "2.8B", "70m"])
    assert parse_sizes(df, "size").to_list() == [2.8e9, None, 2.8e9, 7e7]
    with pytest.raises(BadRow, match="f.csv, line 4: size is not a size"):
        parse_sizes(frame_of(size=["1B", "2B", "big", "big"]), "size")


def test_first_bad_and_require_constant():
    df = frame_of(model=["a", "a", "b", "b"], size=[1, 1, 2, 3])
    first_bad(df, pl.col("size") > 5, "never")
    with pytest.raises(BadRow, match="f.csv, line 4: size 2 is even"):
        first_bad(df, pl.col("size") % 2 == 0, pl.format("size {} is even", "size"))
    require_constant(df.head(2), "size", per="model", reason="sizes differ")
    with pytest.raises(BadRow, match="f.csv, line 4: b: sizes differ"):
        require_constant(df, "size", per="model", reason=pl.format("{}: sizes differ", "model"))


def test_to_str_writes_colpret_names():
    assert [to_str(x) for x in (2.8e9, 1.34e8, 16.8e6, 44, 100, 101)] == [
        "2.80B", "0.13B", "16.80M", "44.0", "100.0", "0.10K"
    ]


@pytest.mark.parametrize("bad, column, shown", [
    (b"\xff", 6, "byte 0xff, which is not UTF-8"),
    (b"\xe9t\xe9", 6, "byte 0xe9, which is not UTF-8"),
    (b"\x00", 6, "a NUL byte (binary data)"),
])
def test_bytes_that_are_not_utf8_text_are_named(tmp_path, bad, column, shown):
    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,2\n3,4.5" + bad + b"6\n")
    with pytest.raises(BadRow) as e:
        read_csv(path, data_root=tmp_path, numeric=["a", "b"])
    assert str(e.value) == f"t.csv, line 3: {shown} at column {column}; the file must be UTF-8 text"


def test_a_byte_order_mark_is_fine(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"\xef\xbb\xbfa,b\n1,2\n")
    assert read_csv(path, data_root=tmp_path, numeric=["a", "b"])["a"].to_list() == [1.0]


@pytest.mark.parametrize("text, header, message", [
    ("", None, "t.csv, line 1: the file is empty"),
    ("\n\n", ("a", "b"), "t.csv, line 1: the file is empty"),
    ("a,b\n", None, "t.csv, line 1: the file has no data rows after its header"),
    ("a,b\r\n\r\n", None, "t.csv, line 2: the file has no data rows after its header"),
])
def test_empty_and_header_only_files_are_refused(tmp_path, text, header, message):
    path = tmp_path / "t.csv"
    path.write_text(text)
    with pytest.raises(BadRow) as e:
        read_csv(path, data_root=tmp_path, header=header)
    assert str(e.value) == message


@pytest.mark.parametrize("text", ["inf", "-1", "-2.8B", "1e999", "nan"])
def test_parse_size_refuses_sizes_that_are_not_finite_counts(text):
    reason = r"f, line 3: size is not a (finite, non-negative count|size)"
    with pytest.raises(BadRow, match=reason):
        parse_size(text, "f", 3, "size")


def test_parse_size_positive():
    assert parse_size(0, "f", 1, "size") == 0
    with pytest.raises(BadRow, match=r"f, line 1: size is not a finite, positive count \(0\)"):
        parse_size(0, "f", 1, "size", positive=True)
