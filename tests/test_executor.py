"""The executors behind fit-all and the bootstrap: the same bits in every engine, one clear
error for a bad argument, and no worker left behind when the driver is killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import warehouse
from analyses.executor import executor
from analyses.hitchhiker.bootstrap import bootstrap_all
from analyses.hitchhiker.run import fit_all
from ingest.run import ingest
from tests.conftest import copy_of
from warehouse.errors import MetaError

SELECTION = {"studies": ["num-models"], "estimators": ["huber-lbfgs"], "families": ["t5-pile"]}
OPTIONS = ["--study", "num-models", "--estimator", "huber-lbfgs", "--family", "t5-pile"]
LAWS = "SELECT law_id, params, objective, status FROM laws ORDER BY law_id"
INTERVALS = "SELECT * FROM law_intervals ORDER BY law_id, quantity, level"


@pytest.fixture(scope="module")
def source_db(tmp_path_factory, data_root):
    path = tmp_path_factory.mktemp("exec") / "w.duckdb"
    con = warehouse.connect(path)
    ingest(con, ["t5-pile", "chinchilla"], data_root)
    con.close()
    return path


def fitted(source_db: Path, tmp_path: Path, name: str, **engine) -> tuple[list, list]:
    """Laws and intervals of the selection fitted and bootstrapped on ``engine``."""
    con = warehouse.connect(copy_of(source_db, tmp_path, f"{name}.duckdb"))
    fit_all(con, **SELECTION, **engine)
    bootstrap_all(con, **SELECTION, n_resamples=20, seed=3, **engine)
    out = con.execute(LAWS).fetchall(), con.execute(INTERVALS).fetchall()
    con.close()
    return out


def test_local_pool_gives_the_bits_of_one_process(source_db, tmp_path):
    one = fitted(source_db, tmp_path, "one", jobs=1)
    pool = fitted(source_db, tmp_path, "pool", jobs=2)
    assert len(one[0]) > 10 and len(one[1]) > 10
    assert pool == one


@pytest.mark.parametrize(("args", "message"), [
    ({"kind": "dask"}, "Unknown executor 'dask'. Known executors: local, ray."),
    ({"address": "auto"}, "--address is for the ray executor; got --executor local."),
    ({"jobs": 0}, "The number of jobs must be an int in the range [1, inf). Got 0 instead."),
])
def test_bad_engine_arguments_are_one_error(args, message):
    with pytest.raises(MetaError) as error, executor(**args):
        pass
    assert str(error.value) == message


def test_a_failed_item_raises_in_the_driver():
    with pytest.raises(ZeroDivisionError), executor("local", jobs=2) as ex:
        list(ex.run(_inverse, [1, 0, 2]))


def _inverse(x):
    return 1 / x


def _kernel_threads(_):
    from analyses.laws import objectives

    return objectives._threads()


def test_every_engine_runs_the_law_kernel_on_one_thread(monkeypatch):
    from analyses.laws import objectives

    monkeypatch.setattr(objectives, "THREADS", 2)
    assert objectives._threads() == 2  # a fit outside an executor may use two
    for jobs in (1, 2):
        with executor("local", jobs=jobs) as ex:
            assert {r for _, r in ex.run(_kernel_threads, [0, 1, 2])} == {1}
    assert objectives._threads() == 2  # the limit ends with the call


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray instance of 2 CPUs for this module's Ray tests."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1",
             logging_level="WARNING", log_to_driver=False)
    yield ray
    ray.shutdown()


def test_ray_gives_the_bits_of_the_local_pool(source_db, tmp_path, ray_cluster):
    local = fitted(source_db, tmp_path, "local", jobs=2)
    on_ray = fitted(source_db, tmp_path, "ray", executor="ray")
    assert on_ray == local


def descendants(pid: int) -> dict[int, tuple[str, str]]:
    """Processes below ``pid``: pid -> (start time, to tell a reused pid; command line)."""
    children: dict[int, list[int]] = {}
    started = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            line = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        child = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(child)
        started[child] = (fields[19], line)
    found, todo = {}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found[child] = started[child]
            todo.append(child)
    return found


def alive(processes: dict[int, tuple[str, str]]) -> list[str]:
    """The command lines of those of ``processes`` still running (a zombie has ended)."""
    out = []
    for pid, (start, line) in processes.items():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[19] == start and fields[0] != "Z":
            out.append(line)
    return out


def kill_fit_all(warehouse_path: Path, engine: list[str], sig: int, worker: str,
                 wait: float) -> list[str]:
    """Start ``meta fit-all --bootstrap`` on ``engine`` (its laws fitted already), kill it
    with ``sig`` once two workers (processes whose command line holds ``worker``) run, and
    return the processes below it still alive ``wait`` seconds later."""
    con = warehouse.connect(warehouse_path)
    fit_all(con, **SELECTION)
    con.close()
    meta = Path(sys.executable).parent / "meta"
    command = [str(meta), "fit-all", *OPTIONS, "--bootstrap", "5000", "--no-report",
               "--warehouse", str(warehouse_path), *engine]
    env = {k: v for k, v in os.environ.items() if not k.startswith("META_")}
    driver = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)

    def workers() -> int:
        return sum(worker in line for _, line in descendants(driver.pid).values())

    deadline = time.monotonic() + 120
    while workers() < 2 and time.monotonic() < deadline:
        assert driver.poll() is None, driver.stderr.read()
        time.sleep(0.2)
    below = descendants(driver.pid)
    assert workers() >= 2, f"the workers never started: {below}"
    driver.send_signal(sig)
    driver.wait()
    deadline = time.monotonic() + wait
    while alive(below) and time.monotonic() < deadline:
        time.sleep(0.5)
    return alive(below)


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_fit_all_leaves_no_local_worker(source_db, tmp_path, sig):
    path = copy_of(source_db, tmp_path)
    # the two workers and the resource tracker
    assert kill_fit_all(path, ["--jobs", "2"], sig, "multiprocessing.spawn", wait=15) == []


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_killing_fit_all_leaves_no_ray_process(source_db, tmp_path, sig):
    """Ray's own processes (GCS, raylet, agents, workers) go too; after SIGKILL its agents
    take a minute or two to notice."""
    path = copy_of(source_db, tmp_path)
    engine = ["--executor", "ray", "--jobs", "2"]
    assert kill_fit_all(path, engine, sig, "ray::call", wait=180) == []
