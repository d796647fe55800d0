"""gzip compressibility H as the paper measured it."""

import gzip
import io

import numpy as np
import pytest

from ingest.pcfg.corpus import make_corpus
from ingest.pcfg.grammar import ISO_VOCAB_GRAMMARS, PAPER_GRAMMARS, GrammarSpec
from ingest.pcfg.gzip import (
    compressibility,
    corpus_compressibility,
    file_compressibility,
    gzip_ratio,
)
from warehouse.errors import MetaError


def paper_gzipability(ids) -> float:
    """The paper's calculate_gzipability (methods/gzip_pcfg.md §1.3), transcribed."""
    data = b"".join(int(i).to_bytes(4, byteorder="big", signed=True) for i in ids)
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb") as f:
        f.write(data)
    return buf.tell() / len(data)


def uniform_rows(v: int, n: int = 1000, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.integers(0, v, 256) for _ in range(n)]


def test_known_values():
    assert gzip_ratio(np.zeros(256, dtype=int)) == pytest.approx(0.028, abs=5e-4)
    for v, expected in ((20, 0.276), (300, 0.501), (2000, 0.609)):
        assert compressibility(uniform_rows(v)).median == pytest.approx(expected, abs=0.003)


def test_same_bytes_as_gzipfile():
    rng = np.random.default_rng(1)
    for v in (2, 20, 300, 40_000):
        for n in (1, 100, 255, 256):
            ids = rng.integers(-v, v, n)
            assert gzip_ratio(ids) == paper_gzipability(ids.tolist())


def test_median_std_and_sampling():
    rows = uniform_rows(300, n=3000)
    h = compressibility(rows, n_rows=1000, seed=5)
    assert h.n_rows == 1000 and h.seed == 5
    assert h == compressibility(rows, n_rows=1000, seed=5)
    ratios = np.array([gzip_ratio(r) for r in rows])
    assert ratios.min() <= h.median <= ratios.max()
    everything = compressibility(rows[:10])
    assert everything.seed is None and everything.median == np.median(ratios[:10])
    assert everything.std == pytest.approx(np.std(ratios[:10], ddof=1))


def test_h_rises_with_grammar_complexity():
    for shapes in (PAPER_GRAMMARS, ISO_VOCAB_GRAMMARS):
        h = [corpus_compressibility(make_corpus(GrammarSpec(*s), 1000, seed=0)).median
             for s in shapes]
        assert np.all(np.diff(h) > 0), h
    # the paper's corpora: 0.11, 0.22, 0.35, 0.42, 0.51, 0.61 (their names)
    assert h[0] == pytest.approx(0.11, abs=0.03)


def test_files(tmp_path):
    c = make_corpus(GrammarSpec(10, 150, 5, 3), 300, seed=0)
    (tmp_path / "rows.txt").write_text(c.to_text())
    direct = corpus_compressibility(c)
    assert file_compressibility(tmp_path / "rows.txt") == direct
    np.save(tmp_path / "rows.npy", np.concatenate([c.row(i) for i in range(c.n_rows)]))
    assert file_compressibility(tmp_path / "rows.npy").n_rows == -(-c.n_tokens // 256)
    (tmp_path / "text.txt").write_text("the cat sat on the mat. " * 400)
    text = file_compressibility(tmp_path / "text.txt")
    assert text.n_rows == 10 and text.median < 0.2
    with pytest.raises(MetaError, match="not found"):
        file_compressibility(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(MetaError, match="empty"):
        file_compressibility(tmp_path / "empty.txt")
