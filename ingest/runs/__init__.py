"""A user's own training runs as a family of the warehouse (``meta ingest runs``).

Modules, in the order data flows through them:

- ``reading``: a file by its extension (CSV, TSV, Parquet, JSON Lines) into a frame that knows
  the line (or Parquet row) of every row;
- ``mapping``: which column is which field (names recognised without flags, ``--map``, the TOML
  mapping file);
- ``prepare``: one file's shape (wide, long, W&B chart), run identity (a run column,
  ``--run-by``, or the documented inference rule), metrics and hyperparameters;
- ``build``: sizes, tokens and FLOPs, the checks across files, and the tables; ``problems``
  gathers every problem into one error;
- ``load``: the source's fingerprint, the plan (``--dry-run``) and the one-transaction write.
"""

from ingest.runs.build import Plan
from ingest.runs.load import RunsResult, ingest_runs, plan_runs
from ingest.runs.options import RunsOptions

__all__ = ["Plan", "RunsOptions", "RunsResult", "ingest_runs", "plan_runs"]
