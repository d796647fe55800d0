"""The CLI contract, driven through CliRunner on real files."""

from __future__ import annotations

import json

import polars as pl
import pytest
from click.testing import CliRunner

from meta.cli import cli
from meta.options import progress_printer
from warehouse.migrate import migration_files


@pytest.fixture
def loaded(tmp_path, data_root):
    """A warehouse file holding the chinchilla source."""
    db = tmp_path / "w.duckdb"
    result = CliRunner().invoke(
        cli, ["ingest", "chinchilla", "--data-root", str(data_root), "--warehouse", str(db)]
    )
    assert result.exit_code == 0, result.output
    return db


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_ingest_reports_progress_on_stderr(loaded, data_root):
    result = run("ingest", "chinchilla", "--data-root", str(data_root), "--warehouse", str(loaded))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "chinchilla: unchanged" in result.stderr


def test_status_json_is_one_document(loaded):
    result = run("status", "--json", "--warehouse", str(loaded))
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert doc["migrations"][:3] == ["0001_initial", "0002_laws", "0003_law_identity"]
    assert doc["migrations"] == [name for name, _ in migration_files()]
    assert doc["totals"]["models"] == 142
    assert doc["sources"][0]["source"] == "chinchilla"
    assert doc["families"][0]["family"] == "chinchilla"


def test_status_table(loaded):
    result = run("status", "--families", "--warehouse", str(loaded))
    assert result.exit_code == 0
    assert "chinchilla" in result.stdout and "scaled_families" in result.stdout


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_sql_formats(loaded, fmt):
    query = "SELECT family, count(*) AS n FROM perf GROUP BY family"
    result = run("sql", query, "--format", fmt, "--warehouse", str(loaded))
    assert result.exit_code == 0
    if fmt == "json":
        assert json.loads(result.stdout) == [{"family": "chinchilla", "n": 245}]
    elif fmt == "csv":
        assert result.stdout == "family,n\nchinchilla,245\n"
    else:
        assert result.stdout.splitlines()[2].split() == ["chinchilla", "245"]


def test_sql_parquet_needs_out(loaded, tmp_path):
    out = tmp_path / "perf.parquet"
    result = run(
        "sql",
        "SELECT * FROM perf",
        "--format",
        "parquet",
        "--out",
        str(out),
        "--warehouse",
        str(loaded),
    )
    assert result.exit_code == 0
    assert pl.read_parquet(out).height == 245
    result = run("sql", "SELECT 1", "--format", "parquet", "--warehouse", str(loaded))
    assert result.exit_code == 1
    assert result.stderr == "Error: --format parquet needs --out FILE.\n"


def test_sql_is_read_only_unless_asked(loaded):
    result = run("sql", "DELETE FROM metrics", "--warehouse", str(loaded))
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: The query failed:")
    assert "read-only" in result.stderr
    assert (
        run(
            "sql", "SELECT count(*) AS n FROM metrics", "--json", "--warehouse", str(loaded)
        ).stdout.count("245")
        == 1
    )
    result = run(
        "sql", "CREATE TABLE scratch AS SELECT 1 AS x", "--write", "--warehouse", str(loaded)
    )
    assert result.exit_code == 0


def test_bad_sql_is_one_line(loaded):
    result = run("sql", "SELECT * FROM nope", "--warehouse", str(loaded))
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "Table with name nope does not exist" in result.stderr


def test_unknown_source(tmp_path, data_root):
    result = run(
        "ingest", "pythai", "--data-root", str(data_root), "--warehouse", str(tmp_path / "w.duckdb")
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: Unknown source 'pythai'. Did you mean 'pythia'? "
                                    "Known sources: ")
    assert not (tmp_path / "w.duckdb").exists()


def test_missing_data_root(tmp_path):
    result = run(
        "ingest",
        "chinchilla",
        "--data-root",
        str(tmp_path / "nowhere"),
        "--warehouse",
        str(tmp_path / "w.duckdb"),
    )
    assert result.exit_code == 1
    assert "nowhere not found" in result.stderr


def test_missing_warehouse(tmp_path):
    result = run("status", "--warehouse", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 1
    assert result.stderr == (
        f"Error: Warehouse {tmp_path / 'none.duckdb'} does not exist. Run 'meta ingest' first, "
        "or name an existing warehouse with --warehouse or META_WAREHOUSE.\n"
    )


def test_corrupted_source_is_named_and_loses_nothing(loaded, tmp_path, data_root):
    before = run("status", "--json", "--warehouse", str(loaded)).stdout
    root = tmp_path / "data"
    path = root / "hitchhiker/raw_data/chinchila_extracted.csv"
    path.parent.mkdir(parents=True)
    lines = (data_root / "hitchhiker/raw_data/chinchila_extracted.csv").read_text().splitlines()
    path.write_text("\n".join(lines[:50]) + "\n" + lines[50][:20] + "\n")  # truncated mid-record
    result = run("ingest", "chinchilla", "--data-root", str(root), "--warehouse", str(loaded))
    assert result.exit_code == 1
    assert result.stderr.endswith(
        "Error: hitchhiker/raw_data/chinchila_extracted.csv, line 51: "
        "expected 7 fields, found 2 (truncated?)\n"
    )
    assert (
        json.loads(run("status", "--json", "--warehouse", str(loaded)).stdout)["totals"]
        == (json.loads(before)["totals"])
    )


def test_progress_extrapolates_the_share_of_work_done(capsys, monkeypatch):
    clock = iter([0.0, 10.0, 20.0])
    monkeypatch.setattr("meta.options.time.perf_counter", lambda: next(clock))
    show = progress_printer("laws")
    show(1, 4, "first", work=0.5)  # a quarter of the laws, half of the work: ETA = elapsed
    show(4, 4, "last")
    lines = capsys.readouterr().err.splitlines()
    assert lines == ["  laws 1/4, 50% of the work, first, 10 s elapsed, ETA 10 s",
                     "  laws 4/4 (100%), last, 20 s elapsed, ETA 0 s"]
