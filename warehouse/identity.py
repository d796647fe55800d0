"""What identifies a fitted law: the rows its family holds and what defines the law, digested.

A law's id is a digest of its study, family, form, estimator and the estimator's settings,
its training spec (``laws.train_spec``) and its family's *data hash*: a digest of the
family's fitted rows, the ``perf`` points that the studies read (:data:`FAMILY_POINTS`).
It depends on data alone: a change of code that leaves those rows as they are (a loader's
validation, a schema migration, a refactor) keeps every law's id and lets ``meta fit-all``
resume, and any changed value, added or removed checkpoint gives that family's laws new ids.

Every part of the key can be read back from a stored ``laws`` row, so the id of a stored
law can be recomputed (:func:`stored_law_id`): the upgrade of older warehouses does that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import duckdb
import polars as pl

from warehouse.sql import query

# The points a family's laws are fitted on: every checkpoint of a scaled family with a
# positive size, positive tokens and a finite, positive perf (``perf`` divides the ARE and
# its log is fitted). Pythia's step-0 checkpoints (tokens = 0) are the rows this leaves out.
FAMILY_POINTS = """
SELECT p.family, p.model_id, p.checkpoint_id, p.num_params::DOUBLE AS num_params,
       p.tokens, p.flops, p.perf,
       (p.num_params > 0 AND p.tokens > 0 AND isfinite(p.perf) AND p.perf > 0) AS usable
FROM perf p
JOIN families f USING (family)
WHERE f.scaled AND p.tokens IS NOT NULL AND p.num_params IS NOT NULL
  AND (? IS NULL OR list_contains(?, p.family))
ORDER BY p.family, p.num_params, p.model_id, p.tokens, p.checkpoint_id
"""
POINT_COLUMNS = ("model_id", "checkpoint_id", "num_params", "tokens", "flops", "perf")

# The types of ``laws.train_spec``'s fields: the key is built from these, so that a spec
# computed in Python and one read back from the warehouse digest alike.
SPEC_FIELDS = {
    "models": list, "n_models": int, "fraction": float, "min_tokens": float,
    "suffix": float, "left_out": str, "target": str, "scale_up": float,
}
DIGITS = 12  # significant digits of the numbers digested (DuckDB's avg may vary in the last bit)


def family_points(
    con: duckdb.DuckDBPyConnection, names: Sequence[str] | None = None
) -> pl.DataFrame:
    """The points of every scaled family (or those named), with a ``usable`` column: false
    for a row the laws leave out (a non-positive size or tokens, a non-finite or non-positive
    perf). The query reads only what schema 0003 had: migration 0003 runs it."""
    wanted = list(names) if names else None
    return query(con, FAMILY_POINTS, [wanted, wanted])


def _number(v: float | None) -> str:
    return "" if v is None else format(float(v), f".{DIGITS}g")


def data_hash(points: pl.DataFrame) -> str:
    """A digest of one family's usable points (:data:`POINT_COLUMNS`, in the order of
    :data:`FAMILY_POINTS`), numbers to 12 significant digits."""
    digest = hashlib.sha256()
    for model, checkpoint, *numbers in points.select(POINT_COLUMNS).iter_rows():
        digest.update("\t".join([model, checkpoint, *map(_number, numbers)]).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _canonical_spec(spec: dict) -> dict:
    out = {}
    for key, kind in SPEC_FIELDS.items():
        value = spec.get(key)
        out[key] = None if value is None else (list(value) if kind is list else kind(value))
    return out


def law_id(
    *,
    study: str,
    family: str,
    form: str,
    estimator: str,
    settings: dict,
    spec: dict,
    data: str,
) -> str:
    """The id of a law: 20 hex digits of a SHA-256 over what defines it.

    Examples
    --------
    >>> law_id(study="num-models", family="f", form="chinchilla", estimator="huber-lbfgs",
    ...        settings={}, spec={"models": ["a", "b"], "fraction": 1}, data="x")
    '1fbfbec0e76ab2a0cde8'
    """
    key = {
        "study": study,
        "family": family,
        "form": form,
        "estimator": estimator,
        "settings": settings,
        "spec": _canonical_spec(spec),
        "data": data,
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()[:20]


def stored_law_id(row: dict, data: str | None = None) -> str:
    """The id of a stored ``laws`` row (``study, family, form, estimator, settings`` as
    JSON, ``train_spec``), with its own ``data_hash`` or with ``data``."""
    return law_id(
        study=row["study"],
        family=row["family"],
        form=row["form"],
        estimator=row["estimator"],
        settings=json.loads(row["settings"]),
        spec=row["train_spec"],
        data=row["data_hash"] if data is None else data,
    )


def families_digest(con: duckdb.DuckDBPyConnection, names: Sequence[str]) -> str:
    """One digest of the data hashes of the families ``names`` (what a table computed from
    them was computed on)."""
    points = family_points(con, names).filter("usable")
    digest = hashlib.sha256()
    for (name,), part in sorted(points.group_by("family"), key=lambda g: g[0]):
        digest.update(f"{name}\t{data_hash(part)}\n".encode())
    return digest.hexdigest()
