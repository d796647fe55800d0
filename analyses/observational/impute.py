"""Iterative low-rank imputation of missing benchmark scores (the released ``pca_impute``).

Ruan, Maddison & Hashimoto (2024) fill the holes of the model x benchmark matrix before the PCA:

1. z-score every column with its NaN-ignoring mean and standard deviation (``ddof=0``; a
   column of zero spread keeps scale 1, as scikit-learn's ``StandardScaler``), computed on
   the **training rows only**;
2. fill each hole with its column's mean (0 after scaling);
3. repeat up to ``max_iter`` times: fit a centred rank-``n_components`` PCA, reconstruct, and
   overwrite **only the holes** with the reconstruction; the loop stops early only when the
   whole matrix is within ``tol`` of its reconstruction (``np.allclose(..., atol=tol)``), which
   the observed cells practically never are;
4. undo the scaling and clip every cell to ``clip`` ([0, 1]).

Rows of a test set are filled with the training fit: the training scaler, the training
column means, and the last PCA of the training loop, iterated the same way.

One exact shortcut: when an iteration leaves the matrix bit-for-bit unchanged, every later
iteration would repeat it, so the loop stops there; the result equals that of running all
``max_iter`` iterations (on the 77-model base set the fixed point comes after ~30).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.errors import MetaError
from warehouse.validation import check_fitted, interval, validate


@dataclass(frozen=True)
class _LowRank:
    """A centred rank-k PCA of the scaled matrix: ``mean (p,)`` and ``components (k, p)``."""

    mean: np.ndarray
    components: np.ndarray

    def reconstruct(self, Z: np.ndarray) -> np.ndarray:
        C = Z - self.mean
        return self.mean + (C @ self.components.T) @ self.components


def _low_rank(Z: np.ndarray, k: int) -> _LowRank:
    mean = Z.mean(axis=0)
    _, _, Vt = np.linalg.svd(Z - mean, full_matrices=False)
    return _LowRank(mean, Vt[:k])


def _iterate(Z: np.ndarray, missing: np.ndarray, step, max_iter: int, tol: float) -> int:
    """Overwrite ``Z[missing]`` with ``step(Z)`` until converged; returns iterations run."""
    for it in range(1, max_iter + 1):
        R = step(Z)
        if (np.abs(Z - R) <= tol + 1e-5 * np.abs(R)).all():  # np.allclose(Z, R, atol=tol)
            return it
        new = R[missing]
        if np.array_equal(new, Z[missing]):
            return it
        Z[missing] = new
    return max_iter


class RankOneImputer:
    """Fill NaN cells of a score matrix by iterative low-rank PCA on z-scored columns.

    Parameters
    ----------
    n_components : int, default=1
        Rank of the reconstruction (the paper's code uses 1).
    max_iter : int, default=1000
    tol : float, default=1e-4
        ``atol`` of the (whole-matrix) stopping test.
    clip : tuple of float or None, default=(0.0, 1.0)
        Bounds applied to every cell after un-scaling.

    Attributes
    ----------
    mean_, scale_ : ndarray, shape (n_features,)
        The training scaler.
    fill_ : ndarray, shape (n_features,)
        Initial fill of a hole, in scaled units (the scaled column mean, 0 up to round-off).
    components_ : ndarray, shape (n_components, n_features)
        Loadings of the last PCA of the training loop (scaled units).
    pca_mean_ : ndarray, shape (n_features,)
    n_iter_ : int
        Iterations of the training loop.
    n_missing_ : int
        Training cells that were imputed.

    References
    ----------
    Ruan, Maddison & Hashimoto (2024), ``utils/data.py:pca_impute`` of ryoungj/ObsScaling.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.outer(np.linspace(0.2, 0.8, 6), [1.0, 0.9, 0.5]) + 0.05
    >>> X[1, 2] = np.nan
    >>> imp = RankOneImputer().fit(X)
    >>> round(float(imp.transform(X)[1, 2]), 4)  # 0.32 * 0.5 + 0.05
    0.21
    """

    def __init__(self, *, n_components: int = 1, max_iter: int = 1000, tol: float = 1e-4,
                 clip: tuple[float, float] | None = (0.0, 1.0)):
        self.n_components = n_components
        self.max_iter = max_iter
        self.tol = tol
        self.clip = clip

    def _validate(self, X) -> np.ndarray:
        X = np.array(X, dtype=float)
        if X.ndim != 2:
            raise MetaError(f"RankOneImputer needs a 2-D matrix; got shape {X.shape}.")
        return X

    def fit(self, X) -> RankOneImputer:
        """Fit the scaler and the low-rank model on ``X`` (NaN = missing)."""
        self._fit_transform(self._validate(X))
        return self

    def fit_transform(self, X) -> np.ndarray:
        """Fit on ``X`` and return it with its holes filled."""
        return self._fit_transform(self._validate(X))

    def _fit_transform(self, X: np.ndarray) -> np.ndarray:
        validate(self, {"n_components": interval(int, 1, X.shape[1], closed="both")})
        missing = np.isnan(X)
        empty = np.flatnonzero(missing.all(axis=0))
        if empty.size:
            raise MetaError(
                f"Column {int(empty[0])} has no observed value in the training rows; "
                "it cannot be imputed."
            )
        mean = np.nanmean(X, axis=0)
        scale = np.nanstd(X, axis=0)
        scale = np.where(scale > 10 * np.finfo(float).eps, scale, 1.0)
        Z = (X - mean) / scale
        fill = np.nanmean(Z, axis=0)
        Z = np.where(missing, fill, Z)
        state = {"pca": _low_rank(Z, self.n_components)}

        def step(Z: np.ndarray) -> np.ndarray:
            state["pca"] = _low_rank(Z, self.n_components)
            return state["pca"].reconstruct(Z)

        n_iter = _iterate(Z, missing, step, self.max_iter, self.tol) if missing.any() else 0
        self.mean_, self.scale_, self.fill_ = mean, scale, fill
        self.components_ = state["pca"].components
        self.pca_mean_ = state["pca"].mean
        self.n_iter_ = n_iter
        self.n_missing_ = int(missing.sum())
        return self._unscale(Z)

    def transform(self, X) -> np.ndarray:
        """Fill the holes of (test) rows with the training fit; observed cells are kept
        (clipped)."""
        check_fitted(self, "components_", "transform")
        X = self._validate(X)
        if X.shape[1] != self.mean_.size:
            raise MetaError(
                f"X has {X.shape[1]} columns, but RankOneImputer was fitted with "
                f"{self.mean_.size}."
            )
        missing = np.isnan(X)
        Z = (X - self.mean_) / self.scale_
        Z = np.where(missing, self.fill_, Z)
        if missing.any():
            pca = _LowRank(self.pca_mean_, self.components_)
            _iterate(Z, missing, pca.reconstruct, self.max_iter, self.tol)
        return self._unscale(Z)

    def _unscale(self, Z: np.ndarray) -> np.ndarray:
        out = Z * self.scale_ + self.mean_
        if self.clip is not None:
            out = np.clip(out, self.clip[0], self.clip[1])
        return out
