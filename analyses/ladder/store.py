"""The ladder's laws and predictions as rows of the warehouse's ``laws`` and ``predictions``.

Study ``ladder``, family ``olmo-ladder`` (:func:`rows` also serves study ``tasks``, the same
method over other families). Each law's ``fit_error`` is its fit's (the step-1 and step-2
laws: the paper's mean relative error; a chained law of study ``tasks``: its step 2's mean
absolute error in accuracy; null for a chained law of the ladder). Step-1 power laws also
fill ``params`` (E, A = e^a, B = e^b, alpha, beta: the Chinchilla shape); every law names
its own parameters in
``coefficients`` (schema 0007), and ``quantity`` says whether it predicts a loss or an
accuracy, so that the ``are`` view (losses) and the ``task_are`` view (accuracies) never mix
them. A prediction row is (law, the target's last checkpoint, predicted, actual), ``actual``
being the study's target value (13B-5T: the mean of its last 5 rows).

A law's ``data_hash`` is its family's, as for every law (:mod:`warehouse.identity`): the
digest of ``olmo-ladder``'s ``perf`` rows, so that ``meta fit-all``, which drops the laws of a
family fitted on other data, keeps these while that data is unchanged. The task metrics the
ladder fits are not in ``perf``: their digest is part of each law's settings (``inputs``), so
changed task data gives new ids.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import polars as pl

from analyses.ladder.data import Run
from analyses.ladder.study import Law
from warehouse.identity import law_id

STUDY = "ladder"
FAMILY = "olmo-ladder"
CHINCHILLA = ("E", "A", "B", "alpha", "beta")
ESTIMATORS = {"power": "loghuber-lbfgsb", "flops": "loghuber-lbfgsb",
              "accuracy": "loghuber-lbfgsb", "sigmoid": "curvefit-trf",
              "log-sigmoid": "curvefit-trf", "largest-train": "none"}


def inputs_digest(runs: Sequence[Run]) -> str:
    """A digest of the runs' rows the study reads (ids, N, D, C and every metric value)."""
    digest = hashlib.sha256()
    for run in sorted(runs, key=lambda r: r.model_id):
        digest.update(f"{run.model_id}\t{run.num_params:.12g}\n".encode())
        digest.update(np.ascontiguousarray(run.tokens).tobytes())
        digest.update(np.ascontiguousarray(run.flops).tobytes())
        for metric in sorted(run.values):
            digest.update(metric.encode())
            digest.update(np.ascontiguousarray(run.values[metric]).tobytes())
    return digest.hexdigest()[:20]


def estimator(law: Law) -> str:
    """The fitting procedure's name (``chained`` for a composition of two fitted laws,
    ``none`` for a prediction that fits nothing)."""
    return ESTIMATORS.get(law.form, "chained")


def chinchilla_params(law: Law) -> dict[str, float] | None:
    """E, A, B, alpha, beta of a step-1 power law of a loss; None for any other law."""
    c = law.coefficients
    if law.form != "power" or law.quantity != "loss":
        return None
    return {"E": c["E"], "A": math.exp(c["a"]), "B": math.exp(c["b"]), "alpha": c["alpha"],
            "beta": c["beta"]}


def map_text(coefficients: dict[str, float]) -> str:
    """DuckDB's text of a ``MAP(VARCHAR, DOUBLE)``, every digit kept (polars has no map type;
    DuckDB casts the text on insert).

    Examples
    --------
    >>> map_text({"a": -0.5, "x0": 0.1})
    '{a=-0.5, x0=0.1}'
    """
    return "{" + ", ".join(f"{k}={v!r}" for k, v in coefficients.items()) + "}"


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def rows(laws: Sequence[Law], runs: Sequence[Run], *, data_hash: str, inputs: str,
         seconds: float, study: str = STUDY, family: str = FAMILY
         ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``laws`` and ``predictions`` rows of a study's laws.

    Parameters
    ----------
    laws : sequence of Law
        From :func:`analyses.ladder.study.run_study` (or :func:`analyses.tasks.study.
        fit_family`).
    runs : sequence of Run
        The runs the laws were fitted on (at least): a law's ``train_spec.n_models`` counts
        the sizes of its own runs, and their final FLOPs sum to its ``train_flops``.
    data_hash : str
        The family's data hash (:func:`warehouse.identity.data_hash`).
    inputs : str
        :func:`inputs_digest` of every run the study read.
    seconds : float
        Wall time of the study, shared equally by its laws.
    study, family : str, default='ladder', 'olmo-ladder'
        Where the laws belong.
    """
    by_id = {r.model_id: r for r in runs}
    now = datetime.now(UTC).replace(tzinfo=None)
    law_rows, prediction_rows = [], []
    for law in laws:
        train = [by_id[m] for m in law.train]
        settings = {**law.settings, "inputs": inputs}
        spec = {"models": list(law.train), "n_models": len({r.num_params for r in train}),
                "fraction": 1.0}
        lid = law_id(study=study, family=family, form=law.form, estimator=estimator(law),
                     settings=settings, spec=spec, data=data_hash)
        law_rows.append({
            "law_id": lid, "study": study, "family": family, "form": law.form,
            "estimator": estimator(law), "settings": json.dumps(settings, sort_keys=True),
            "params": chinchilla_params(law), "coefficients": map_text(law.coefficients),
            "quantity": law.quantity, "train_spec": spec, "status": law.status,
            "objective": _finite(law.objective), "n_points": law.n_points,
            "fit_error": _finite(law.fit_error),
            "train_flops": float(sum(r.flops[-1] for r in train)), "data_hash": data_hash,
            "seconds": seconds / max(len(laws), 1), "fitted_at": now,
        })
        for checkpoint, predicted, actual in law.predictions.values():
            prediction_rows.append({"law_id": lid, "checkpoint_id": checkpoint,
                                    "predicted": _finite(predicted),
                                    "actual": actual})
    laws_df = pl.DataFrame(law_rows, schema_overrides={
        "params": pl.Struct({k: pl.Float64 for k in CHINCHILLA})})
    return laws_df, pl.DataFrame(prediction_rows, schema={
        "law_id": pl.String, "checkpoint_id": pl.String, "predicted": pl.Float64,
        "actual": pl.Float64})
