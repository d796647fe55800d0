"""Loading a user's run files as one source: fingerprint, plan, and one transactional write."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import duckdb
import polars as pl

import warehouse
from ingest.runs.build import Plan, build
from ingest.runs.mapping import load_mapping, parse_maps
from ingest.runs.options import RunsOptions
from ingest.runs.prepare import prepare
from ingest.runs.problems import Problems
from ingest.runs.reading import read_table
from warehouse.errors import MetaError

CITATION = "user runs"
# Code whose change reloads a user's runs, as a change of a loader reloads its source.
_CODE = ("ingest.base", "ingest.readers", "ingest.parse", "ingest.normalize",
         "ingest.runs.reading", "ingest.runs.mapping", "ingest.runs.columns",
         "ingest.runs.prepare", "ingest.runs.identity", "ingest.runs.values", "ingest.runs.build",
         "ingest.runs.tables")
_BAD_FAMILY = re.compile(r"[\s/@:]")


@dataclass(frozen=True)
class RunsResult:
    """What ``ingest_runs`` did: ``status`` is 'loaded' or 'unchanged'.

    Attributes
    ----------
    source : str
    status : str
    counts : dict of str to int
        Rows of the source per table.
    seconds : float
    plan : Plan or None
        What was loaded (None when unchanged).
    """

    source: str
    status: str
    counts: dict[str, int]
    seconds: float
    plan: Plan | None


def check_family(family: str) -> None:
    """A family name usable in model ids: not empty, no spaces, '/', '@' or ':'."""
    if not family or _BAD_FAMILY.search(family):
        raise MetaError(
            f"--family '{family}': a family name must be non-empty, without spaces, '/', '@' "
            "or ':'."
        )


def fingerprint(files: Sequence[Path], options: RunsOptions) -> str:
    """SHA-256 of the files (name and bytes), the options, the mapping file and the code that
    reads them: the same inputs give the same digest, wherever the files are."""
    h = hashlib.sha256()
    for code in _CODE:
        h.update(inspect.getsource(importlib.import_module(code)).encode())
    for f in sorted(resources.files("warehouse").joinpath("schema").iterdir(), key=str):
        h.update(f.read_bytes())
    maps = sorted(parse_maps(options.maps).items())  # the pairs in effect: the last one wins
    h.update(repr((options.family, maps, options.run_by, options.target,
                   options.in_aggregate)).encode())
    if options.mapping is not None and options.mapping.is_file():
        h.update(b"mapping\0" + options.mapping.read_bytes())
    for path in files:
        if not path.is_file():
            raise MetaError(f"{path}: no such file.")
        h.update(f"\0{path.name}\0".encode())
        with path.open("rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()


def plan_runs(files: Sequence[Path], options: RunsOptions) -> Plan:
    """Read, check and derive the tables of ``files`` without touching a warehouse.

    Parameters
    ----------
    files : sequence of Path
        CSV, TSV, Parquet or JSON Lines files; messages name them as given.
    options : RunsOptions

    Returns
    -------
    Plan

    Raises
    ------
    MetaError
        A file that cannot be read, a bad mapping, or one error listing every problem in the
        rows (file, line or row, column).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     f = pathlib.Path(d, "r.csv")
    ...     _ = f.write_text("run,params,tokens,loss\\na,1e6,1e8,3.2\\nb,2e6,1e8,3.0\\n")
    ...     plan = plan_runs([f], RunsOptions(family="mine"))
    >>> plan.loss, plan.runs["run"].to_list(), plan.tables["models"]["num_params"].to_list()
    ('loss', ['a', 'b'], [1000000, 2000000])
    """
    check_family(options.family)
    if not files:
        raise MetaError("Give at least one run file.")
    mapping = load_mapping(options.mapping, parse_maps(options.maps))
    tables = [read_table(Path(f), str(f)) for f in files]
    problems = Problems([(t.name, t.unit) for t in tables])
    try:
        prepared = [prepare(t, i, mapping, options.run_by, problems)
                    for i, t in enumerate(tables)]
        return build(prepared, options, mapping, problems)
    except MetaError:
        raise
    except Exception:
        # Rows already named as wrong can break a later step; name them rather than that step.
        problems.check()
        raise


def family_owner(con: duckdb.DuckDBPyConnection, family: str) -> str | None:
    """The source that holds ``family`` in the warehouse, or None."""
    row = warehouse.one(con, "SELECT source FROM families WHERE family = ?", [family])
    return row[0] if row else None


def check_owner(con: duckdb.DuckDBPyConnection, options: RunsOptions) -> None:
    """Refuse a family name that another source already holds."""
    owner = family_owner(con, options.family)
    if owner is not None and owner != options.source:
        raise MetaError(
            f"--family '{options.family}' is already a family of source '{owner}'; choose "
            "another name for your runs."
        )


def counts(con: duckdb.DuckDBPyConnection, source: str) -> dict[str, int]:
    """Rows per table written by ``source``."""
    return {
        table: warehouse.one(con, f"SELECT count(*) FROM {table} WHERE source = ?", [source])[0]
        for table in ("families", "models", "checkpoints", "metrics", "hyperparameters")
    }


# Columns that repeat a few values over millions of rows: dictionary-encoded on the way to
# DuckDB, which inserts them faster (they are VARCHAR in the warehouse all the same).
_REPEATED = {"checkpoints": ("source", "model_id"), "metrics": ("source", "metric", "kind")}


def _compact(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
    return {name: df.with_columns(pl.col(_REPEATED[name]).cast(pl.Categorical))
            if name in _REPEATED else df for name, df in tables.items()}


def ingest_runs(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[Path],
    options: RunsOptions,
    *,
    log: Callable[[str], None] = lambda _: None,
) -> RunsResult:
    """Load ``files`` as source ``runs:<family>``, replacing what that source held.

    Inputs and options identical to the last load's (same content hash) change nothing.
    The write is one transaction: an error anywhere leaves the warehouse as it was.

    Raises
    ------
    MetaError
        Everything ``plan_runs`` raises, and a family name another source holds.
    """
    start = time.perf_counter()
    check_family(options.family)
    check_owner(con, options)
    digest = fingerprint([Path(f) for f in files], options)
    source = options.source
    if warehouse.stored_hash(con, source) == digest:
        log(f"{source}: unchanged")
        return RunsResult(source, "unchanged", counts(con, source), 0.0, None)
    plan = plan_runs(files, options)
    info = {"name": source, "citation": CITATION,
            "upstream": ", ".join(str(Path(f).resolve()) for f in files), "license": ""}
    warehouse.write_source(con, info=info, tables=_compact(plan.tables), content_hash=digest,
                           n_files=len(files), seconds=time.perf_counter() - start)
    seconds = time.perf_counter() - start
    c = counts(con, source)
    log(f"{source}: {c['models']:,} runs, {c['checkpoints']:,} checkpoints, {c['metrics']:,} "
        f"metric values, {c['hyperparameters']:,} hyperparameters ({seconds:.1f} s)")
    return RunsResult(source, "loaded", c, seconds, plan)
