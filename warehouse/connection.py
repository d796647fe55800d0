"""The only place that opens a DuckDB connection."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.errors import MetaError, WarehouseLocked
from warehouse.migrate import migrate, pending

# Set when the database is opened, then locked: no SQL can turn extension downloads or
# auto-loading back on, so no query reaches the network (there is no httpfs; a URL in
# read_csv fails at once). The built-in extensions (core_functions, icu, json, parquet) stay.
# Every connection passes the same dict: DuckDB refuses a second connection to an open file
# whose configuration differs.
CONFIG = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allowed_configs": ["enable_progress_bar"],  # a session setting, set below
    "lock_configuration": True,
}


def connect(path: str | Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse file, creating and migrating it unless ``read_only``.

    The connection never installs or loads an extension and its configuration is locked
    (:data:`CONFIG`): ``SET`` and ``PRAGMA`` cannot change a setting through it.

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
        raise MetaError(
            f"Warehouse {path} does not exist. Run 'meta ingest' first, or name an existing "
            "warehouse with --warehouse or META_WAREHOUSE."
        )
    if not read_only and not path.parent.exists():
        raise MetaError(f"Cannot create warehouse {path}: folder {path.parent} does not exist.")
    try:
        con = duckdb.connect(str(path), read_only=read_only, config=CONFIG)
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
    missing = pending(con)
    if missing:
        con.close()
        raise MetaError(f"Warehouse {path} needs schema migrations {', '.join(missing)}; open "
                        "it once for writing (meta ingest or meta fit-all) to apply them.")
    return con
