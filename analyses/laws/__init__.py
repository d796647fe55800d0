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

from analyses.laws.batch import LawBatch
from analyses.laws.bootstrap import bootstrap
from analyses.laws.estimators import CurveFitHitchhiker, LawEstimator
from analyses.laws.forms import Form
from analyses.laws.grids import GRIDS
from analyses.laws.huber import HuberLBFGS
from analyses.laws.registry import FORMS, get_form, get_grid
from analyses.laws.reparametrised import fixed, in_basis
from analyses.laws.result import STATUSES, FitResult
from warehouse.errors import UnknownName

ESTIMATORS: dict[str, type[LawEstimator]] = {
    "huber-lbfgs": HuberLBFGS,
    "curvefit-hitchhiker": CurveFitHitchhiker,
}


def get_estimator(name: str) -> type[LawEstimator]:
    """The registered estimator class ``name``."""
    if name not in ESTIMATORS:
        raise UnknownName("estimator", name, list(ESTIMATORS))
    return ESTIMATORS[name]


__all__ = [
    "ESTIMATORS", "FORMS", "GRIDS", "STATUSES", "CurveFitHitchhiker", "FitResult", "Form",
    "HuberLBFGS", "LawBatch", "LawEstimator", "bootstrap", "fixed", "get_estimator",
    "get_form", "get_grid", "in_basis",
]
