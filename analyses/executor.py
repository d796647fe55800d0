"""Where chunks of work run: this process, local worker processes, or a Ray cluster.

Every engine runs a picklable function on items and yields ``(item, result)`` pairs as they
finish; the driver (the caller) writes each result once, so what it wrote survives an
interruption. A chunk gives the same bits in every engine: each call runs with BLAS limited
to :data:`BLAS_THREADS` threads, and the law kernel to one.

Killing the driver, even with SIGKILL, leaves no worker behind: a local worker exits when
its parent does (Linux ``PR_SET_PDEATHSIG``, elsewhere a watchdog thread), and the
multiprocessing resource tracker exits when the last of them is gone; a Ray instance that
the driver started itself shares its fate (Ray starts its processes so), while the workers of
an existing cluster (``address``) belong to that cluster.

Examples
--------
>>> with executor("local", jobs=1) as ex:
...     sorted(r for _, r in ex.run(abs, [-2, 1]))
[1, 2]
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Protocol

from warehouse.errors import MetaError, UnknownName

EXECUTORS = ("local", "ray")
BLAS_THREADS = 1  # per worker: many small products, and the same bits in every engine
_ONE_THREAD: list[bool] = []  # one entry per one_thread() entered in this process
WINDOW = 2  # items in flight per worker: one running, one queued behind it
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


class Executor(Protocol):
    """Runs ``fn`` on items somewhere; ``workers`` is how many run at once."""

    workers: int

    def run(self, fn: Callable, items: Iterable) -> Iterator[tuple[object, object]]:
        """``(item, fn(item))`` for every item, in the order they finish."""


@contextmanager
def one_thread() -> Iterator[None]:
    """BLAS limited to :data:`BLAS_THREADS` thread, and the law kernel's thread pool
    (:mod:`analyses.laws.objectives`, through :func:`kernel_threads`) to one, while it is
    entered: each worker then uses one core (two workers on two cores no longer run four
    threads), the same bits come out in every engine, and many tiny fits run faster without
    OpenBLAS waking its thread pool for every small product."""
    from threadpoolctl import threadpool_limits

    _ONE_THREAD.append(True)
    try:
        with threadpool_limits(BLAS_THREADS, user_api="blas"):
            yield
    finally:
        _ONE_THREAD.pop()


def kernel_threads(threads: int) -> int:
    """``threads``, or 1 inside :func:`one_thread` (a worker of any engine is one core)."""
    return 1 if _ONE_THREAD else threads


def call(fn: Callable, item):
    """``fn(item)`` on one thread (:func:`one_thread`), in every engine."""
    with one_thread():
        return fn(item)


class Inline:
    """Every item in this process, one after the other."""

    workers = 1

    def run(self, fn, items):
        for item in items:
            yield item, call(fn, item)


def _bounded(submit: Callable[[object], Future], items: Iterable,
             window: int) -> Iterator[tuple[object, object]]:
    """Submit at most ``window`` items at a time and yield each with its result when done;
    a failed item raises its exception here."""
    todo = iter(items)
    running: dict[Future, object] = {}
    while True:
        for item in itertools.islice(todo, window - len(running)):
            running[submit(item)] = item
        if not running:
            return
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            yield running.pop(future), future.result()


class LocalPool:
    """Spawned worker processes (the driver holds a DuckDB connection, so no fork)."""

    def __init__(self, jobs: int):
        self.workers = jobs
        self._pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_die_with, initargs=(os.getpid(),))

    def run(self, fn, items):
        return _bounded(lambda item: self._pool.submit(call, fn, item), items,
                        WINDOW * self.workers)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _die_with(parent: int) -> None:
    """Worker initializer: end this process when ``parent`` ends, however it ends."""
    if sys.platform == "linux":
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    else:
        threading.Thread(target=_watch, args=(parent,), daemon=True).start()
    if os.getppid() != parent:  # it ended before the signal was armed
        os._exit(1)


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(1)


class RayPool:
    """Ray tasks of one CPU each, on the cluster at ``address`` or on a local instance of
    ``jobs`` CPUs (loopback only, no dashboard, no usage statistics) started here.

    A Ray session already open in this process (``ray.init`` called before) is used as it
    is and left open. While a Ray instance started here runs, SIGTERM exits through
    ``close`` (which shuts it down at once; SIGKILL leaves that to Ray's fate sharing).
    """

    def __init__(self, jobs: int, address: str | None):
        os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
        try:
            import ray
        except ImportError:
            raise MetaError("The ray executor needs Ray: pip install 'meta-scaling[ray]'.") \
                from None
        self._ray = ray
        self._started = not ray.is_initialized()
        self._sigterm = None
        if self._started:
            local = {} if address else {"num_cpus": jobs, "_node_ip_address": "127.0.0.1"}
            try:
                ray.init(address=address, include_dashboard=False, logging_level="WARNING",
                         log_to_driver=False, **local)
            except (ConnectionError, RuntimeError, ValueError) as e:
                raise MetaError(f"Cannot start Ray at {address or 'this machine'}: {e}") \
                    from None
            if threading.current_thread() is threading.main_thread():
                self._sigterm = signal.signal(signal.SIGTERM, _exit)  # to shut Ray down
        self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._task = ray.remote(num_cpus=1, max_retries=0)(call)
        self._running: dict[Future, object] = {}  # future -> its task's ObjectRef

    def run(self, fn, items):
        def submit(item):
            ref = self._task.remote(fn, item)
            future = ref.future()
            self._running[future] = ref
            future.add_done_callback(lambda f: self._running.pop(f, None))
            return future

        return _bounded(submit, items, WINDOW * self.workers)

    def close(self) -> None:
        for ref in list(self._running.values()):
            self._ray.cancel(ref, force=True)
        if self._started:
            self._ray.shutdown()
            if self._sigterm is not None:
                signal.signal(signal.SIGTERM, self._sigterm)


def _exit(signum: int, frame) -> None:
    """SIGTERM as an exit that runs the ``finally`` blocks (Ray is shut down)."""
    raise SystemExit(128 + signum)


def check(kind: str, *, jobs: int, address: str | None) -> None:
    """Raise the one error a bad engine argument gets (:func:`executor` takes the same)."""
    if kind not in EXECUTORS:
        raise UnknownName("executor", kind, EXECUTORS)
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise MetaError(f"The number of jobs must be an int in the range [1, inf). Got {jobs!r} "
                        "instead.")
    if address is not None and kind != "ray":
        raise MetaError(f"--address is for the ray executor; got --executor {kind}.")


@contextmanager
def executor(kind: str = "local", *, jobs: int = 1,
             address: str | None = None) -> Iterator[Executor]:
    """An engine for the block: ``"local"`` (``jobs`` processes; this process for one) or
    ``"ray"`` (a cluster at ``address``, else a local one of ``jobs`` CPUs).

    Parameters
    ----------
    kind : {"local", "ray"}, default="local"
    jobs : int, default=1
        Local worker processes, or the CPUs of a Ray instance started here.
    address : str, optional
        A Ray cluster (``ray://host:10001``, ``host:6379`` or ``auto``); Ray only.

    Yields
    ------
    Executor
    """
    check(kind, jobs=jobs, address=address)
    if kind == "local" and jobs <= 1:
        yield Inline()
        return
    engine = LocalPool(jobs) if kind == "local" else RayPool(jobs, address)
    try:
        yield engine
    finally:
        engine.close()
