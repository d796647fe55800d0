"""A batch of law-fitting problems: one padded array per quantity, the law axis first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LawBatch:
    """Points of ``n_laws`` fitting problems, padded to a common length.

    Attributes
    ----------
    x : ndarray, shape (n_laws, n_points, k)
        Inputs, one column per name in ``columns`` (``N`` parameters, ``D`` tokens seen,
        ``C`` FLOPs, ``U`` unique tokens). Padding holds 1.0.
    y : ndarray, shape (n_laws, n_points)
        Observed loss (the warehouse's ``perf``). Padding holds 1.0.
    mask : ndarray of bool, shape (n_laws, n_points)
        True for real points, False for padding.
    columns : tuple of str
        Names of the last axis of ``x``.
    keys : tuple of str, optional
        One label per law (a family, a ``train_spec`` digest); carried into results.

    Examples
    --------
    >>> b = LawBatch.from_ragged([[(1e8, 1e9), (2e8, 1e9)], [(1e8, 2e9)]], [[3.1, 3.0], [3.2]])
    >>> b.x.shape, b.n_points.tolist()
    ((2, 2, 2), [2, 1])
    """

    x: np.ndarray
    y: np.ndarray
    mask: np.ndarray
    columns: tuple[str, ...] = ("N", "D")
    keys: tuple[str, ...] | None = None

    def __post_init__(self):
        x = np.ascontiguousarray(self.x, dtype=float)
        y = np.ascontiguousarray(self.y, dtype=float)
        mask = np.ascontiguousarray(self.mask, dtype=bool)
        if x.ndim != 3 or y.shape != x.shape[:2] or mask.shape != y.shape:
            raise ValueError(f"LawBatch needs x (n_laws, n_points, k), y and mask (n_laws, "
                             f"n_points); got {x.shape}, {y.shape}, {mask.shape}.")
        if x.shape[2] != len(self.columns):
            raise ValueError(f"x has {x.shape[2]} columns but {len(self.columns)} names "
                             f"{self.columns}.")
        if self.keys is not None and len(self.keys) != x.shape[0]:
            raise ValueError(f"{len(self.keys)} keys for {x.shape[0]} laws.")
        # Padding must stay finite under log(): 1.0 everywhere masked out.
        x = np.where(mask[..., None], x, 1.0)
        y = np.where(mask, y, 1.0)
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "mask", mask)
        if self.keys is not None:
            object.__setattr__(self, "keys", tuple(self.keys))

    @classmethod
    def from_ragged(cls, xs: Sequence, ys: Sequence, columns: Sequence[str] = ("N", "D"),
                    keys: Sequence[str] | None = None) -> LawBatch:
        """Pad per-law ``x (n_i, k)`` and ``y (n_i,)`` arrays into one batch."""
        xs = [np.asarray(v, dtype=float).reshape(len(v), len(columns)) for v in xs]
        ys = [np.asarray(v, dtype=float).ravel() for v in ys]
        n = max((len(v) for v in ys), default=0)
        X = np.ones((len(xs), n, len(columns)))
        Y = np.ones((len(xs), n))
        M = np.zeros((len(xs), n), dtype=bool)
        for i, (xi, yi) in enumerate(zip(xs, ys, strict=True)):
            X[i, :len(yi)], Y[i, :len(yi)], M[i, :len(yi)] = xi, yi, True
        return cls(X, Y, M, tuple(columns), None if keys is None else tuple(keys))

    @classmethod
    def single(cls, y, columns: Sequence[str] = ("N", "D"), **cols) -> LawBatch:
        """One law from named 1-D columns: ``LawBatch.single(loss, N=n, D=d)``."""
        y = np.asarray(y, dtype=float).ravel()
        x = np.stack([np.broadcast_to(np.asarray(cols[c], dtype=float), y.shape)
                      for c in columns], axis=-1)
        return cls(x[None], y[None], np.ones((1, y.size), dtype=bool), tuple(columns))

    @property
    def n_laws(self) -> int:
        return self.x.shape[0]

    @property
    def n_points(self) -> np.ndarray:
        """Real points per law, ``(n_laws,)``."""
        return self.mask.sum(1)

    def inputs(self, names: Sequence[str]) -> np.ndarray:
        """The columns a form reads, ``(n_laws, n_points, len(names))``."""
        missing = [c for c in names if c not in self.columns]
        if missing:
            raise ValueError(f"the batch has no column {missing[0]!r}; it has "
                             f"{', '.join(self.columns)}.")
        return np.ascontiguousarray(self.x[..., [self.columns.index(c) for c in names]])

    def take(self, laws) -> LawBatch:
        """A batch of the given law indices (repeats allowed)."""
        laws = np.asarray(laws, dtype=int)
        keys = None if self.keys is None else tuple(self.keys[i] for i in laws)
        return LawBatch(self.x[laws], self.y[laws], self.mask[laws], self.columns, keys)

    def resample(self, n_resamples: int, seed: int) -> tuple[LawBatch, np.ndarray]:
        """Bootstrap resamples of every law's points (with replacement).

        Returns a batch of ``n_resamples * n_laws`` laws (resample-major: law ``i`` of resample
        ``r`` is row ``r * n_laws + i``) and the drawn point indices
        ``(n_resamples, n_laws, n_points)`` (padding slots repeat the law's padding).
        """
        rng = np.random.default_rng(seed)
        n = self.n_points
        width = self.x.shape[1]
        u = rng.random((n_resamples, self.n_laws, width))
        idx = np.minimum((u * n[None, :, None]).astype(int), np.maximum(n - 1, 0)[None, :, None])
        # padded slots point at themselves so they stay padding
        slot = np.arange(width)[None, None, :]
        idx = np.where(slot < n[None, :, None], idx, slot)
        laws = np.broadcast_to(np.arange(self.n_laws)[None, :, None], idx.shape)
        X = self.x[laws, idx].reshape(-1, width, self.x.shape[2])
        Y = self.y[laws, idx].reshape(-1, width)
        M = self.mask[laws, idx].reshape(-1, width)
        keys = None if self.keys is None else self.keys * n_resamples
        return LawBatch(X, Y, M, self.columns, keys), idx

    def resample_groups(self, groups: np.ndarray, n_resamples: int,
                        seed: int) -> LawBatch:
        """Bootstrap resamples of whole groups of points (e.g. the runs of a family): each
        resample of a law draws as many groups as it has, with replacement, and keeps all
        their points.

        Parameters
        ----------
        groups : ndarray of int, shape (n_laws, n_points)
            The group of each point (padding ignored).
        n_resamples : int
        seed : int

        Returns
        -------
        LawBatch
            ``n_resamples * n_laws`` laws, resample-major, padded to the longest.
        """
        rng = np.random.default_rng(seed)
        xs, ys = [], []
        members = []
        for i in range(self.n_laws):
            m = self.mask[i]
            g = np.asarray(groups[i])[m]
            labels = np.unique(g)
            members.append((np.flatnonzero(m), g, labels))
        for _ in range(n_resamples):
            for i, (rows, g, labels) in enumerate(members):
                drawn = rng.choice(labels, size=labels.size, replace=True)
                take = np.concatenate([rows[g == label] for label in drawn])
                xs.append(self.x[i, take])
                ys.append(self.y[i, take])
        keys = None if self.keys is None else self.keys * n_resamples
        return LawBatch.from_ragged(xs, ys, self.columns, keys)
