"""Writing fitted laws and their predictions: in chunks, each in one transaction.

The analyses compute laws; this is the only module that writes, deletes or re-keys them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import duckdb
import polars as pl

from warehouse.identity import data_hash, family_points, stored_law_id
from warehouse.sql import one, query, transaction

LAW_TABLES = ("laws", "predictions")
# The columns of a family's points under a convention set (table convention_points).
POINTS = ("family", "model_id", "checkpoint_id", "num_params", "tokens", "flops", "perf")


def law_ids(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Ids of the laws in the warehouse."""
    return {r[0] for r in con.execute("SELECT law_id FROM laws").fetchall()}


def _insert(con: duckdb.DuckDBPyConnection, table: str, df: pl.DataFrame) -> None:
    columns = ", ".join(df.columns)
    con.register("_rows", df.to_arrow())
    con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM _rows")
    con.unregister("_rows")


def write_laws(con: duckdb.DuckDBPyConnection, laws: pl.DataFrame,
               predictions: pl.DataFrame) -> None:
    """Insert laws and their predictions in one transaction."""
    with transaction(con):
        _insert(con, "laws", laws)
        _insert(con, "predictions", predictions)


def _delete(con: duckdb.DuckDBPyConnection, ids: str) -> int:
    """Delete the laws whose ids the query ``ids`` selects, with their predictions, in one
    transaction; returns how many."""
    n = one(con, f"SELECT count(*) FROM ({ids})")[0]
    if n:
        with transaction(con):
            con.execute(f"DELETE FROM predictions WHERE law_id IN ({ids})")
            con.execute(f"DELETE FROM laws WHERE law_id IN ({ids})")
    return n


def update_set(con: duckdb.DuckDBPyConnection, conventions: str, hashes: Mapping[str, str],
               scope: pl.DataFrame, planned: set[str]) -> None:
    """Make the convention set ``conventions`` hold the ``planned`` laws, in one transaction.

    It loses the laws of the families in ``hashes`` (family -> the data hash the set fits now)
    fitted on other data, and the laws of the ``(family, study, estimator)`` combinations in
    ``scope`` that are not planned (a study that no longer makes them); it gains every planned
    law. A law leaves the warehouse when it belongs to no set (:func:`delete_orphans`).
    """
    current = pl.DataFrame({"family": list(hashes), "data_hash": list(hashes.values())},
                           schema={"family": pl.String, "data_hash": pl.String})
    frames = {"_current": current, "_scope": scope,
              "_planned": pl.DataFrame({"law_id": sorted(planned)}, schema={"law_id": pl.String})}
    for name, frame in frames.items():
        con.register(name, frame.to_arrow())
    with transaction(con):
        con.execute(
            "DELETE FROM law_sets WHERE conventions = ? AND law_id IN ("
            " SELECT l.law_id FROM laws l JOIN _current c USING (family)"
            " WHERE l.data_hash <> c.data_hash"
            " UNION ALL SELECT l.law_id FROM laws l JOIN _scope s USING (family, study, estimator)"
            " WHERE l.law_id NOT IN (SELECT law_id FROM _planned))", [conventions])
        con.execute("INSERT INTO law_sets SELECT ?, law_id FROM _planned "
                    "WHERE law_id NOT IN (SELECT law_id FROM law_sets WHERE conventions = ?)",
                    [conventions, conventions])
    for name in frames:
        con.unregister(name)


def delete_orphans(con: duckdb.DuckDBPyConnection, studies: Sequence[str]) -> int:
    """Delete the laws of ``studies`` (those convention sets hold) that belong to no set,
    with their predictions; returns how many. Laws of other studies are left alone."""
    con.register("_studies", pl.DataFrame({"study": list(studies)},
                                          schema={"study": pl.String}).to_arrow())
    n = _delete(con, "SELECT law_id FROM laws WHERE study IN (SELECT study FROM _studies) "
                     "AND law_id NOT IN (SELECT law_id FROM law_sets)")
    con.unregister("_studies")
    return n


def write_points(con: duckdb.DuckDBPyConnection, conventions: str, points: pl.DataFrame) -> None:
    """Store the points of the families in ``points`` as the non-default set ``conventions``
    shapes them (``family, model_id, checkpoint_id, num_params, tokens, flops, perf``),
    replacing those stored before, in one transaction. Only the rows that differ are
    deleted and inserted: a run of fit-all that changes nothing writes nothing."""
    columns = ", ".join(POINTS)
    stored = f"SELECT {columns} FROM convention_points WHERE conventions = $set"
    con.register("_points", points.select(POINTS).to_arrow())
    with transaction(con):
        con.execute(
            "DELETE FROM convention_points WHERE conventions = $set AND (family, checkpoint_id) "
            f"IN (SELECT family, checkpoint_id FROM ({stored} AND family IN "
            f"(SELECT family FROM _points) EXCEPT SELECT {columns} FROM _points))",
            {"set": conventions})
        con.execute(f"INSERT INTO convention_points (conventions, {columns}) SELECT $set, * "
                    f"FROM (SELECT {columns} FROM _points EXCEPT {stored})",
                    {"set": conventions})
    con.unregister("_points")


def delete_unplanned(con: duckdb.DuckDBPyConnection, scope: pl.DataFrame,
                     planned: set[str]) -> int:
    """Delete the laws of the ``(family, study, estimator)`` combinations in ``scope`` whose
    id is not in ``planned`` (a study that no longer makes them); returns how many. For the
    studies outside the convention sets (:func:`update_set` keeps those)."""
    if scope.is_empty():
        return 0
    con.register("_scope", scope.to_arrow())
    con.register("_planned", pl.DataFrame({"law_id": sorted(planned)},
                                          schema={"law_id": pl.String}).to_arrow())
    n = _delete(con, "SELECT l.law_id FROM laws l JOIN _scope s USING (family, study, estimator) "
                     "WHERE l.law_id NOT IN (SELECT law_id FROM _planned)")
    con.unregister("_scope")
    con.unregister("_planned")
    return n


def update_statuses(con: duckdb.DuckDBPyConnection, changes: pl.DataFrame) -> None:
    """Set ``status`` and ``unidentified`` of the laws in ``changes`` (``law_id, status,
    unidentified``), and clear the predictions of those whose status is now a failure
    (``failed``), in one transaction."""
    if changes.is_empty():
        return
    con.register("_changes", changes.to_arrow())
    with transaction(con):
        con.execute("UPDATE laws SET status = c.status, unidentified = c.unidentified "
                    "FROM _changes c WHERE laws.law_id = c.law_id")
        con.execute("UPDATE predictions SET predicted = NULL FROM _changes c "
                    "WHERE predictions.law_id = c.law_id AND c.failed")
    con.unregister("_changes")


_LEGACY = """
SELECT l.law_id, l.study, l.family, l.form, l.estimator, l.settings, l.train_spec
FROM laws l JOIN families f USING (family) JOIN sources s ON s.source = f.source
WHERE l.data_hash = s.content_hash
"""


def rename_laws(con: duckdb.DuckDBPyConnection, mapping: pl.DataFrame) -> None:
    """Give the laws ``old_id`` of ``mapping`` (``old_id, new_id, data_hash``) their new id
    and data hash, predictions included (call inside a transaction)."""
    con.register("_rename", mapping.to_arrow())
    for table in LAW_TABLES:
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position", [table]).fetchall()]
        renamed = ", ".join(
            "m.new_id AS law_id" if c == "law_id"
            else "m.data_hash AS data_hash" if c == "data_hash" else f"t.{c}"
            for c in columns
        )
        con.execute(f"CREATE TEMP TABLE _moved AS SELECT {renamed} FROM {table} t "
                    "JOIN _rename m ON t.law_id = m.old_id")
        con.execute(f"DELETE FROM {table} WHERE law_id IN (SELECT old_id FROM _rename)")
        con.execute(f"INSERT INTO {table} SELECT * FROM _moved")
        con.execute("DROP TABLE _moved")
    con.unregister("_rename")


def rekey_legacy(con: duckdb.DuckDBPyConnection) -> int:
    """Give laws identified by their source's content hash (before schema 0003) the ids of
    :mod:`warehouse.identity`, keeping their fits; returns how many.

    A law is re-keyed only while its source is the one it was fitted on (its ``data_hash``
    is still the source's ``content_hash``); any other old law is left for ``fit-all`` to
    replace. Every old id is kept in ``_meta_rekeyed_laws (old_id, new_id)``. Runs inside the
    migration's transaction.
    """
    legacy = query(con, _LEGACY)
    if legacy.is_empty():
        return 0
    points = family_points(con, legacy["family"].unique().to_list()).filter("usable")
    hashes = {name: data_hash(part)
              for (name,), part in points.group_by("family", maintain_order=True)}
    legacy = legacy.filter(pl.col("family").is_in(list(hashes)))
    new_hash = [hashes[f] for f in legacy["family"]]
    new_id = [stored_law_id(row, data=h)
              for row, h in zip(legacy.iter_rows(named=True), new_hash, strict=True)]
    mapping = pl.DataFrame({"old_id": legacy["law_id"], "new_id": new_id,
                            "data_hash": new_hash})
    rename_laws(con, mapping)
    con.register("_rekeyed", mapping.to_arrow())
    con.execute("INSERT INTO _meta_rekeyed_laws SELECT old_id, new_id FROM _rekeyed")
    con.unregister("_rekeyed")
    return mapping.height


def without_a_fit(con: duckdb.DuckDBPyConnection, law_ids: Iterable[str]) -> list[str]:
    """The family studies among ``law_ids`` in which no law is ``ok``, one line per family:
    ``family: study, study (status)``, with the most common status of those laws."""
    con.register("_ids", pl.DataFrame({"law_id": list(law_ids)},
                                      schema={"law_id": pl.String}).to_arrow())
    rows = con.execute(
        "SELECT family, string_agg(study, ', ' ORDER BY study), mode(status) FROM ("
        " SELECT family, study, mode(status) AS status FROM laws JOIN _ids USING (law_id)"
        " GROUP BY family, study HAVING count(*) FILTER (WHERE status = 'ok') = 0)"
        " GROUP BY family ORDER BY family").fetchall()
    con.unregister("_ids")
    return [f"{family}: {studies} ({status})" for family, studies, status in rows]
