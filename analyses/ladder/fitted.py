"""A fitted law of either step of the ladder (:mod:`analyses.ladder.step1`, :mod:`analyses.
ladder.step2`): its form, parameters, objective, status and fit error."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


class LawForm(Protocol):
    """What a fitted law needs of its form: parameter names and ``predict(theta, x)``."""

    params: tuple[str, ...]

    def predict(self, theta: np.ndarray, x: np.ndarray) -> np.ndarray: ...


@dataclass(frozen=True)
class LadderFit:
    """A fitted step-1 or step-2 law.

    Attributes
    ----------
    form : LawForm
        Its form (a :class:`analyses.ladder.step1.Form` or :class:`analyses.ladder.step2.Form`).
    theta : np.ndarray of shape (n_params,)
        Fitted parameters in ``form.params`` order.
    objective : float
        The step's objective at ``theta``: the sum of Huber log residuals (step 1), of squared
        residuals with the ideal point (step 2).
    status : str
        ``ok``, ``at_bound`` (a parameter on a bound), and for step 1 ``max_iter`` or
        ``nan_objective``.
    fit_error : float
        Mean |f(x_i) - y_i| / y_i over the fitted points, the ideal point left out (the
        CSVs' ``Fit Error``).
    n_points : int
        Fitted points (the ideal point included).
    """

    form: LawForm
    theta: np.ndarray
    objective: float
    status: str
    fit_error: float
    n_points: int

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The law at inputs ``x``: (n, 2) of N, D or (n, 1) of C for step 1, task losses
        (n,) for step 2."""
        return self.form.predict(self.theta, x)

    @property
    def coefficients(self) -> dict[str, float]:
        """Parameter name -> value."""
        return dict(zip(self.form.params, map(float, self.theta), strict=True))
