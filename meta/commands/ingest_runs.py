"""`meta ingest runs`: a user's own training runs as a family; and the `ingest` group that
sends every other first argument to `meta ingest [SOURCE ...]`."""

from __future__ import annotations

from pathlib import Path

import click

from meta.options import emit, open_warehouse, warehouse_option

_SHOWN_RUNS = 30


class DefaultGroup(click.Group):
    """A group whose first argument, when it is not one of its commands, goes to ``default``
    (so ``meta ingest pythia`` and ``meta ingest --help`` are today's command, and ``meta
    ingest runs ...`` the subcommand)."""

    def __init__(self, default: click.Command, **kwargs):
        super().__init__(name=default.name, help=default.help, short_help=default.short_help,
                         **kwargs)
        self.default = default

    def make_context(self, info_name, args, parent=None, **extra):
        if args and args[0] in self.commands:
            return super().make_context(info_name, args, parent=parent, **extra)
        return self.default.make_context(info_name, args, parent=parent, **extra)


def ingest_group(sources: click.Command) -> click.Group:
    """The `ingest` group: ``sources`` (today's `meta ingest [SOURCE ...]`) by default, and
    `runs`."""
    sources.epilog = (
        "Your own runs: meta ingest runs FILE... --family NAME (see meta ingest runs --help)."
    )
    group = DefaultGroup(sources)
    group.add_command(command)
    return group


@click.command("runs")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--family", required=True, help="Name of the family the runs form (source "
              "runs:NAME); it must not be a family of another source.")
@click.option("--map", "maps", multiple=True, metavar="FIELD=COLUMN",
              help="Name the column of a field (run, params, tokens, step, flops, tokens_per_step, "
              "loss, lr, seed, batch_size, schedule, metric, value; any other FIELD is a "
              "hyperparameter). Repeatable.")
@click.option("--mapping", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML mapping file: [columns], [params] (run -> size), [runs.\"<run>\"] "
              "hyperparameters, tokens_per_step.")
@click.option("--run-by", metavar="COLS", help="Comma-separated columns whose values together "
              "name a run.")
@click.option("--target", metavar="RUN", help="The run the studies predict (default: their "
              "rule, the largest size's best run).")
@click.option("--in-aggregate", is_flag=True, help="Count the family in the paper's macro "
              "averages (user families are left out by default).")
@click.option("--dry-run", is_flag=True, help="Print what would load; write nothing.")
@warehouse_option
@click.pass_context
def command(
    ctx: click.Context,
    files: tuple[Path, ...],
    family: str,
    maps: tuple[str, ...],
    mapping: Path | None,
    run_by: str | None,
    target: str | None,
    in_aggregate: bool,
    dry_run: bool,
    warehouse_path: Path,
) -> None:
    """Load your own training runs from FILES as family NAME.

    CSV, TSV, Parquet or JSON Lines; wide (a column per metric) or long (metric and value
    columns); W&B run histories, run tables and chart exports. Common column names are
    recognised; --map and --mapping name the rest; --dry-run shows what was understood.
    Without a run column or --run-by, a new run starts where the step goes backwards or the
    size changes, in file order. Loading the same files with the same options again changes
    nothing; changed files replace the family in one transaction.

    \b
    Example:
        meta ingest runs ladder.csv --family ladder --dry-run
        meta ingest runs ladder.csv --family ladder --map loss=eval/c4/loss
        meta ingest runs wandb_export_*.csv --family mine --mapping sizes.toml
    """
    from ingest.runs import RunsOptions, ingest_runs, plan_runs

    options = RunsOptions(
        family=family,
        maps=maps,
        mapping=mapping,
        run_by=tuple(c.strip() for c in run_by.split(",") if c.strip()) if run_by else (),
        target=target,
        in_aggregate=in_aggregate,
    )
    if dry_run:
        state = _state(ctx, warehouse_path, files, options)
        _describe(plan_runs(files, options), state)
        return
    con = open_warehouse(ctx, warehouse_path, read_only=False)
    result = ingest_runs(con, files, options, log=lambda m: click.echo(m, err=True))
    for note in result.plan.notes if result.plan else ():
        click.echo(f"Note: {note}.", err=True)


def _state(ctx: click.Context, path: Path, files, options) -> str:
    """What a load would do to the warehouse: new source, replace, or nothing."""
    if not path.exists():
        return "new; the warehouse does not exist yet"
    import warehouse
    from ingest.runs.load import check_owner, fingerprint

    con = open_warehouse(ctx, path, read_only=True)
    check_owner(con, options)
    stored = warehouse.stored_hash(con, options.source)
    if stored is None:
        return "new"
    if stored == fingerprint(files, options):
        return "unchanged: these files and options are what it holds; a load changes nothing"
    return "replaces the runs loaded before"


def _ignored(ignored: tuple[tuple[str, str], ...]) -> str:
    """'a, b (why); 76 columns (other why)': names where there are a few, else a count."""
    reasons: dict[str, list[str]] = {}
    for column, why in ignored:
        reasons.setdefault(why, []).append(column)
    return "; ".join(
        f"{', '.join(cs)} ({why})" if len(cs) <= 5 else f"{len(cs):,} columns ({why})"
        for why, cs in reasons.items()
    )


def _mapping(plan, i: int) -> list[tuple[str, str]]:
    """(field, where it comes from) for file ``i``: columns, derivations, the loss."""
    from ingest.runs.mapping import FIELDS

    report = plan.files[i]
    derived = {
        "params": plan.sizes_how[i],
        "tokens": plan.tokens_how[i],
        "flops": "6·N·D (derived, flops_imputed)",
    }
    if plan.loss in report.metrics:
        derived["loss"] = f"{plan.loss} ({plan.loss_how.split(';')[0]})"
    rows = []
    for field in [*FIELDS, *(f for f in report.fields if f not in FIELDS)]:
        if field in report.fields:
            column, how = report.fields[field]
            rows.append((field, f"{column} ({how})"))
        elif field in derived:
            rows.append((field, derived[field]))
    return rows


def _describe(plan, state: str) -> None:
    """Print a plan: the source, the mapping chosen per file, and the runs."""
    t = plan.tables
    fam = t["families"].row(0, named=True)
    click.echo("Dry run: nothing is written.")
    click.echo(f"source  {plan.source} ({state})")
    target = fam["target"] or "the studies' default rule"
    click.echo(f"family  {plan.family}: origin user, in_aggregate "
               f"{str(fam['in_aggregate']).lower()}, perf_metric {fam['perf_metric']}, "
               f"target {target}")
    click.echo(f"loss    {plan.loss} ({plan.loss_how})")
    for i, report in enumerate(plan.files):
        click.echo(f"\n{report.name}: {report.format}, {report.shape}, {report.rows:,} rows")
        click.echo(f"  run identity: {report.identity}")
        rows = _mapping(plan, i)
        width = max(len(f) for f, _ in rows)
        for field, source in rows:
            click.echo(f"  {field:<{width}} <- {source}")
        for label, names in (("metrics", report.metrics),
                             ("hyperparameters", report.hyperparameters)):
            if names:
                click.echo(f"  {label}: {', '.join(names)}")
        if report.ignored:
            click.echo(f"  ignored: {_ignored(report.ignored)}")
    runs = plan.runs
    click.echo(
        f"\n{runs.height:,} runs, {runs['num_params'].n_unique():,} sizes, "
        f"{t['checkpoints'].height:,} checkpoints, {t['metrics'].height:,} metric values, "
        f"{t['hyperparameters'].height:,} hyperparameters"
    )
    emit(runs.head(_SHOWN_RUNS if runs.height <= _SHOWN_RUNS else 20), "table")
    if runs.height > _SHOWN_RUNS:
        click.echo(f"... and {runs.height - 20:,} more runs")
    for note in plan.notes:
        click.echo(f"Note: {note}.")
