"""A family's runs from the warehouse: fit, predict a larger run, and say how far to trust it
(what ``meta predict`` prints)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analyses.hitchhiker.protocol import Family
from analyses.hitchhiker.run import load_families
from analyses.predict import calibration, similar
from analyses.predict.law import N_BOOT, Prediction, RunsLaw, fit_runs
from warehouse.errors import MetaError
from warehouse.families import require_families
from warehouse.sql import one, query


@dataclass(frozen=True)
class FamilyPrediction:
    """A prediction for one family.

    Attributes
    ----------
    family : Family
        The runs studied (``family.model_ids``: a sweep's best run, or every run).
    law : RunsLaw
    prediction : Prediction
    optimal : bool
        Whether (params, tokens) are the compute-optimal split of ``flops`` under the law.
    flops : float
        ``6 N D`` of the predicted run.
    calibration_version : dict
        The calibration table's metadata.
    decaying : tuple of str
        Fitted runs with a decaying learning-rate schedule (``hyperparameters.schedule``)
        whose intermediate checkpoints were fitted: those are not equivalent to finished runs
        of their length (fit ``finals_only`` to leave them out).
    """

    family: Family
    law: RunsLaw
    prediction: Prediction
    optimal: bool
    flops: float
    calibration_version: dict
    decaying: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        law = self.law
        return {
            "family": self.family.name,
            "runs": list(law.runs),
            "n_runs_fitted": len(law.runs),
            "n_sizes": law.design.n_sizes,
            "n_points": law.n_points,
            "law": {"form": law.form.name, "params": law.params, "status": law.status,
                    "unidentified": law.unidentified, "borrowed_from": law.borrowed_from},
            "flops": self.flops,
            "compute_optimal": self.optimal,
            "prediction": self.prediction.to_dict(),
            "calibration_version": self.calibration_version,
            "decaying_schedule_runs": list(self.decaying),
        }


def load_family(con: duckdb.DuckDBPyConnection, name: str, *, runs: str = "best") -> Family:
    """One family's usable points as a :class:`Family` (a sweep's best run, or every run)."""
    require_families(con, [name])
    found = load_families(con, [name], runs=runs)
    if not found:
        raise MetaError(f"Family '{name}' has no usable points (a positive size and tokens "
                        "and a finite loss).")
    return found[0]


@dataclass(frozen=True)
class Similar:
    """The public families nearest to one family's law.

    Attributes
    ----------
    law : dict
        The family's own law (:func:`analyses.predict.similar.family_law`).
    ranked : pl.DataFrame
        Public families by distance (``family, source, loss_kind, alpha, beta, reducible,
        distance, same_kind, features`` ...).
    borrow : dict or None
        The public law whose A and alpha a single size borrows.
    """

    law: dict
    ranked: pl.DataFrame
    borrow: dict | None

    def to_dict(self, top: int = 10) -> dict:
        return {"family": self.law["family"], "law": self.law,
                "similar": self.ranked.head(top).to_dicts(), "borrow": self.borrow}


def similar_to(con: duckdb.DuckDBPyConnection, name: str, *, runs: str = "best",
               calibration_dir=None) -> Similar:
    """Rank the public families by how alike their laws are to ``name``'s."""
    family = load_family(con, name, runs=runs)
    source = one(con, "SELECT source FROM families WHERE family = ?", [name])[0]
    kind = similar.loss_kinds(con, [name]).get(name, "loss")
    law = similar.family_law(family, kind, source)
    _, public, _ = calibration.load(calibration_dir)
    ranked = similar.rank(law, public)
    return Similar(law, ranked, similar.borrow(ranked))


def _positive(value: float | None, name: str) -> None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise MetaError(f"{name} must be a positive, finite number; got {value!r}.")


def predict_family(
    con: duckdb.DuckDBPyConnection,
    name: str,
    *,
    params: float | None = None,
    tokens: float | None = None,
    flops: float | None = None,
    runs: str = "best",
    n_boot: int = N_BOOT,
    seed: int = 0,
    calibration_dir=None,
    finals_only: bool = False,
) -> FamilyPrediction:
    """Fit the law on a family's runs and predict the loss of a run of ``params`` x
    ``tokens``, or of the compute-optimal run of ``flops`` (``C = 6 N D``).

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    name : str
        A family in the warehouse (a user's runs or a public family).
    params, tokens : float, optional
        The run to predict (both, or neither with ``flops``).
    flops : float, optional
        Predict the compute-optimal run of this budget under the fitted law.
    runs : {"best", "all"}, default="best"
        Fit each sweep's best run, or every run.
    n_boot : int, default=200
        Resamples of runs for the parameter part of the interval.
    seed : int, default=0
        Seed of the resampling and of the Monte Carlo combination.
    calibration_dir : path, optional
        A calibration table written by ``meta calibrate`` (default: the shipped one).
    finals_only : bool, default=False
        Fit each run's final checkpoint only (by default also those from 30% of the run
        on; the calibration laws are fitted that way).

    Returns
    -------
    FamilyPrediction
    """
    if (flops is None) == (params is None or tokens is None) or (
            flops is not None and (params is not None or tokens is not None)):
        raise MetaError("Give --params and --tokens, or --flops alone.")
    for value, label in ((params, "--params"), (tokens, "--tokens"), (flops, "--flops")):
        _positive(value, label)
    if n_boot < 1:
        raise MetaError(f"--boot must be at least 1; got {n_boot}.")
    family = load_family(con, name, runs=runs)
    share = {"from_share": 1.0} if finals_only else {}
    if len(family.sizes(family.model_ids)) == 1:
        # one size cannot identify A and alpha: borrow them (Hitchhiker's one-model recipe)
        near = similar_to(con, name, runs=runs, calibration_dir=calibration_dir).borrow
        if near is None:
            raise MetaError(f"Family '{name}' has a single size and no public law of its loss "
                            "kind to borrow A and alpha from.")
        law = fit_runs(family, n_boot=n_boot, seed=seed, form=similar.borrowed_form(near),
                       borrowed_from=near["family"], **share)
    else:
        law = fit_runs(family, n_boot=n_boot, seed=seed, **share)
    if not np.isfinite(law.result.params).all():
        raise MetaError(f"The law of {name} could not be fitted (status {law.status}); "
                        f"{law.n_points} points of {len(law.runs)} runs.")
    optimal = flops is not None
    if optimal:
        params, tokens = law.optimal(flops)
    table, _, meta = calibration.load(calibration_dir)
    # a public family's own source is left out of its calibration, as in the
    # leave-one-family-out check: its laws must not vouch for themselves
    origin, source = one(con, "SELECT origin, source FROM families WHERE family = ?", [name])
    errors, weights, description = calibration.errors_for(
        table, law.design.n_sizes, law.design.scale_up(params),
        exclude_sources=[source] if origin == "public" else [])
    prediction = law.predict(params, tokens, errors, weights, calibration=description,
                             seed=seed)
    decaying = () if finals_only else decaying_runs(con, law.runs)
    return FamilyPrediction(family, law, prediction, optimal, 6 * params * tokens, meta,
                            decaying)


# Schedules whose learning rate decays over the run: a checkpoint halfway is not the end of a
# run half as long (its learning rate has not decayed yet).
DECAYING = r"(?i)cos|linear|decay|wsd|inv|exp|poly|step"


def decaying_runs(con: duckdb.DuckDBPyConnection, runs: tuple[str, ...]) -> tuple[str, ...]:
    """The runs among ``runs`` whose ``schedule`` hyperparameter names a decaying schedule."""
    rows = query(con, "SELECT model_id FROM hyperparameters WHERE name = 'schedule' "
                      "AND regexp_matches(text, ?) AND list_contains(?, model_id) "
                      "ORDER BY model_id", [DECAYING, list(runs)])
    return tuple(rows["model_id"])
