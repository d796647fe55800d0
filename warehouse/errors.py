"""The one exception family users see; the CLI turns each into ``Error: <sentence>``."""

from __future__ import annotations

from pathlib import Path


class MetaError(Exception):
    """A user-facing error: bad input, unknown name, unusable warehouse."""


class UnknownName(MetaError):
    """A name that is not in a registry (source, estimator, study, ...)."""

    def __init__(self, what: str, name: str, known: list[str] | tuple[str, ...]):
        self.what, self.name, self.known = what, name, tuple(known)
        plural = (what[:-1] + "ies" if what.endswith("y") else what + "es"
                  if what.endswith("s") else what + "s")
        super().__init__(f"Unknown {what} '{name}'. Known {plural}: {', '.join(sorted(known))}.")


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
