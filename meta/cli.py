"""The `meta` command group. Commands live in meta/commands/, one file per group."""

from __future__ import annotations

import click

from meta import __version__
from warehouse.errors import MetaError


class MetaGroup(click.Group):
    """A group that shows a MetaError as one 'Error: ...' line on stderr, exit 1."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MetaError as e:
            raise click.ClickException(str(e)) from None


@click.group(cls=MetaGroup)
@click.version_option(__version__, prog_name="meta")
def cli() -> None:
    """A warehouse and toolkit for the meta-analysis of neural scaling laws."""


def _register() -> None:
    from meta.commands import (
        calibrate,
        complexity,
        fit,
        fit_all,
        ingest,
        obs,
        pcfg,
        predict,
        report,
        report_complexity,
        report_observational,
        similar,
        sql,
        status,
    )

    for module in (ingest, status, sql, fit, fit_all, predict, similar, calibrate, report, obs,
                   pcfg, complexity):
        cli.add_command(module.command)
    for module in (report_observational, report_complexity):
        report.command.add_command(module.command)


_register()
