"""Shared fixtures: the real data root, warehouses in tmp dirs, loaded sources, and data roots
with one input file copied for a test to corrupt."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

import warehouse
from ingest import get_loader
from ingest.base import SourceInfo
from ingest.normalize import normalize
from ingest.run import input_files

REPO = Path(__file__).resolve().parent.parent
DATA_ROOT = Path(os.environ.get("META_DATA_ROOT", REPO.parent / "shared" / "data")).resolve()


@pytest.fixture(autouse=True)
def _no_environment_defaults(monkeypatch):
    """Commands under test see neither $META_DATA_ROOT (CI exports it; with it, fit-all
    would ingest every source first) nor $META_WAREHOUSE: tests name both explicitly."""
    monkeypatch.delenv("META_DATA_ROOT", raising=False)
    monkeypatch.delenv("META_WAREHOUSE", raising=False)


@pytest.fixture(scope="session")
def data_root() -> Path:
    """The read-only shared data folder (``$META_DATA_ROOT`` or ``../shared/data``)."""
    if not DATA_ROOT.exists():
        pytest.fail(f"shared data not found at {DATA_ROOT}; set META_DATA_ROOT")
    return DATA_ROOT


@pytest.fixture
def db(tmp_path: Path):
    """A fresh, migrated warehouse file in a tmp dir."""
    con = warehouse.connect(tmp_path / "w.duckdb")
    yield con
    con.close()


def copy_of(path: Path, into: Path, name: str = "w.duckdb") -> Path:
    """A copy of the warehouse file ``path`` at ``into / name``, for one test to change."""
    target = into / name
    shutil.copyfile(path, target)
    return target


_CACHE: dict[str, dict[str, pl.DataFrame]] = {}


def load_tables(name: str) -> dict[str, pl.DataFrame]:
    """The normalised tables of one source, loaded once per test session."""
    if name not in _CACHE:
        _CACHE[name] = normalize(name, get_loader(name).load(DATA_ROOT))
    return _CACHE[name]


def value_at(tables: dict[str, pl.DataFrame], checkpoint_id: str, metric: str) -> float:
    """One metric value of one checkpoint."""
    m = tables["metrics"].filter(
        (pl.col("checkpoint_id") == checkpoint_id) & (pl.col("metric") == metric)
    )
    assert m.height == 1, f"{checkpoint_id} {metric}: {m.height} rows"
    return m["value"][0]


def checkpoint(tables: dict[str, pl.DataFrame], checkpoint_id: str) -> dict:
    """The ``checkpoints`` row of one checkpoint, as a dict."""
    c = tables["checkpoints"].filter(pl.col("checkpoint_id") == checkpoint_id)
    assert c.height == 1, f"{checkpoint_id}: {c.height} rows"
    return c.row(0, named=True)


def mirror(data_root: Path, files: list[Path], into: Path, corrupt: Path) -> Path:
    """A data root of symlinks to the real files and manifests, except ``corrupt``, a copy."""
    manifests = {data_root / f.relative_to(data_root).parts[0] / "MANIFEST.tsv" for f in files}
    for f in files + sorted(m for m in manifests if m.exists()):
        target = into / f.relative_to(data_root)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            if f == corrupt:
                target.write_bytes(f.read_bytes())
            else:
                os.symlink(f, target)
    return into / corrupt.relative_to(data_root)


def mirror_source(source: SourceInfo, victim: str, into: Path) -> Path:
    """``mirror`` of a source's input files at ``into``; returns the path of the copy of
    ``victim`` (relative to the data root), the one file a test may change."""
    files = input_files(source.files, DATA_ROOT)
    return mirror(DATA_ROOT, files, into, DATA_ROOT / victim)


def edit_line(path: Path, line: int, old: str, new: str) -> None:
    """Replace ``old`` (which must be there) by ``new`` once on line ``line`` of ``path``."""
    lines = path.read_bytes().decode().splitlines(keepends=True)
    assert old in lines[line - 1], f"{old!r} is not on line {line} of {path}"
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    path.write_bytes("".join(lines).encode())


def load_edited(module: ModuleType, victim: str, line: int, old: str, new: str, into: Path):
    """``module.load`` of a mirror of its source's inputs at ``into`` in which line ``line`` of
    ``victim`` has ``old`` replaced by ``new`` (a corruption test's whole setup)."""
    edit_line(mirror_source(module.SOURCE, victim, into), line, old, new)
    return module.load(into)
