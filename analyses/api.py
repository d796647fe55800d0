"""The Python API: what the ``meta`` commands do, as functions a notebook can call.

Re-exported lazily from ``meta`` (``import meta; meta.predict(...)``), so importing ``meta``
for its command line stays light.

Examples
--------
>>> import meta
>>> wh = meta.connect(":memory:")  # or a warehouse file
>>> meta.query(wh, "SELECT count(*) AS laws FROM laws")["laws"][0]
0
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import duckdb
import polars as pl

from analyses.family_fit import FamilyFit, fit_family
from analyses.predict.family import FamilyPrediction, Similar, predict_family, similar_to
from analyses.predict.report import runs_report, write
from ingest.hf_config import ModelSize
from ingest.hf_config import model_size as _model_size
from ingest.runs.load import RunsResult
from ingest.runs.load import ingest_runs as _ingest_runs
from ingest.runs.options import RunsOptions
from warehouse.connection import connect as _connect
from warehouse.sql import query as _query


def connect(path: str | Path = "warehouse.duckdb", *,
            read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (or create) a warehouse; ``":memory:"`` gives one that lives in this process."""
    return _connect(path, read_only=read_only)


def query(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None
          ) -> pl.DataFrame:
    """Run a SELECT (with ``?`` parameters) and return a polars frame."""
    return _query(con, sql, params)


def ingest_runs(con: duckdb.DuckDBPyConnection, files: str | Path | Sequence[str | Path], *,
                family: str, maps: Sequence[str] = (), mapping: str | Path | None = None,
                run_by: Sequence[str] = (), target: str | None = None,
                in_aggregate: bool = False) -> RunsResult:
    """Load your runs (CSV, TSV, Parquet, JSON Lines; wide, long or W&B exports) as family
    ``family`` (``meta ingest runs``); ``maps`` are ``"field=column"`` pairs."""
    files = [files] if isinstance(files, str | Path) else list(files)
    options = RunsOptions(family=family, maps=tuple(maps),
                          mapping=None if mapping is None else Path(mapping),
                          run_by=tuple(run_by), target=target, in_aggregate=in_aggregate)
    return _ingest_runs(con, [Path(f) for f in files], options)


def fit(con: duckdb.DuckDBPyConnection, family: str, *, form: str = "chinchilla",
        estimator: str = "huber-lbfgs", where: str | None = None) -> FamilyFit:
    """One law on every usable point of ``family`` (``meta fit``); ``.result.predict(N, D)``
    evaluates it."""
    return fit_family(con, family, form=form, estimator=estimator, where=where)


def predict(con: duckdb.DuckDBPyConnection, family: str, *, params: float | None = None,
            tokens: float | None = None, flops: float | None = None, runs: str = "best",
            n_boot: int = 200, seed: int = 0) -> FamilyPrediction:
    """The loss of a run of ``params`` x ``tokens`` (or the compute-optimal run of ``flops``)
    predicted from a family's runs, with its interval (``meta predict``); ``.law`` is the
    fitted :class:`~analyses.predict.law.RunsLaw`, ``.prediction`` the numbers."""
    return predict_family(con, family, params=params, tokens=tokens, flops=flops, runs=runs,
                          n_boot=n_boot, seed=seed)


def similar(con: duckdb.DuckDBPyConnection, family: str, *, runs: str = "best") -> Similar:
    """The public families whose laws behave like ``family``'s (``meta similar``)."""
    return similar_to(con, family, runs=runs)


def report_runs(con: duckdb.DuckDBPyConnection, family: str, out: str | Path, *,
                params: float | None = None, tokens: float | None = None,
                flops: float | None = None) -> Sequence[Path]:
    """Write the report of a family's runs into ``out`` (``meta report runs``)."""
    return write(runs_report(con, family, params=params, tokens=tokens, flops=flops), out)


def model_size(config: str | Path | dict, *, seq_len: int | None = None) -> ModelSize:
    """Parameters (with and without embeddings) and training FLOPs per token (6N, and the
    attention term at ``seq_len``) of a Hugging Face ``config.json`` (``meta params``)."""
    return _model_size(config, seq_len=seq_len)


__all__ = ["connect", "fit", "ingest_runs", "model_size", "predict", "query", "report_runs",
           "similar"]
