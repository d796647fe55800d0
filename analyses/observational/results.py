"""One experiment run: every method on the same split, with the derived views
(:class:`ExperimentResult`: test errors, the benchmark weights, Llama-2-equivalent FLOPs and
optional bootstrap intervals)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace

import duckdb
import numpy as np
import polars as pl

from analyses.executor import one_thread
from analyses.observational.bootstrap import Bootstrap, bootstrap
from analyses.observational.equivalent_flops import LogLinear, equivalent_flops
from analyses.observational.experiments import METHODS, Experiment, Split, get_experiment
from analyses.observational.methods import (
    ExperimentData,
    MethodFit,
    fit_method,
    load,
)
from warehouse.errors import MetaError


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """Every method of one experiment, on the same split.

    Attributes
    ----------
    experiment : Experiment
        As run (with any cutoff override).
    n_components : int
        K of the ``pc`` method.
    data : ExperimentData
    methods : dict of str to MethodFit
    common_test : tuple of str
        Test models every method scores.
    equivalent : LogLinear or None
        The reference-family line of the ``pc`` fit's linear score against log10 FLOPs (None
        when the reference family has fewer than two models with FLOPs here).
    weights : dict of str to float
        The benchmark-weight view: beta' V_K, the ``pc`` fit's weights carried back to the
        benchmarks (logit units per unit of accuracy).
    bootstrap : analyses.observational.bootstrap.Bootstrap or None
    seconds : float
    """

    experiment: Experiment
    n_components: int
    data: ExperimentData
    methods: dict[str, MethodFit]
    common_test: tuple[str, ...]
    equivalent: LogLinear | None
    weights: dict[str, float]
    bootstrap: Bootstrap | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def mse_table(self) -> pl.DataFrame:
        """One row per method: training and test sizes and MSEs, and the common-test MSE."""
        rows = []
        for name, fit in self.methods.items():
            rows.append({
                "method": name, "features": ", ".join(fit.features), "n_train": fit.n_train,
                "train_mse": fit.train_mse, "n_test": fit.n_test, "test_mse": fit.test_mse,
                "n_test_common": len(self.common_test),
                "test_mse_common": fit.mse_on(list(self.common_test)),
                "dropped": len(fit.dropped),
            })
        return pl.DataFrame(rows)

    def to_dict(self) -> dict:
        """A JSON-able summary (what ``meta obs fit --json`` prints)."""
        exp = self.experiment
        out = {
            "experiment": exp.name, "target": exp.target, "title": exp.title,
            "models": exp.models, "features": list(exp.features),
            "split": {"kind": exp.split.kind, "value": exp.split.value,
                      "rule": exp.split.describe()},
            "y_range": list(exp.y_range) if exp.y_range else None,
            "nonlinearity": exp.nonlinearity, "loss": exp.loss,
            "delta": exp.delta if exp.loss == "huber" else None,
            "n_components": self.n_components, "provenance": exp.provenance,
            "n_models": self.data.table.height, "common_test": list(self.common_test),
            "methods": {}, "weights": self.weights,
            "equivalent_flops": None if self.equivalent is None else {
                "ref_family": exp.ref_family, "slope": self.equivalent.slope,
                "intercept": self.equivalent.intercept, "n": self.equivalent.n},
            "seconds": self.seconds, "notes": list(self.notes),
        }
        for name, fit in self.methods.items():
            out["methods"][name] = {
                "features": list(fit.features), "params": fit.params.to_dict(),
                "converged": fit.success, "n_train": fit.n_train, "train_mse": fit.train_mse,
                "n_test": fit.n_test, "test_mse": fit.test_mse,
                "n_test_common": len(self.common_test),
                "test_mse_common": fit.mse_on(list(self.common_test)),
                "dropped_models": list(fit.dropped),
            }
        if self.bootstrap is not None:
            b = self.bootstrap
            out["bootstrap"] = {
                "method": b.method, "n_resamples": b.n_resamples, "seed": b.seed,
                "level": b.level, "n_failed": b.n_failed, "coverage": b.coverage,
                "intervals": b.table.to_dicts(),
            }
        return out


def run(con: duckdb.DuckDBPyConnection, experiment: Experiment | str, *,
        cutoff_flops: float | None = None, n_components: int = 3, n_bootstrap: int = 0,
        seed: int = 0, level: float = 0.9) -> ExperimentResult:
    """Run one experiment: every method on the same split, plus the derived views.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    experiment : Experiment or str
        An experiment or a registry name (see :data:`EXPERIMENTS`).
    cutoff_flops : float, optional
        Replace the experiment's split by a FLOPs cutoff (in FLOPs, e.g. 8.4e22).
    n_components : int, default=3
        K of the ``pc`` method.
    n_bootstrap : int, default=0
        Resamples of the ``pc`` method's bootstrap intervals (0: none).
    seed : int, default=0
    level : float, default=0.9

    Returns
    -------
    ExperimentResult
    """
    t0 = time.perf_counter()
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    if cutoff_flops is not None:
        if not (cutoff_flops > 0 and math.isfinite(cutoff_flops)):
            raise MetaError(f"--cutoff-flops must be a positive number of FLOPs; got "
                            f"{cutoff_flops!r}.")
        exp = replace(exp, split=Split("cutoff", float(cutoff_flops)))
    if not (isinstance(n_components, int) and 1 <= n_components <= len(exp.features)):
        raise MetaError(
            f"The number of components K must be an int in the range [1, {len(exp.features)}]. "
            f"Got {n_components!r} instead."
        )
    ed = load(con, exp)
    if ed.test.height == 0:
        raise MetaError(f"Experiment '{exp.name}' has no test model under its split "
                        f"({exp.split.describe()}).")
    with one_thread():
        fits = {m: fit_method(ed.train, ed.test, exp, m, n_components=n_components)
                for m in METHODS}
    common = set(ed.test["model"].to_list())
    for fit in fits.values():
        common &= set(fit.predictions.filter(pl.col("test"))["model"].to_list())
    common_test = tuple(m for m in ed.test["model"].to_list() if m in common)
    pc = fits["pc"]
    notes = []
    try:
        line = equivalent_flops(pc.predictions["z"].to_numpy(), pc.predictions["family"].to_list(),
                                pc.predictions["flops"].fill_null(np.nan).to_numpy(),
                                ref_family=exp.ref_family)
    except MetaError as e:
        line = None
        notes.append(str(e))
    components = pc.space.components_[:n_components]
    weights = dict(zip(exp.features, (np.asarray(pc.params.beta) @ components).tolist(),
                       strict=True))
    for name, fit in fits.items():
        if not fit.success:
            notes.append(f"the {name} fit did not report convergence")
        dropped_test = [m for m in fit.dropped if m in set(ed.test["model"].to_list())]
        if dropped_test:
            notes.append(f"{name}: {len(dropped_test)} test model(s) of unknown "
                         f"{'FLOPs' if name == 'flops' else 'size'} dropped")
    boot = None
    if n_bootstrap:
        boot = bootstrap(ed, "pc", n_resamples=n_bootstrap, seed=seed, level=level,
                         n_components=n_components, reference=pc)
    return ExperimentResult(exp, n_components, ed, fits, common_test, line, weights, boot,
                            time.perf_counter() - t0, tuple(notes))
