"""Looking families up by name."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb

from warehouse.errors import UnknownFamily, did_you_mean


def require_families(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> None:
    """Raise :class:`UnknownFamily` for the first of ``names`` the warehouse does not hold,
    naming the family it most likely means (names are case-sensitive: ``OPT``, ``pythia``)."""
    known = {r[0] for r in con.execute("SELECT family FROM families").fetchall()}
    for name in names:
        if name not in known:
            raise UnknownFamily(f"Unknown family '{name}'.{did_you_mean(name, known)} "
                                "'meta status --families' lists them.")

