"""Random probabilistic context-free grammars, built as the paper's code builds them, seeded.

Pandey (2024) draws a grammar from four numbers, (nonterminals, terminals, max RHS options,
max RHS length) (``data_gen.create_random_pcfg`` of KhoomeiK/complexity-scaling; see
``methods/gzip_pcfg.md`` §1.1):

- nonterminals ``N0 .. N{k-1}``, terminals ``'0' .. '{V-1}'``;
- for each nonterminal, ``randint(1, max_options)`` options, with probabilities
  ``randint(1, 100)`` weights divided by their sum; each option is ``randint(1, max_length)``
  symbols drawn uniformly from nonterminals ∪ terminals;
- a start rule ``S -> N0 | ... | N{k-1}``, uniform.

:func:`make_grammar` makes exactly these calls, in the same order, on ``random.Random(seed)``,
so the grammar is the one the paper's code gives after ``random.seed(seed)`` (the paper never
seeded, so its own grammars cannot be rebuilt). Quirk fixed: the paper printed probabilities
with ``repr``, which writes ``9.9e-05`` for small ones, and NLTK's grammar parser rejects
scientific notation; :meth:`Grammar.to_nltk_string` writes every probability in positional
notation (shortest round-trip digits), so any grammar parses.

Symbols are coded as integers for the sampler: terminal ``t`` is ``t`` (``0 <= t < V``),
nonterminal ``Ni`` is ``V + i``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from warehouse.errors import MetaError
from warehouse.validation import POSITIVE_INT, SEED, validate

# The paper's six grammars, in order of rising compressibility H (methods/gzip_pcfg.md §2.2):
# the gzip medians of its 100M-token corpora were 0.11, 0.22, 0.35, 0.42, 0.51 and 0.61.
PAPER_GRAMMARS: tuple[tuple[int, int, int, int], ...] = (
    (3, 20, 2, 2),
    (10, 150, 5, 3),
    (20, 300, 10, 5),
    (30, 400, 10, 8),
    (50, 500, 20, 15),
    (100, 2000, 100, 30),
)
# Equal-vocabulary controls (300 terminals; the paper's Tab. 4 corpora trained in main.py).
ISO_VOCAB_GRAMMARS: tuple[tuple[int, int, int, int], ...] = (
    (3, 300, 2, 2),
    (10, 300, 5, 3),
    (20, 300, 10, 5),
    (50, 300, 20, 10),
)
MAX_WEIGHT = 100  # option weights are randint(1, 100), as in the paper's generate_probs
# Largest grammar built: symbols held while drawing (nonterminals + terminals + expected
# right-hand-side symbols; GrammarSpec.expected_symbols), about 1 GB of Python lists and numpy
# arrays. The paper's largest, 100,2000,100,30, holds about 8e4.
MAX_SYMBOLS = 10_000_000


@dataclass(frozen=True)
class GrammarSpec:
    """The four numbers that define a random grammar, and its seed.

    Attributes
    ----------
    n_nonterminals, n_terminals : int
        Counts of nonterminals (``N0 ..``) and terminals (``'0' ..``).
    max_options : int
        Each nonterminal has 1 .. ``max_options`` right-hand sides.
    max_length : int
        Each right-hand side has 1 .. ``max_length`` symbols.
    seed : int, default=0
        Seed of ``random.Random`` that draws the grammar.

    Examples
    --------
    >>> GrammarSpec.parse("10,150,5,3", seed=2).name
    '10_150_5_3-s2'
    """

    n_nonterminals: int
    n_terminals: int
    max_options: int
    max_length: int
    seed: int = 0

    def __post_init__(self):
        validate(self, {"n_nonterminals": POSITIVE_INT, "n_terminals": POSITIVE_INT,
                        "max_options": POSITIVE_INT, "max_length": POSITIVE_INT, "seed": SEED})

    @classmethod
    def parse(cls, text: str, seed: int = 0) -> GrammarSpec:
        """A spec from ``"NT,T,OPTIONS,LENGTH"`` (commas or underscores)."""
        parts = text.replace("_", ",").split(",")
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            numbers = []
        if len(numbers) != 4:
            raise MetaError(f"A grammar is four integers NT,T,OPTIONS,LENGTH (e.g. 10,150,5,3). "
                            f"Got {text!r} instead.")
        return cls(*numbers, seed=seed)

    @property
    def shape(self) -> tuple[int, int, int, int]:
        """``(n_nonterminals, n_terminals, max_options, max_length)``."""
        return (self.n_nonterminals, self.n_terminals, self.max_options, self.max_length)

    @property
    def name(self) -> str:
        """``NT_T_OPTIONS_LENGTH-s<seed>``, the corpus part of family names."""
        return "_".join(map(str, self.shape)) + f"-s{self.seed}"

    @property
    def expected_symbols(self) -> float:
        """Symbols :func:`make_grammar` holds: the symbol list plus the expected right-hand
        sides (``(OPTIONS + 1) / 2`` rules of ``(LENGTH + 1) / 2`` symbols per nonterminal)."""
        k, v, o, n = self.shape
        return k + v + k * (o + 1) / 2 * (n + 1) / 2


@dataclass(frozen=True, eq=False)
class Grammar:
    """A random PCFG, its rules as flat arrays.

    Attributes
    ----------
    spec : GrammarSpec
    rule_lhs : ndarray of int, shape (n_rules,)
        Nonterminal index (0 .. k-1) of each rule; rules are grouped by nonterminal, in order.
    rule_weight : ndarray of int, shape (n_rules,)
        The integer weight (1 .. 100) each rule was drawn with.
    rhs : ndarray of int, shape (n_symbols,)
        Right-hand sides, concatenated; terminal ``t`` is ``t``, nonterminal ``Ni`` is ``V + i``.
    rhs_start : ndarray of int, shape (n_rules + 1,)
        Rule ``r``'s right-hand side is ``rhs[rhs_start[r]:rhs_start[r + 1]]``.

    Examples
    --------
    >>> g = make_grammar(GrammarSpec(3, 20, 2, 2, seed=0))
    >>> g.n_rules == len(g.rule_lhs), round(float(g.rule_prob.sum()), 6)
    (True, 3.0)
    """

    spec: GrammarSpec
    rule_lhs: np.ndarray
    rule_weight: np.ndarray
    rhs: np.ndarray
    rhs_start: np.ndarray

    @property
    def n_terminals(self) -> int:
        return self.spec.n_terminals

    @property
    def n_nonterminals(self) -> int:
        return self.spec.n_nonterminals

    @property
    def n_rules(self) -> int:
        return len(self.rule_lhs)

    @cached_property
    def rule_prob(self) -> np.ndarray:
        """``weight / (sum of the weights of the same nonterminal)``, ``(n_rules,)``."""
        totals = np.bincount(self.rule_lhs, weights=self.rule_weight,
                             minlength=self.n_nonterminals)
        return self.rule_weight / totals[self.rule_lhs]

    @cached_property
    def rhs_length(self) -> np.ndarray:
        """Symbols per right-hand side, ``(n_rules,)``."""
        return np.diff(self.rhs_start)

    @cached_property
    def productive(self) -> np.ndarray:
        """Nonterminals that derive some string of terminals, ``(n_nonterminals,)`` bool.

        A nonterminal is productive when one of its rules holds only terminals and productive
        nonterminals (a fixed point, reached in at most ``n_nonterminals`` rounds). A
        grammar none of whose nonterminals is productive (``N0 -> N0``) has no sentence.

        Examples
        --------
        >>> make_grammar(GrammarSpec(1, 1, 1, 1, seed=0)).productive
        array([False])
        """
        v = self.n_terminals
        is_n = self.rhs >= v
        rule_of = np.repeat(np.arange(self.n_rules), self.rhs_length)[is_n]
        done = np.zeros(self.n_nonterminals, dtype=bool)
        while True:
            open_children = np.bincount(rule_of, weights=~done[self.rhs[is_n] - v],
                                        minlength=self.n_rules)
            now = np.zeros_like(done)
            now[self.rule_lhs[open_children == 0]] = True
            if (now == done).all():
                return done
            done = now

    def rule(self, r: int) -> tuple[int, ...]:
        """The coded right-hand side of rule ``r``."""
        return tuple(int(s) for s in self.rhs[self.rhs_start[r]:self.rhs_start[r + 1]])

    def _symbol(self, s: int) -> str:
        v = self.n_terminals
        return f"'{s}'" if s < v else f"N{s - v}"

    def to_nltk_string(self) -> str:
        """The grammar in NLTK's ``PCFG.fromstring`` syntax, the paper's layout.

        One line per nonterminal, ``N3 -> '17' N5 [0.25] | ...``, after the start rule
        ``S -> N0 [0.5] | N1 [0.5]``. Probabilities are in positional notation with the
        shortest digits that round-trip, never ``9.9e-05``.
        """
        lines = [
            "S -> " + " | ".join(f"N{i} [{_prob(1 / self.n_nonterminals)}]"
                                 for i in range(self.n_nonterminals))
        ]
        for i in range(self.n_nonterminals):
            options = []
            for r in np.flatnonzero(self.rule_lhs == i):
                rhs = " ".join(self._symbol(s) for s in self.rule(r))
                options.append(f"{rhs} [{_prob(self.rule_prob[r])}]")
            lines.append(f"N{i} -> " + " | ".join(options))
        return "\n".join(lines)

    def to_nltk(self, cls=None):
        """The grammar as an NLTK ``PCFG`` (or ``cls``, e.g. ``pcfg.PCFG``); needs nltk.

        Left-corner closures are not computed (NLTK's default computes them, which is slow
        for large grammars and unused by sampling).
        """
        import nltk

        cls = cls or nltk.PCFG
        parsed = nltk.PCFG.fromstring(self.to_nltk_string())
        return cls(parsed.start(), parsed.productions(), calculate_leftcorners=False)


def _prob(p: float) -> str:
    """A probability in positional notation that NLTK's ``[\\d\\.]+`` accepts."""
    return np.format_float_positional(float(p), unique=True, trim="0")


def make_grammar(spec: GrammarSpec) -> Grammar:
    """Draw the random grammar of ``spec``, as the paper's ``create_random_pcfg`` does.

    Parameters
    ----------
    spec : GrammarSpec
        Shape and seed.

    Returns
    -------
    Grammar

    References
    ----------
    Pandey 2024, Sec. 3; KhoomeiK/complexity-scaling ``data_gen.py``.

    Examples
    --------
    >>> g = make_grammar(GrammarSpec(3, 20, 2, 2, seed=1))
    >>> g.to_nltk_string().splitlines()[0]
    'S -> N0 [0.3333333333333333] | N1 [0.3333333333333333] | N2 [0.3333333333333333]'
    """
    if spec.expected_symbols > MAX_SYMBOLS:
        raise MetaError(f"Grammar {','.join(map(str, spec.shape))} is too large for memory: "
                        f"about {spec.expected_symbols:.1e} symbols, over the limit of "
                        f"{MAX_SYMBOLS:.0e} (the paper's largest grammar has "
                        f"{GrammarSpec(*PAPER_GRAMMARS[-1]).expected_symbols:.0e}).")
    rng = random.Random(spec.seed)
    k, v = spec.n_nonterminals, spec.n_terminals
    # The paper draws from the list nonterminals + terminals (in that order); coded here.
    symbols = [v + i for i in range(k)] + list(range(v))
    lhs, weights, rhs, starts = [], [], [], [0]
    for i in range(k):
        n_options = rng.randint(1, spec.max_options)
        drawn = [rng.randint(1, MAX_WEIGHT) for _ in range(n_options)]
        for w in drawn:
            length = rng.randint(1, spec.max_length)
            rhs.extend(rng.choice(symbols) for _ in range(length))
            lhs.append(i)
            weights.append(w)
            starts.append(len(rhs))
    return Grammar(
        spec=spec,
        rule_lhs=np.asarray(lhs, dtype=np.int64),
        rule_weight=np.asarray(weights, dtype=np.int64),
        rhs=np.asarray(rhs, dtype=np.int64),
        rhs_start=np.asarray(starts, dtype=np.int64),
    )
