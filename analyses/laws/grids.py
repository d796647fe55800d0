"""Named grids of starting points, in the internal (log-sum-exp) parameterisation.

A grid maps internal parameter names to the values to try; the starts are their Cartesian
product (first name varies slowest). Parameters a form has but a grid does not name start at
the form's default (``Form.p0``, Muennighoff's values for Chinchilla).
"""

from __future__ import annotations

import numpy as np

from analyses.laws.forms import Form

GRIDS: dict[str, dict[str, tuple[float, ...]]] = {
    # Hoffmann et al. 2022, App. D.2, as Besiroglu et al. 2024 ran it: 5 * 5 * 5 * 6 * 6 = 4,500.
    "hoffmann": {
        "alpha": (0.0, 0.5, 1.0, 1.5, 2.0),
        "beta": (0.0, 0.5, 1.0, 1.5, 2.0),
        "e": (-1.0, -0.5, 0.0, 0.5, 1.0),
        "a": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
        "b": (0.0, 5.0, 10.0, 15.0, 20.0, 25.0),
    },
    # The Hitchhiker code's torch fit (util/torch_fit.py): 4**5 = 1,024.
    "colpret": {
        "a": (3.0, 6.0, 9.0, 12.0),
        "b": (3.0, 6.0, 9.0, 12.0),
        "e": (-0.5, 0.0, 0.5, 1.0),
        "alpha": (0.25, 0.5, 0.75, 1.0),
        "beta": (0.25, 0.5, 0.75, 1.0),
    },
    # A cheap 2**5 = 32-start grid for many laws at once.
    "small": {
        "a": (5.0, 12.0),
        "b": (5.0, 12.0),
        "e": (-0.5, 0.5),
        "alpha": (0.25, 0.75),
        "beta": (0.25, 0.75),
    },
    # One start at the form's default (Muennighoff's values): the Hitchhiker curve_fit start.
    "muennighoff": {},
}


def grid_starts(grid: dict[str, tuple[float, ...]] | np.ndarray, form: Form) -> np.ndarray:
    """The starts ``(n_starts, n_params)`` a grid gives for ``form`` (internal values).

    ``grid`` is a name-to-values mapping, or an array of internal starts used as is.

    Examples
    --------
    >>> from analyses.laws.builtin_forms import chinchilla
    >>> grid_starts(GRIDS["hoffmann"], chinchilla()).shape
    (4500, 5)
    """
    if not isinstance(grid, dict):
        starts = np.atleast_2d(np.asarray(grid, dtype=float))
        if starts.shape[1] != form.n_params:
            raise ValueError(f"starts for {form.name} need {form.n_params} columns "
                             f"({', '.join(form.internal_names)}); got {starts.shape[1]}.")
        return starts
    names = [n for n in grid if n in form.internal_names]
    mesh = np.meshgrid(*(np.asarray(grid[n], dtype=float) for n in names), indexing="ij")
    starts = np.tile(np.asarray(form.p0, dtype=float), (mesh[0].size if mesh else 1, 1))
    for n, values in zip(names, mesh, strict=True):
        starts[:, form.internal_names.index(n)] = values.ravel()
    _, first = np.unique(starts, axis=0, return_index=True)
    return starts[np.sort(first)]
