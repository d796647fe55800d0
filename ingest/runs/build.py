"""Files to the warehouse tables of one user family: sizes, tokens, checks across files, and
the family, models, checkpoints, metrics and hyperparameters.

Sizes come from the size column (the first positive value of each run) or the mapping file's
``[params]``; tokens from the tokens column, else step x ``tokens_per_step``, else flops / 6N.
FLOPs are the flops column where there is one, else 6·N·D, flagged ``flops_imputed``. Every
row of a run with a metric value is a checkpoint (``<model_id>@step<N>``, or
``<model_id>@<D>tokens`` without a step); a run's model id is ``runs:<family>/<run>``.
Rows that repeat a checkpoint with the same values are dropped; different values are an error.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from ingest.normalize import DOMAINS
from ingest.parse import metric_kind
from ingest.runs.columns import show
from ingest.runs.mapping import Mapping
from ingest.runs.options import RunsOptions
from ingest.runs.prepare import FI, HP_SCHEMA, RID, C, F, FileReport, L, M, P, Prepared, R, S, T, V
from ingest.runs.problems import Problems
from ingest.runs.tables import TK, G, checkpoint_key, derive_tables
from warehouse.errors import MetaError


@dataclass(frozen=True)
class Plan:
    """What an ingest of run files would load.

    Attributes
    ----------
    source, family : str
    files : tuple of FileReport
        Per file: shape, the column chosen for each field, run identity, metrics,
        hyperparameters, ignored columns.
    loss : str
        The metric the family's ``perf`` is (its ``perf_metric``).
    loss_how : str
        How it was chosen.
    sizes_how, tokens_how : tuple of str
        Per file, where sizes and tokens come from.
    runs : pl.DataFrame
        A row per run: ``run, num_params, checkpoints, first_step, last_step, max_tokens,
        final_loss`` and its hyperparameters.
    tables : dict of str to pl.DataFrame
        The rows of ``families, models, checkpoints, metrics, hyperparameters``.
    notes : tuple of str
        Things the user should know that are not errors (values dropped, mapping entries for
        runs the files do not hold).
    """

    source: str
    family: str
    files: tuple[FileReport, ...]
    loss: str
    loss_how: str
    sizes_how: tuple[str, ...]
    tokens_how: tuple[str, ...]
    runs: pl.DataFrame
    tables: dict[str, pl.DataFrame]
    notes: tuple[str, ...]


def build(prepared: list[Prepared], options: RunsOptions, mapping: Mapping,
          problems: Problems) -> Plan:
    """Check the prepared files together and derive the tables; raise one MetaError listing
    every problem (those found while preparing included) before anything is returned."""
    notes = [f"{p.report.name}: {p.report.empty_rows:,} rows hold no metric value and make no "
             "checkpoint" for p in prepared if p.report.empty_rows]
    _unknown_maps(prepared, mapping, problems)
    loss, loss_how = _choose_loss(prepared, mapping, problems)
    runs, records, points = _global_ids(prepared)
    runs = _sizes(records, runs, prepared, mapping, problems)
    tokens_how = tuple(_tokens_how(p, mapping, problems, i) for i, p in enumerate(prepared))
    derive = pl.coalesce(pl.col(T), pl.col(S) * _by_run(runs, "tps"),
                         pl.col(F) / (6 * _by_run(runs, "size")))
    records = records.with_columns(derive.alias(T))
    points = points.with_columns(derive.alias(T)).with_columns(
        pl.when(pl.col(S).is_null()).then(pl.col(T).round()).alias(TK))
    _no_tokens(points, runs, prepared, tokens_how, problems)
    repeated = _conflicting_records(records, runs, prepared, problems)
    check = repeated or any(p.report.shape != "wide" for p in prepared)
    points = _checked_points(points, runs, prepared, loss, check, problems, notes)
    hyper = _hyperparameters(prepared, mapping, runs, problems, notes)
    names = runs[R].to_list()
    if options.target is not None and options.target not in names:
        shown = ", ".join(names[:20]) + (", ..." if len(names) > 20 else "")
        raise MetaError(f"--target '{options.target}': no run of that name; the runs are: "
                        f"{shown}.")
    problems.check()
    tables, summary = derive_tables(options, runs, points, hyper, loss)
    return Plan(
        source=options.source, family=options.family, files=tuple(p.report for p in prepared),
        loss=loss, loss_how=loss_how, sizes_how=tuple(_sizes_how(p, mapping) for p in prepared),
        tokens_how=tokens_how, runs=summary, tables=tables,
        notes=tuple(notes),
    )


def _global_ids(prepared: list[Prepared]) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Number the runs over all files (``@gid``, in order of appearance; a run named in two
    files is one run) and put that number on every record and point."""
    per_file = pl.concat([p.runs.with_columns(pl.lit(fi, pl.Int32).alias(FI))
                          for fi, p in enumerate(prepared)])
    runs = per_file.unique(R, keep="first", maintain_order=True).select(
        R, pl.col(FI).alias("first_fi"), pl.col(L).alias("first_line")).with_row_index(G)
    gid = dict(zip(runs[R].to_list(), runs[G].to_list(), strict=True))
    records, points = [], []
    for p in prepared:
        local = dict(zip(p.runs[RID].to_list(), [gid[r] for r in p.runs[R].to_list()],
                         strict=True))
        number = pl.col(RID).replace_strict(local, return_dtype=pl.UInt32).alias(G)
        records.append(p.records.with_columns(number).drop(RID))
        points.append(p.points.with_columns(number).drop(RID))
    return (runs, pl.concat(records, how="vertical_relaxed"),
            pl.concat(points, how="vertical_relaxed"))


def _by_run(runs: pl.DataFrame, column: str) -> pl.Expr:
    """A column of ``runs`` looked up by each row's ``@gid`` (``runs`` is indexed by it)."""
    return pl.lit(runs[column]).gather(pl.col(G)).alias(column)


def _named(frame: pl.DataFrame, runs: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its runs' names (for messages)."""
    return frame.join(runs.select(G, R), on=G, how="left", maintain_order="left")


def _where(prepared: list[Prepared], fi: int, line: int, here: int) -> str:
    """'line 5' in the same file as ``here``, else 'other.csv, line 5'."""
    unit = "row" if prepared[fi].report.format == "Parquet" else "line"
    if fi == here:
        return f"{unit} {line}"
    return f"{prepared[fi].report.name}, {unit} {line}"


def _column(prepared: list[Prepared], field: str):
    return lambda r: prepared[r[FI]].report.fields.get(field, (None,))[0]


def _unknown_maps(prepared: list[Prepared], mapping: Mapping, problems: Problems) -> None:
    """A mapped column that no file has is an error in every file, listing its columns."""
    for name, (column, how) in mapping.columns.items():
        if any(column in p.names for p in prepared):
            continue
        said = f"--map {name}={column}" if how == "--map" else f"{name} = \"{column}\" in {how}"
        for fi, p in enumerate(prepared):
            problems.add(fi, "header", column, f"no such column ({said}); the columns are: "
                         f"{', '.join(p.choices)}")


def _choose_loss(prepared: list[Prepared], mapping: Mapping, problems: Problems
                 ) -> tuple[str, str]:
    """The mapped loss, else the best-ranked loss name of all files (the first on a tie)."""
    if "loss" in mapping.columns:
        column, how = mapping.columns["loss"]
        return column, how
    found = [(rank, i, name) for i, p in enumerate(prepared) for name, rank in p.losses]
    if not found:
        for fi, p in enumerate(prepared):
            problems.add(fi, "header", None, "no loss column found (loss, val_loss, eval_loss, "
                         "validation_loss, train/loss, *CrossEntropyLoss); name one with --map "
                         f"loss=COLUMN; the columns are: {', '.join(p.choices)}")
        return "", ""
    found.sort(key=lambda x: (x[0], x[1]))
    best = found[0][2]
    others = sorted({name for _, _, name in found} - {best})
    listed = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
    how = "recognised" + (f"; other losses stay metrics: {listed}" if others else "")
    return best, how


def _sizes(records: pl.DataFrame, runs: pl.DataFrame, prepared: list[Prepared],
           mapping: Mapping, problems: Problems) -> pl.DataFrame:
    """``runs`` with ``size`` and ``tps`` (tokens per step); sizes that are missing, not
    positive, changing or contradicting the mapping file are named."""
    column = _column(prepared, "params")
    bad = records.filter(~(pl.col(P) > 0) | ~pl.col(P).is_finite())
    problems.add_rows(bad, column, lambda r: f"size is not a positive number ({show(r[P])})")
    good = records.filter((pl.col(P) > 0) & pl.col(P).is_finite())
    first_size = good.group_by(G).agg(
        pl.col(P).first().alias("size_col"), pl.col(FI).first().alias("size_fi"),
        pl.col(L).first().alias("size_line"), pl.col(P).n_unique().alias("n_sizes"))
    if (first_size["n_sizes"] > 1).any():
        change = _named(good.join(first_size, on=G, maintain_order="left").filter(
            pl.col(P) != pl.col("size_col")), runs)
        problems.add_rows(change, column, lambda r: (
            f"run '{r[R]}' changes size ({show(r[P])} here, {show(r['size_col'])} at "
            f"{_where(prepared, r['size_fi'], r['size_line'], r[FI])})"))
    mapped = pl.DataFrame({R: list(mapping.params), "mapped": list(mapping.params.values())},
                          schema={R: pl.String, "mapped": pl.Float64})
    tps = pl.DataFrame(
        {R: list(mapping.run_tokens_per_step), "tps": list(mapping.run_tokens_per_step.values())},
        schema={R: pl.String, "tps": pl.Float64})
    runs = (runs.join(first_size, on=G, how="left", maintain_order="left")
            .join(mapped, on=R, how="left", maintain_order="left")
            .join(tps, on=R, how="left", maintain_order="left")
            .with_columns(size=pl.coalesce("size_col", "mapped"),
                          tps=pl.col("tps").fill_null(pl.lit(mapping.tokens_per_step, pl.Float64))))
    for r in runs.filter(pl.col("size_col") != pl.col("mapped")).iter_rows(named=True):
        fi, line = r["size_fi"], r["size_line"]
        problems.add(fi, _where(prepared, fi, line, fi), column({FI: fi}),
                     f"size {show(r['size_col'])} differs from {mapping.file} [params] "
                     f"'{r[R]}' = {show(r['mapped'])}", line=line)
    given = set(records.filter(pl.col(P).is_not_null())[G].unique().to_list())
    for r in runs.filter(pl.col("size").is_null()).iter_rows(named=True):
        if r[G] in given:
            continue  # its sizes are already named as not positive
        fi, line = r["first_fi"], r["first_line"]
        problems.add(fi, _where(prepared, fi, line, fi), None,
                     f"run '{r[R]}' has no size; map a size column (--map params=COLUMN) or "
                     "give it under [params] in a --mapping file", line=line)
    return runs


def _sizes_how(p: Prepared, mapping: Mapping) -> str:
    """Where a file's sizes come from."""
    if "params" in p.report.fields:
        column, how = p.report.fields["params"]
        return f"{column} ({how})"
    return f"[params] in {mapping.file}" if mapping.params else "none"


def _tokens_how(p: Prepared, mapping: Mapping, problems: Problems, fi: int) -> str:
    """Where a file's tokens come from; a file with no way to get them is named."""
    fields = p.report.fields
    if "tokens" in fields:
        return f"{fields['tokens'][0]} ({fields['tokens'][1]})"
    ways = []
    if "step" in fields and "tokens_per_step" in fields:
        ways.append(f"step x {fields['tokens_per_step'][0]} ({fields['tokens_per_step'][1]})")
    if "step" in fields and (mapping.tokens_per_step or mapping.run_tokens_per_step):
        ways.append(f"step x tokens_per_step ({mapping.file})")
    if "flops" in fields:
        ways.append("flops / (6 x params)")
    if not ways:
        problems.add(fi, "header", None, "no tokens column (tokens, tokens_seen, D, num_tokens) "
                     "and no way to derive tokens; map one with --map tokens=COLUMN, or give "
                     "tokens_per_step in a --mapping file (tokens = step x tokens_per_step)")
        return "none"
    return ", else ".join(ways)


def _no_tokens(points: pl.DataFrame, runs: pl.DataFrame, prepared: list[Prepared],
               tokens_how: tuple[str, ...], problems: Problems) -> None:
    """Rows with a metric value whose tokens are neither given nor derivable."""
    files = [i for i, how in enumerate(tokens_how) if how != "none"]
    bad = points.filter(pl.col(T).is_null() & pl.col(FI).is_in(files))
    if bad.is_empty():
        return
    bad = _named(bad.unique([FI, L], keep="first", maintain_order=True), runs)
    problems.add_rows(bad, _column(prepared, "tokens"), lambda r: (
        f"run '{r[R]}' has no tokens here and none can be derived"))


def _conflicting_records(records: pl.DataFrame, runs: pl.DataFrame, prepared: list[Prepared],
                         problems: Problems) -> bool:
    """Name a step of a run with two different token (or FLOP) counts; return whether any
    checkpoint of a run appears more than once."""
    if not records.select(checkpoint_key(records).is_duplicated().any()).item():
        return False
    stepped = records.filter(pl.col(S).is_not_null())
    stats = stepped.group_by(G, S).agg(
        pl.len().alias("n"), pl.col(T).drop_nulls().n_unique().alias(T),
        pl.col(F).drop_nulls().n_unique().alias(F)).filter(pl.col("n") > 1)
    for name, col in (("tokens", T), ("flops", F)):
        keys = stats.filter(pl.col(col) > 1)
        if keys.is_empty():
            continue
        rows = stepped.join(keys.select(G, S), on=[G, S], maintain_order="left").filter(
            pl.col(col).is_not_null())
        rows = _named(rows.with_columns(
            pl.col(col).first().over(G, S).alias("v0"), pl.col(FI).first().over(G, S).alias("fi0"),
            pl.col(L).first().over(G, S).alias("l0")).filter(pl.col(col) != pl.col("v0")), runs)
        problems.add_rows(rows, _column(prepared, name), lambda r, n=name, c=col: (
            f"run '{r[R]}' has step {r[S]} twice with different {n} ({show(r[c])} here, "
            f"{show(r['v0'])} at {_where(prepared, r['fi0'], r['l0'], r[FI])})"))
    return True


def _checked_points(points: pl.DataFrame, runs: pl.DataFrame, prepared: list[Prepared],
                    loss: str, check: bool, problems: Problems, notes: list[str]
                    ) -> pl.DataFrame:
    """Name non-finite losses and checkpoints with two different values of one metric (when
    ``check``: some checkpoint repeats); drop non-finite values of other metrics (with a note)
    and repeated identical values."""
    is_loss = pl.col(M) == loss
    bad = points.filter(is_loss & ~pl.col(V).is_finite())
    problems.add_rows(_named(bad, runs), lambda r: r[C],
                      lambda r: f"the loss of run '{r[R]}' is not finite ({show(r[V])})")
    # the loss's own range: a loss is >= 0, a perplexity >= 1 (ingest.normalize.DOMAINS)
    low, _, what = DOMAINS["ppl" if metric_kind(loss) == "ppl" else "loss"]
    bad = points.filter(is_loss & pl.col(V).is_finite() & (pl.col(V) < low))
    problems.add_rows(_named(bad, runs), lambda r: r[C],
                      lambda r: f"the loss of run '{r[R]}' is {show(r[V])}, but {what} is at "
                                f"least {low:g}")
    n_other = points.select((~is_loss & ~pl.col(V).is_finite()).sum()).item()
    if n_other:
        notes.append(f"{n_other:,} non-finite values of metrics other than the loss are left out")
        points = points.filter(is_loss | pl.col(V).is_finite())
    if not check:
        return points
    key = [G, S, TK, M]
    if not points.select(pl.struct(checkpoint_key(points), M).is_duplicated().any()).item():
        return points
    n = points.height
    points = points.unique([*key, V], keep="first", maintain_order=True)
    if points.height < n:
        notes.append(f"{n - points.height:,} repeated values identical to an earlier row are "
                     "left out")
    dup = points.group_by(key).agg(pl.len().alias("n")).filter(pl.col("n") > 1)
    if not dup.is_empty():
        rows = points.join(dup.select(key), on=key, nulls_equal=True, maintain_order="left")
        rows = _named(rows.with_columns(
            pl.col(V).first().over(key).alias("v0"), pl.col(FI).first().over(key).alias("fi0"),
            pl.col(L).first().over(key).alias("l0")).filter(pl.col(V) != pl.col("v0")), runs)
        problems.add_rows(rows, lambda r: r[C], lambda r: (
            f"run '{r[R]}' has " + (f"step {r[S]}" if r[S] is not None else
                                    f"tokens {show(r[T])}")
            + f" twice with different values ({show(r[V])} here, {show(r['v0'])} at "
            f"{_where(prepared, r['fi0'], r['l0'], r[FI])})"))
    return points


def _hyperparameters(prepared: list[Prepared], mapping: Mapping, runs: pl.DataFrame,
                     problems: Problems, notes: list[str]) -> pl.DataFrame:
    """The files' hyperparameters and the mapping file's ``[runs]``, which must agree."""
    known = set(runs[R].to_list())
    rows = []
    for run, values in mapping.runs.items():
        for name, value in values.items():
            number = isinstance(value, int | float)
            rows.append({FI: -1, L: 0, R: run, "name": name,
                         "value": float(value) if number else None,
                         "text": None if number else str(value)})
    absent = sorted((set(mapping.runs) | set(mapping.params)) - known)
    if absent:
        shown = ", ".join(absent[:10]) + (f" and {len(absent) - 10} more" if len(absent) > 10
                                          else "")
        notes.append(f"{mapping.file} names runs that the files do not hold: {shown}")
    frames = [p.hyperparameters for p in prepared]
    if rows:
        frames.append(pl.DataFrame(rows, schema=HP_SCHEMA))
    hyper = pl.concat(frames, how="vertical_relaxed").filter(pl.col(R).is_in(sorted(known)))
    hyper = hyper.unique([R, "name", "value", "text"], keep="first", maintain_order=True)
    clash = hyper.filter(pl.struct(R, "name").is_duplicated())
    for (run, name), group in clash.group_by(R, "name", maintain_order=True):
        first, *rest = group.iter_rows(named=True)
        there = first["value"] if first["text"] is None else first["text"]
        for r in rest:
            where0 = (f"{mapping.file} [runs.\"{run}\"]" if first[FI] < 0 else
                      _where(prepared, first[FI], first[L], r[FI]))
            here = r["value"] if r["text"] is None else r["text"]
            reason = (f"{name} of run '{run}' is {show(here)} here but {show(there)} at "
                      f"{where0}")
            if r[FI] < 0:
                problems.add(None, f"[runs.\"{run}\"]", name, reason, file=mapping.file)
            else:
                problems.add(r[FI], _where(prepared, r[FI], r[L], r[FI]), name, reason,
                             line=r[L])
    return hyper.unique([R, "name"], keep="first", maintain_order=True)
