"""What each data convention changes: the paper's claims under every fitted convention set.

For each convention set in the warehouse (``law_sets``), every claim of
:mod:`analyses.hitchhiker.claims` is measured on the paper's families. The claims table puts
the corrected default beside the released conventions; the sensitivity switches each
convention on alone (set ``corrected+<name>``) and reports how far it moves every claim's
number and whether it flips the verdict. The paper reports no such analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from analyses.hitchhiker import claims
from analyses.hitchhiker.claims import Claim
from analyses.hitchhiker.conventions import CONVENTIONS, DEFAULT, RELEASED, convention_sets
from analyses.hitchhiker.tables import Selection
from warehouse.sql import query

NOT_FITTED = "not fitted (meta fit-all --conventions sensitivity)"


def fitted_sets(con) -> list[str]:
    """The convention sets with laws in the warehouse, in the order of
    :func:`~analyses.hitchhiker.conventions.convention_sets`."""
    present = set(query(con, "SELECT DISTINCT conventions FROM law_sets")["conventions"])
    return [name for name in convention_sets() if name in present]


@dataclass(frozen=True)
class Sensitivity:
    """The claims under every fitted convention set.

    Attributes
    ----------
    by_set : dict of str to list of Claim
        Every claim (in :data:`~analyses.hitchhiker.claims.CLAIMS` order) per set.
    """

    by_set: dict[str, list[Claim]]

    @property
    def alone(self) -> list[str]:
        """The conventions whose set ``corrected+<name>`` was fitted."""
        return [n for n in CONVENTIONS if f"{DEFAULT}+{n}" in self.by_set]

    def claims_table(self) -> pl.DataFrame:
        """Per claim: the paper's number, the corrected and released measurements and
        verdicts, and the conventions that flip the corrected verdict when switched on alone
        (:data:`NOT_FITTED` when no convention was fitted alone).

        Returns
        -------
        pl.DataFrame
            ``key, claim, paper, corrected, corrected verdict, released, released verdict,
            moved by``.
        """
        base = self.by_set[DEFAULT]
        released = self.by_set.get(RELEASED)
        rows = []
        for i, c in enumerate(base):
            movers = [n for n in self.alone
                      if self.by_set[f"{DEFAULT}+{n}"][i].verdict != c.verdict]
            moved = (", ".join(movers) or "none") if self.alone else NOT_FITTED
            rows.append({
                "key": c.key, "claim": c.claim, "paper": c.paper, "corrected": c.measured,
                "corrected verdict": c.verdict,
                "released": released[i].measured if released else "not fitted",
                "released verdict": released[i].verdict if released else "",
                "moved by": moved,
            })
        return pl.DataFrame(rows)

    def changes(self) -> pl.DataFrame:
        """Per claim and convention switched on alone: the change of the claim's number
        (a fraction; null where a claim has no single number) and whether its verdict flips.

        Returns
        -------
        pl.DataFrame
            ``key, convention, corrected, alone, change, flips``.
        """
        base = self.by_set[DEFAULT]
        rows = []
        for name in self.alone:
            for c, other in zip(base, self.by_set[f"{DEFAULT}+{name}"], strict=True):
                change = (other.value - c.value
                          if c.value is not None and other.value is not None else None)
                rows.append({"key": c.key, "convention": name, "corrected": c.value,
                             "alone": other.value, "change": change,
                             "flips": other.verdict != c.verdict})
        schema = {"key": pl.String, "convention": pl.String, "corrected": pl.Float64,
                  "alone": pl.Float64, "change": pl.Float64, "flips": pl.Boolean}
        return pl.DataFrame(rows, schema=schema)


def sensitivity(con, *, identified: bool = False) -> Sensitivity:
    """Every claim under every fitted convention set, on the paper's families."""
    return Sensitivity({
        name: claims.all_claims(con, sel=Selection(conventions=name, identified=identified))
        for name in fitted_sets(con)
    })
