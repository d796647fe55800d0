"""Parameter types of the CLI: registry names, devices, finite numbers, output paths.

Each checks its value when the command line is parsed, before any work; a bad value is one
``Error:`` line (see :class:`meta.cli.MetaGroup`).
"""

from __future__ import annotations

import math
import os
import re
from importlib import import_module
from pathlib import Path

import click

from warehouse.errors import UnknownName


class RegistryChoice(click.Choice):
    """A ``click.Choice`` over the names of a registry, read on first use.

    ``--help`` lists the names and a wrong one gets the registry's message ("Unknown form
    'x'. Known forms: ..."). The registry (``"analyses.laws:FORMS"``) is imported only when
    a command that has the option parses it or shows its help, so ``meta --help`` never
    imports numpy or scipy, and the names live in one place.

    Parameters
    ----------
    what : str
        The kind of name, for the message ("form").
    registry : str
        ``"module:NAME"`` of a dict (or sequence) of names.
    """

    def __init__(self, what: str, registry: str):
        self.what, self.registry = what, registry
        self.case_sensitive = True
        self._choices: tuple[str, ...] | None = None

    @property
    def choices(self) -> tuple[str, ...]:
        if self._choices is None:
            module, name = self.registry.split(":")
            self._choices = tuple(getattr(import_module(module), name))
        return self._choices

    def convert(self, value, param, ctx):
        if value in self.choices:
            return value
        raise UnknownName(self.what, value, self.choices)


class DeviceChoice(click.Choice):
    """``cpu``, ``cuda`` or ``cuda:N``; whether the machine has it is checked by the trainer."""

    def __init__(self):
        super().__init__(("cpu", "cuda", "cuda:N"))

    def convert(self, value, param, ctx):
        if value in ("cpu", "cuda") or re.fullmatch(r"cuda:\d+", value):
            return value
        raise UnknownName("device", value, self.choices)


class FiniteFloat(click.FloatRange):
    """A ``click.FloatRange`` that also refuses ``nan`` and ``inf``."""

    name = "float"

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return super().convert(number, param, ctx)


POSITIVE = FiniteFloat(min=0, min_open=True)  # a size, a token count, a FLOP budget


class OutputPath(click.Path):
    """A file (or folder) a command writes, checked before any work is done.

    A file's folder must exist; a folder is created with its parents, but nothing on its
    path may be a file (``/dev/null/x``). Both must be writable.
    """

    def __init__(self, *, folder: bool = False):
        super().__init__(file_okay=not folder, dir_okay=folder, path_type=Path)
        self.folder = folder

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        problem = _output_problem(Path(path), folder=self.folder)
        if problem:
            self.fail(problem, param, ctx)
        return path


def _output_problem(path: Path, *, folder: bool) -> str | None:
    """Why ``path`` cannot be written, or None."""
    target = path if folder else path.parent
    existing = target
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder."
    if existing != target and not folder:
        return f"folder {target} does not exist."
    if not os.access(existing, os.W_OK):
        return f"folder {existing} is not writable."
    return None
