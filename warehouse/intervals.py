"""Writing bootstrap intervals of laws (``law_bootstraps``, ``law_intervals``): a chunk's in
one transaction, each (law, resamples, seed) once.

The analyses compute intervals; this is the only module that writes or deletes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl

from warehouse.sql import query, transaction

INTERVAL_TABLES = ("law_bootstraps", "law_intervals")


def fitted(con: duckdb.DuckDBPyConnection, statuses: Sequence[str]) -> pl.DataFrame:
    """``law_id, seconds`` of the laws whose status is one of ``statuses``."""
    return query(con, "SELECT law_id, seconds FROM laws WHERE list_contains(?, status)",
                 [list(statuses)])


def bootstrapped(con: duckdb.DuckDBPyConnection, n_resamples: int, seed: int) -> set[str]:
    """Ids of the laws that have a bootstrap of ``n_resamples`` with ``seed``."""
    rows = con.execute("SELECT law_id FROM law_bootstraps WHERE n_resamples = ? AND seed = ?",
                       [n_resamples, seed]).fetchall()
    return {r[0] for r in rows}


def write_intervals(con: duckdb.DuckDBPyConnection, bootstraps: pl.DataFrame,
                    intervals: pl.DataFrame) -> None:
    """Insert one chunk's bootstraps and their intervals in one transaction (a law already
    there with the same resamples and seed is a primary-key error: nothing is written)."""
    with transaction(con):
        for table, df in zip(INTERVAL_TABLES, (bootstraps, intervals), strict=True):
            con.register("_rows", df.to_arrow())
            columns = ", ".join(df.columns)
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _rows")
            con.unregister("_rows")


def delete_orphan_intervals(con: duckdb.DuckDBPyConnection) -> int:
    """Delete the intervals of laws no longer in ``laws`` (refitted on new data, or no
    longer planned) in one transaction; returns how many bootstraps."""
    orphans = "SELECT law_id FROM law_bootstraps WHERE law_id NOT IN (SELECT law_id FROM laws)"
    n = con.execute(f"SELECT count(*) FROM ({orphans})").fetchone()[0]
    if n:
        with transaction(con):
            con.execute(f"DELETE FROM law_intervals WHERE law_id IN ({orphans})")
            con.execute(f"DELETE FROM law_bootstraps WHERE law_id IN ({orphans})")
    return n
