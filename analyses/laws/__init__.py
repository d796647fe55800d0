"""Scaling laws: functional forms, start grids, estimators and the batched engine.

Registries are plain dicts, built-ins first-class:

- ``FORMS``: name -> :class:`~analyses.laws.forms.Form` (``chinchilla``, ``chinchilla-borrowed``
  with Muennighoff's A and alpha held fixed, ``compute`` L(C), ``run`` L(D), ``kaplan2020``,
  ``muennighoff2023``);
- ``ESTIMATORS``: name -> estimator class (``huber-lbfgs``, ``curvefit-hitchhiker``);
- ``GRIDS``: name -> start grid (``hoffmann``, ``colpret``, ``small``, ``muennighoff``).

Nothing in this package reads files or opens the warehouse.

Examples
--------
>>> sorted(ESTIMATORS)
['curvefit-hitchhiker', 'huber-lbfgs']
>>> get_form("chinchilla").names
('E', 'A', 'B', 'alpha', 'beta')
"""

from __future__ import annotations

import math

from analyses.laws.batch import LawBatch
from analyses.laws.bootstrap import bootstrap
from analyses.laws.estimators import CurveFitHitchhiker, HuberLBFGS, LawEstimator
from analyses.laws.forms import (
    MUENNIGHOFF_P0,
    Form,
    Kaplan2020,
    Muennighoff2023,
    chinchilla,
    compute,
    fixed,
    in_basis,
    run,
)
from analyses.laws.grids import GRIDS
from analyses.laws.result import STATUSES, FitResult
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

ESTIMATORS: dict[str, type[LawEstimator]] = {
    "huber-lbfgs": HuberLBFGS,
    "curvefit-hitchhiker": CurveFitHitchhiker,
}


def get_form(name: str) -> Form:
    """The registered form ``name``; raises ``UnknownName`` listing the known ones."""
    if name not in FORMS:
        raise UnknownName("form", name, list(FORMS))
    return FORMS[name]


def get_estimator(name: str) -> type[LawEstimator]:
    """The registered estimator class ``name``."""
    if name not in ESTIMATORS:
        raise UnknownName("estimator", name, list(ESTIMATORS))
    return ESTIMATORS[name]


def get_grid(name: str) -> dict[str, tuple[float, ...]]:
    """The registered start grid ``name`` (internal parameter name -> values)."""
    if name not in GRIDS:
        raise UnknownName("grid", name, list(GRIDS))
    return GRIDS[name]


__all__ = [
    "ESTIMATORS", "FORMS", "GRIDS", "STATUSES", "CurveFitHitchhiker", "FitResult", "Form",
    "HuberLBFGS", "LawBatch", "LawEstimator", "bootstrap", "fixed", "get_estimator",
    "get_form", "get_grid", "in_basis",
]
