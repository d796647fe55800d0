"""Principal components of benchmark scores, and the capability space built on them.

:class:`PCA` is scikit-learn's ``PCA(svd_solver="full")`` in numpy: centre (never scale), thin
SVD, signs fixed as ``svd_flip(u_based_decision=False)`` does (the largest-magnitude loading
of every component is positive), and the same attribute names.

:class:`CapabilitySpace` is the paper's preprocessing (``pca_preprocess_data``): impute the
training rows (:class:`~analyses.observational.impute.RankOneImputer`), fit the PCA on the
imputed training rows, and map any rows (training, test, or a warehouse checkpoint with only
a few benchmarks) to capability scores ``PC-1 .. PC-K`` with the training fit.
"""

from __future__ import annotations

import numpy as np

from analyses.observational.impute import RankOneImputer, check_fitted
from warehouse.errors import MetaError


class PCA:
    """Principal component analysis on centred (not standardised) data.

    Parameters
    ----------
    n_components : int or None, default=None
        Components kept; None keeps ``min(n_samples, n_features)``.

    Attributes
    ----------
    components_ : ndarray, shape (n_components, n_features)
        Loadings, rows of unit norm, the largest-magnitude entry of each row positive.
    explained_variance_ : ndarray, shape (n_components,)
        ``S**2 / (n_samples - 1)``.
    explained_variance_ratio_ : ndarray, shape (n_components,)
        Share of the total variance (of all components, not only those kept).
    singular_values_ : ndarray, shape (n_components,)
    mean_ : ndarray, shape (n_features,)
    n_samples_, n_features_in_ : int

    References
    ----------
    scikit-learn ``sklearn.decomposition.PCA`` and ``sklearn.utils.extmath.svd_flip``.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.array([[0.0, 0.0], [1.0, 1.1], [2.0, 1.9], [3.0, 3.0]])
    >>> pca = PCA(n_components=1).fit(X)
    >>> np.round(pca.components_, 3)
    array([[0.714, 0.701]])
    >>> round(float(pca.explained_variance_ratio_[0]), 4)
    0.9991
    """

    def __init__(self, n_components: int | None = None):
        self.n_components = n_components

    def fit(self, X) -> PCA:
        """Fit the components of ``X`` (no NaN)."""
        X = np.asarray(X, dtype=float)
        if X.ndim != 2 or np.isnan(X).any():
            raise MetaError("PCA needs a 2-D matrix without missing values; impute it first.")
        n, p = X.shape
        k = min(n, p) if self.n_components is None else self.n_components
        if not (isinstance(k, int) and 1 <= k <= min(n, p)):
            raise MetaError(
                "The 'n_components' parameter of PCA must be an int in the range "
                f"[1, {min(n, p)}]. Got {self.n_components!r} instead."
            )
        self.mean_ = X.mean(axis=0)
        U, S, Vt = np.linalg.svd(X - self.mean_, full_matrices=False)
        signs = np.sign(Vt[np.arange(Vt.shape[0]), np.argmax(np.abs(Vt), axis=1)])
        signs[signs == 0] = 1.0
        Vt = Vt * signs[:, None]
        variance = S**2 / max(n - 1, 1)
        total = variance.sum()
        self.components_ = Vt[:k]
        self.singular_values_ = S[:k]
        self.explained_variance_ = variance[:k]
        self.explained_variance_ratio_ = variance[:k] / total if total > 0 else variance[:k]
        self.n_samples_, self.n_features_in_ = n, p
        return self

    def transform(self, X) -> np.ndarray:
        """Scores ``(X - mean_) @ components_.T``, shape (n_samples, n_components)."""
        check_fitted(self, "components_")
        return (np.asarray(X, dtype=float) - self.mean_) @ self.components_.T

    def fit_transform(self, X) -> np.ndarray:
        """``fit(X).transform(X)``."""
        return self.fit(X).transform(X)


class CapabilitySpace:
    """Impute, then PCA, both fitted on training rows: the paper's capability measures.

    Parameters
    ----------
    n_components : int, default=5
        Components of the PCA (the code fits 5 and regresses on the first K).
    impute : bool, default=True
        Fill holes with :class:`RankOneImputer` (else rows with holes are an error).
    max_iter : int, default=1000
        Imputation iterations.

    Attributes
    ----------
    imputer_ : RankOneImputer or None
    pca_ : PCA
    n_components_ : int
        Components actually kept (``min(n_components, n_train, n_features)``).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> X = np.clip(np.outer(rng.uniform(0, 1, 30), [0.8, 0.6, 0.7, 0.5]) + 0.1
    ...             + 0.01 * rng.standard_normal((30, 4)), 0, 1)
    >>> X[3, 1] = np.nan
    >>> space = CapabilitySpace(n_components=2).fit(X)
    >>> space.transform(X).shape
    (30, 2)
    >>> bool(space.pca_.explained_variance_ratio_[0] > 0.95)
    True
    """

    def __init__(self, n_components: int = 5, *, impute: bool = True, max_iter: int = 1000):
        self.n_components = n_components
        self.impute = impute
        self.max_iter = max_iter

    def fit(self, X) -> CapabilitySpace:
        """Fit the imputer and the PCA on training rows ``X`` (NaN = missing)."""
        X = np.array(X, dtype=float)
        if self.impute:
            self.imputer_ = RankOneImputer(max_iter=self.max_iter)
            filled = self.imputer_.fit_transform(X)
        else:
            self.imputer_ = None
            filled = X
        self.n_components_ = min(self.n_components, *filled.shape)
        self.pca_ = PCA(self.n_components_).fit(filled)
        self.train_filled_ = filled
        return self

    def fill(self, X) -> np.ndarray:
        """Rows of ``X`` with their holes filled by the training fit."""
        check_fitted(self, "pca_")
        X = np.array(X, dtype=float)
        if self.imputer_ is None:
            return X
        return self.imputer_.transform(X)

    def transform(self, X) -> np.ndarray:
        """Capability scores ``PC-1 .. PC-n_components_`` of rows of ``X``."""
        return self.pca_.transform(self.fill(X))

    @property
    def components_(self) -> np.ndarray:
        """The PCA loadings, shape (n_components_, n_features)."""
        check_fitted(self, "pca_")
        return self.pca_.components_

    @property
    def explained_variance_ratio_(self) -> np.ndarray:
        """The PCA's explained variance ratios."""
        check_fitted(self, "pca_")
        return self.pca_.explained_variance_ratio_
