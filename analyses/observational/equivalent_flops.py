"""f-equivalent FLOPs, and the log-linear trend of a capability score within each family.

The paper's x-axis (``plot_scaling_predictions``, ``transform_x_to_equiv_scale``): take a
fitted linear score z = alpha + beta'S of every model; over the models of a reference family
(Llama-2 by default) fit the OLS line z = w * log10(C) + c; then place every model at
log10 C_bar = (z - c) / w. Under the paper's hypothesis that capabilities are linear in
log-compute within a family, C_bar is the compute a reference-family model would need for
the same score. The code works in units of 1E21 FLOPs; here C is in FLOPs, which only shifts
c (and leaves C_bar in FLOPs).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from warehouse.errors import MetaError


@dataclass(frozen=True)
class LogLinear:
    """z = slope * log10(C) + intercept, fitted by OLS on ``n`` models.

    Attributes
    ----------
    slope, intercept : float
    r2 : float
        Coefficient of determination (NaN for fewer than 3 models).
    n : int
    """

    slope: float
    intercept: float
    r2: float
    n: int

    @classmethod
    def fit(cls, flops, z) -> LogLinear:
        """OLS of ``z`` on ``log10(flops)``; needs two models of distinct FLOPs."""
        x = np.log10(np.asarray(flops, dtype=float))
        z = np.asarray(z, dtype=float)
        ok = np.isfinite(x) & np.isfinite(z)
        x, z = x[ok], z[ok]
        if x.size < 2 or np.ptp(x) == 0:
            raise MetaError(
                f"A log-linear fit needs at least two models of distinct FLOPs; got {x.size}."
            )
        slope, intercept = np.polyfit(x, z, 1)
        resid = z - (slope * x + intercept)
        ss = np.sum((z - z.mean()) ** 2)
        r2 = 1 - np.sum(resid**2) / ss if x.size > 2 and ss > 0 else math.nan
        return cls(float(slope), float(intercept), float(r2), int(x.size))

    def log10_flops(self, z) -> np.ndarray:
        """The inverse: log10 of the reference-equivalent FLOPs of scores ``z``."""
        return (np.asarray(z, dtype=float) - self.intercept) / self.slope

    def score(self, log10_flops) -> np.ndarray:
        """z at ``log10_flops``."""
        return self.slope * np.asarray(log10_flops, dtype=float) + self.intercept


def equivalent_flops(scores, families, flops, *, ref_family: str = "Llama-2") -> LogLinear:
    """The reference-family line z = w * log10(C) + c of a score over models.

    Parameters
    ----------
    scores : array-like, shape (n,)
        The linear score of every model (``alpha + beta'S`` of a fitted law, or PC-1).
    families : sequence of str, length n
        Family of every model (upstream ``Model Family`` names).
    flops : array-like, shape (n,)
        Training FLOPs (NaN where unknown).
    ref_family : str, default="Llama-2"

    Returns
    -------
    LogLinear
        Its ``log10_flops(z)`` is the f-equivalent log10 FLOPs of score z.

    Examples
    --------
    >>> line = equivalent_flops([1.0, 2.0, 3.0], ["Llama-2"] * 3, [1e22, 1e23, 1e24])
    >>> round(float(line.log10_flops(2.0)), 2)
    23.0
    """
    fam = np.asarray(families, dtype=object)
    sel = fam == ref_family
    if sel.sum() < 2:
        raise MetaError(
            f"The reference family '{ref_family}' has {int(sel.sum())} model(s) here; "
            "f-equivalent FLOPs need at least two."
        )
    return LogLinear.fit(np.asarray(flops, dtype=float)[sel], np.asarray(scores, dtype=float)[sel])


def family_trends(table: pl.DataFrame, score: str = "PC-1", *, min_models: int = 3) -> pl.DataFrame:
    """Per family, the OLS line of ``score`` against log10 FLOPs (the paper's Figure 3 check).

    Parameters
    ----------
    table : polars.DataFrame
        Columns ``family``, ``flops`` and ``score``.
    score : str, default="PC-1"
    min_models : int, default=3
        Families with fewer models of known FLOPs are left out.

    Returns
    -------
    polars.DataFrame
        ``family``, ``n``, ``slope`` (score per decade of FLOPs), ``intercept``, ``r2``.
    """
    rows = []
    for (family,), group in table.filter(pl.col("flops").is_not_null()).group_by(
        "family", maintain_order=True
    ):
        if group.height < min_models or group["flops"].n_unique() < 2:
            continue
        line = LogLinear.fit(group["flops"].to_numpy(), group[score].to_numpy())
        rows.append({"family": family, "n": line.n, "slope": line.slope,
                     "intercept": line.intercept, "r2": line.r2})
    schema = {"family": pl.String, "n": pl.Int64, "slope": pl.Float64, "intercept": pl.Float64,
              "r2": pl.Float64}
    return pl.DataFrame(rows, schema=schema).sort("r2", descending=True, nulls_last=True)
