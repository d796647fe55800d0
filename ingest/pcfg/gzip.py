"""gzip compressibility H of a corpus, as Pandey (2024) measured it.

The paper's ``data_utils.calculate_gzipability`` (methods/gzip_pcfg.md §1.3): one row's token
ids, each as a 4-byte big-endian signed integer, concatenated, compressed by
``gzip.GzipFile`` at its default level 9 (header and trailer included, 18 bytes);
H = compressed bytes / raw bytes (lower is more compressible). A corpus's H is the median over
1,000 randomly drawn rows (the paper drew them unseeded; here the draw takes a seed), reported
with the sample standard deviation. The paper's Eq. 3 writes the mean; its code and tables use
the median, as here; :class:`Compressibility` has both.

The same gzip stream is built with ``zlib.compress(level 9, raw deflate)`` plus the fixed 18
bytes, which gives the same size as ``GzipFile`` without its per-call overhead.

Also for text or token files a user gives (:func:`file_compressibility`): a token file holds
whitespace-separated integer ids, one row per line (the paper's dataset format); ``.npy`` holds
ids (2-D: one row per row; 1-D: cut into 256-token rows); any other text is measured as raw
UTF-8 (the paper's "raw string" variant, Fig. 1), in 1,024-byte pieces (the size of a 256-token
row's bytes).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from warehouse.errors import MetaError

LEVEL = 9  # gzip.GzipFile's default compresslevel, which the paper used
GZIP_OVERHEAD = 18  # 10-byte header (no file name) + 8-byte trailer (CRC32, size)
N_ROWS = 1000  # rows sampled per corpus (methods/gzip_pcfg.md §1.3)
ROW_TOKENS = 256
TEXT_CHUNK = 4 * ROW_TOKENS


def gzip_ratio_bytes(data: bytes) -> float:
    """Compressed / raw size of ``data`` under gzip level 9 (header and trailer included).

    Examples
    --------
    >>> round(gzip_ratio_bytes(bytes(1024)), 3)
    0.028
    """
    if not data:
        raise MetaError("Cannot measure the compressibility of an empty row.")
    return (len(zlib.compress(data, LEVEL, wbits=-15)) + GZIP_OVERHEAD) / len(data)


def gzip_ratio(tokens: Sequence[int] | np.ndarray) -> float:
    """H of one row of token ids: each id as a 4-byte big-endian signed int, gzip level 9.

    Examples
    --------
    >>> round(gzip_ratio([0] * 256), 4)
    0.0283
    """
    ids = np.asarray(tokens, dtype=np.int64)
    if ids.size and (ids.min() < -2**31 or ids.max() >= 2**31):
        raise MetaError("Token ids must fit in 4-byte signed integers.")
    return gzip_ratio_bytes(ids.astype(">i4").tobytes())


@dataclass(frozen=True)
class Compressibility:
    """H of a corpus: statistics of per-row gzip ratios.

    Attributes
    ----------
    median : float
        The paper's H (median over the sampled rows).
    std : float
        Sample standard deviation (ddof=1) over the sampled rows; 0 for one row.
    mean : float
        The mean (the paper's Eq. 3 as written).
    n_rows : int
        Rows measured.
    seed : int or None
        Seed of the row draw (None when every row was measured).
    """

    median: float
    std: float
    mean: float
    n_rows: int
    seed: int | None

    def to_dict(self) -> dict:
        """JSON-able fields."""
        return {"median": self.median, "std": self.std, "mean": self.mean,
                "n_rows": self.n_rows, "seed": self.seed}


def compressibility(rows: Sequence[np.ndarray], *, n_rows: int = N_ROWS, seed: int = 0,
                    as_bytes: bool = False) -> Compressibility:
    """Median and standard deviation of H over ``n_rows`` rows drawn without replacement.

    Parameters
    ----------
    rows : sequence of 1-D int arrays (or bytes with ``as_bytes``)
        The corpus, one entry per row (real tokens only, no padding).
    n_rows : int, default=1000
        Rows sampled; every row when the corpus has fewer.
    seed : int, default=0
        Seed of the draw.
    as_bytes : bool, default=False
        Rows are raw bytes (the "raw string" variant), not token ids.

    Returns
    -------
    Compressibility

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> h = compressibility([rng.integers(0, 20, 256) for _ in range(200)])
    >>> round(h.median, 2)
    0.28
    """
    total = len(rows)
    if total == 0:
        raise MetaError("Cannot measure the compressibility of an empty corpus.")
    if total <= n_rows:
        pick, used_seed = np.arange(total), None
    else:
        pick, used_seed = np.random.default_rng(seed).choice(total, n_rows, replace=False), seed
    measure = gzip_ratio_bytes if as_bytes else gzip_ratio
    h = np.array([measure(rows[i]) for i in pick])
    std = float(h.std(ddof=1)) if h.size > 1 else 0.0
    return Compressibility(float(np.median(h)), std, float(h.mean()), int(h.size), used_seed)


def corpus_compressibility(corpus, *, n_rows: int = N_ROWS, seed: int = 0) -> Compressibility:
    """H of a :class:`~ingest.pcfg.corpus.Corpus` (each row's real tokens, separators in)."""
    return compressibility([corpus.row(i) for i in range(corpus.n_rows)], n_rows=n_rows,
                           seed=seed)


def read_rows(path: Path, *, text: bool | None = None) -> tuple[list, bool]:
    """The rows of a user's file and whether they are raw bytes.

    A ``.npy`` file holds ids; a text file whose fields are all integers holds one row of ids
    per line; any other file (or ``text=True``) is raw text in 1,024-byte pieces.
    """
    path = Path(path)
    if not path.is_file():
        raise MetaError(f"{path} not found.")
    if path.suffix == ".npy" and not text:
        ids = np.load(path, allow_pickle=False)
        if not np.issubdtype(ids.dtype, np.integer):
            raise MetaError(f"{path}: expected integer token ids, got {ids.dtype}.")
        if ids.ndim == 1:
            ids = [ids[i:i + ROW_TOKENS] for i in range(0, len(ids), ROW_TOKENS)]
        return list(ids), False
    data = path.read_bytes()
    if not text:
        try:
            rows = [np.array(line.split(), dtype=np.int64) for line in data.splitlines()
                    if line.strip()]
            return rows, False
        except ValueError:
            if text is False:
                raise MetaError(f"{path}: not a token file (whitespace-separated integer ids, "
                                f"one row per line).") from None
    return [data[i:i + TEXT_CHUNK] for i in range(0, len(data), TEXT_CHUNK)], True


def file_compressibility(path: Path, *, text: bool | None = None, n_rows: int = N_ROWS,
                         seed: int = 0) -> Compressibility:
    """H of a user's token or text file (see :func:`read_rows`)."""
    rows, as_bytes = read_rows(path, text=text)
    if not rows:
        raise MetaError(f"{path} is empty.")
    return compressibility(rows, n_rows=n_rows, seed=seed, as_bytes=as_bytes)
