"""meta: a DuckDB warehouse and toolkit for the meta-analysis of neural scaling laws.

The command line is ``meta`` (:mod:`meta.cli`). The Python API (:mod:`analyses.api`) is
re-exported here and loaded on first use, so that the command line starts light::

    import meta
    wh = meta.connect("warehouse.duckdb")
    result = meta.predict(wh, "mine", params=7e9, tokens=1.4e11)
"""

from __future__ import annotations

__version__ = "0.1.0"

API = ("connect", "fit", "ingest_runs", "model_size", "predict", "query", "report_runs",
       "similar")
__all__ = ["__version__", *API]


def __getattr__(name: str):
    if name in API:
        from analyses import api

        return getattr(api, name)
    raise AttributeError(f"module 'meta' has no attribute {name!r}")
