"""A law fitted on a family's runs, its bootstrap over runs, and predictions with intervals.

The interval of a prediction has two parts, both reported:

- *parameter* uncertainty: the law refitted on resamples of the family's runs (runs drawn
  with replacement, every checkpoint of a drawn run kept; seeded), each resample predicting
  the same point;
- *extrapolation* error: how far public laws of a similar design missed their own target
  (:mod:`analyses.predict.calibration`): signed relative errors ``e = (L_hat - L) / L``.

They combine as independent errors: ``L = L_b / (1 + e)`` for a resample's prediction ``L_b``
and a calibration error ``e`` drawn by Monte Carlo (the calibration rows weighted so that
every source counts alike). Where the public errors already contain the estimation noise of
their own small designs this is conservative; the leave-one-family-out check measures how
conservative.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from analyses.hitchhiker.protocol import Family
from analyses.laws import FitResult, Form, HuberLBFGS, get_form
from analyses.laws.bootstrap import bootstrap
from analyses.laws.identify import base_params
from analyses.predict.design import FROM_SHARE, Design, batch, design, fit_rows

N_BOOT = 200
LEVELS = (0.8, 0.95)
MC_DRAWS = 20_000
CHINCHILLA = get_form("chinchilla")


def estimator(form: str | Form = "chinchilla") -> HuberLBFGS:
    """The fit of a family's runs (and of every calibration law): Huber on log loss, the
    32-start grid, each law's 8 best starts polished."""
    return HuberLBFGS(grid="small", form=form)


@dataclass(frozen=True)
class Interval:
    """A central interval at ``level``."""

    level: float
    low: float
    high: float

    def to_dict(self) -> dict:
        return {"level": self.level, "low": self.low, "high": self.high}


def _intervals(values: np.ndarray) -> tuple[Interval, ...]:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return tuple(Interval(q, np.nan, np.nan) for q in LEVELS)
    return tuple(Interval(q, *np.quantile(values, [(1 - q) / 2, (1 + q) / 2]).tolist())
                 for q in LEVELS)


@dataclass(frozen=True)
class Prediction:
    """The predicted loss of one run and its intervals.

    Attributes
    ----------
    params, tokens : float
        The predicted run (N, D).
    loss : float
        The law's prediction.
    parameter, extrapolation, combined : tuple of Interval
        At each of :data:`LEVELS`: from the bootstrap over runs, from the calibration errors
        alone (around ``loss``), and both (see the module docstring).
    scale_up : float
        ``params`` over the largest fitted size.
    n_boot, seed : int
        Resamples of runs and their seed; ``n_boot_finite`` of them predicted a finite loss.
    calibration : dict
        What the extrapolation part rests on: rows, families, sources, the rule that chose
        them (:func:`analyses.predict.calibration.errors_for`).
    """

    params: float
    tokens: float
    loss: float
    parameter: tuple[Interval, ...]
    extrapolation: tuple[Interval, ...]
    combined: tuple[Interval, ...]
    scale_up: float
    n_boot: int
    n_boot_finite: int
    seed: int
    calibration: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "params": self.params, "tokens": self.tokens, "loss": self.loss,
            "scale_up": self.scale_up,
            "parameter": [i.to_dict() for i in self.parameter],
            "extrapolation": [i.to_dict() for i in self.extrapolation],
            "combined": [i.to_dict() for i in self.combined],
            "bootstrap": {"unit": "runs", "resamples": self.n_boot,
                          "finite": self.n_boot_finite, "seed": self.seed},
            "calibration": self.calibration,
        }


@dataclass(frozen=True)
class RunsLaw:
    """A Chinchilla law fitted on a family's runs, with its bootstrap over runs.

    Attributes
    ----------
    family : str
    runs : tuple of str
        The runs fitted (a sweep's best run only, unless every run was asked for).
    form : Form
        Chinchilla, or Chinchilla with A and alpha borrowed (a single size).
    result : FitResult
        The fit, with ``draws`` from the resamples of runs.
    design : Design
    n_points : int
    borrowed_from : str or None
        The public family whose A and alpha were borrowed.
    """

    family: str
    runs: tuple[str, ...]
    form: Form
    result: FitResult
    design: Design
    n_points: int
    borrowed_from: str | None = None

    @property
    def params(self) -> dict[str, float]:
        """Natural Chinchilla parameters (borrowed ones included)."""
        natural = base_params(self.form, self.result.params)[0]
        return dict(zip(CHINCHILLA.names, natural.tolist(), strict=True))

    @property
    def status(self) -> str:
        return self.result.status[0]

    @property
    def unidentified(self) -> str | None:
        return self.result.unidentified[0] if self.result.unidentified else None

    def loss(self, params, tokens) -> np.ndarray:
        """The law's loss at ``(params, tokens)``, broadcast to one flat array."""
        n, d = np.broadcast_arrays(np.atleast_1d(np.asarray(params, dtype=float)),
                                   np.atleast_1d(np.asarray(tokens, dtype=float)))
        return self.form.predict(self.result.params[0], n.ravel(), d.ravel())

    def optimal(self, flops: float) -> tuple[float, float]:
        """The compute-optimal ``(N, D)`` for ``flops`` under the law with ``C = 6 N D``
        (Hoffmann et al. 2022, Eq. 4): ``N = G (C / 6)^(beta / (alpha + beta))``,
        ``G = (alpha A / (beta B))^(1 / (alpha + beta))``."""
        p = self.params
        A, B, alpha, beta = p["A"], p["B"], p["alpha"], p["beta"]
        G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
        n = G * (flops / 6) ** (beta / (alpha + beta))
        return float(n), float(flops / (6 * n))

    def predict(self, params: float, tokens: float, errors: np.ndarray,
                weights: np.ndarray, *, calibration: dict | None = None,
                seed: int = 0) -> Prediction:
        """The loss of a run of ``params`` x ``tokens`` with its intervals.

        Parameters
        ----------
        params, tokens : float
        errors, weights : ndarray
            Signed relative errors of public laws of a similar design and their weights
            (:func:`analyses.predict.calibration.errors_for`).
        calibration : dict, optional
            Its description, carried into the prediction.
        seed : int, default=0
            Seed of the Monte Carlo combination.
        """
        loss = float(self.loss(params, tokens)[0])
        draws = self.result.draws[:, 0, :]
        with np.errstate(all="ignore"):
            boot = self.form.predict(draws, np.full(len(draws), params),
                                     np.full(len(draws), tokens))[:, 0]
        finite = boot[np.isfinite(boot)]
        rng = np.random.default_rng(seed)
        if errors.size and finite.size:
            e = rng.choice(errors, size=MC_DRAWS, p=weights / weights.sum())
            b = rng.choice(finite, size=MC_DRAWS)
            extrapolation = _intervals(loss / (1 + e))
            combined = _intervals(b / (1 + e))
        else:
            extrapolation = combined = _intervals(np.array([]))
        return Prediction(
            params=float(params), tokens=float(tokens), loss=loss,
            parameter=_intervals(finite), extrapolation=extrapolation, combined=combined,
            scale_up=self.design.scale_up(params), n_boot=len(boot),
            n_boot_finite=int(finite.size), seed=int(self.result.bootstrap_seed or 0),
            calibration=calibration or {},
        )


def fit_runs(family: Family, models: list[str] | None = None, *, fraction: float = 1.0,
             n_boot: int = N_BOOT, seed: int = 0, form: Form = CHINCHILLA,
             borrowed_from: str | None = None, from_share: float = FROM_SHARE) -> RunsLaw:
    """Fit the Chinchilla law (or ``form``) on ``models`` of ``family`` (default: every run
    studied) and bootstrap it over runs.

    Parameters
    ----------
    family : Family
    models : list of str, optional
        Runs to fit; default ``family.model_ids``.
    fraction : float, default=1.0
        Share of each run seen (:func:`analyses.predict.design.fit_rows`).
    n_boot : int, default=200
        Resamples of runs.
    seed : int, default=0
    form : Form, default=Chinchilla
        Chinchilla with A and alpha fixed for a single size (:func:`analyses.predict.similar.
        borrowed_form`).
    borrowed_from : str, optional
        The family those came from, recorded with the law.
    from_share : float, default=0.3
        Fit each run's checkpoints from this share of its tokens on (1: finals only).

    Returns
    -------
    RunsLaw
    """
    models = list(models or family.model_ids)
    rows = fit_rows(family, models, fraction, from_share)
    b, groups = batch(family, rows)
    result = bootstrap(estimator(form), b, n_resamples=n_boot, seed=seed, groups=groups)
    return RunsLaw(family.name, tuple(models), form, result, design(family, rows, fraction),
                   int(rows.size), borrowed_from)

