"""The one exception family users see; the CLI turns each into ``Error: <sentence>``."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class MetaError(Exception):
    """A user-facing error: bad input, unknown name, unusable warehouse."""


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` Did you mean 'OPT'?`` for the known name closest to ``name``, ignoring case; ''
    when none is close.

    Examples
    --------
    >>> did_you_mean("opt", {"OPT", "pythia"}), did_you_mean("pythia-dedup", {"pythia-deduped"})
    (" Did you mean 'OPT'?", " Did you mean 'pythia-deduped'?")
    >>> did_you_mean("nope", {"OPT", "pythia"})
    ''
    """
    lower = {k.lower(): k for k in sorted(known)}
    close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.8)
    return f" Did you mean '{lower[close[0]]}'?" if close else ""


class UnknownName(MetaError):
    """A name that is not in a registry (source, estimator, study, ...)."""

    def __init__(self, what: str, name: str, known: list[str] | tuple[str, ...]):
        self.what, self.name, self.known = what, name, tuple(known)
        plural = (what[:-1] + "ies" if what.endswith("y") else what + "es"
                  if what.endswith("s") else what + "s")
        super().__init__(f"Unknown {what} '{name}'.{did_you_mean(name, known)} Known "
                         f"{plural}: {', '.join(sorted(known))}.")


class UnknownFamily(MetaError):
    """A family that is not in the warehouse."""


class BadRow(MetaError):
    """A value in an input file that cannot be loaded; names the file and the line."""

    def __init__(self, path: str | Path, row: int | None, reason: str):
        self.path, self.row, self.reason = str(path), row, reason
        where = self.path if row is None else f"{self.path}, line {row}"
        super().__init__(f"{where}: {reason}")


class MissingInput(MetaError):
    """An input file or folder that a loader needs is not there."""


class CorruptInput(MetaError):
    """An input file whose bytes differ from the manifest that came with it."""


class WarehouseLocked(MetaError):
    """The DuckDB file is held by another process."""


class InvalidParameter(MetaError, ValueError):
    """An estimator's or a configuration's argument outside its allowed values
    (:func:`warehouse.validation.validate`)."""


class NotFitted(MetaError, AttributeError):
    """An estimator used before ``fit`` (:func:`warehouse.validation.check_fitted`)."""
