"""H of the paper's PCFG grammars and of its equal-vocabulary controls, drawn here.

:func:`grammar_h` draws a corpus from each grammar of :mod:`ingest.pcfg.grammar` (seeded) and
measures its gzip compressibility H beside the value the paper's dataset names give;
:attr:`GrammarH.rises` checks the paper's first claim, that H rises with grammar complexity.

References
----------
Pandey 2024, "gzip Predicts Data-dependent Scaling Laws" (arXiv:2405.16684), methods §2.2, §2.5.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from ingest.pcfg.corpus import make_corpus
from ingest.pcfg.grammar import ISO_VOCAB_GRAMMARS, PAPER_GRAMMARS, GrammarSpec
from ingest.pcfg.gzip import corpus_compressibility

# The gzip medians of the paper's corpora, read from their dataset names (methods §2.2, §2.5).
PAPER_H = {(3, 20, 2, 2): 0.11, (10, 150, 5, 3): 0.22, (20, 300, 10, 5): 0.35,
           (30, 400, 10, 8): 0.42, (50, 500, 20, 15): 0.51, (100, 2000, 100, 30): 0.61,
           (3, 300, 2, 2): 0.11, (10, 300, 5, 3): 0.25, (50, 300, 20, 10): 0.47}
# The two sets of grammars, in order of rising complexity.
SETS = (("paper", PAPER_GRAMMARS), ("equal vocabulary", ISO_VOCAB_GRAMMARS))


@dataclass(frozen=True, eq=False)
class GrammarH:
    """H of every grammar, as drawn by :func:`grammar_h`.

    Attributes
    ----------
    table : polars.DataFrame
        One row per grammar, each set in order of rising complexity: ``set`` (``"paper"`` or
        ``"equal vocabulary"``), ``grammar`` (its four numbers, comma-separated), ``H`` (the gzip
        median of its rows) and ``sd`` (their standard deviation), both rounded to 4 digits,
        and ``paper H`` (:data:`PAPER_H`, null where the paper gives none).
    rows : int
        Packed rows drawn per grammar.
    seed : int
        Seed of each grammar, of its rows and of the gzip measurement.
    """

    table: pl.DataFrame
    rows: int
    seed: int

    def h(self, grammar_set: str) -> list[float]:
        """The H of one set's grammars (``"paper"`` or ``"equal vocabulary"``), in order."""
        return self.table.filter(pl.col("set") == grammar_set)["H"].to_list()

    @property
    def rises(self) -> bool:
        """Whether H rises strictly with grammar complexity in both sets (the paper's claim)."""
        return all(bool(np.all(np.diff(self.h(name)) > 0)) for name, _ in SETS)


def grammar_h(rows: int = 1000, seed: int = 0) -> GrammarH:
    """Draw ``rows`` packed rows from each grammar and measure their H.

    Parameters
    ----------
    rows : int, default=1000
        Packed rows per grammar.
    seed : int, default=0
        Seed of each grammar, of its rows and of the gzip measurement.

    Returns
    -------
    GrammarH

    Examples
    --------
    >>> g = grammar_h(rows=20)
    >>> g.table.columns, g.rises
    (['set', 'grammar', 'H', 'sd', 'paper H'], True)
    """
    out = []
    for group, shapes in SETS:
        for shape in shapes:
            h = corpus_compressibility(make_corpus(GrammarSpec(*shape, seed=seed), rows,
                                                   seed=seed), seed=seed)
            out.append({"set": group, "grammar": ",".join(map(str, shape)),
                        "H": round(h.median, 4), "sd": round(h.std, 4),
                        "paper H": PAPER_H.get(shape)})
    return GrammarH(pl.DataFrame(out), rows, seed)
