"""The only place that opens a DuckDB connection."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.errors import MetaError, WarehouseLocked
from warehouse.migrate import migrate


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, creating and migrating it unless ``read_only``.

    Parameters
    ----------
    path : str or Path
        The DuckDB file.
    read_only : bool, default=False
        Open without taking the write lock; the file must already exist.

    Returns
    -------
    duckdb.DuckDBPyConnection
    """
    path = Path(path)
    if read_only and not path.exists():
        raise MetaError(f"Warehouse {path} does not exist. Run 'meta ingest' first.")
    if not read_only and not path.parent.exists():
        raise MetaError(f"Cannot create warehouse {path}: folder {path.parent} does not exist.")
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.IOException as e:
        if "lock" in str(e).lower():
            raise WarehouseLocked(
                f"{path} is open in another process; close it or use --warehouse for another file."
            ) from e
        raise MetaError(f"Cannot open warehouse {path}: {e}") from e
    con.execute("SET enable_progress_bar = false")  # it would draw on the user's terminal
    if not read_only:
        migrate(con)
    return con
