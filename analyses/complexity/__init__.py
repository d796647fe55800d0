"""Data-dependent scaling laws (Pandey 2024): per-corpus Chinchilla laws, their regression on
gzip compressibility H, and the compute-optimal frontier N_opt(C; H).

- :mod:`analyses.complexity.fit`: the points of every corpus (final checkpoints with an H) and
  one Chinchilla law per corpus (``huber-lbfgs``), grouped by run set;
- :mod:`analyses.complexity.regression`: OLS of E, A, B, alpha, beta on H with p-values;
- :mod:`analyses.complexity.frontier`: Eq. 2 and where the frontier crosses the 1:1 line;
- :mod:`analyses.complexity.blend`: the epsilon-adjusted Chinchilla law (Eq. 6) and epsilon
  chosen by leave-one-corpus-out;
- :mod:`analyses.complexity.grammars`: H of the paper's grammars, drawn and measured here;
- :mod:`analyses.complexity.report`: the Markdown/HTML report of `meta report complexity`,
  rendered from the results of the modules above.

Only :func:`analyses.complexity.fit.corpus_points` reads the warehouse (through the
connection it is given); everything else takes arrays.
"""

from analyses.complexity.blend import (
    HOFFMANN,
    BlendedLaw,
    EpsilonStudy,
    parse_epsilon,
    study_epsilon,
)
from analyses.complexity.fit import ComplexityFit, CorpusLaws, complexity_fit, corpus_points
from analyses.complexity.frontier import Frontier, frontier
from analyses.complexity.grammars import GrammarH, grammar_h
from analyses.complexity.regression import Regression, regress_on_h

__all__ = ["HOFFMANN", "BlendedLaw", "ComplexityFit", "CorpusLaws", "EpsilonStudy", "Frontier",
           "GrammarH", "Regression", "complexity_fit", "corpus_points", "frontier", "grammar_h",
           "parse_epsilon", "regress_on_h", "study_epsilon"]
