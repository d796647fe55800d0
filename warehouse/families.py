"""Looking families up by name."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import duckdb

from warehouse.errors import UnknownFamily


def require_families(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> None:
    """Raise :class:`UnknownFamily` for the first of ``names`` the warehouse does not hold,
    naming the family it most likely means (names are case-sensitive: ``OPT``, ``pythia``)."""
    known = {r[0] for r in con.execute("SELECT family FROM families").fetchall()}
    for name in names:
        if name not in known:
            raise UnknownFamily(f"Unknown family '{name}'.{_did_you_mean(name, known)} "
                                "'meta status --families' lists them.")


def _did_you_mean(name: str, known: set[str]) -> str:
    """`` Did you mean 'OPT'?`` for the known family closest to ``name``, ignoring case;
    '' when none is close.

    Examples
    --------
    >>> _did_you_mean("opt", {"OPT", "pythia"}), _did_you_mean("pythia-dedup", {"pythia-deduped"})
    (" Did you mean 'OPT'?", " Did you mean 'pythia-deduped'?")
    >>> _did_you_mean("nope", {"OPT", "pythia"})
    ''
    """
    lower = {k.lower(): k for k in sorted(known)}
    close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.8)
    return f" Did you mean '{lower[close[0]]}'?" if close else ""
