"""Helpers on an open connection: one transaction, a SELECT to polars, the first row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """Run the block in one transaction: commit at the end, roll back on any exception."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """Run a SELECT with bound parameters and return its rows as a polars frame.

    It runs on a cursor of ``con``: DuckDB 2 refuses ``con.sql`` while an earlier
    ``con.execute`` result is not fully fetched, which a caller's ``fetchone()`` leaves behind.
    """
    cursor = con.cursor()
    try:
        return cursor.sql(sql, params=params).pl()
    finally:
        cursor.close()


def one(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> tuple | None:
    """The first row of a query, or None; the result is always fully consumed (DuckDB 2
    blocks other work on a connection whose last result is half read)."""
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None
