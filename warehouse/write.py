"""Replacing one source's rows, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb
import polars as pl

from warehouse.sql import one, transaction

# Children first, so a reader never sees a row whose parent is gone.
SOURCE_TABLES = ("task_chance", "published", "readings", "hyperparameters", "metrics",
                 "checkpoints", "models", "families")


def delete_source(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Delete every row that ``source`` wrote (call inside a transaction)."""
    for table in SOURCE_TABLES:
        con.execute(f"DELETE FROM {table} WHERE source = ?", [source])
    con.execute("DELETE FROM sources WHERE source = ?", [source])


def insert_tables(con: duckdb.DuckDBPyConnection, tables: dict[str, pl.DataFrame]) -> None:
    """Insert frames whose columns are named as the tables' (call inside a transaction); a
    table absent from ``tables`` (a public source's hyperparameters, a source that publishes
    no results) gets no rows."""
    for table in reversed(SOURCE_TABLES):
        if table not in tables:
            continue
        df = tables[table]
        columns = ", ".join(df.columns)
        # Not unregistered on failure: that would fail in the aborted transaction and hide the
        # real error; the next register() replaces it.
        con.register("_incoming", df.to_arrow())
        con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _incoming")
        con.unregister("_incoming")


def write_source(
    con: duckdb.DuckDBPyConnection,
    *,
    info: dict[str, str],
    tables: dict[str, pl.DataFrame],
    content_hash: str,
    n_files: int,
    seconds: float,
) -> None:
    """Replace the rows of source ``info['name']`` with ``tables`` in one transaction.

    A failure anywhere (a constraint, an interrupt) leaves the warehouse exactly as it was.
    """
    source = info["name"]
    with transaction(con):
        delete_source(con, source)
        insert_tables(con, tables)
        con.execute(
            "INSERT INTO sources VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                source,
                info["citation"],
                info["upstream"],
                info["license"],
                datetime.now(UTC).replace(tzinfo=None),
                content_hash,
                n_files,
                seconds,
            ],
        )


def stored_hash(con: duckdb.DuckDBPyConnection, source: str) -> str | None:
    """The content hash recorded for ``source``, or None when it was never loaded."""
    row = one(con, "SELECT content_hash FROM sources WHERE source = ?", [source])
    return row[0] if row else None
