"""`meta sql` reads without --write, the connection stays offline and locked, and `--where` is
one condition; what is allowed still works."""

from __future__ import annotations

import json

import duckdb
import pytest
from click.testing import CliRunner

import warehouse
from meta.cli import cli
from warehouse.guard import check_statements, where_condition
from warehouse.status import digest


@pytest.fixture(scope="module")
def wh(tmp_path_factory, data_root):
    """A warehouse file holding the chinchilla source."""
    path = tmp_path_factory.mktemp("guard") / "w.duckdb"
    result = CliRunner().invoke(
        cli, ["ingest", "chinchilla", "--data-root", str(data_root), "--warehouse", str(path)]
    )
    assert result.exit_code == 0, result.output
    return path


def sql(wh, query, *options):
    return CliRunner().invoke(cli, ["sql", query, "--warehouse", str(wh), "--json", *options])


@pytest.mark.parametrize("query", [
    "SELECT count(*) AS n FROM perf",
    "FROM families",
    "DESCRIBE models",
    "SHOW TABLES",
    "SUMMARIZE checkpoints",
    "PRAGMA table_info('models')",
    "PRAGMA version",
    "EXPLAIN SELECT * FROM perf",
    "EXPLAIN ANALYZE SELECT count(*) FROM perf",
    "WITH t AS (SELECT 1 AS x) SELECT * FROM t",
    "PIVOT (SELECT 'a' AS k, 1 AS v) ON k USING sum(v)",
    "BEGIN; SELECT 1 AS x; COMMIT",
    "/* comment */ SELECT 1 AS x; -- trailing",
])
def test_reading_statements_run_read_only(wh, query):
    result = sql(wh, query)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)


def test_local_files_can_be_read(wh, data_root):
    path = data_root / "hitchhiker/raw_data/chinchila_extracted.csv"
    result = sql(wh, f"SELECT count(*) AS n FROM read_csv('{path}')")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": 245}]


def test_write_allows_files_and_session_changes(wh, tmp_path):
    before = _digest(wh)
    out = tmp_path / "one.csv"
    query = f"CREATE TEMP TABLE t AS SELECT 1 AS x; COPY t TO '{out}'; SELECT * FROM t"
    result = sql(wh, query, "--write")
    assert result.exit_code == 0, result.output
    assert out.read_text() == "x\n1\n"
    assert _digest(wh) == before


def _digest(path):
    con = warehouse.connect(path, read_only=True)
    try:
        return digest(con)
    finally:
        con.close()


def test_connection_is_offline_and_locked(wh):
    con = warehouse.connect(wh, read_only=True)
    try:
        settings = dict(con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN ('lock_configuration', "
            "'autoinstall_known_extensions', 'autoload_known_extensions', "
            "'allow_community_extensions')").fetchall())
        assert settings == {"lock_configuration": "true", "autoinstall_known_extensions": "false",
                            "autoload_known_extensions": "false",
                            "allow_community_extensions": "false"}
        for statement in ("SET autoload_known_extensions = true", "SET lock_configuration = false",
                          "RESET autoinstall_known_extensions", "PRAGMA enable_profiling"):
            with pytest.raises(duckdb.InvalidInputException, match="configuration has been locked"):
                con.execute(statement)
        with pytest.raises(duckdb.Error, match="requires the extension httpfs to be loaded"):
            con.execute("SELECT * FROM read_csv('https://example.com/x.csv')")
    finally:
        con.close()


def test_two_connections_to_one_file_in_one_process(tmp_path):
    path = tmp_path / "w.duckdb"
    first = warehouse.connect(path)
    second = warehouse.connect(path)
    assert second.execute("SELECT count(*) FROM sources").fetchone() == (0,)
    first.close()
    second.close()


def test_check_statements_returns_them():
    statements = check_statements("SELECT 1; DESCRIBE SELECT 2")
    assert [s.type for s in statements] == [duckdb.StatementType.SELECT] * 2
    assert len(check_statements("COPY (SELECT 1) TO 'x.csv'", write=True)) == 1


def test_where_condition_is_parenthesised(wh):
    con = warehouse.connect(wh, read_only=True)
    try:
        checked = where_condition(con, "tokens > 1e10 -- a comment")
        assert checked == "(tokens > 1e10 -- a comment\n)"
    finally:
        con.close()


def test_fit_with_a_where_condition(wh):
    result = CliRunner().invoke(cli, ["fit", "--family", "chinchilla", "--where",
                                      "tokens > 1e9 AND num_params > 1e8", "--grid", "small",
                                      "--json", "--warehouse", str(wh)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "ok"
