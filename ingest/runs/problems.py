"""Collecting what is wrong with a user's run files, so that one error lists every problem.

Each problem names the file, where in it (``line 13``, ``row 12`` or ``header``) and the column.
Loading stops before anything is written when there is at least one; the error lists the first
:data:`MAX_LISTED` in file order and counts the rest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from warehouse.errors import MetaError

MAX_LISTED = 20

# Columns of a frame of rows that ``Problems.add_rows`` reads: file index and line.
FILE, LINE = "@fi", "@line"


@dataclass(frozen=True)
class Problem:
    """One problem: ``file, where, column 'c': reason``.

    Attributes
    ----------
    file : str
        The file (as the user named it) or the mapping file.
    where : str or None
        'line 13' (text formats, header = line 1), 'row 12' (Parquet), 'header', or a place in
        a mapping file such as '[params]'.
    column : str or None
        The column at fault, as the file spells it.
    reason : str
        What is wrong, one clause, no final period.
    order : tuple
        Sort key: (file index, line); file-level problems first.
    """

    file: str
    where: str | None
    column: str | None
    reason: str
    order: tuple = (0, 0)

    def __str__(self) -> str:
        parts = [self.file]
        if self.where:
            parts.append(self.where)
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return f"{', '.join(parts)}: {self.reason}"


class Problems:
    """The problems found so far in a set of input files.

    Parameters
    ----------
    files : list of (str, str)
        (name, unit) of each input file, by file index; unit is 'line' or 'row'.
    """

    def __init__(self, files: list[tuple[str, str]]):
        self.files = files
        self.items: list[Problem] = []
        self.unlisted = 0

    def __len__(self) -> int:
        return len(self.items) + self.unlisted

    def add(self, fi: int | None, where: str | None, column: str | None, reason: str,
            *, file: str | None = None, line: int = 0) -> None:
        """Record one problem in file ``fi`` (or the named ``file``, a mapping file)."""
        name = file if file is not None else self.files[fi][0]
        self.items.append(Problem(name, where, column, reason, (-1 if fi is None else fi, line)))

    def add_rows(
        self,
        bad: pl.DataFrame,
        column: str | Callable[[dict], str] | None,
        reason: Callable[[dict], str],
    ) -> None:
        """One problem per row of ``bad`` (which has ``@fi`` and ``@line``), the first
        :data:`MAX_LISTED` in file order formatted, the rest counted."""
        if bad.height == 0:
            return
        bad = bad.sort(FILE, LINE)
        for r in bad.head(MAX_LISTED).iter_rows(named=True):
            fi, line = r[FILE], r[LINE]
            name, unit = self.files[fi]
            col = column(r) if callable(column) else column
            self.items.append(Problem(name, f"{unit} {line}", col, reason(r), (fi, line)))
        self.unlisted += max(0, bad.height - MAX_LISTED)

    def check(self) -> None:
        """Raise one MetaError listing the problems, if there are any."""
        if not self:
            return
        items = sorted(self.items, key=lambda p: p.order)
        shown = items[:MAX_LISTED]
        more = len(self) - len(shown)
        if len(self) == 1:
            raise MetaError(f"{shown[0]}.")
        lines = [f"{len(self):,} problems in the input; nothing was loaded:"]
        lines += [f"  {p}" for p in shown]
        if more:
            lines.append(f"  ... and {more:,} more")
        raise MetaError("\n".join(lines))
