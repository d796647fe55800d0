"""Sentences from a PCFG, drawn iteratively and in bulk (``ingest.pcfg.corpus`` packs them).

The distribution is the one of the ``pcfg`` package (``pcfg.PCFG.generate``) that the paper
used: from the start symbol, every nonterminal independently picks a rule with the rule's
probability, left to right, until only terminals remain. That package recurses once per
nonterminal; the paper's script catches ``RecursionError`` and draws again, so derivations
deeper than Python's recursion limit (1,000 frames) are silently dropped. Here:

- a whole batch of sentences is expanded together, one derivation depth per round, with numpy
  (every nonterminal present in round ``r`` is at depth ``r``); each picks its rule with
  probability weight / total weight (an integer drawn uniformly below the total, looked up in a
  table where each rule owns as many slots as its weight), from one seeded
  ``numpy.random.Generator``; then counts go up the levels and ranks come down, so the
  terminals land in depth-first (left-to-right) order; nothing recurses. What is ranked are
  runs (the terminals between two nonterminals of a right-hand side), not words; the words
  are spelled out from the ordered runs at the end with one cumulative sum, so each word
  costs only a few streaming passes;
- a sentence still holding a nonterminal after ``max_depth`` rounds is dropped and replaced,
  like the paper's resampling after ``RecursionError`` (``MAX_DEPTH`` = 990, about the
  deepest derivation the paper's script completed under the default limit);
- a sentence longer than ``max_length`` symbols is dropped too: the pcfg package would still be
  expanding it (supercritical grammars grow without bound), and its first 256 words are all a
  row could use. With the default (100,000) no paper grammar is affected;
- sentences are returned in the order they were started, so their lengths stay independent of
  their position (finishing order would put short sentences first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ingest.pcfg.grammar import Grammar
from warehouse.errors import MetaError

MAX_DEPTH = 990
MAX_LENGTH = 100_000
BATCH = 1 << 15  # sentences expanded together (bounds memory; not part of the distribution)
CHECK_EVERY = 1 << 21  # nodes drawn between checks of the length bound


@dataclass(frozen=True)
class Sentences:
    """Sentences as one flat array of terminal ids.

    Attributes
    ----------
    tokens : ndarray of int32, shape (n_tokens,)
        Terminal ids, sentence after sentence.
    start : ndarray of int64, shape (n_sentences + 1,)
        Sentence ``j`` is ``tokens[start[j]:start[j + 1]]``.
    n_rejected : int
        Sentences dropped for depth or length while drawing these.
    """

    tokens: np.ndarray
    start: np.ndarray
    n_rejected: int = 0

    @property
    def lengths(self) -> np.ndarray:
        """Words per sentence, ``(n_sentences,)``."""
        return np.diff(self.start)

    def __len__(self) -> int:
        return len(self.start) - 1

    def sentence(self, j: int) -> list[int]:
        """The terminal ids of sentence ``j``."""
        return self.tokens[self.start[j]:self.start[j + 1]].tolist()


class Sampler:
    """Draws sentences of one grammar in bulk (the expansion tables are built once).

    Parameters
    ----------
    grammar : Grammar
    max_depth : int, default=990
        Deepest nonterminal allowed; deeper derivations are dropped.
    max_length : int, default=100_000
        Longest sentence kept, in words.
    batch : int, default=32768
        Sentences expanded together.

    Examples
    --------
    >>> from ingest.pcfg.grammar import GrammarSpec, make_grammar
    >>> s = Sampler(make_grammar(GrammarSpec(3, 20, 2, 2))).sample(1000, seed=0)
    >>> len(s), int(s.tokens.max()) < 20
    (1000, True)
    """

    def __init__(self, grammar: Grammar, *, max_depth: int = MAX_DEPTH,
                 max_length: int = MAX_LENGTH, batch: int = BATCH):
        if not grammar.productive.any():
            raise MetaError(f"Grammar {','.join(map(str, grammar.spec.shape))} with seed "
                            f"{grammar.spec.seed} has no sentence: no nonterminal ends in "
                            "terminals only (its rules loop); try another seed or shape.")
        self.grammar = grammar
        self.max_depth = max_depth
        self.max_length = max_length
        self.batch = batch
        v, k = grammar.n_terminals, grammar.n_nonterminals
        # Rule choice by table lookup: nonterminal i with total weight W_i draws
        # u = floor(U * W_i), U uniform in [0, 1), and takes the rule owning slot u of its
        # block, each rule owning as many slots as its integer weight (the same law as
        # random.choices); slot W_i, reachable only by float rounding, is the last rule's.
        # Rules are grouped by left-hand side, as make_grammar lists them.
        w = grammar.rule_weight.astype(np.int64)
        total = np.bincount(grammar.rule_lhs, weights=w, minlength=k).astype(np.int64)
        self._total = total.astype(np.float64)
        self._block = (np.cumsum(total + 1) - (total + 1)).astype(np.int32)
        last = np.append(grammar.rule_lhs[1:] != grammar.rule_lhs[:-1], True)
        self._slots = np.repeat(np.arange(grammar.n_rules, dtype=np.int32), w + last)
        # Each rule's right-hand side as its nonterminals (children, numbered over all rules
        # in order: "slots") and its terminal runs: the run before each nonterminal (run id
        # = the nonterminal's slot) and the run after the last one (id = n_slots + rule).
        # Only runs that hold terminals are ranked and written.
        rule_of = np.repeat(np.arange(grammar.n_rules), grammar.rhs_length)
        is_t = grammar.rhs < v
        self._n_val = (grammar.rhs[~is_t] - v).astype(np.int32)
        self._n_cnt = np.bincount(rule_of[~is_t], minlength=grammar.n_rules).astype(np.int32)
        self._n_off = (np.cumsum(self._n_cnt) - self._n_cnt).astype(np.int32)
        self._t_cnt = np.bincount(rule_of[is_t], minlength=grammar.n_rules).astype(np.int32)
        n_slots = self._n_val.size
        slot = (np.cumsum(~is_t) - ~is_t)[is_t]  # slot of the next nonterminal, if any
        rule_t = rule_of[is_t]
        run = np.where(slot < (self._n_off + self._n_cnt)[rule_t], slot, n_slots + rule_t)
        self._t_val = grammar.rhs[is_t].astype(np.int32)  # terminals, run after run
        self._run_len = np.bincount(run, minlength=n_slots + grammar.n_rules).astype(np.int32)
        self._run_src = np.zeros(self._run_len.size, dtype=np.int32)  # first terminal
        first = np.flatnonzero(np.append(True, run[1:] != run[:-1]))
        self._run_src[run[first]] = first
        self._run_last = self._run_src + self._run_len - 1
        self._n_slots = n_slots
        self._pre_full = self._run_len[:n_slots] > 0
        self._tail_full = self._run_len[n_slots:] > 0
        # For each slot, the nonempty runs of its rule up to its own (inclusive); for each
        # rule, all of them.
        seen = np.cumsum(self._pre_full)
        rule_s = rule_of[~is_t]
        self._pre_rank = (seen - (seen - self._pre_full)[self._n_off[rule_s]]).astype(np.int32)
        self._own = (np.bincount(rule_s, weights=self._pre_full, minlength=grammar.n_rules)
                     + self._tail_full).astype(np.int32)

    def _expand(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, int]:
        """``n`` derivations started together: the terminal runs of the accepted ones in
        order (run ids, sentence after sentence, in starting order), their lengths, and how
        many were dropped.

        Level by level, every open nonterminal picks a rule and its nonterminal children are
        the next level. Then each node's count of runs goes up the levels and each run's
        rank comes down them: a node's runs are its rule's terminal runs interleaved with
        its children's, so each node and run is touched a constant number of times.
        """
        sym = rng.integers(0, self.grammar.n_nonterminals, size=n).astype(np.int32)
        sid = np.arange(n, dtype=np.int32)
        alive = np.ones(n, dtype=bool)
        leaves = np.zeros(n, dtype=np.int64)  # terminals so far, per sentence
        unchecked = 0
        levels = []
        for _depth in range(self.max_depth):
            if sym.size == 0:
                break
            u = (rng.random(sym.size) * self._total.take(sym)).astype(np.int32)
            rule = self._slots.take(u + self._block.take(sym))
            unchecked += sym.size + int(self._t_cnt.take(rule).sum())
            if unchecked > CHECK_EVERY:
                # Final length >= terminals so far + open nonterminals: drop sentences past
                # max_length before they fill the memory (the exact check comes at the end).
                unchecked = 0
                leaves += np.bincount(sid, weights=self._t_cnt[rule], minlength=n).astype(
                    np.int64)
                opened = np.bincount(sid, weights=self._n_cnt[rule], minlength=n)
                alive &= leaves + opened <= self.max_length
            nc = self._n_cnt.take(rule)
            if not alive.all():
                nc = np.where(alive.take(sid), nc, 0)
            nfirst = np.cumsum(nc, dtype=np.int32) - nc  # each node's first child
            parent = np.repeat(np.arange(sym.size, dtype=np.int32), nc)
            slot = (self._n_off.take(rule) - nfirst).take(parent)
            slot += np.arange(parent.size, dtype=np.int32)
            levels.append((rule, nfirst, nc, parent, slot))
            sym, sid = self._n_val.take(slot), sid.take(parent)
        alive[sid] = False  # still open after max_depth levels
        # Runs and words per subtree, bottom-up: a node's own plus its children's (nodes
        # left open count none; their sentences are dropped). prefix[j]: runs of the
        # level's children before child j.
        below = np.zeros(sym.size, dtype=np.int64)
        words = np.zeros(sym.size, dtype=np.int64)
        counts = []
        for rule, nfirst, nc, _parent, _slot in reversed(levels):
            nend = nfirst + nc
            prefix = _cumsum0(below)
            before = prefix.take(nfirst)
            below = prefix.take(nend) - before + self._own.take(rule)
            counts.append((prefix, before, below))
            words_before = _cumsum0(words)
            words = words_before.take(nend) - words_before.take(nfirst) + self._t_cnt.take(rule)
        counts.reverse()
        alive &= words <= self.max_length
        # Ranks, top-down: a node's tail run ends its subtree; child j follows the node's
        # run before it, which follows the node's earlier runs and children. Empty runs
        # are written to the spare last entry.
        n_runs = below
        runs = np.zeros(int(n_runs.sum()) + 1, dtype=np.int32)
        spare = runs.size - 1
        at = np.cumsum(n_runs) - n_runs
        for (rule, _nfirst, _nc, parent, slot), (prefix, before, below) in zip(
                levels, counts, strict=True):
            runs[np.where(self._tail_full.take(rule), at + below - 1, spare)] = rule + self._n_slots
            at = (at - before).take(parent) + prefix[:-1]
            at += self._pre_rank.take(slot)
            runs[np.where(self._pre_full.take(slot), at - 1, spare)] = slot
        runs = runs[:-1]
        if not alive.all():
            runs, words = runs[np.repeat(alive, n_runs)], words[alive]
        return runs, words, int(n - words.size)

    def _spell(self, runs: np.ndarray, out: np.ndarray, work: np.ndarray) -> None:
        """Write the terminals of ``runs`` (nonempty run ids, in order) into ``out``.

        Token i is ``t_val[k_i]`` where k steps by one within a run and jumps from the last
        terminal of a run to the first of the next: a cumulative sum in ``work``, reused from
        batch to batch (fresh memory would be paged in and zeroed again for every batch).
        """
        length = self._run_len.take(runs)
        jump = self._run_src.take(runs)
        jump[1:] -= self._run_last.take(runs[:-1])
        k = work[:out.size]
        k.fill(1)
        k[np.cumsum(length) - length] = jump
        np.cumsum(k, out=k)
        self._t_val.take(k, out=out, mode="clip")  # clip: no buffering; k is in range

    def sample(self, n: int, seed: int | np.random.Generator = 0) -> Sentences:
        """``n`` accepted sentences (dropped ones are replaced by further draws).

        Parameters
        ----------
        n : int
            Number of sentences.
        seed : int or numpy.random.Generator, default=0

        Returns
        -------
        Sentences
        """
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        runs, lens, dropped = [], [], 0
        have = 0
        while have < n:
            r, ln, d = self._expand(min(self.batch, max(n - have, 1)), rng)
            if d and not ln.size and dropped > 1000 * max(n, 1):
                raise MetaError(f"Grammar {self.grammar.spec.name} gives no sentence within "
                                f"{self.max_depth} levels and {self.max_length} words.")
            runs.append(r)
            lens.append(ln)
            have += ln.size
            dropped += d
        start = _cumsum0(np.concatenate(lens))
        tokens = np.empty(start[-1], dtype=np.int32)
        work = np.empty(max(int(ln.sum()) for ln in lens), dtype=np.int64)
        i = 0
        for r, ln in zip(runs, lens, strict=True):
            self._spell(r, tokens[start[i]:start[i + ln.size]], work)
            i += ln.size
        return Sentences(tokens, start, dropped)


def _cumsum0(x: np.ndarray) -> np.ndarray:
    """``[0, x[0], x[0] + x[1], ...]`` as int64, ``(len(x) + 1,)``."""
    out = np.zeros(x.size + 1, dtype=np.int64)
    np.cumsum(x, out=out[1:])
    return out


def sample_sentences(grammar: Grammar, n: int, seed: int = 0, **options) -> Sentences:
    """``n`` sentences of ``grammar`` (see :class:`Sampler` for ``options``).

    Examples
    --------
    >>> from ingest.pcfg.grammar import GrammarSpec, make_grammar
    >>> g = make_grammar(GrammarSpec(10, 150, 5, 3))
    >>> s = sample_sentences(g, 5, seed=3)
    >>> len(s), int(s.lengths.min()) >= 1
    (5, True)
    """
    return Sampler(grammar, **options).sample(n, seed)
