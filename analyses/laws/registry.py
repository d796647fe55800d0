"""The forms and start grids by name (the estimators, which use them, are named in
:mod:`analyses.laws`)."""

from __future__ import annotations

import math

from analyses.laws.builtin_forms import (
    MUENNIGHOFF_P0,
    Kaplan2020,
    Muennighoff2023,
    chinchilla,
    compute,
    run,
)
from analyses.laws.forms import Form
from analyses.laws.grids import GRIDS
from analyses.laws.reparametrised import fixed
from warehouse.errors import UnknownName

FORMS: dict[str, Form] = {
    "chinchilla": chinchilla(),
    # Hitchhiker Sec. 5: one model's curve with A and alpha borrowed from Muennighoff et al.
    "chinchilla-borrowed": fixed(chinchilla(), name="chinchilla-borrowed",
                                 A=math.exp(MUENNIGHOFF_P0["a"]),
                                 alpha=MUENNIGHOFF_P0["alpha"]),
    "compute": compute(),
    "run": run(),
    "kaplan2020": Kaplan2020(),
    "muennighoff2023": Muennighoff2023(),
}


def get_form(name: str) -> Form:
    """The registered form ``name``; raises ``UnknownName`` listing the known ones."""
    if name not in FORMS:
        raise UnknownName("form", name, list(FORMS))
    return FORMS[name]


def get_grid(name: str) -> dict[str, tuple[float, ...]]:
    """The registered start grid ``name`` (internal parameter name -> values)."""
    if name not in GRIDS:
        raise UnknownName("grid", name, list(GRIDS))
    return GRIDS[name]
