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
from ingest.manifest import Manifest, find_manifest, listed
from ingest.normalize import normalize
from ingest.readers import require
from warehouse.errors import CorruptInput, MissingInput

# Code whose change must reload every source, besides the loader's own module.
_SHARED_CODE = ("ingest.base", "ingest.readers", "ingest.parse", "ingest.normalize",
                "ingest.safepickle", "ingest.pandas_pickle")


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


def source_files(module, data_root: Path) -> list[Path]:
    """The files a source reads: its loader's ``inputs(data_root)`` where it has one (a
    source that lives outside the data root, like this project's own runs), else the files
    matching ``SOURCE.files`` under the data root."""
    if hasattr(module, "inputs"):
        return sorted(module.inputs(data_root))
    return input_files(module.SOURCE.files, data_root)


def source_folders(module, data_root: Path) -> list[tuple[Path, str]]:
    """(data folder, glob pattern inside it) of each pattern a source reads: the first part
    of each ``SOURCE.files`` pattern is the folder (``hitchhiker``, ``pythia``, ...); a source
    outside the data root names its own (``inputs_root()`` and ``PATTERN``)."""
    if hasattr(module, "inputs_root"):
        return [(Path(module.inputs_root()), module.PATTERN)]
    folders = []
    for pattern in module.SOURCE.files:
        top, _, inner = pattern.partition("/")
        folders.append((data_root / top, inner))
    return folders


def _folder_of(path: Path, data_root: Path, module) -> tuple[Path, str, str]:
    """(data folder, path inside it, name in messages) of one input file."""
    if path.is_relative_to(data_root):
        rel = path.relative_to(data_root)
        return data_root / rel.parts[0], Path(*rel.parts[1:]).as_posix(), rel.as_posix()
    root = Path(module.inputs_root()) if hasattr(module, "inputs_root") else path.parent
    rel = path.relative_to(root).as_posix()
    return root, rel, rel


def missing_inputs(module, data_root: Path) -> list[str]:
    """A sentence for each file that a source reads (matches one of its patterns) and its
    folder's manifest lists, but that is not there."""
    missing = []
    for folder, pattern in source_folders(module, data_root):
        manifest = find_manifest(folder)
        if manifest is None:
            continue
        for rel in listed(manifest, pattern):
            if not (folder / rel).is_file():
                name = (folder / rel).relative_to(data_root).as_posix() if (
                    folder.is_relative_to(data_root)) else rel
                missing.append(f"{name} is listed in {manifest.label} but missing")
    return missing


def fingerprint(name: str, data_root: Path) -> Fingerprint:
    """Hash a source's input files (path and bytes), its loader (with the modules its
    ``CODE_MODULES`` names) and shared code, the schema; check each file against its data
    folder's manifest where one lists it (``MANIFEST.tsv``, or the project's
    ``ingest/manifests/<folder>.tsv``)."""
    module = get_loader(name)
    h = hashlib.sha256()
    for code in (module.__name__, *getattr(module, "CODE_MODULES", ()), *_SHARED_CODE):
        h.update(inspect.getsource(importlib.import_module(code)).encode())
    for f in sorted(resources.files("warehouse").joinpath("schema").iterdir(), key=str):
        h.update(f.read_bytes())
    files = source_files(module, data_root)
    manifests: dict[Path, Manifest | None] = {}
    mismatched = []
    for path in files:
        data = path.read_bytes()
        folder, rel, label = _folder_of(path, data_root, module)
        h.update(label.encode() if path.is_relative_to(data_root) else
                 f"{path.parent.name}/{path.name}".encode())
        h.update(data)
        if folder not in manifests:
            manifests[folder] = find_manifest(folder)
        problem = manifests[folder] and manifests[folder].check(rel, data, label)
        if problem:
            mismatched.append(problem)
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
    manifest of its data folder (size and git blob SHA-1), or that the source reads and the
    manifest lists but that is missing, stops the source (:mod:`ingest.manifest`).
    """
    data_root = require(Path(data_root))
    results = []
    for name in names or list(LOADERS):
        start = time.perf_counter()
        if verify and (missing := missing_inputs(get_loader(name), data_root)):
            raise CorruptInput(
                f"{missing[0]}{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''}; "
                "restore it, or pass --no-verify to load the source without it."
            )
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
