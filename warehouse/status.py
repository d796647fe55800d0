"""Counts of what the warehouse holds, per source and per family."""

from __future__ import annotations

import duckdb

from warehouse.migrate import applied
from warehouse.sql import one, query

_PER_SOURCE = """
WITH fam AS (
    SELECT f.source, f.family, f.scaled, count(m.model_id) AS n_models
    FROM families f LEFT JOIN models m USING (family) GROUP BY ALL
)
SELECT s.source,
       (SELECT count(*) FROM fam WHERE fam.source = s.source) AS families,
       (SELECT count(*) FROM fam WHERE fam.source = s.source AND scaled AND n_models >= 3)
           AS scaled_families,
       (SELECT count(*) FROM models WHERE models.source = s.source) AS models,
       (SELECT count(*) FROM checkpoints c WHERE c.source = s.source) AS checkpoints,
       (SELECT count(*) FROM metrics x WHERE x.source = s.source) AS metrics,
       s.n_files AS files,
       s.loaded_at
FROM sources s ORDER BY s.source
"""

_PER_FAMILY = """
SELECT f.family, f.source, f.scaled, f.in_aggregate, f.perf_metric,
       count(DISTINCT m.model_id) AS models,
       count(c.checkpoint_id) AS checkpoints,
       min(m.num_params) AS min_params, max(m.num_params) AS max_params
FROM families f
LEFT JOIN models m USING (family)
LEFT JOIN checkpoints c USING (model_id)
GROUP BY ALL ORDER BY f.source, f.family
"""


# Laws by study, estimator and status; `unidentified`: how many of them their data cannot
# identify (laws.unidentified is set).
_LAWS = """
SELECT study, estimator, status, count(*) AS laws, count(unidentified) AS unidentified
FROM laws GROUP BY ALL ORDER BY study, estimator, laws DESC
"""


def summary(con: duckdb.DuckDBPyConnection) -> dict:
    """Applied migrations, counts per source and family, and totals.

    Returns
    -------
    dict
        ``migrations`` (list of names), ``sources``, ``families`` and ``laws`` (pl.DataFrame:
        laws by study, estimator and status, with how many are unidentified) and ``totals``
        (dict: sources, families, scaled_families, models, checkpoints, metrics, laws).
    """
    sources = query(con, _PER_SOURCE)
    families = query(con, _PER_FAMILY)
    laws = query(con, _LAWS)
    totals = {"sources": sources.height}
    for column in ("families", "scaled_families", "models", "checkpoints", "metrics"):
        totals[column] = int(sources[column].sum()) if sources.height else 0
    totals["laws"] = int(laws["laws"].sum()) if laws.height else 0
    return {
        "migrations": [name for name, _ in applied(con)],
        "sources": sources,
        "families": families,
        "laws": laws,
        "totals": totals,
    }


# Columns that say when and how fast a load ran, not what it loaded.
_VOLATILE = {"sources": ("loaded_at", "seconds")}


def digest(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, str]]:
    """Row count and an order-independent content hash of every public table.

    Two warehouses with the same contents give the same digest, whatever order the rows were
    written in; load times are left out.
    """
    from warehouse import TABLES

    out = {}
    for table in TABLES:
        columns = [
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
            if c not in _VOLATILE.get(table, ())
        ]
        row = ", ".join(f'"{c}"' for c in columns)
        n, h = one(
            con,
            f"SELECT count(*), coalesce(sum(hash(struct_pack({row}))), 0)::VARCHAR FROM {table}",
        )
        out[table] = (n, h)
    return out
