"""Fitting the studies: read families from the warehouse, fit pending laws in batches, write
laws and predictions back, resuming where an earlier run stopped.

I/O is at the edges (:func:`load_families`, :func:`write_laws`); :func:`fit_specs` is pure.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import duckdb
import numpy as np
import polars as pl

from analyses.hitchhiker.protocol import POINT_COLUMNS, Family, LawSpec, eligible
from analyses.hitchhiker.studies import BASELINES, FIT_ESTIMATORS, get_study
from analyses.laws import LawBatch, get_estimator, get_form
from warehouse.connection import one, query, transaction

CHINCHILLA = ("E", "A", "B", "alpha", "beta")
CHUNK = 250  # laws fitted together and written in one transaction
CHUNK_POINTS = 250_000  # padded points of one chunk (a law of 43k points pads its whole chunk)
# Estimator settings used by fit-all; part of every law's identity. huber-lbfgs runs the
# 32-start grid and polishes the best start of each law (measured: 28 ms per law against
# 210 ms with 8 polished starts, for objectives 0.1% higher in sum over 400 real laws).
SETTINGS: dict[str, dict] = {
    "curvefit-hitchhiker": {"method": "scipy"},
    "huber-lbfgs": {"grid": "small", "delta": 1e-3, "polish": 1},
}

_FAMILIES = """
SELECT p.family, p.model_id, p.checkpoint_id, p.num_params::DOUBLE AS num_params, p.tokens,
       p.flops, p.perf, s.content_hash
FROM perf p
JOIN families f USING (family)
JOIN sources s ON s.source = f.source
WHERE f.scaled AND p.tokens IS NOT NULL AND p.num_params IS NOT NULL
  AND (? IS NULL OR list_contains(?, p.family))
ORDER BY p.family, p.num_params, p.model_id, p.tokens
"""


def load_families(
    con: duckdb.DuckDBPyConnection, names: Sequence[str] | None = None
) -> list[Family]:
    """Every scaled family's ``perf`` points (or those named), as :class:`Family` objects."""
    wanted = list(names) if names else None
    df = query(con, _FAMILIES, [wanted, wanted])
    return [
        Family(name, part.select(POINT_COLUMNS), part["content_hash"][0])
        for (name,), part in df.group_by("family", maintain_order=True)
    ]


@dataclass(frozen=True)
class Pending:
    """A law to fit: its spec, its estimator and its id."""

    spec: LawSpec
    estimator: str
    law_id: str
    data_hash: str


@cache
def estimator_settings(estimator: str) -> dict:
    """Every constructor argument of the estimator fit-all uses (defaults included, so a
    changed default gives laws new ids); {} for the no-fit baselines."""
    if estimator in BASELINES:
        return {}
    params = get_estimator(estimator)(**SETTINGS[estimator]).get_params()
    params.pop("form")
    return params


def law_id(spec: LawSpec, estimator: str, data_hash: str) -> str:
    """A digest of everything that defines a law (stable across runs and machines)."""
    key = {
        "study": spec.study,
        "family": spec.family.name,
        "form": spec.form,
        "estimator": estimator,
        "settings": estimator_settings(estimator),
        "spec": spec.spec,
        "data": data_hash,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]


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
            chosen = [e for e in study.estimators
                      if estimators is None or e in estimators or e in BASELINES]
            for spec in study.specs(family):
                for est in chosen:
                    pending.append(Pending(spec, est, law_id(spec, est, family.data_hash),
                                           family.data_hash))
    return pending, skipped


def _batch(specs: Sequence[LawSpec], rows: str) -> LawBatch:
    """The training (``rows="train"``) or test points of laws as one padded batch."""
    xs, ys = [], []
    for s in specs:
        idx = getattr(s, rows)
        f = s.family
        xs.append(np.column_stack([f.column("num_params", idx), f.column("tokens", idx)]))
        ys.append(f.column("perf", idx))
    return LawBatch.from_ragged(xs, ys, ("N", "D"))


def _chinchilla_params(form_name: str, params: np.ndarray) -> np.ndarray:
    """(n, 5) natural E, A, B, alpha, beta from a form's fitted params."""
    form = get_form(form_name)
    if tuple(form.names) == CHINCHILLA:
        return params
    return form.base_params(params)


@dataclass(frozen=True)
class Fitted:
    """Rows for ``laws`` and ``predictions`` from one chunk."""

    laws: pl.DataFrame
    predictions: pl.DataFrame


def fit_specs(items: Sequence[Pending]) -> Fitted:
    """Fit laws that share a form and an estimator, and predict their test rows."""
    form, estimator = items[0].spec.form, items[0].estimator
    specs = [p.spec for p in items]
    start = time.perf_counter()
    n = len(items)
    status = np.full(n, "ok", dtype=object)
    objective = np.full(n, np.nan)
    params = np.full((n, 5), np.nan)
    if estimator in BASELINES:
        predicted = [np.full(s.test.size, _baseline(estimator, s)) for s in specs]
        status[[s.train.size == 0 for s in specs]] = "too_few_points"
    else:
        est = get_estimator(estimator)(form=form, **SETTINGS[estimator])
        est.fit(_batch(specs, "train"))
        status[:] = est.status_
        objective[:] = est.objective_
        params[:] = _chinchilla_params(form, est.params_)
        pred = est.predict(_batch(specs, "test"))
        predicted = [pred[i, : s.test.size] for i, s in enumerate(specs)]
    ok = [st in ("ok", "at_bound", "max_iter") for st in status]
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
            "settings": json.dumps(estimator_settings(estimator), sort_keys=True),
            "params": [
                dict(
                    zip(
                        CHINCHILLA,
                        (None if not np.isfinite(v) else float(v) for v in row),
                        strict=True,
                    )
                )
                if np.isfinite(row).all()
                else None
                for row in params
            ],
            "train_spec": [s.spec for s in specs],
            "status": status.astype(str).tolist(),
            "objective": [None if not np.isfinite(v) else float(v) for v in objective],
            "n_points": [int(s.train.size) for s in specs],
            "train_flops": [float(s.family.column("flops", s.train).sum()) for s in specs],
            "data_hash": [p.data_hash for p in items],
            "seconds": seconds,
            "fitted_at": now,
        },
        schema_overrides={"params": pl.Struct({k: pl.Float64 for k in CHINCHILLA})},
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


def existing(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Ids of the laws already in the warehouse."""
    return {r[0] for r in con.execute("SELECT law_id FROM laws").fetchall()}


def drop_stale(con: duckdb.DuckDBPyConnection, families: Sequence[Family]) -> int:
    """Delete laws fitted on an older version of a family's data; returns how many."""
    hashes = pl.DataFrame(
        {"family": [f.name for f in families], "data_hash": [f.data_hash for f in families]}
    )
    con.register("_current", hashes.to_arrow())
    stale = (
        "SELECT l.law_id FROM laws l JOIN _current c USING (family) "
        "WHERE l.data_hash <> c.data_hash"
    )
    n = one(con, f"SELECT count(*) FROM ({stale})")[0]
    if n:
        with transaction(con):
            con.execute(f"DELETE FROM predictions WHERE law_id IN ({stale})")
            con.execute(f"DELETE FROM laws WHERE law_id IN ({stale})")
    con.unregister("_current")
    return n


def write_laws(con: duckdb.DuckDBPyConnection, fitted: Fitted) -> None:
    """Insert one chunk's laws and predictions in one transaction."""
    with transaction(con):
        for table, df in (("laws", fitted.laws), ("predictions", fitted.predictions)):
            columns = ", ".join(df.columns)
            con.register("_fitted", df.to_arrow())
            con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _fitted")
            con.unregister("_fitted")


def chunked(pending: Sequence[Pending]) -> list[list[Pending]]:
    """Chunks of laws sharing a form and an estimator, by training size: up to ``CHUNK`` laws
    and ``CHUNK_POINTS`` padded points (laws x the largest training set) each, so that the
    largest laws are spread over the workers instead of padding one chunk."""
    groups: dict[tuple[str, str], list[Pending]] = {}
    for p in pending:
        groups.setdefault((p.spec.form, p.estimator), []).append(p)
    chunks = []
    for items in groups.values():
        chunk: list[Pending] = []
        for p in sorted(items, key=lambda p: p.spec.train.size):
            if chunk and (len(chunk) == CHUNK or (len(chunk) + 1) * p.spec.train.size
                          > CHUNK_POINTS):
                chunks.append(chunk)
                chunk = []
            chunk.append(p)
        chunks += [chunk] if chunk else []
    return chunks


@contextmanager
def _pool(jobs: int):
    """Worker processes (spawned: the parent holds a DuckDB connection), or none for 1 job."""
    if jobs <= 1:
        yield _Inline()
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        yield pool


class _Inline:
    """``map`` in this process, lazily, like an executor's."""

    @staticmethod
    def map(fn, items):
        return map(fn, items)


@dataclass(frozen=True)
class FitAllResult:
    """What a run did: laws fitted now, laws already there, families skipped (with why)."""

    fitted: int
    resumed: int
    stale: int
    skipped: list[str]
    seconds: float


def fit_all(
    con: duckdb.DuckDBPyConnection,
    *,
    studies: Sequence[str],
    estimators: Sequence[str] | None = None,
    families: Sequence[str] | None = None,
    jobs: int = 1,
    progress: Callable[[int, int, str], None] = lambda done, total, what: None,
) -> FitAllResult:
    """Fit every pending law of ``studies`` and write it with its predictions.

    Laws already in the warehouse (same id) are kept, not refitted; laws fitted on an older
    version of a family's data are deleted first. Each chunk of up to ``CHUNK`` laws is
    written in one transaction, so an interrupted run keeps what it finished. Chunks hold
    laws of one form and estimator with similar numbers of points (padding costs time), and
    ``jobs`` processes fit them.
    """
    start = time.perf_counter()
    for name in studies:
        get_study(name)
    for name in estimators or ():
        if name not in FIT_ESTIMATORS + BASELINES:
            get_estimator(name)
    loaded = load_families(con, families)
    stale = drop_stale(con, loaded)
    everything, skipped = plan(loaded, studies, estimators)
    done_ids = existing(con)
    pending = [p for p in everything if p.law_id not in done_ids]
    chunks = chunked(pending)
    done = 0
    with _pool(jobs) as pool:
        for chunk, fitted in zip(chunks, pool.map(fit_specs, chunks), strict=True):
            write_laws(con, fitted)
            done += len(chunk)
            progress(done, len(pending), f"{chunk[0].estimator} ({chunk[0].spec.form})")
    return FitAllResult(
        done, len(everything) - len(pending), stale, skipped, time.perf_counter() - start
    )
