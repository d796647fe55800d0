"""How to read a user's run files: the options of ``meta ingest runs``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunsOptions:
    """How to read a user's run files (the options of ``meta ingest runs``).

    Attributes
    ----------
    family : str
        The family the runs form; the source is ``runs:<family>``.
    maps : tuple of str, default=()
        ``FIELD=COLUMN`` pairs (``--map``).
    mapping : Path or None, default=None
        A TOML mapping file (``--mapping``).
    run_by : tuple of str, default=()
        Columns whose values together name a run (``--run-by``).
    target : str or None, default=None
        The run the studies should predict (``--target``); None: their default rule.
    in_aggregate : bool, default=False
        Count the family in the paper's macro averages (``--in-aggregate``).
    """

    family: str
    maps: tuple[str, ...] = ()
    mapping: Path | None = None
    run_by: tuple[str, ...] = ()
    target: str | None = None
    in_aggregate: bool = False

    @property
    def source(self) -> str:
        """The source name: ``runs:<family>``."""
        return f"runs:{self.family}"
