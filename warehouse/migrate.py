"""Numbered schema files applied once each, in order, each with its record in one transaction.

A migration that must also move data has a Python step (:data:`STEPS`), run after its SQL in
the same transaction.
"""

from __future__ import annotations

from importlib import resources

import duckdb

from warehouse.laws import rekey_legacy
from warehouse.sql import transaction

_PACKAGE = resources.files("warehouse")
# Data steps of migrations, by migration name.
STEPS = {"0003_law_identity": rekey_legacy}


def migration_files() -> list[tuple[str, str]]:
    """All ``schema/NNNN_*.sql`` files as (name, sql), in order."""
    files = sorted(f for f in (_PACKAGE / "schema").iterdir() if f.name.endswith(".sql"))
    return [(f.name.removesuffix(".sql"), f.read_text()) for f in files]


def applied(con: duckdb.DuckDBPyConnection) -> list[tuple[str, object]]:
    """The (name, applied_at) of every applied migration, oldest first."""
    return con.execute("SELECT name, applied_at FROM _meta_migrations ORDER BY name").fetchall()


def pending(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The migrations not yet applied to the warehouse (all of them for an empty file)."""
    known = con.execute("SELECT count(*) FROM information_schema.tables "
                        "WHERE table_name = '_meta_migrations'").fetchone()[0]
    done = {name for name, _ in applied(con)} if known else set()
    return [name for name, _ in migration_files() if name not in done]


def migrate(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Apply pending migrations, then re-create the views. Returns the names applied now."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS _meta_migrations "
        "(name VARCHAR PRIMARY KEY, applied_at TIMESTAMP)"
    )
    done = {name for name, _ in applied(con)}
    new = []
    for name, sql in migration_files():
        if name in done:
            continue
        with transaction(con):
            con.execute(sql)
            if name in STEPS:
                STEPS[name](con)
            con.execute("INSERT INTO _meta_migrations VALUES (?, now())", [name])
        new.append(name)
    con.execute((_PACKAGE / "views.sql").read_text())
    return new
