"""Fitting the studies: read families from the warehouse, fit pending laws in batches, write
laws and predictions back, resuming where an earlier run stopped.

I/O is at the edges (:func:`load_families` and :func:`judge` read, :mod:`warehouse.laws`
writes); :func:`fit_specs` is pure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import duckdb
import numpy as np
import polars as pl

from analyses.executor import check as check_engine
from analyses.executor import executor as engine
from analyses.hitchhiker.conventions import DEFAULT, get_set, law_conventions, shape_points
from analyses.hitchhiker.protocol import Family, LawSpec, eligible
from analyses.hitchhiker.studies import BASELINES, FIT_ESTIMATORS, STUDIES, get_study
from analyses.laws import LawBatch, get_estimator, get_form
from analyses.laws.identify import FITTED, base_params, failures, unidentified
from warehouse import identity
from warehouse.families import require_families
from warehouse.identity import POINT_COLUMNS, data_hash, family_points
from warehouse.jsonsafe import finite_or_none
from warehouse.laws import (
    delete_orphans,
    law_ids,
    update_set,
    update_statuses,
    write_laws,
    write_points,
)
from warehouse.sql import query

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

def load_families(
    con: duckdb.DuckDBPyConnection, names: Sequence[str] | None = None, *, runs: str = "best",
    conventions: str = DEFAULT,
) -> list[Family]:
    """Every scaled family's usable ``perf`` points (or those named), as :class:`Family`
    objects studying each sweep's best run (``runs="best"``) or every run (``"all"``),
    shaped by the convention set ``conventions`` (:mod:`analyses.hitchhiker.conventions`);
    ``Family.dropped`` counts the points left out (:data:`warehouse.identity.FAMILY_POINTS`).
    """
    switched = get_set(conventions)
    df = family_points(con, None if switched else names)
    df = shape_points(df, con, switched)
    if names and switched:
        df = df.filter(pl.col("family").is_in(list(names)))
    runs = "all" if "every-run" in switched else runs
    targets = dict(con.execute("SELECT family, target FROM families").fetchall())
    families = []
    for (name,), part in df.group_by("family", maintain_order=True):
        usable = part.filter("usable").select(POINT_COLUMNS)
        if usable.height:
            families.append(Family(name, usable, data_hash(usable),
                                   dropped=part.height - usable.height,
                                   named_target=targets.get(name), runs=runs,
                                   conventions=switched))
    return families


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


def _chosen(of_study: Sequence[str], asked: Sequence[str] | None) -> list[str]:
    """The estimators of a study that run: those asked for (all when none), and always the
    no-fit baselines."""
    return [e for e in of_study if asked is None or e in asked or e in BASELINES]


def plan(
    families: Iterable[Family], studies: Sequence[str], estimators: Sequence[str] | None
) -> tuple[list[Pending], list[str]]:
    """Every (law spec, estimator) the studies make for the families, and the families
    skipped with the reason."""
    pending, skipped = [], []
    for family in families:
        for name in studies:
            study = get_study(name)
            why = eligible(family, study.min_models)
            if why:
                skipped.append(f"{family.name} ({name}): {why}")
                continue
            chosen = _chosen(study.estimators, estimators)
            for spec in study.specs(family):
                for est in chosen:
                    settings = law_settings(spec, est)
                    pending.append(Pending(spec, est, settings, law_id(spec, est, settings)))
    return pending, skipped


def _plan_once(plans: dict, families: Iterable[Family], studies: Sequence[str],
               estimators: Sequence[str] | None) -> tuple[list[Pending], list[str]]:
    """:func:`plan` of ``families``, each planned once per run of fit-all: a family whose
    points, runs, target and law conventions another set already planned (a set whose
    conventions leave it as it is) makes the same laws, so ``plans`` gives them back."""
    pending, skipped = [], []
    for f in families:
        key = (f.name, f.data_hash, f.runs, f.named_target, law_conventions(f.conventions))
        if key not in plans:
            plans[key] = plan([f], studies, estimators)
        pending += plans[key][0]
        skipped += plans[key][1]
    return pending, skipped


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
            points: int | None = None) -> list[list[Pending]]:
    """Chunks of laws sharing a form, an estimator and its settings, by training size: up to
    ``size`` laws (default ``CHUNK``) and ``points`` padded points (laws x the largest
    training set; default ``CHUNK_POINTS``) each, so that the largest laws are spread over
    the workers instead of padding one chunk."""
    size, points = size or CHUNK, points or CHUNK_POINTS
    groups: dict[tuple[str, str, str], list[Pending]] = {}
    for p in pending:
        key = (p.spec.form, p.estimator, json.dumps(p.settings, sort_keys=True))
        groups.setdefault(key, []).append(p)
    chunks = []
    for items in groups.values():
        chunk: list[Pending] = []
        for p in sorted(items, key=lambda p: p.spec.train.size):
            if chunk and (len(chunk) == size or (len(chunk) + 1) * p.spec.train.size
                          > points):
                chunks.append(chunk)
                chunk = []
            chunk.append(p)
        chunks += [chunk] if chunk else []
    return chunks


def _scope(families: Sequence[Family], studies: Sequence[str],
           estimators: Sequence[str] | None) -> pl.DataFrame:
    """Every (family, study, estimator) a run of fit-all plans laws for: laws stored under
    them that the plan no longer makes are out of date."""
    rows = [(f.name, name, est) for f in families for name in studies
            for est in _chosen(get_study(name).estimators, estimators)]
    return pl.DataFrame(rows, schema={"family": pl.String, "study": pl.String,
                                      "estimator": pl.String}, orient="row")


_STORED = """
SELECT law_id, status, unidentified, objective, params.E, params.A, params.B, params.alpha,
       params.beta
FROM laws WHERE status IN ({fitted})
""".format(fitted=", ".join(f"'{s}'" for s in FITTED))


def judge(con: duckdb.DuckDBPyConnection, resumed: Sequence[Pending]) -> pl.DataFrame:
    """The laws already fitted whose status or ``unidentified`` differs under the current
    rules (:mod:`analyses.laws.identify`): ``law_id, status, unidentified, failed``."""
    fits = {p.law_id: p for p in resumed if p.estimator not in BASELINES}
    rows = {r["law_id"]: r for r in query(con, _STORED).iter_rows(named=True)
            if r["law_id"] in fits}
    changes = []
    for chunk in chunked([fits[i] for i in rows]):
        form = get_form(chunk[0].spec.form)
        old = [rows[p.law_id] for p in chunk]
        natural = np.array([[r[k] for k in CHINCHILLA] for r in old], dtype=float)
        objective = np.array([r["objective"] for r in old], dtype=float)
        batch = law_batch([p.spec for p in chunk], "train")
        status = failures(form, natural, objective, batch, [r["status"] for r in old])
        reasons = unidentified(form, natural, batch)
        for r, st, why in zip(old, status, reasons, strict=True):
            if (st, why) != (r["status"], r["unidentified"]):
                changes.append((r["law_id"], st, why, st not in FITTED))
    return pl.DataFrame(changes, schema={"law_id": pl.String, "status": pl.String,
                                         "unidentified": pl.String, "failed": pl.Boolean},
                        orient="row")


@dataclass(frozen=True)
class FitAllResult:
    """What a run did: laws fitted now, laws already there, laws whose status the current
    rules changed, families skipped (with why), points left out per family."""

    fitted: int
    resumed: int
    stale: int
    rejudged: int
    skipped: list[str]
    dropped: dict[str, int]
    seconds: float


def fit_all(
    con: duckdb.DuckDBPyConnection,
    *,
    studies: Sequence[str],
    estimators: Sequence[str] | None = None,
    families: Sequence[str] | None = None,
    jobs: int = 1,
    executor: str = "local",
    address: str | None = None,
    runs: str = "best",
    conventions: Sequence[str] = (DEFAULT,),
    progress: Callable[[int, int, str], None] = lambda done, total, what: None,
) -> FitAllResult:
    """Fit every pending law of ``studies`` under each convention set of ``conventions``
    and write it with its predictions.

    Laws already in the warehouse (same id) are kept, not refitted, and judged again
    (:func:`judge`): a status that the current rules change is updated. Each set is made to
    hold the laws it plans now (:func:`warehouse.laws.update_set`): laws fitted on an older
    version of a family's data, and laws of the studies run that the plan no longer makes
    (a protocol change), leave it, and laws of no set are deleted. A law that several sets
    plan (one no convention changes) is fitted once. Each chunk of up to ``CHUNK`` laws is
    written in one transaction, so an interrupted run keeps what it finished. Chunks hold
    laws of one form and estimator with similar numbers of points (padding costs time), and
    the ``executor`` fits them (:func:`analyses.executor.executor`: ``jobs`` local processes,
    or Ray at ``address``), the same bits in either. ``runs="all"`` studies every run of a
    hyperparameter sweep, not only its best (:mod:`analyses.hitchhiker.protocol`).
    """
    start = time.perf_counter()
    check_engine(executor, jobs=jobs, address=address)
    for name in studies:
        get_study(name)
    for name in estimators or ():
        if name not in FIT_ESTIMATORS + BASELINES:
            get_estimator(name)
    for name in conventions:
        get_set(name)
    if families:
        require_families(con, families)
    everything: dict[str, Pending] = {}
    skipped: list[str] = []
    dropped: dict[str, int] = {}
    plans: dict[tuple, tuple[list[Pending], list[str]]] = {}
    for name in conventions:
        loaded = load_families(con, families, runs=runs, conventions=name)
        planned, skips = _plan_once(plans, loaded, studies, estimators)
        update_set(con, name, {f.name: f.data_hash for f in loaded},
                   _scope(loaded, studies, estimators), {p.law_id for p in planned})
        if name != DEFAULT and loaded:
            write_points(con, name, pl.concat([
                f.points.with_columns(family=pl.lit(f.name)) for f in loaded]))
        everything.update((p.law_id, p) for p in planned)
        skipped += [s if not skipped else f"{s} [{name}]" for s in skips if s not in skipped]
        if name == DEFAULT:
            dropped = {f.name: f.dropped for f in loaded if f.dropped}
    stale = delete_orphans(con, list(STUDIES))
    done_ids = law_ids(con)
    changes = judge(con, [p for p in everything.values() if p.law_id in done_ids])
    update_statuses(con, changes)
    pending = [p for p in everything.values() if p.law_id not in done_ids]
    chunks = chunked(pending)
    done = 0
    with engine(executor, jobs=jobs, address=address) as pool:
        for chunk, fitted in pool.run(fit_specs, chunks):
            write_laws(con, fitted.laws, fitted.predictions)
            done += len(chunk)
            progress(done, len(pending), f"{chunk[0].estimator} ({chunk[0].spec.form})")
    return FitAllResult(
        done, len(everything) - len(pending), stale, changes.height, skipped,
        dropped, time.perf_counter() - start,
    )
