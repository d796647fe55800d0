"""The DuckDB warehouse: connection, schema migrations, transactional writes, views.

The bottom of the house: ``warehouse.errors`` (the exceptions users see) and
``warehouse.jsonsafe`` (JSON other tools can read) are the shared vocabulary every other
package imports; nothing here imports ``ingest``, ``analyses`` or ``meta``. The names below
are loaded on first use, so importing the vocabulary does not load DuckDB (migrations:
``warehouse.migrate``, a module).
"""

from __future__ import annotations

from importlib import import_module

TABLES = ("sources", "families", "models", "checkpoints", "metrics", "hyperparameters",
          "published", "task_chance")

_LAZY = {
    "connect": "warehouse.connection",
    "one": "warehouse.sql",
    "query": "warehouse.sql",
    "transaction": "warehouse.sql",
    "delete_source": "warehouse.write",
    "stored_hash": "warehouse.write",
    "write_source": "warehouse.write",
}

__all__ = ["TABLES", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'warehouse' has no attribute {name!r}")
