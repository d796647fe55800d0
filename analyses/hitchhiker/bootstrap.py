"""Intervals of fit-all's laws: every law refitted on resamples of its training runs.

The unit resampled is the run, as for users' own runs (:mod:`analyses.predict.law`): a
resample draws as many of the law's training runs as it has, with replacement, and keeps
every training checkpoint of a drawn run, so that checkpoints of one run, whose errors are
correlated, move together. Each resample is refitted from the estimator's own start grid
with fit-all's settings (a law whose data admit two basins shows both), and predicts the
law's test checkpoints, giving its ARE. The intervals are central percentile intervals of
the converged resamples (:data:`LEVELS`); a law fitted on fewer than :data:`MIN_RUNS` runs
gets none (``too_few_runs``: its resamples would mostly repeat one run).

A law's resamples come from a generator seeded by ``(seed, law id)``, so they do not depend
on the laws that share its chunk or on where the chunk runs. Chunks of laws are refitted by
an executor (:mod:`analyses.executor`) and written by the driver, each chunk once in one
transaction (:mod:`warehouse.intervals`): an interrupted run resumes with the laws that have
no bootstrap of the same resamples and seed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import duckdb
import numpy as np
import polars as pl

from analyses.executor import check as check_engine
from analyses.executor import executor as engine
from analyses.hitchhiker.fitting import CHINCHILLA, Pending, chunk_label, chunked, law_batch
from analyses.hitchhiker.run import load_families, plan
from analyses.hitchhiker.studies import BASELINES, get_study
from analyses.laws import get_estimator, get_form
from analyses.laws.bootstrap import run_draws
from analyses.laws.identify import FITTED, base_params
from warehouse.errors import MetaError
from warehouse.families import require_families
from warehouse.intervals import bootstrapped, delete_orphan_intervals, fitted, write_intervals

LEVELS = (0.8, 0.9, 0.95)
QUANTITIES = (*CHINCHILLA, "are")
MIN_RUNS = 3
UNIT = "runs"
REFITS = 2_000  # laws x resamples of one chunk: about a minute of one core
CHUNK_SECONDS = 60.0  # and at most this estimated core time (a scipy law costs 100x a kernel one)


def law_rng(seed: int, law_id: str) -> np.random.Generator:
    """The generator of one law's resamples: seeded by ``seed`` and the law's id."""
    return np.random.default_rng([seed, int(law_id, 16)])


def n_runs(law: Pending) -> int:
    """Training runs of a law (the units its resamples draw)."""
    return int(np.unique(law.spec.family.run_index(law.spec.train)).size)


def refit(items: Sequence[Pending], n_resamples: int, seed: int) -> tuple[np.ndarray, ...]:
    """Refit laws of one form and estimator on ``n_resamples`` resamples of their runs.

    Returns
    -------
    params : ndarray, shape (n_laws, n_resamples, 5)
        Natural Chinchilla parameters; NaN where a refit did not converge.
    are : ndarray, shape (n_laws, n_resamples)
        ARE of each refit on the law's test checkpoints (NaN likewise).
    """
    form = get_form(items[0].spec.form)
    specs = [p.spec for p in items]
    train = law_batch(specs, "train")
    runs = np.full(train.mask.shape, -1)
    for i, s in enumerate(specs):
        runs[i, : s.train.size] = s.family.run_index(s.train)
    est = get_estimator(items[0].estimator)(form=form, **items[0].settings)
    draws = run_draws(est, train, runs, n_resamples, [law_rng(seed, p.law_id) for p in items])
    flat = draws.reshape(-1, draws.shape[-1])
    test = law_batch(specs, "test")
    mask = np.repeat(test.mask, n_resamples, axis=0)
    actual = np.repeat(test.y, n_resamples, axis=0)
    with np.errstate(all="ignore"):
        pred = form.predict(flat, *np.moveaxis(np.repeat(test.inputs(form.inputs),
                                                         n_resamples, axis=0), -1, 0))
        error = np.where(mask, np.abs(actual - pred) / actual, 0.0)
        are = error.sum(1) / mask.sum(1)
    params = base_params(form, flat)
    return params.reshape(len(items), n_resamples, -1), are.reshape(len(items), n_resamples)


@dataclass(frozen=True)
class Bootstrapped:
    """Rows for ``law_bootstraps`` and ``law_intervals`` from one chunk."""

    bootstraps: pl.DataFrame
    intervals: pl.DataFrame


def bootstrap_specs(items: Sequence[Pending], *, n_resamples: int, seed: int) -> Bootstrapped:
    """The bootstraps of a chunk of laws (one form and estimator) and their intervals."""
    start = time.perf_counter()
    n_units = np.array([n_runs(p) for p in items])
    values = np.full((len(items), n_resamples, len(QUANTITIES)), np.nan)
    enough = np.flatnonzero(n_units >= MIN_RUNS)
    if enough.size:
        params, are = refit([items[i] for i in enough], n_resamples, seed)
        values[enough] = np.concatenate([params, are[..., None]], axis=-1)
    finite = np.isfinite(values).all(-1)
    n_finite = finite.sum(1)
    status = np.where(n_units < MIN_RUNS, "too_few_runs", np.where(n_finite, "ok", "no_fit"))
    bootstraps = pl.DataFrame({
        "law_id": [p.law_id for p in items], "n_resamples": n_resamples, "seed": seed,
        "unit": UNIT, "n_units": n_units.tolist(), "status": status.tolist(),
        "n_finite": n_finite.tolist(),
        # the chunk's time shared by the laws refitted in it: too few runs costs nothing
        "seconds": np.where(n_units >= MIN_RUNS, (time.perf_counter() - start)
                            / max(enough.size, 1), 0.0).tolist(),
        "computed_at": datetime.now(UTC).replace(tzinfo=None),
    }, schema_overrides={"n_resamples": pl.Int32, "seed": pl.Int64, "n_units": pl.Int32,
                         "n_finite": pl.Int32})
    rows = []
    for i in np.flatnonzero(status == "ok"):
        kept = values[i, finite[i]]
        for level in LEVELS:
            q = np.quantile(kept, [(1 - level) / 2, 0.5, (1 + level) / 2], axis=0)
            rows += [(items[i].law_id, quantity, level, *q[:, k].tolist())
                     for k, quantity in enumerate(QUANTITIES)]
    intervals = pl.DataFrame(
        rows, schema={"law_id": pl.String, "quantity": pl.String, "level": pl.Float64,
                      "low": pl.Float64, "median": pl.Float64, "high": pl.Float64},
        orient="row",
    ).with_columns(n_resamples=pl.lit(n_resamples, pl.Int32), seed=pl.lit(seed, pl.Int64))
    return Bootstrapped(bootstraps, intervals)


@dataclass(frozen=True)
class Work:
    """What a bootstrap run will do, known before it starts.

    Attributes
    ----------
    laws : int
        Laws to bootstrap now (fitted, not yet bootstrapped with these resamples and seed).
    too_few_runs : int
        Of those, laws fitted on fewer than :data:`MIN_RUNS` runs (no refit, no interval).
    done : int
        Laws that already have this bootstrap (resumed).
    n_resamples : int
    core_seconds : float
        Estimated cost: the laws' own fit times (``laws.seconds``) times ``n_resamples``.
    workers : int
        Workers of the executor.
    """

    laws: int
    too_few_runs: int
    done: int
    n_resamples: int
    core_seconds: float
    workers: int

    @property
    def refits(self) -> int:
        return (self.laws - self.too_few_runs) * self.n_resamples

    @property
    def seconds(self) -> float:
        """Estimated wall time on ``workers``."""
        return self.core_seconds / self.workers


@dataclass(frozen=True)
class BootstrapResult:
    """What a run did: laws bootstrapped now (and how many of them had too few runs or no
    converged resample), laws resumed, intervals of removed laws deleted, wall time."""

    bootstrapped: int
    too_few_runs: int
    no_fit: int
    resumed: int
    orphans: int
    seconds: float


def _check(n_resamples: object, seed: object) -> None:
    for name, value, low in (("n_resamples", n_resamples, 1), ("seed", seed, 0)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise MetaError(f"The {name!r} parameter of the bootstrap must be an int in the "
                            f"range [{low}, inf). Got {value!r} instead.")


def bootstrap_all(
    con: duckdb.DuckDBPyConnection,
    *,
    studies: Sequence[str],
    n_resamples: int = 200,
    seed: int = 0,
    estimators: Sequence[str] | None = None,
    families: Sequence[str] | None = None,
    jobs: int = 1,
    executor: str = "local",
    address: str | None = None,
    runs: str = "best",
    estimate: Callable[[Work], None] = lambda work: None,
    progress: Callable[..., None] = lambda done, total, what, work=None: None,
) -> BootstrapResult:
    """Bootstrap every fitted law of ``studies`` (its parameters and ARE) that has no
    bootstrap of ``n_resamples`` with ``seed`` yet, and write the intervals.

    The laws are those fit-all plans for the same arguments (baselines have no parameters),
    fitted with a finished status. ``estimate`` receives the work before any refit;
    ``progress(done, total, what, work=...)`` is called after each chunk is written, with
    ``work`` the share of the estimated core time done (laws differ in cost by hundreds of
    times, so the share of laws done is a poor clock).
    """
    start = time.perf_counter()
    _check(n_resamples, seed)
    check_engine(executor, jobs=jobs, address=address)
    for name in studies:
        get_study(name)
    if families:
        require_families(con, families)
    orphans = delete_orphan_intervals(con)
    seconds = dict(fitted(con, FITTED).iter_rows())
    planned, _ = plan(load_families(con, families, runs=runs), studies, estimators)
    laws = [p for p in planned if p.estimator not in BASELINES and p.law_id in seconds]
    done = bootstrapped(con, n_resamples, seed)
    pending = [p for p in laws if p.law_id not in done]
    refitted = [p for p in pending if n_runs(p) >= MIN_RUNS]
    # A law's cost: its own fit time once per resample. Chunks are cut by cost as well as
    # by count, and the costliest go first, so that no worker is left with a long one at
    # the end; the cut depends on the warehouse only, never on the executor.
    cost = {p.law_id: seconds[p.law_id] * n_resamples for p in refitted}
    total_cost = sum(cost.values())
    chunks = sorted(chunked(pending, size=max(1, REFITS // n_resamples),
                            cost=lambda p: cost.get(p.law_id, 0.0), max_cost=CHUNK_SECONDS),
                    key=lambda c: -sum(cost.get(p.law_id, 0.0) for p in c))
    counts = dict.fromkeys(("ok", "too_few_runs", "no_fit"), 0)
    with engine(executor, jobs=jobs, address=address) as pool:
        estimate(Work(len(pending), len(pending) - len(refitted), len(laws) - len(pending),
                      n_resamples, total_cost, pool.workers))
        finished, spent = 0, 0.0
        task = partial(bootstrap_specs, n_resamples=n_resamples, seed=seed)
        for chunk, result in pool.run(task, chunks):
            write_intervals(con, result.bootstraps, result.intervals)
            for status, n in result.bootstraps["status"].value_counts().iter_rows():
                counts[status] += n
            finished += len(chunk)
            spent += sum(cost.get(p.law_id, 0.0) for p in chunk)
            progress(finished, len(pending), chunk_label(chunk),
                     work=spent / total_cost if total_cost > 0 else None)
    return BootstrapResult(finished, counts["too_few_runs"], counts["no_fit"],
                           len(laws) - len(pending), orphans, time.perf_counter() - start)
