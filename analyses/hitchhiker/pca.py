"""Study 10 of the Hitchhiker's Guide (Sec. 9): how many degrees of freedom fitted laws have.

The paper runs a PCA over the fitted parameters (a, b, e, alpha, beta) = (log A, log B,
log E, alpha, beta) of one law per family, the law fitted on the most training models and the
whole runs (the released code's ``opts_explained``: per scaled family, the row with the
largest number of training models and the largest p), centred but not scaled, and reports
that 3 components explain 99.49% of the variance.

Here the same PCA is scikit-learn's (``svd_solver="full"``; the largest loading of each
component positive).

References
----------
Choshen, Zhang & Andreas (2024), Sec. 9 and ``PCA_chinchilla_power_law_fit`` in
IBM/ColPret ``fitting_funcs.py``.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.decomposition import PCA

from analyses.hitchhiker.paper import PAPER_FAMILIES
from analyses.hitchhiker.tables import Selection
from warehouse.sql import query

PARAMS = ("a", "b", "e", "alpha", "beta")
SELECTIONS = ("full", "all")
PAPER_EVR3 = 0.9949  # "3 components explain 99.49% of the variance"
# The first three rows of the loadings hard-coded in the released PCA fit, over PARAMS.
PAPER_COMPONENTS = np.array(
    [
        [-0.1017, 0.6475, 0.7546, -0.0077, 0.0312],
        [0.0730, 0.7611, -0.6441, 0.0029, 0.0219],
        [0.9906, 0.0114, 0.1252, 0.0489, -0.0212],
    ]
)

_LAWS = """
SELECT l.law_id AS law_id, l.family, l.estimator, len(l.train_spec.models) AS k,
       l.train_spec.fraction AS fraction,
       ln(l.params.A) AS a, ln(l.params.B) AS b, ln(l.params.E) AS e,
       l.params.alpha AS alpha, l.params.beta AS beta
FROM laws l
JOIN law_sets s ON s.law_id = l.law_id AND s.conventions = ?
WHERE l.study = ? AND l.estimator = ? AND l.status = 'ok' AND l.params IS NOT NULL
  AND (NOT ? OR l.unidentified IS NULL)
  AND l.params.A > 0 AND l.params.B > 0 AND l.params.E > 0
ORDER BY l.family, k, fraction
"""


def fit_pca(x: np.ndarray) -> PCA:
    """scikit-learn's PCA of the rows of ``x``, centred, not scaled, every component kept.

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features)
        At least two rows, all finite.

    Returns
    -------
    sklearn.decomposition.PCA
        Fitted with ``svd_solver="full"`` (so the largest loading of each component is
        positive, ``svd_flip(u_based_decision=False)``).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(50, 2)) @ rng.normal(size=(2, 5))  # rank 2
    >>> round(cumulative(fit_pca(x), 2), 10)
    1.0
    """
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"PCA needs a 2-d array with at least 2 rows; got shape {x.shape}.")
    if not np.isfinite(x).all():
        raise ValueError("PCA needs finite values; drop rows with NaN or infinite entries.")
    return PCA(min(x.shape), svd_solver="full").fit(x)


def cumulative(fit: PCA, k: int) -> float:
    """Share of the variance explained by the first ``k`` components."""
    return float(fit.explained_variance_ratio_[:k].sum())


def law_params(
    con, estimator: str, *, selection: str = "full", study: str = "num-models",
    sel: Selection = Selection(),
) -> pl.DataFrame:
    """The log-space parameters of the laws a PCA is run on.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    estimator : str
    selection : {"full", "all"}, default="full"
        ``full``: per family, the law on the most training models with the largest p (the
        paper's choice, one law per family, including families left out of aggregates);
        ``all``: every law of the study.
    study : str, default="num-models"
    sel : Selection, optional
        The convention set, whether only laws that their data identify
        (``laws.unidentified`` null), and the paper's families or all
        (:class:`~analyses.hitchhiker.tables.Selection`).

    Returns
    -------
    pl.DataFrame
        ``law_id, family, a, b, e, alpha, beta`` for laws with status ``ok`` and positive
        A, B, E (a law with E = 0 has no log E and is left out).
    """
    if selection not in SELECTIONS:
        raise ValueError(
            f"Unknown selection {selection!r}. Known selections: {', '.join(SELECTIONS)}."
        )
    df = query(con, _LAWS, [sel.conventions, study, estimator, sel.identified])
    if sel.families == "paper":
        df = df.filter(pl.col("family").is_in(list(PAPER_FAMILIES)))
    if selection == "full":
        df = df.group_by("family", maintain_order=True).last()
    finite = pl.all_horizontal([pl.col(c).is_finite() for c in PARAMS])
    return df.filter(finite).select("law_id", "family", *PARAMS)


def param_pca(con, estimator: str, *, selection: str = "full",
              sel: Selection = Selection()) -> tuple[PCA, pl.DataFrame]:
    """The PCA of :func:`law_params` and the laws it ran on."""
    df = law_params(con, estimator, selection=selection, sel=sel)
    return fit_pca(df.select(PARAMS).to_numpy()), df


def explained(con, estimators: tuple[str, ...], selections=SELECTIONS, *,
              sel: Selection = Selection()) -> pl.DataFrame:
    """Explained variance per estimator, law selection and component.

    Returns
    -------
    pl.DataFrame
        ``estimator, selection, n_laws, component (1-5), ratio, cumulative``; no rows for a
        selection with fewer than two laws.
    """
    rows = []
    for est in estimators:
        for which in selections:
            df = law_params(con, est, selection=which, sel=sel)
            if df.height < 2:
                continue
            p = fit_pca(df.select(PARAMS).to_numpy())
            cum = np.cumsum(p.explained_variance_ratio_)
            for i, (r, c) in enumerate(zip(p.explained_variance_ratio_, cum, strict=True)):
                rows.append(
                    {"estimator": est, "selection": which, "n_laws": df.height,
                     "component": i + 1, "ratio": float(r), "cumulative": float(c)}
                )
    schema = {"estimator": pl.String, "selection": pl.String, "n_laws": pl.Int64,
              "component": pl.Int64, "ratio": pl.Float64, "cumulative": pl.Float64}
    return pl.DataFrame(rows, schema=schema)


def loadings(pca: PCA, k: int = 3) -> pl.DataFrame:
    """The first ``k`` components as rows over (a, b, e, alpha, beta)."""
    k = min(k, pca.components_.shape[0])
    return pl.DataFrame(
        {"component": list(range(1, k + 1)),
         **{name: pca.components_[:k, j] for j, name in enumerate(PARAMS)}}
    )
