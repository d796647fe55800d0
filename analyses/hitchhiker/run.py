"""Fitting the studies: read families from the warehouse, fit pending laws in batches, write
laws and predictions back, resuming where an earlier run stopped.

I/O is at the edges (:func:`load_families` and :func:`judge` read, :mod:`warehouse.laws`
writes); the chunks are fitted by :func:`analyses.hitchhiker.fitting.fit_specs`, which is
pure.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analyses.executor import check as check_engine
from analyses.executor import executor as engine
from analyses.hitchhiker.conventions import DEFAULT, get_set, law_conventions, shape_points
from analyses.hitchhiker.fitting import (
    CHINCHILLA,
    Pending,
    chunk_label,
    chunked,
    fit_specs,
    law_batch,
    law_id,
    law_settings,
)
from analyses.hitchhiker.protocol import Family, eligible
from analyses.hitchhiker.studies import BASELINES, FIT_ESTIMATORS, STUDIES, get_study
from analyses.laws import get_estimator, get_form
from analyses.laws.identify import FITTED, failures, unidentified
from warehouse.families import require_families
from warehouse.identity import POINT_COLUMNS, data_hash, family_points
from warehouse.laws import (
    delete_orphans,
    law_ids,
    update_set,
    update_statuses,
    without_a_fit,
    write_laws,
    write_points,
)
from warehouse.sql import query


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
    rules changed, families skipped (with why), points left out per family, and the family
    studies run in which no law could be fitted (:func:`warehouse.laws.without_a_fit`)."""

    fitted: int
    resumed: int
    stale: int
    rejudged: int
    skipped: list[str]
    dropped: dict[str, int]
    seconds: float
    unfitted: list[str]


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
            progress(done, len(pending), chunk_label(chunk))
    return FitAllResult(
        done, len(everything) - len(pending), stale, changes.height, skipped,
        dropped, time.perf_counter() - start, without_a_fit(con, everything),
    )
