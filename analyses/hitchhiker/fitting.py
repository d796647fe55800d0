"""Fitting one chunk of laws: the settings and id of each law, its padded batch, and
:func:`fit_specs`, which fits a chunk and predicts its test rows (pure: no connection, so a
worker of any engine runs it); :func:`chunked` cuts the pending laws into such chunks.
:mod:`analyses.hitchhiker.run` plans the laws and writes what comes back.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import numpy as np
import polars as pl

from analyses.hitchhiker.protocol import LawSpec
from analyses.hitchhiker.studies import BASELINES
from analyses.laws import LawBatch, get_estimator, get_form
from analyses.laws.identify import FITTED, base_params
from warehouse import identity
from warehouse.jsonsafe import finite_or_none

CHINCHILLA = ("E", "A", "B", "alpha", "beta")
# Estimator parameters added after laws were stored: one enters a law's settings (hence its
# id) only when set, so that the laws fitted before keep their ids.
LATER_PARAMS = ("min_points",)
CHUNK = 250  # laws fitted together and written in one transaction
CHUNK_POINTS = 250_000  # padded points of one chunk (a law of 43k points pads its whole chunk)
# Estimator settings used by fit-all; part of every law's identity. huber-lbfgs runs the
# 32-start grid and polishes the best start of each law (measured: 28 ms per law against
# 210 ms with 8 polished starts, for objectives 0.1% higher in sum over 400 real laws).
SETTINGS: dict[str, dict] = {
    "curvefit-hitchhiker": {"method": "scipy"},
    "huber-lbfgs": {"grid": "small", "delta": 1e-3, "polish": 1},
}


@dataclass(frozen=True)
class Pending:
    """A law to fit: its spec, its estimator with the settings it runs with, and its id."""

    spec: LawSpec
    estimator: str
    settings: dict
    law_id: str


@cache
def estimator_settings(estimator: str) -> dict:
    """Every constructor argument of the estimator fit-all uses (defaults included, so a
    changed default gives laws new ids); {} for the no-fit baselines."""
    if estimator in BASELINES:
        return {}
    params = get_estimator(estimator)(**SETTINGS[estimator]).get_params()
    params.pop("form")
    return {k: v for k, v in params.items() if not (k in LATER_PARAMS and v is None)}


def law_settings(spec: LawSpec, estimator: str) -> dict:
    """The settings a law is fitted with: fit-all's (:func:`estimator_settings`), and those
    a convention of the law's family changes for this law only (so that the convention
    enters the id of the laws it changes, and of no other)."""
    settings = estimator_settings(estimator)
    switched = spec.family.conventions
    if ("fit-few-points" in switched and estimator == "curvefit-hitchhiker"
            and 0 < spec.train.size < get_form(spec.form).n_params):
        return {**settings, "min_points": 1}
    if "baselines-share-cache" in switched and estimator == "most-trained":
        return {**settings, "scored_as": "best-seen"}
    return settings


def law_id(spec: LawSpec, estimator: str, settings: dict) -> str:
    """The law's id (:func:`warehouse.identity.law_id`): stable across runs, machines and
    code changes that leave the family's points as they are."""
    return identity.law_id(study=spec.study, family=spec.family.name, form=spec.form,
                           estimator=estimator, settings=settings, spec=spec.spec,
                           data=spec.family.data_hash)


def law_batch(specs: Sequence[LawSpec], rows: str) -> LawBatch:
    """The training (``rows="train"``) or test points of laws as one padded batch."""
    xs, ys = [], []
    for s in specs:
        idx = getattr(s, rows)
        f = s.family
        xs.append(np.column_stack([f.column("num_params", idx), f.column("tokens", idx)]))
        ys.append(f.column("perf", idx))
    return LawBatch.from_ragged(xs, ys, ("N", "D"))


@dataclass(frozen=True)
class Fitted:
    """Rows for ``laws`` and ``predictions`` from one chunk."""

    laws: pl.DataFrame
    predictions: pl.DataFrame


def fit_specs(items: Sequence[Pending]) -> Fitted:
    """Fit laws that share a form, an estimator and its settings, and predict their test
    rows."""
    form, estimator, settings = items[0].spec.form, items[0].estimator, items[0].settings
    specs = [p.spec for p in items]
    start = time.perf_counter()
    n = len(items)
    status = np.full(n, "ok", dtype=object)
    objective = np.full(n, np.nan)
    params = np.full((n, 5), np.nan)
    unidentified: list[str | None] = [None] * n
    if estimator in BASELINES:
        scored_as = settings.get("scored_as", estimator)
        predicted = [np.full(s.test.size, _baseline(scored_as, s)) for s in specs]
        status[[s.train.size == 0 for s in specs]] = "too_few_points"
    else:
        est = get_estimator(estimator)(form=form, **settings)
        est.fit(law_batch(specs, "train"))
        status[:] = est.status_
        objective[:] = est.objective_
        params[:] = base_params(est.form_, est.params_)
        unidentified = list(est.unidentified_)
        pred = est.predict(law_batch(specs, "test"))
        predicted = [pred[i, : s.test.size] for i, s in enumerate(specs)]
    ok = [st in FITTED for st in status]
    for i, pred in enumerate(predicted):
        if ok[i] and not np.isfinite(pred).all():
            status[i], ok[i] = "nan_prediction", False  # e.g. E -> 0, B -> 1e30: overflow
    seconds = (time.perf_counter() - start) / n
    now = datetime.now(UTC).replace(tzinfo=None)
    laws = pl.DataFrame(
        {
            "law_id": [p.law_id for p in items],
            "study": [s.study for s in specs],
            "family": [s.family.name for s in specs],
            "form": form,
            "estimator": estimator,
            "settings": json.dumps(settings, sort_keys=True),
            "params": [dict(zip(CHINCHILLA, map(float, row), strict=True))
                       if np.isfinite(row).all() else None for row in params],
            "train_spec": [s.spec for s in specs],
            "status": status.astype(str).tolist(),
            "unidentified": unidentified,
            "objective": [finite_or_none(v) for v in objective],
            "n_points": [int(s.train.size) for s in specs],
            "train_flops": [float(s.family.column("flops", s.train).sum()) for s in specs],
            "data_hash": [p.spec.family.data_hash for p in items],
            "seconds": seconds,
            "fitted_at": now,
        },
        schema_overrides={"params": pl.Struct({k: pl.Float64 for k in CHINCHILLA}),
                          "unidentified": pl.String},
    )
    sizes = [p.spec.test.size for p in items]
    predictions = pl.DataFrame(
        {
            "law_id": np.repeat([p.law_id for p in items], sizes),
            "checkpoint_id": pl.concat(
                [p.spec.family.points["checkpoint_id"].gather(p.spec.test) for p in items]
            ),
            "predicted": np.concatenate(
                [
                    pred if good else np.full(pred.size, np.nan)
                    for pred, good in zip(predicted, ok, strict=True)
                ]
            ),
            "actual": np.concatenate([p.spec.family.column("perf", p.spec.test) for p in items]),
        },
        schema_overrides={"law_id": pl.String, "checkpoint_id": pl.String},
    ).with_columns(predicted=pl.col("predicted").fill_nan(None))
    return Fitted(laws, predictions)


def _baseline(name: str, spec: LawSpec) -> float:
    """Sec. 5.2: the best perf seen in training, or the perf of the most-trained training row
    (argmax of N x D). The released code computed 'best' for both (a shared cache name)."""
    if spec.train.size == 0:
        return float("nan")
    perf = spec.family.column("perf", spec.train)
    if name == "best-seen":
        return float(perf.min())
    cost = spec.family.column("num_params", spec.train) * spec.family.column("tokens", spec.train)
    return float(perf[np.argmax(cost)])


def chunked(pending: Sequence[Pending], *, size: int | None = None,
            points: int | None = None, cost: Callable[[Pending], float] | None = None,
            max_cost: float = math.inf) -> list[list[Pending]]:
    """Chunks of laws sharing a form, an estimator and its settings, by training size: up to
    ``size`` laws (default ``CHUNK``) and ``points`` padded points (laws x the largest
    training set; default ``CHUNK_POINTS``) each, so that the largest laws are spread over
    the workers instead of padding one chunk; with ``cost``, also up to ``max_cost`` of it
    (a law costlier than that alone)."""
    size, points = size or CHUNK, points or CHUNK_POINTS
    cost = cost or (lambda p: 0.0)
    groups: dict[tuple[str, str, str], list[Pending]] = {}
    for p in pending:
        key = (p.spec.form, p.estimator, json.dumps(p.settings, sort_keys=True))
        groups.setdefault(key, []).append(p)
    chunks = []
    for items in groups.values():
        chunk: list[Pending] = []
        spent = 0.0
        for p in sorted(items, key=lambda p: p.spec.train.size):
            if chunk and (len(chunk) == size or (len(chunk) + 1) * p.spec.train.size
                          > points or spent + cost(p) > max_cost):
                chunks.append(chunk)
                chunk, spent = [], 0.0
            chunk.append(p)
            spent += cost(p)
        chunks += [chunk] if chunk else []
    return chunks


def chunk_label(chunk: Sequence[Pending]) -> str:
    """What a chunk fits, for a progress line: its estimator, law form and families.

    Examples
    --------
    >>> from types import SimpleNamespace as N
    >>> law = lambda fam: N(estimator="huber-lbfgs", spec=N(form="chinchilla",
    ...                                                     family=N(name=fam)))
    >>> chunk_label([law("pythia"), law("OPT"), law("gpt3"), law("OPT")])
    'huber-lbfgs, chinchilla law (OPT, gpt3, +1 family)'
    """
    names = sorted({p.spec.family.name for p in chunk})
    more = len(names) - 2
    shown = ", ".join(names[:2]) + (f", +{more} famil{'y' if more == 1 else 'ies'}"
                                    if more > 0 else "")
    return f"{chunk[0].estimator}, {chunk[0].spec.form} law ({shown})"
