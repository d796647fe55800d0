"""Which checkpoints a family's law is fitted on, and the design of a prediction.

A user family (and every public family when the interval is calibrated: "fitted the same
way") is fitted on the final checkpoint of every run plus, where a run has intermediate
checkpoints, those from :data:`FROM_SHARE` of the run's final tokens on. A relative cut, not
the Hitchhiker's absolute 10B tokens, which would empty a ladder of small runs. With
``fraction`` p < 1 each run is cut at p of its final tokens first, as if it had stopped there
(the share of training seen).

The design of a prediction is what the calibration matches on: the number of distinct sizes
fitted, the scale-up from the largest fitted size to the predicted one, and the share seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analyses.hitchhiker.protocol import Family
from analyses.laws import LawBatch

FROM_SHARE = 0.3  # intermediate checkpoints from 30% of each run's final tokens


@dataclass(frozen=True)
class Design:
    """What a prediction extrapolates from.

    Attributes
    ----------
    n_sizes : int
        Distinct model sizes fitted.
    largest_params, largest_tokens : float
        Size and final tokens of the largest fitted run (the most trained one of that size).
    fraction : float
        Share of each run's training seen (1: finished runs).
    """

    n_sizes: int
    largest_params: float
    largest_tokens: float
    fraction: float = 1.0

    def scale_up(self, params: float) -> float:
        """How far ``params`` is from the largest fitted size (a ratio)."""
        return float(params) / self.largest_params


def fit_rows(family: Family, models: list[str], fraction: float = 1.0,
             from_share: float = FROM_SHARE) -> np.ndarray:
    """Rows of ``models`` a law is fitted on: per run, tokens in ``[from_share * T, T]``
    with ``T`` the run's final tokens (times ``fraction``); ``from_share=1`` keeps the final
    checkpoints only."""
    rows = family.rows(models)
    tokens = family.column("tokens", rows)
    run = family.run_index(rows)
    final = np.zeros(run.max() + 1 if run.size else 0)
    np.maximum.at(final, run, tokens)
    end = fraction * final[run]
    # the last checkpoint at or before p of the run stands in for its end
    last = np.zeros_like(final)
    kept = tokens <= end * (1 + 1e-9)
    np.maximum.at(last, run[kept], tokens[kept])
    keep = kept & (tokens >= from_share * last[run] * (1 - 1e-9))
    return rows[keep & (last[run] > 0)]


def design(family: Family, rows: np.ndarray, fraction: float = 1.0) -> Design:
    """The design of a law fitted on ``rows`` of ``family``."""
    sizes = family.column("num_params", rows)
    top = sizes.max()
    return Design(n_sizes=len(np.unique(sizes)), largest_params=float(top),
                  largest_tokens=float(family.column("tokens", rows)[sizes == top].max()),
                  fraction=fraction)


def batch(family: Family, rows: np.ndarray) -> tuple[LawBatch, np.ndarray]:
    """One law's batch of ``rows`` (N, D -> perf) and the run of each point (for resampling
    runs)."""
    b = LawBatch.single(family.column("perf", rows), N=family.column("num_params", rows),
                        D=family.column("tokens", rows))
    return b, family.run_index(rows)[None]
