"""`meta sql`: run SQL against the warehouse."""

from __future__ import annotations

from pathlib import Path

import click

from meta.options import emit, format_options, open_warehouse, resolve_format, warehouse_option
from warehouse.errors import MetaError


@click.command("sql")
@click.argument("query")
@warehouse_option
@format_options
@click.option("--write", is_flag=True,
              help="Open the warehouse writable and allow statements that write files or "
                   "change the session (default: read-only).")
@click.pass_context
def command(
    ctx: click.Context,
    query: str,
    warehouse_path: Path,
    fmt: str,
    as_json: bool,
    out: Path | None,
    write: bool,
) -> None:
    """Run QUERY and print its result.

    Without --write the warehouse is read-only and statements that write files or change
    the session (COPY ... TO, EXPORT, ATTACH, SET, CREATE ...) are refused. Local files can
    be read (read_csv('runs.csv')); extensions are never installed or loaded, so no URL is
    reached.

    \b
    Example:
        meta sql "SELECT family, count(*) FROM models GROUP BY family"
        meta sql "SELECT * FROM perf WHERE family = 'pythia'" --format csv --out pythia.csv
    """
    import duckdb

    from warehouse.guard import check_statements, failure

    check_statements(query, write=write)
    con = open_warehouse(ctx, warehouse_path, read_only=not write)
    try:
        relation = con.sql(query)
        df = relation.pl() if relation is not None else None
    except duckdb.Error as e:
        raise MetaError(failure(e, write=write)) from None
    if df is not None:
        emit(df, resolve_format(fmt, as_json), out)
