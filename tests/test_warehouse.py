"""The warehouse: migrations, atomic source writes, idempotent loads, the file lock."""

from __future__ import annotations

import subprocess
import sys
import time

import polars as pl
import pytest

import warehouse
from ingest.run import ingest
from warehouse import write
from warehouse.errors import CorruptInput, MetaError, WarehouseLocked
from warehouse.migrate import applied, migrate
from warehouse.status import digest


def test_migrations_recorded_once(tmp_path):
    path = tmp_path / "w.duckdb"
    con = warehouse.connect(path)
    names = [n for n, _ in applied(con)]
    assert names[0] == "0001_initial"
    assert migrate(con) == []  # nothing pending the second time
    con.close()
    con = warehouse.connect(path)
    assert [n for n, _ in applied(con)] == names
    assert con.execute("SELECT count(*) FROM perf").fetchone() == (0,)


def test_second_load_changes_nothing(db, data_root):
    first = ingest(db, ["chinchilla"], data_root)
    before = digest(db)
    second = ingest(db, ["chinchilla"], data_root)
    assert [r.status for r in first + second] == ["loaded", "unchanged"]
    assert digest(db) == before
    ingest(db, ["chinchilla"], data_root, force=True)  # a real reload gives the same contents
    assert digest(db) == before
    assert before["checkpoints"][0] == 245


def test_interrupted_write_leaves_warehouse_as_before(db, data_root, monkeypatch):
    ingest(db, ["chinchilla"], data_root)
    before = digest(db)
    real_insert = write.insert_tables

    def insert_then_interrupt(con, tables):
        half = {k: (v.head(v.height // 2) if k == "metrics" else v) for k, v in tables.items()}
        real_insert(con, half)
        raise KeyboardInterrupt  # as if the user pressed Ctrl-C halfway through the write

    monkeypatch.setattr(write, "insert_tables", insert_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        ingest(db, ["chinchilla"], data_root, force=True)
    assert digest(db) == before


def test_loader_failing_on_a_row_loses_nothing(db, data_root, tmp_path, monkeypatch):
    """A loader that raises on row N: the error names file and line; tables are unchanged."""
    ingest(db, ["chinchilla"], data_root)
    before = digest(db)
    src = data_root / "hitchhiker/raw_data/chinchila_extracted.csv"
    bad_root = tmp_path / "data"
    target = bad_root / "hitchhiker/raw_data/chinchila_extracted.csv"
    target.parent.mkdir(parents=True)
    lines = src.read_text().splitlines(keepends=True)
    fields = lines[100].split(",")
    fields[-1] = "not-a-loss\n"
    lines[100] = ",".join(fields)
    target.write_text("".join(lines))
    with pytest.raises(MetaError, match=r"chinchila_extracted.csv, line 101: loss is not a number"):
        ingest(db, ["chinchilla"], bad_root)
    assert digest(db) == before


def test_write_violating_a_constraint_rolls_back(db, data_root):
    ingest(db, ["chinchilla"], data_root)
    before = digest(db)
    from tests.conftest import load_tables

    tables = dict(load_tables("chinchilla"))
    tables["models"] = tables["models"].with_columns(num_params=pl.lit(-1, pl.Int64))
    info = {"name": "chinchilla", "citation": "c", "upstream": "u", "license": "l"}
    with pytest.raises(Exception, match="CHECK constraint"):
        warehouse.write_source(
            db, info=info, tables=tables, content_hash="x", n_files=1, seconds=0.0
        )
    assert digest(db) == before


def test_locked_warehouse_is_one_clear_error(tmp_path):
    path = tmp_path / "w.duckdb"
    warehouse.connect(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb,time; c=duckdb.connect({str(path)!r}); "
            "print('ready', flush=True); time.sleep(30)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseLocked, match="open in another process"):
            warehouse.connect(path)
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    warehouse.connect(path).close()


def test_read_only_needs_an_existing_file(tmp_path):
    with pytest.raises(MetaError, match="does not exist. Run 'meta ingest' first"):
        warehouse.connect(tmp_path / "absent.duckdb", read_only=True)


def test_input_differing_from_its_manifest_is_refused(db, data_root, tmp_path):
    """A change no parser can see (a digit of the last value) is caught by MANIFEST.tsv."""
    root = tmp_path / "data"
    (root / "hitchhiker/raw_data").mkdir(parents=True)
    (root / "hitchhiker/MANIFEST.tsv").write_bytes(
        (data_root / "hitchhiker/MANIFEST.tsv").read_bytes()
    )
    text = (data_root / "hitchhiker/raw_data/chinchila_extracted.csv").read_text()
    (root / "hitchhiker/raw_data/chinchila_extracted.csv").write_text(text.rstrip("\n")[:-3] + "\n")
    with pytest.raises(
        CorruptInput, match=r"chinchila_extracted.csv differs from hitchhiker/MANIFEST"
    ):
        ingest(db, ["chinchilla"], root)
    assert digest(db)["models"] == (0, "0")
    ingest(db, ["chinchilla"], root, verify=False)
    assert digest(db)["models"][0] == 142
