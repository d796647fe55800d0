"""The iterative sampler draws from the pcfg package's distribution; packing is the paper's."""

import random

import numpy as np
import pcfg
import pytest
from scipy import stats

from ingest.pcfg.corpus import make_corpus, pack
from ingest.pcfg.grammar import Grammar, GrammarSpec, make_grammar
from ingest.pcfg.sample import Sampler, Sentences

N = 20_000  # sentences from each sampler


def reference(grammar: Grammar, n: int, seed: int) -> list[list[int]]:
    """Sentences from the pcfg package (recursive, global random), as the paper drew them."""
    g = grammar.to_nltk(pcfg.PCFG)
    random.seed(seed)
    return [[int(t) for t in next(g.generate(1)).split()] for _ in range(n)]


def pooled(*samples: np.ndarray, min_expected: float = 5.0) -> np.ndarray:
    """A contingency table (samples × categories) with rare categories pooled into one."""
    table = np.vstack(samples).astype(float)
    table = table[:, table.sum(0) > 0]
    expected = table.sum(0) * table.sum(1).min() / table.sum()
    rare = expected < min_expected
    if not rare.any() or table[:, rare].sum() == 0:
        return table[:, ~rare]
    return np.column_stack([table[:, ~rare], table[:, rare].sum(1)])


def length_table(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    top = int(max(a.max(), b.max())) + 1
    return pooled(np.bincount(a, minlength=top), np.bincount(b, minlength=top))


@pytest.fixture(scope="module", params=[(20, 300, 10, 5), (30, 400, 10, 8)],
                ids=["20_300_10_5", "30_400_10_8"])
def pair(request):
    g = make_grammar(GrammarSpec(*request.param, seed=0))
    ref = reference(g, N, seed=1)
    ours = Sampler(g).sample(N, seed=1)
    return g, ref, ours


def test_sentence_lengths_match_the_pcfg_package(pair):
    _, ref, ours = pair
    a = np.array([len(s) for s in ref])
    b = ours.lengths
    assert stats.chi2_contingency(length_table(a, b)).pvalue > 1e-3
    assert stats.ks_2samp(a, b).pvalue > 1e-3
    assert abs(a.mean() - b.mean()) < 5 * np.sqrt(a.var() / N + b.var() / N)


def test_unigram_frequencies_match_the_pcfg_package(pair):
    g, ref, ours = pair
    v = g.n_terminals
    a = np.bincount(np.concatenate([np.array(s) for s in ref]), minlength=v)
    b = np.bincount(ours.tokens, minlength=v)
    assert stats.chi2_contingency(pooled(a, b)).pvalue > 1e-3


def test_the_tests_detect_another_distribution(pair):
    g, ref, _ = pair
    other = Sampler(make_grammar(GrammarSpec(*g.spec.shape, seed=1))).sample(N, seed=1)
    a = np.array([len(s) for s in ref])
    v = g.n_terminals
    uni = pooled(np.bincount(np.concatenate([np.array(s) for s in ref]), minlength=v),
                 np.bincount(other.tokens, minlength=v))
    assert stats.chi2_contingency(uni).pvalue < 1e-6
    assert stats.chi2_contingency(length_table(a, other.lengths)).pvalue < 1e-6


def test_seeded_and_in_starting_order():
    g = make_grammar(GrammarSpec(30, 400, 10, 8, seed=0))
    a, b = Sampler(g).sample(5000, seed=4), Sampler(g).sample(5000, seed=4)
    assert np.array_equal(a.tokens, b.tokens) and np.array_equal(a.start, b.start)
    # Finishing order would put short sentences first; starting order keeps length and
    # position independent.
    first, second = a.lengths[:2500], a.lengths[2500:]
    assert stats.ks_2samp(first, second).pvalue > 1e-3


def paper_pack(sentences: list[list[int]], n_rows: int, sep: int) -> list[list[int]]:
    """The packing loop of the paper's generate_dataset (methods/gzip_pcfg.md §1.2)."""
    rows, it = [], iter(sentences)
    while len(rows) < n_rows:
        doc, toks = [], 0
        while toks < 256:
            words = next(it)
            cost, avail = len(words) + 1, 256 - toks
            if cost <= avail:
                doc.append(words)
                toks += cost
            else:
                doc.append(words[:avail])
                toks += avail
            if toks == 256:
                break
        row = doc[0][:]
        for words in doc[1:]:
            row += [sep] + words
        rows.append(row)
    return rows


@pytest.mark.parametrize("shape", [(3, 20, 2, 2), (50, 500, 20, 15)])
def test_packing_is_the_papers(shape):
    g = make_grammar(GrammarSpec(*shape, seed=0))
    s = Sampler(g).sample(30_000, seed=0)
    rows, length, used = pack(s, 40, sep=0, pad=-1)
    expected = paper_pack([s.sentence(j) for j in range(len(s))], 40, sep=0)
    assert [r[:n].tolist() for r, n in zip(rows, length, strict=True)] == expected
    assert set(length.tolist()) <= {255, 256}
    assert (rows[length == 255, 255] == -1).all()


def test_separator_is_not_a_terminal():
    c = make_corpus(GrammarSpec(10, 150, 5, 3), 50, seed=0)
    assert (c.sep, c.pad, c.vocab_size) == (150, 151, 152)
    real = np.concatenate([c.row(i) for i in range(c.n_rows)])
    assert (real != c.pad).all() and (real == c.sep).sum() > 0
    terminals = real[real != c.sep]
    assert terminals.max() < 150
    paper = make_corpus(GrammarSpec(10, 150, 5, 3), 50, seed=0, sep=0)
    assert paper.vocab_size == 152 and (paper.row(0) == 0).sum() > (c.row(0) == 0).sum()


def test_too_deep_or_too_long_derivations_are_dropped():
    # N0 -> N0 N0 (0.6) | '0' (0.4): supercritical, so some trees never finish.
    g = Grammar(GrammarSpec(1, 1, 2, 2), rule_lhs=np.array([0, 0]),
                rule_weight=np.array([60, 40]), rhs=np.array([1, 1, 0]),
                rhs_start=np.array([0, 2, 3]))
    s = Sampler(g, max_depth=60, max_length=500).sample(2000, seed=0)
    assert len(s) == 2000 and s.n_rejected > 0
    assert s.lengths.max() <= 500 and (s.tokens == 0).all()
    # Dropping happens by the sentence, never truncating one: lengths are tree leaf counts.
    assert isinstance(s, Sentences) and s.lengths.min() == 1


def level_by_level(grammar: Grammar, n: int, seed: int) -> list[list[int]]:
    """Sentences from the Sampler's random stream, drawn plainly: a uniform per open
    nonterminal, level by level; the rule whose cumulative weight first exceeds
    floor(U * total); then each tree read depth-first."""
    rng = np.random.default_rng(seed)
    v, k = grammar.n_terminals, grammar.n_nonterminals
    options = [np.flatnonzero(grammar.rule_lhs == i) for i in range(k)]
    roots = [[v + int(i)] for i in rng.integers(0, k, size=n)]  # a node: [symbol, *children]
    level = roots
    while level:
        following = []
        for node, u in zip(level, rng.random(len(level)), strict=True):
            w = grammar.rule_weight[options[node[0] - v]]
            slot = min(int(u * w.sum()), w.sum() - 1)
            r = options[node[0] - v][np.searchsorted(np.cumsum(w), slot, side="right")]
            node.extend([s] for s in grammar.rule(r))
            following.extend(c for c in node[1:] if c[0] >= v)
        level = following
    sentences = []
    for root in roots:
        words, stack = [], [root]
        while stack:
            node = stack.pop()
            if node[0] < v:
                words.append(node[0])
            stack.extend(reversed(node[1:]))
        sentences.append(words)
    return sentences


@pytest.mark.parametrize("shape", [(20, 300, 10, 5), (50, 500, 20, 15)])
def test_words_come_out_in_depth_first_order(shape):
    # Lengths and unigram counts cannot see the order of the words; a plain tree walk on the
    # same random stream can.
    g = make_grammar(GrammarSpec(*shape, seed=0))
    s = Sampler(g, batch=400).sample(400, seed=2)
    assert s.n_rejected == 0
    assert [s.sentence(j) for j in range(len(s))] == level_by_level(g, 400, seed=2)
