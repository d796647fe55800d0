"""The capability space: principal components of imputed benchmark scores.

:class:`CapabilitySpace` is the paper's preprocessing (``pca_preprocess_data``): impute the
training rows (:class:`~analyses.observational.impute.RankOneImputer`), fit scikit-learn's
``PCA(svd_solver="full")`` on the imputed training rows (centred, never scaled; signs fixed by
``svd_flip(u_based_decision=False)``, so the largest-magnitude loading of every component is
positive), and map any rows (training, test, or a warehouse checkpoint with only a few
benchmarks) to capability scores ``PC-1 .. PC-K`` with the training fit.
"""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA

from analyses.observational.impute import RankOneImputer
from warehouse.errors import MetaError
from warehouse.validation import check_fitted


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
    pca_ : sklearn.decomposition.PCA
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
        if X.ndim != 2:
            raise MetaError(f"CapabilitySpace needs a 2-D matrix. Got shape {X.shape} instead.")
        if self.impute:
            self.imputer_ = RankOneImputer(max_iter=self.max_iter)
            filled = self.imputer_.fit_transform(X)
        elif np.isnan(X).any():
            raise MetaError("CapabilitySpace(impute=False) needs a matrix without missing "
                            "values; impute it first.")
        else:
            self.imputer_ = None
            filled = X
        self.n_components_ = min(self.n_components, *filled.shape)
        self.pca_ = PCA(self.n_components_, svd_solver="full").fit(filled)
        self.train_filled_ = filled
        return self

    def fill(self, X) -> np.ndarray:
        """Rows of ``X`` with their holes filled by the training fit."""
        check_fitted(self, "pca_")
        X = np.array(X, dtype=float)
        if self.imputer_ is None:
            return X
        return self.imputer_.transform(X)

    def project(self, filled) -> np.ndarray:
        """Capability scores of rows without holes (``train_filled_``, or rows after
        :meth:`fill`).

        Centre, then project: ``PCA.transform`` projects, then subtracts the projected mean,
        which differs in the last bit, and the sigmoid fits of the GSM8K experiments carry
        such a bit into the fourth digit of the report.
        """
        check_fitted(self, "pca_")
        return (np.asarray(filled, dtype=float) - self.pca_.mean_) @ self.pca_.components_.T

    def transform(self, X) -> np.ndarray:
        """Capability scores ``PC-1 .. PC-n_components_`` of rows of ``X``."""
        return self.project(self.fill(X))

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
