"""What user SQL may do: `meta sql` statements without --write, and `--where` conditions.

Both are judged by DuckDB's own parser (``duckdb.extract_statements``, ``duckdb.tokenize``
and ``json_serialize_sql``), never by pattern-matching the text. The connection adds its own
walls (:data:`warehouse.connection.CONFIG`): read-only attach, no extension downloads or
auto-loading, locked settings.
"""

from __future__ import annotations

import json

import duckdb

from warehouse.errors import MetaError

S = duckdb.StatementType
# Statements that only read, whatever the flags.
_READS = {S.SELECT, S.TRANSACTION}
# Statements that change the warehouse: a read-only connection refuses them itself, with a
# message that says read-only (see :func:`failure`).
_WAREHOUSE = {S.INSERT, S.UPDATE, S.DELETE, S.DROP, S.ALTER, S.MERGE_INTO, S.VACUUM, S.ANALYZE}
# Why the others need --write.
_REASONS = {
    S.EXPORT: "writes files",
    S.COPY_DATABASE: "writes a database",
    S.ATTACH: "opens another database",
    S.DETACH: "changes the session",
    S.SET: "changes the session",
    S.VARIABLE_SET: "changes the session",
    S.PRAGMA: "changes the session",
    S.CREATE: "changes the warehouse or the session",
    S.CREATE_FUNC: "changes the session",
    S.CALL: "may change the warehouse or the session",
    S.PREPARE: "prepares a statement that is not checked",
    S.EXECUTE: "runs a prepared statement that is not checked",
}
# PRAGMAs that only report (the others change settings, import or execute).
READ_PRAGMAS = frozenset({
    "collations", "database_list", "database_size", "extension_versions", "functions",
    "metadata_info", "platform", "show", "show_databases", "show_tables",
    "show_tables_expanded", "storage_info", "table_info", "user_agent", "version",
})


def _tokens(sql: str) -> list[tuple[int, str]]:
    """``(position, text)`` of every token of ``sql`` but comments, with DuckDB's tokenizer."""
    tokens = duckdb.tokenize(sql)
    ends = [p for p, _ in tokens[1:]] + [len(sql)]
    return [(p, sql[p:e].strip()) for (p, kind), e in zip(tokens, ends, strict=True)
            if kind != duckdb.token_type.comment]


def _keyword(statement: duckdb.Statement, n: int = 1) -> str:
    """The first ``n`` words of a statement, upper case (``COPY``, ``FORCE INSTALL``)."""
    return " ".join(t.upper() for _, t in _tokens(statement.query)[:n])


def _copy_direction(sql: str) -> str:
    """``TO`` or ``FROM``: the first of them outside parentheses after ``COPY``."""
    depth = 0
    for _, text in _tokens(sql)[1:]:
        depth += text.count("(") - text.count(")")
        if depth == 0 and text.upper() in ("TO", "FROM"):
            return text.upper()
    return "TO"


def _explained(sql: str) -> list[duckdb.Statement]:
    """The statement inside ``EXPLAIN [(options)] [ANALYZE] ...`` (ANALYZE runs it)."""
    tokens = _tokens(sql)
    i, depth = 1, 0
    while i < len(tokens) and (tokens[i][1].startswith("(") or depth):
        depth += tokens[i][1].count("(") - tokens[i][1].count(")")
        i += 1
    if i < len(tokens) and tokens[i][1].upper() in ("ANALYZE", "ANALYSE"):
        i += 1
    if i == len(tokens):
        return []
    return duckdb.extract_statements(sql[tokens[i][0]:])


def _refusal(statement: duckdb.Statement) -> str | None:
    """Why ``statement`` may not run on a read-only warehouse, or None when it may."""
    kind = statement.type
    if kind in _READS or kind in _WAREHOUSE:
        return None
    if kind == S.EXPLAIN:
        inner = _explained(statement.query)
        if len(inner) != 1:
            return "EXPLAIN of something other than one statement is not checked"
        return _refusal(inner[0])
    first = _keyword(statement)
    if first == "PRAGMA":  # a PRAGMA that sets a value parses as a SET
        tokens = _tokens(statement.query)
        name = tokens[1][1].lower() if len(tokens) > 1 else ""
        if kind == S.PRAGMA and name in READ_PRAGMAS:
            return None
        return f"PRAGMA {name} {_REASONS[S.PRAGMA]}"
    if kind == S.MULTI and first in ("PIVOT", "UNPIVOT"):
        return None
    if first == "COPY" and kind != S.COPY:  # COPY FROM DATABASE parses as a PRAGMA
        return f"COPY FROM DATABASE {_REASONS[S.COPY_DATABASE]}"
    if kind == S.COPY:
        if _copy_direction(statement.query) == "TO":
            return "COPY ... TO writes files"
        return "COPY ... FROM changes the warehouse"
    what = {S.EXPORT: "EXPORT DATABASE", S.COPY_DATABASE: "COPY FROM DATABASE",
            S.CREATE_FUNC: "CREATE"}.get(kind, first)
    return f"{what} {_REASONS.get(kind, 'is not checked')}"


def check_statements(sql: str, *, write: bool = False) -> list[duckdb.Statement]:
    """The statements of ``sql``, refused as a whole if one of them may not run.

    Nothing may install or load an extension (the warehouse works offline). Without
    ``write``, every statement must be read-only: a SELECT (``FROM``, ``DESCRIBE``,
    ``SHOW``, ``SUMMARIZE``, ``PIVOT``), a transaction, a reporting ``PRAGMA``, or an
    ``EXPLAIN`` of one of them; statements that change the warehouse are left to the
    read-only connection, which refuses them. ``COPY``, ``EXPORT``, ``ATTACH``, ``SET``,
    ``CREATE``, ``CALL`` ... are refused with the reason.

    Parameters
    ----------
    sql : str
        One or more statements.
    write : bool, default=False
        Whether the user asked for a writable warehouse (``--write``).

    Returns
    -------
    list of duckdb.Statement

    Raises
    ------
    MetaError
        ``sql`` is empty, does not parse, or holds a statement that may not run.

    Examples
    --------
    >>> [s.type.name for s in check_statements("SELECT 1; DESCRIBE SELECT 2")]
    ['SELECT', 'SELECT']
    >>> check_statements("COPY (SELECT 1) TO 'one.csv'")
    Traceback (most recent call last):
    ...
    warehouse.errors.MetaError: COPY ... TO writes files; run it with --write.
    """
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as e:
        raise MetaError(f"The query failed: {str(e).splitlines()[0]}") from None
    if not statements:
        raise MetaError("The query is empty; give SQL such as 'SELECT * FROM families'.")
    for statement in statements:
        if statement.type == S.LOAD:  # INSTALL, FORCE INSTALL, LOAD
            what = "INSTALL" if "INSTALL" in _keyword(statement, 2) else "LOAD"
            raise MetaError(f"{what} is not allowed, even with --write: the warehouse works "
                            "offline, with DuckDB's built-in extensions only.")
        reason = None if write else _refusal(statement)
        if reason is not None:
            raise MetaError(f"{reason}; run it with --write.")
    return statements


def failure(error: duckdb.Error, *, write: bool = False) -> str:
    """One line for a statement DuckDB refused; a read-only refusal suggests ``--write``."""
    line = str(error).splitlines()[0]
    if not write and "read-only mode" in line:
        return f"The query failed: {line} Run it with --write."
    if "requires the extension" in line:
        return f"The query failed: {line}; the warehouse works offline and loads no extension."
    return f"The query failed: {line}"


def where_condition(con: duckdb.DuckDBPyConnection, condition: str, *,
                    view: str = "perf") -> str:
    """``condition``, checked to be one boolean expression over the columns of ``view``.

    It is parsed inside ``SELECT * FROM <view> WHERE (<condition>)``, which must stay exactly
    that one SELECT: no statement separator, clause or set operation may break out of the
    parentheses, and no subquery (which could read files or other tables) may sit inside.
    Unknown columns are refused by DuckDB's binder.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    condition : str
        SQL such as ``tokens > 1e10 AND perf < 5``.
    view : str, default="perf"
        A view of the warehouse (a fixed name, never user input).

    Returns
    -------
    str
        ``(<condition>\\n)``, to paste after ``WHERE`` or ``AND``: the line break ends a
        trailing ``--`` comment before the closing parenthesis, as in the check.

    Raises
    ------
    MetaError
        Naming ``--where`` and what is wrong.
    """
    example = f"give a condition on the columns of {view}, such as 'tokens > 1e10'"
    if not condition.strip():
        raise MetaError(f"--where is empty; {example}.")
    checked = f"({condition}\n)"
    wrapped = f"SELECT * FROM {view} WHERE {checked}"
    try:
        statements = duckdb.extract_statements(wrapped)
        tree = json.loads(con.execute("SELECT json_serialize_sql(?)", [wrapped]).fetchone()[0])
    except duckdb.Error as e:
        raise MetaError(f"The --where condition failed: {str(e).splitlines()[0]}") from None
    if tree.get("error") and tree.get("error_type") == "parser":
        raise MetaError(f"The --where condition failed: Parser Error: {tree['error_message']}")
    if len(statements) != 1 or tree.get("error") or not _only_where(tree, view):
        raise MetaError(f"--where must be one condition, not SQL around it; {example}.")
    if _holds(tree["statements"][0]["node"]["where_clause"], "SUBQUERY"):
        raise MetaError(f"--where may not hold a subquery; {example}.")
    try:
        kind = con.sql(f"SELECT {checked} AS w FROM {view}").types[0]
    except duckdb.Error as e:
        raise MetaError(f"The --where condition failed: {str(e).splitlines()[0]}") from None
    if str(kind) != "BOOLEAN":
        raise MetaError(f"--where must be true or false for each point; {condition!r} is "
                        f"{kind}.")
    return checked


def _only_where(tree: dict, view: str) -> bool:
    """Whether a ``json_serialize_sql`` tree is ``SELECT * FROM view WHERE <expr>``."""
    if len(tree["statements"]) != 1:
        return False
    node = tree["statements"][0]["node"]
    source = node.get("from_table") or {}
    return (node.get("type") == "SELECT_NODE" and not node["modifiers"]
            and not node["cte_map"]["map"] and not node["group_expressions"]
            and node["having"] is None and node["qualify"] is None and node["sample"] is None
            and [e.get("class") for e in node["select_list"]] == ["STAR"]
            and source.get("type") == "BASE_TABLE" and source.get("table_name") == view
            and not source.get("alias") and node.get("where_clause") is not None)


def _holds(tree: object, cls: str) -> bool:
    """Whether a node of class ``cls`` sits anywhere in ``tree``."""
    if isinstance(tree, dict):
        return tree.get("class") == cls or any(_holds(v, cls) for v in tree.values())
    if isinstance(tree, list):
        return any(_holds(v, cls) for v in tree)
    return False
