"""The `meta` command group. Commands live in meta/commands/, one file per group."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from meta import __version__
from warehouse.errors import MetaError


class MetaGroup(click.Group):
    """A group that shows a MetaError, and a bad command line, as one 'Error: ...' line on
    stderr with exit status 1 (click's usage errors would add a usage block and exit 2)."""

    def make_context(self, *args, **kwargs) -> click.Context:
        with _one_line():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        with _one_line():
            return super().invoke(ctx)


@contextmanager
def _one_line() -> Iterator[None]:
    try:
        yield
    except MetaError as e:
        raise click.ClickException(str(e)) from None
    except click.exceptions.NoArgsIsHelpError:
        raise  # a group called alone prints its help
    except click.UsageError as e:
        raise click.ClickException(e.format_message()) from None


@click.group(cls=MetaGroup)
@click.version_option(__version__, prog_name="meta")
def cli() -> None:
    """A warehouse and toolkit for the meta-analysis of neural scaling laws."""


def _register() -> None:
    from meta.commands import (
        bootstrap,
        calibrate,
        complexity,
        fit,
        fit_all,
        ingest,
        obs,
        params,
        pcfg,
        predict,
        report,
        report_complexity,
        report_observational,
        report_tasks,
        similar,
        sql,
        status,
        tasks,
    )

    for module in (ingest, status, sql, fit, fit_all, bootstrap, predict, similar, calibrate,
                   report, obs, pcfg, complexity, tasks, params):
        cli.add_command(module.command)
    for module in (report_observational, report_complexity, report_tasks):
        report.command.add_command(module.command)


_register()
