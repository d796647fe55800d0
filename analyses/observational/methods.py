"""One experiment's data and its three methods (``pc``, ``flops``, ``size``) fitted on its split.

:func:`load` reads an experiment's models from the warehouse, processes y and splits them;
:func:`fit_method` fits one method's sigmoid on the training split and scores the test split
(:class:`MethodFit`). :mod:`analyses.observational.results` runs all three together, and
:mod:`analyses.observational.bootstrap` refits them on resampled training models.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analyses.observational import data
from analyses.observational.experiments import (
    FLOPS_UNIT,
    LEADERBOARD_FAMILIES,
    LOG_EPS,
    METHODS,
    MODEL_SETS,
    SIZE_UNIT,
    Experiment,
)
from analyses.observational.pca import CapabilitySpace
from analyses.observational.sigmoid import SigmoidParams, SigmoidRegression, mse
from warehouse.errors import MetaError, UnknownName


@dataclass(frozen=True)
class ExperimentData:
    """An experiment's models: features, processed target and split.

    Attributes
    ----------
    experiment : Experiment
    table : polars.DataFrame
        ``model``, ``family``, ``num_params``, ``flops``, the feature columns, ``y_raw``,
        ``y`` (processed) and ``test`` (bool), one row per model with a target value.
    """

    experiment: Experiment
    table: pl.DataFrame

    @property
    def train(self) -> pl.DataFrame:
        """Training rows."""
        return self.table.filter(~pl.col("test"))

    @property
    def test(self) -> pl.DataFrame:
        """Test rows."""
        return self.table.filter(pl.col("test"))


def load(con: duckdb.DuckDBPyConnection, experiment: Experiment) -> ExperimentData:
    """Read an experiment's models from the warehouse, process y and split."""
    exp = experiment
    if exp.models not in MODEL_SETS:
        raise UnknownName("model set", exp.models, MODEL_SETS)
    columns = [*exp.features, exp.target]
    if exp.models == "analysis-set":
        table = data.model_table(con, columns, kind="base", tags=["obs-analysis-set"])
    elif exp.models == "leaderboard":
        table = data.model_table(con, columns, kind="base", families=LEADERBOARD_FAMILIES)
    else:
        table = data.model_table(con, columns, kind="instruct")
    table = table.filter(pl.col(exp.target).is_not_null())
    y = table[exp.target].to_numpy().astype(float)
    if exp.y_range is not None:
        lo, hi = exp.y_range
        y = (y - lo) / (hi - lo)
    flops = table["flops"].fill_null(np.nan).to_numpy().astype(float)
    test = exp.split.is_test(flops, y)
    table = table.select(
        "model", "family", "num_params", "flops", *exp.features,
        pl.col(exp.target).alias("y_raw"),
    ).with_columns(y=pl.Series(y), test=pl.Series(test))
    if table.filter(~pl.col("test")).height < 2:
        raise MetaError(f"Experiment '{exp.name}' has fewer than 2 training models.")
    return ExperimentData(exp, table)


@dataclass(frozen=True, eq=False)
class MethodFit:
    """One method's sigmoid fit on an experiment's training split and its test error.

    Attributes
    ----------
    method : {"pc", "flops", "size"}
    features : tuple of str
        Regressors: ``PC-1 .. PC-K``, ``ln FLOPs (1E21)`` or ``ln size (B)``.
    params : SigmoidParams
    success : bool
        The optimiser reported convergence.
    predictions : polars.DataFrame
        ``model``, ``family``, ``num_params``, ``flops``, ``test``, ``y``, ``y_hat`` and ``z``
        (the linear score ``alpha + beta'x``) of every model the method can score.
    dropped : tuple of str
        Models without the method's regressor (unknown FLOPs or size), left out.
    space : CapabilitySpace or None
        The training-split imputer and PCA (``pc`` only).
    """

    method: str
    features: tuple[str, ...]
    params: SigmoidParams
    success: bool
    predictions: pl.DataFrame
    dropped: tuple[str, ...]
    space: CapabilitySpace | None = None

    def _split(self, test: bool) -> pl.DataFrame:
        return self.predictions.filter(pl.col("test") == test)

    @property
    def train_mse(self) -> float:
        """Mean squared error on the training models (processed-y scale)."""
        t = self._split(False)
        return mse(t["y_hat"], t["y"])

    @property
    def test_mse(self) -> float:
        """Mean squared error on the test models this method can score (NaN for none)."""
        t = self._split(True)
        return mse(t["y_hat"], t["y"])

    @property
    def n_train(self) -> int:
        """Training models fitted."""
        return self._split(False).height

    @property
    def n_test(self) -> int:
        """Test models scored."""
        return self._split(True).height

    def mse_on(self, models: list[str]) -> float:
        """MSE over the given test models."""
        t = self._split(True).filter(pl.col("model").is_in(models))
        return mse(t["y_hat"], t["y"])


def _regressors(table: pl.DataFrame, method: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(x (n,), known (n,) bool, name) of a compute baseline."""
    col, unit, name = {"flops": ("flops", FLOPS_UNIT, "ln FLOPs (1E21)"),
                       "size": ("num_params", SIZE_UNIT, "ln size (B)")}[method]
    raw = table[col].cast(pl.Float64).fill_null(np.nan).to_numpy()
    known = np.isfinite(raw)
    return np.log(raw / unit + LOG_EPS), known, name


def fit_method(train: pl.DataFrame, test: pl.DataFrame, experiment: Experiment, method: str, *,
               n_components: int = 3) -> MethodFit:
    """Fit one method on ``train`` rows and score ``train`` and ``test`` rows.

    Parameters
    ----------
    train, test : polars.DataFrame
        Rows of :attr:`ExperimentData.table` (``test`` may be empty).
    experiment : Experiment
    method : {"pc", "flops", "size"}
    n_components : int, default=3
        K, the PCs regressed on (``pc``).

    Returns
    -------
    MethodFit
    """
    if method not in METHODS:
        raise UnknownName("method", method, METHODS)
    reg = SigmoidRegression(experiment.nonlinearity, loss=experiment.loss, delta=experiment.delta)
    both = pl.concat([train, test], how="vertical_relaxed")
    n_train = train.height
    space = None
    if method == "pc":
        feats = list(experiment.features)
        space = CapabilitySpace(n_components=5).fit(train.select(feats).to_numpy())
        if n_components > space.n_components_:
            raise MetaError(
                f"K = {n_components} components asked, but the training split supports only "
                f"{space.n_components_}."
            )
        scores = np.vstack([
            space.project(space.train_filled_),
            space.transform(test.select(feats).to_numpy()) if test.height else
            np.empty((0, space.n_components_)),
        ])[:, :n_components]
        x, known = scores, np.ones(both.height, dtype=bool)
        names = tuple(f"PC-{i + 1}" for i in range(n_components))
    else:
        x1, known, name = _regressors(both, method)
        x, names = x1[:, None], (name,)
    is_train = np.arange(both.height) < n_train
    fit_rows = is_train & known
    reg.fit(x[fit_rows], both["y"].to_numpy()[fit_rows])
    z = np.full(both.height, np.nan)
    z[known] = reg.score_of(x[known])
    preds = both.select("model", "family", "num_params", "flops", "test", "y").with_columns(
        y_hat=pl.Series(reg.params_.curve(z)), z=pl.Series(z)
    )
    dropped = tuple(both.filter(~pl.Series(known))["model"].to_list())
    preds = preds.filter(pl.Series(known))
    return MethodFit(method, names, reg.params_, reg.success_, preds, dropped, space)
