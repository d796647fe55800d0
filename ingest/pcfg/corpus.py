"""PCFG sentences packed into the paper's 256-token rows: a grammar's training corpus.

Packing (``data_gen.generate_dataset``, methods/gzip_pcfg.md §1.2): each sentence costs its
words + 1 (its separator); sentences fill a 256-token row while they fit; the first one that
does not fit is cut to the space left and ends the row, and its rest is discarded. A row that
ends on a whole sentence has 255 tokens (the budgeted separator is not written) and is padded.
**Fixed quirk:** the paper's separator was the id ``0``, also the terminal ``'0'``; here the
separator is ``V`` and padding ``V + 1`` (vocabulary ``V + 2``), neither a terminal. Pass
``sep=0`` to :func:`pack` to reproduce the paper's rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.pcfg.grammar import Grammar, GrammarSpec, make_grammar
from ingest.pcfg.sample import Sampler, Sentences

ROW_TOKENS = 256  # the paper's context length and row size


@dataclass(frozen=True)
class Corpus:
    """Packed rows of one grammar.

    Attributes
    ----------
    rows : ndarray of int32, shape (n_rows, row_tokens)
        Token ids; positions past ``length`` hold ``pad``.
    length : ndarray of int64, shape (n_rows,)
        Real tokens per row (255 or 256 for the paper's packing).
    spec : GrammarSpec
        The grammar the rows were drawn from.
    seed : int
        Seed of the sentence draws.
    sep, pad : int
        Separator and padding ids.
    vocab_size : int
        ``max(terminals, sep, pad) + 1``.
    """

    rows: np.ndarray
    length: np.ndarray
    spec: GrammarSpec
    seed: int
    sep: int
    pad: int
    vocab_size: int

    @property
    def n_rows(self) -> int:
        return self.rows.shape[0]

    @property
    def n_tokens(self) -> int:
        """Real (non-padding) tokens."""
        return int(self.length.sum())

    def row(self, i: int) -> np.ndarray:
        """The real tokens of row ``i``."""
        return self.rows[i, :self.length[i]]

    def to_text(self) -> str:
        """The rows as the paper's dataset stores them: space-separated ids, one row a line."""
        return "".join(" ".join(map(str, self.row(i).tolist())) + "\n"
                       for i in range(self.n_rows))

    def save(self, path: Path) -> None:
        """Write the rows as text (``.txt``) or as a NumPy archive (``.npz``)."""
        path = Path(path)
        if path.suffix == ".npz":
            np.savez_compressed(path, rows=self.rows, length=self.length,
                                spec=np.asarray(self.spec.shape + (self.spec.seed,)),
                                meta=np.asarray([self.seed, self.sep, self.pad, self.vocab_size]))
        else:
            path.write_text(self.to_text())


def pack(sentences: Sentences, n_rows: int, *, row_tokens: int = ROW_TOKENS,
         sep: int, pad: int) -> tuple[np.ndarray, np.ndarray, int] | None:
    """Pack sentences into rows as the paper's ``generate_dataset`` does.

    Parameters
    ----------
    sentences : Sentences
    n_rows : int
        Rows wanted.
    row_tokens : int, default=256
    sep, pad : int
        Separator and padding ids (the paper: ``sep=0``, a terminal too).

    Returns
    -------
    (rows, length, n_used) or None
        ``rows (n_rows, row_tokens)``, real tokens per row, sentences consumed; None when the
        sentences run out before ``n_rows`` rows.
    """
    lengths = sentences.lengths
    n = len(lengths)
    c, starts, full, s = _rows(lengths, n_rows, row_tokens)
    if len(starts) < n_rows:
        return None
    stream = np.full(c[-1], sep, dtype=np.int32)
    # Token i of sentence j sits at c[j] + i = start[j] + i + j.
    stream[np.arange(lengths.sum()) + np.repeat(np.arange(n), lengths)] = sentences.tokens
    first = c[np.asarray(starts, dtype=np.int64)]
    length = np.where(np.asarray(full), row_tokens - 1, row_tokens).astype(np.int64)
    idx = first[:, None] + np.arange(row_tokens)[None, :]
    rows = stream[np.minimum(idx, len(stream) - 1)]
    rows[np.arange(row_tokens)[None, :] >= length[:, None]] = pad
    return rows, length, s


def _rows(lengths: np.ndarray, n_rows: int, row_tokens: int):
    """Where up to ``n_rows`` rows start: (c, first sentences, whether each ends on a whole
    sentence, the next unused sentence); fewer rows when the sentences run out."""
    n = len(lengths)
    # Stream F: every sentence followed by its separator; sentence j starts at c[j].
    c = np.concatenate([[0], np.cumsum(lengths + 1)])
    # A row starting at sentence s: e = last sentence boundary within row_tokens.
    e = np.searchsorted(c, c[:-1] + row_tokens, side="right") - 1
    exact = c[e] - c[:-1] == row_tokens  # ends on a whole sentence: 255 tokens, next row at e
    nxt = np.where(exact, e, e + 1)
    nxt_list, exact_list = nxt.tolist(), exact.tolist()
    starts, full = [], []
    s = 0
    for _ in range(n_rows):
        if s >= n or (not exact_list[s] and nxt_list[s] > n):
            break
        starts.append(s)
        full.append(exact_list[s])
        s = nxt_list[s]
    return c, starts, full, s


def make_corpus(grammar: Grammar | GrammarSpec, n_rows: int, *, seed: int = 0,
                row_tokens: int = ROW_TOKENS, sep: int | None = None, pad: int | None = None,
                **options) -> Corpus:
    """``n_rows`` packed rows drawn from ``grammar``.

    Parameters
    ----------
    grammar : Grammar or GrammarSpec
    n_rows : int
    seed : int, default=0
        Seed of the sentence draws (the grammar has its own).
    row_tokens : int, default=256
    sep, pad : int, optional
        Default ``V`` and ``V + 1`` (V terminals): neither is a terminal.
    **options
        :class:`Sampler` options (``max_depth``, ``max_length``, ``batch``).

    Returns
    -------
    Corpus

    Examples
    --------
    >>> c = make_corpus(GrammarSpec(3, 20, 2, 2), 4, seed=0)
    >>> c.rows.shape, c.sep, c.vocab_size, set(c.length.tolist()) <= {255, 256}
    ((4, 256), 20, 22, True)
    """
    if isinstance(grammar, GrammarSpec):
        grammar = make_grammar(grammar)
    v = grammar.n_terminals
    sep = v if sep is None else sep
    pad = v + 1 if pad is None else pad
    sampler = Sampler(grammar, **options)
    rng = np.random.default_rng(seed)
    parts = [sampler.sample(256, rng)]  # a pilot draw sizes the rest (deterministically)
    while True:
        joined = _join(parts)
        packed = pack(joined, n_rows, row_tokens=row_tokens, sep=sep, pad=pad)
        if packed is not None:
            rows, length, _ = packed
            return Corpus(rows, length, grammar.spec, seed, sep, pad,
                          max(v, sep + 1, pad + 1))
        # Sentences per row so far sizes the next draw (a cut sentence's rest is discarded,
        # so long sentences cost more than their tokens).
        _, done, _, used = _rows(joined.lengths, n_rows, row_tokens)
        per_row = max(used, 1) / max(len(done), 1)
        parts.append(sampler.sample(int(1.1 * per_row * (n_rows - len(done))) + 64, rng))


def _join(parts: list[Sentences]) -> Sentences:
    if len(parts) == 1:
        return parts[0]
    lengths = np.concatenate([p.lengths for p in parts])
    return Sentences(np.concatenate([p.tokens for p in parts]),
                     np.concatenate([[0], np.cumsum(lengths)]),
                     sum(p.n_rejected for p in parts))
