"""Every source, fed a damaged copy of one of its input files, refuses it with one MetaError
naming that file, and the warehouse keeps exactly what it held: for every kind of damage in
``tests.damage`` (bad encoding bytes, truncation, empty, header-only, non-finite and negative
values, binary garbage), with and without manifest verification (``--no-verify``); and with
verification, a deleted input is refused by its folder's manifest.

One example per (source, kind, verify) by default, so that the test stays within CI's budget;
``META_DAMAGE_EXAMPLES=N`` draws N of each.
"""

from __future__ import annotations

import functools
import os
import shutil
import traceback
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import warehouse
from ingest import LOADERS, get_loader
from ingest.pcfg.grid import default_runs_folder
from ingest.run import ingest, source_files
from tests.conftest import DATA_ROOT
from tests.damage import DAMAGE, TEXT, applies, has_header
from warehouse.errors import CorruptInput, MetaError
from warehouse.status import digest

EXAMPLES = int(os.environ.get("META_DAMAGE_EXAMPLES", "1"))
RUNS = default_runs_folder()
TRIED: list[tuple[str, str, bool, str]] = []  # (source, kind, verify, outcome) of each example


@functools.cache
def loaded_lines(name: str) -> dict[str, list[int]]:
    """file (as the loader names it) -> the lines the source loads a model or a value from."""
    module = get_loader(name)
    data = module.load(DATA_ROOT) if name != "pcfg-runs" else module.load(runs=RUNS)
    lines: dict[str, set[int]] = {}
    for frame in (data.models, data.points):
        if "row" not in frame.columns:  # values read from a pickle have no line
            continue
        for file, row in frame.select("file", "row").unique().drop_nulls().iter_rows():
            lines.setdefault(file, set()).add(row)
    return {f: sorted(rows) for f, rows in lines.items()}


class World:
    """A data root and a runs folder of symlinks to the real inputs and manifests, and a
    warehouse holding every source, shared by all examples; a test swaps one link for a
    damaged copy and puts the link back."""

    def __init__(self, root: Path):
        self.data, self.runs = root / "data", root / "runs"
        self.data.mkdir()
        for top in sorted(p for p in DATA_ROOT.iterdir() if p.is_dir()):
            (self.data / top.name).symlink_to(top)  # replaced by real folders where damaged
        shutil.copytree(RUNS, self.runs, symlinks=True)
        self.con = warehouse.connect(root / "w.duckdb")

    def files(self, name: str) -> list[tuple[Path, Path, str]]:
        """(real file, path in this world, name in messages) of each input of ``name``."""
        if name == "pcfg-runs":
            return [(f, self.runs / f.relative_to(RUNS), f.relative_to(RUNS).as_posix())
                    for f in _inputs(name)]
        return [(f, self.data / f.relative_to(DATA_ROOT), f.relative_to(DATA_ROOT).as_posix())
                for f in _inputs(name)]

    @functools.cache  # noqa: B019 (one world per module)
    def candidates(self, name: str, kind: str) -> list[tuple[Path, Path, str, bytes, list[int]]]:
        """(real file, path here, name, bytes, loaded lines) of the inputs of ``name`` that
        damage ``kind`` applies to."""
        out = []
        for real, path, label in self.files(name):
            raw = real.read_bytes()
            lines = loaded_lines(name).get(label, [])
            if applies(kind, real, raw, lines):
                out.append((real, path, label, raw, lines))
        return out

    def unlink_folders(self, target: Path) -> None:
        """Turn the symlinked folders above ``target`` into real folders of symlinks."""
        parts = target.relative_to(self.data).parts if target.is_relative_to(self.data) else ()
        here = self.data
        for part in parts[:-1]:
            here = here / part
            if here.is_symlink():
                real = here.resolve()
                here.unlink()
                here.mkdir()
                for child in real.iterdir():
                    (here / child.name).symlink_to(child)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = World(tmp_path_factory.mktemp("damage"))
    os.environ["META_PCFG_RUNS"] = str(w.runs)
    try:
        ingest(w.con, None, w.data)
        w.before = digest(w.con)
        yield w
    finally:
        os.environ.pop("META_PCFG_RUNS", None)
        w.con.close()
        refused = sum(t[3] == "refused" for t in TRIED)
        print(f"\n{len(TRIED)} damaged inputs tried: {refused} refused cleanly, "
              f"{len(TRIED) - refused} not")


def _inputs(name: str) -> list[Path]:
    module = get_loader(name)
    return module.inputs(runs=RUNS) if name == "pcfg-runs" else source_files(module, DATA_ROOT)


def _can_take(name: str, kind: str) -> bool:
    """Whether any input of a source can take a kind of damage (text files bad encoding
    bytes, CSVs with a header a header-only copy); the file is drawn among those that can."""
    files = _inputs(name)
    if kind == "encoding":
        return any(f.suffix in TEXT for f in files)
    if kind == "header-only":
        return any(f.suffix == ".csv" and has_header(f.read_bytes()[:4096]) for f in files)
    return True


CASES = [(name, kind) for name in LOADERS for kind in DAMAGE if _can_take(name, kind)]


@pytest.mark.parametrize("verify", [True, False], ids=["verify", "no-verify"])
@pytest.mark.parametrize("name, kind", CASES, ids=[f"{n}-{k}" for n, k in CASES])
@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES == 1,
          suppress_health_check=list(HealthCheck), database=None,
          phases=[Phase.generate])  # no shrinking: each example loads a whole source
@given(data=st.data())
def test_damaged_input_is_refused(world, name, kind, verify, data):
    candidates = world.candidates(name, kind)
    assert candidates, f"no input of {name} can take damage '{kind}'"
    real, path, label, raw, lines = data.draw(st.sampled_from(candidates), label="file")
    damaged = DAMAGE[kind](raw, real, lines, data.draw)
    world.unlink_folders(path)
    path.unlink()
    path.write_bytes(damaged)
    os.environ["META_PCFG_RUNS"] = str(world.runs)
    outcome = "refused"
    try:
        with pytest.raises(MetaError) as e:
            ingest(world.con, [name], world.data, verify=verify)
        message = str(e.value)
        assert "\n" not in message
        assert label in message, message
        assert digest(world.con) == world.before
    except BaseException as exc:
        outcome = "".join(traceback.format_exception_only(exc)).strip()
        raise
    finally:
        TRIED.append((name, kind, verify, outcome))
        path.unlink()
        path.symlink_to(real)
        if outcome != "refused":  # put the source back for the examples after this one
            ingest(world.con, [name], world.data, force=True)


@pytest.mark.parametrize("name", list(LOADERS))
@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES == 1,
          suppress_health_check=list(HealthCheck), database=None, phases=[Phase.generate])
@given(data=st.data())
def test_a_deleted_input_is_refused_by_its_manifest(world, name, data):
    """With verification, any input that a source reads and its manifest lists may not be
    missing (without it, a source that globs its files would load the others)."""
    real, path, label = data.draw(st.sampled_from(world.files(name)), label="file")
    world.unlink_folders(path)
    path.unlink()
    outcome = "refused"
    try:
        with pytest.raises(CorruptInput) as e:
            ingest(world.con, [name], world.data)
        assert str(e.value).startswith(f"{label} is listed in ")
        assert str(e.value).endswith(" but missing; restore it, or pass --no-verify to load the "
                                     "source without it.")
        assert digest(world.con) == world.before
    except BaseException as exc:
        outcome = "".join(traceback.format_exception_only(exc)).strip()
        raise
    finally:
        TRIED.append((name, "deleted", True, outcome))
        path.symlink_to(real)
