"""Loading sources into the warehouse: hash the inputs, load, normalise, write atomically."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb

import warehouse
from ingest import LOADERS, get_loader
from ingest.base import require
from ingest.normalize import normalize
from warehouse.errors import CorruptInput, MissingInput

# Code whose change must reload every source, besides the loader's own module.
_SHARED_CODE = ("ingest.base", "ingest.normalize")


@dataclass(frozen=True)
class IngestResult:
    """What happened to one source: ``status`` is 'loaded' or 'unchanged'."""

    source: str
    status: str
    counts: dict[str, int]
    seconds: float


def input_files(patterns: Sequence[str], data_root: Path) -> list[Path]:
    """The files matching a loader's patterns, sorted; a pattern matching nothing is an error."""
    files: list[Path] = []
    for pattern in patterns:
        found = sorted(p for p in data_root.glob(pattern) if p.is_file())
        if not found:
            require(data_root / pattern.split("*")[0].rstrip("/"))
            raise MissingInput(f"No file matches {pattern} under {data_root}.")
        files.extend(found)
    return files


@dataclass(frozen=True)
class Fingerprint:
    """A source's inputs: their content hash, count, and files that differ from a manifest."""

    digest: str
    n_files: int
    mismatched: tuple[str, ...]


def read_manifest(folder: Path) -> dict[str, tuple[int, str]]:
    """``MANIFEST.tsv`` of a data folder: path -> (bytes, git blob sha1); {} when absent."""
    manifest = folder / "MANIFEST.tsv"
    if not manifest.exists():
        return {}
    rows = [line.split("\t") for line in manifest.read_text().splitlines()[1:] if line]
    return {path: (int(size), sha) for path, size, sha in rows}


def git_blob_sha1(data: bytes) -> str:
    """The SHA-1 that ``git hash-object`` gives these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def source_files(module, data_root: Path) -> list[Path]:
    """The files a source reads: its loader's ``inputs(data_root)`` where it has one (a
    source that lives outside the data root, like this project's own runs), else the files
    matching ``SOURCE.files`` under the data root."""
    if hasattr(module, "inputs"):
        return sorted(module.inputs(data_root))
    return input_files(module.SOURCE.files, data_root)


def fingerprint(name: str, data_root: Path) -> Fingerprint:
    """Hash a source's input files (path and bytes), its loader and shared code, the schema;
    check each file against its data folder's ``MANIFEST.tsv`` where one lists it."""
    module = get_loader(name)
    h = hashlib.sha256()
    for code in (module.__name__, *_SHARED_CODE):
        h.update(inspect.getsource(importlib.import_module(code)).encode())
    for f in sorted(resources.files("warehouse").joinpath("schema").iterdir(), key=str):
        h.update(f.read_bytes())
    files = source_files(module, data_root)
    manifests: dict[str, dict[str, tuple[int, str]]] = {}
    mismatched = []
    for path in files:
        data = path.read_bytes()
        if not path.is_relative_to(data_root):
            h.update(f"{path.parent.name}/{path.name}".encode())
            h.update(data)
            continue
        rel = path.relative_to(data_root)
        h.update(rel.as_posix().encode())
        h.update(data)
        top = rel.parts[0]
        if top not in manifests:
            manifests[top] = read_manifest(data_root / top)
        expected = manifests[top].get(Path(*rel.parts[1:]).as_posix())
        if expected and expected != (len(data), git_blob_sha1(data)):
            mismatched.append(
                f"{rel.as_posix()} differs from {top}/MANIFEST.tsv ({len(data)} bytes, "
                f"{expected[0]} expected): the file is corrupted or truncated"
            )
    return Fingerprint(h.hexdigest(), len(files), tuple(mismatched))


def counts(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, int]:
    """Rows per table written by ``source``."""
    return {
        table: warehouse.one(con, f"SELECT count(*) FROM {table} WHERE source = ?", [source])[0]
        for table in ("families", "models", "checkpoints", "metrics")
    }


def ingest(
    con: duckdb.DuckDBPyConnection,
    names: Sequence[str] | None,
    data_root: Path,
    *,
    force: bool = False,
    verify: bool = True,
    log: Callable[[str], None] = lambda _: None,
) -> list[IngestResult]:
    """Load sources (all when ``names`` is empty), skipping those whose inputs are unchanged.

    Each source is written in one transaction: a failure stops at that source and leaves the
    warehouse as it was before it. With ``verify``, an input file that differs from the
    ``MANIFEST.tsv`` of its data folder (size and git blob SHA-1) stops the source.
    """
    data_root = require(Path(data_root))
    results = []
    for name in names or list(LOADERS):
        start = time.perf_counter()
        inputs = fingerprint(name, data_root)
        if not force and warehouse.stored_hash(con, name) == inputs.digest:
            results.append(IngestResult(name, "unchanged", counts(con, name), 0.0))
            log(f"{name}: unchanged")
            continue
        module = get_loader(name)
        log(f"{name}: reading {inputs.n_files} file(s) ...")
        tables = normalize(name, module.load(data_root))
        if verify and inputs.mismatched:
            # After loading: a bad value names its line, which is more use than a checksum.
            raise CorruptInput(
                f"{inputs.mismatched[0]}; restore it, or pass --no-verify to load it as it is."
            )
        seconds = time.perf_counter() - start
        info = {k: getattr(module.SOURCE, k) for k in ("name", "citation", "upstream", "license")}
        warehouse.write_source(
            con,
            info=info,
            tables=tables,
            content_hash=inputs.digest,
            n_files=inputs.n_files,
            seconds=seconds,
        )
        seconds = time.perf_counter() - start
        result = IngestResult(name, "loaded", counts(con, name), seconds)
        results.append(result)
        c = result.counts
        log(
            f"{name}: {c['families']} families, {c['models']} models, "
            f"{c['checkpoints']} checkpoints, {c['metrics']} metric rows ({seconds:.1f} s)"
        )
    return results
