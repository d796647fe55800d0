"""Per-corpus Chinchilla laws of the PCFG runs, their regression on H, and the frontier.

The points are the final checkpoint of every run that carries a ``gzip_median`` metric (the
``gzip-pcfg`` source, the paper's own 150 runs, and ``pcfg-runs``, this project's): N is the
model's parameter count, D the tokens it was trained on, the loss its ``perf`` (the final
validation loss), H the corpus's gzip median. Corpora are grouped into *run sets* (the
``gzip-pcfg`` source; ``pcfg-<grid>`` for each grid of ``pcfg-runs``), and within a set one law
``L = E + A/N^alpha + B/D^beta`` is fitted per corpus with ``huber-lbfgs`` (Huber δ = 1e-3 on
log loss, L-BFGS from a grid of starts: the protocol of Muennighoff et al. that the paper cites),
all corpora of all sets in one batch. Then :func:`~analyses.complexity.regression.regress_on_h`,
:func:`~analyses.complexity.frontier.frontier` and :func:`~analyses.complexity.blend.study_epsilon`
(Eq. 6 and its ε) per set.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from analyses.complexity.blend import METHODS, EpsilonStudy, parse_epsilon, study_epsilon
from analyses.complexity.frontier import Frontier, frontier
from analyses.complexity.regression import Regression, regress_on_h
from analyses.laws import FitResult, HuberLBFGS, LawBatch
from warehouse.errors import MetaError, UnknownFamily
from warehouse.jsonsafe import finite_or_none
from warehouse.sql import query

_POINTS = """
SELECT
    CASE WHEN f.source = 'pcfg-runs' THEN f.model_type ELSE f.source END AS run_set,
    p.family, p.model_id, p.num_params::DOUBLE AS n, p.tokens AS d, p.perf AS loss,
    h.value AS h, s.value AS h_std
FROM perf AS p
JOIN families AS f ON f.family = p.family
JOIN metrics AS h ON h.checkpoint_id = p.checkpoint_id AND h.metric = 'gzip_median'
LEFT JOIN metrics AS s ON s.checkpoint_id = p.checkpoint_id AND s.metric = 'gzip_std'
WHERE p.tokens IS NOT NULL AND p.num_params IS NOT NULL {where}
ORDER BY run_set, h, p.family, n, d
"""


def corpus_points(con: duckdb.DuckDBPyConnection,
                  families: list[str] | tuple[str, ...] | None = None) -> pl.DataFrame:
    """One row per run: ``run_set, family, model_id, n, d, loss, h, h_std``.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    families : list of str, optional
        Restrict to these families (each must exist and have runs with an H).

    Returns
    -------
    polars.DataFrame
    """
    where, params = "", None
    if families:
        where, params = "AND p.family IN (SELECT unnest(?))", [list(families)]
    points = query(con, _POINTS.format(where=where), params)
    if families:
        missing = sorted(set(families) - set(points["family"].to_list()))
        if missing:
            raise UnknownFamily(f"Family '{missing[0]}' has no runs with a gzip_median; "
                                f"'meta status --families' lists the families "
                                f"(the gzip-pcfg and pcfg-runs sources have H).")
    if points.is_empty():
        raise MetaError("No runs with a gzip_median in the warehouse; run 'meta ingest "
                        "gzip-pcfg' (the paper's runs) or 'meta pcfg grid' then 'meta ingest "
                        "pcfg-runs'.")
    return points


@dataclass(frozen=True)
class CorpusLaws:
    """The per-corpus laws of one run set.

    Attributes
    ----------
    run_set : str
        ``gzip-pcfg`` or ``pcfg-<grid>``.
    families : tuple of str
        One per corpus, in order of H.
    h, h_std : ndarray, shape (n_corpora,)
        gzip median and standard deviation of each corpus.
    params : ndarray, shape (n_corpora, 5)
        ``E, A, B, alpha, beta``.
    status : tuple of str
    objective : ndarray, shape (n_corpora,)
        Summed Huber loss of each fit.
    n_points : ndarray of int, shape (n_corpora,)
    unidentified : tuple of (str or None)
        Why a corpus's data cannot identify its law (``analyses.laws.identify``), or None.
    """

    run_set: str
    families: tuple[str, ...]
    h: np.ndarray
    h_std: np.ndarray
    params: np.ndarray
    status: tuple[str, ...]
    objective: np.ndarray
    n_points: np.ndarray
    unidentified: tuple[str | None, ...]

    def to_rows(self) -> list[dict]:
        """One JSON-able dict per corpus."""
        names = ("E", "A", "B", "alpha", "beta")
        return [{"run_set": self.run_set, "family": f, "h": finite_or_none(self.h[i]),
                 "h_std": finite_or_none(self.h_std[i]),
                 **{n: finite_or_none(self.params[i, j]) for j, n in enumerate(names)},
                 "status": self.status[i], "unidentified": self.unidentified[i],
                 "objective": finite_or_none(self.objective[i]), "n_points": int(self.n_points[i])}
                for i, f in enumerate(self.families)]


@dataclass(frozen=True)
class RunSetFit:
    """Laws, regression on H, frontier and Eq. 6 study of one run set."""

    laws: CorpusLaws
    regression: Regression
    frontier: Frontier
    blend: EpsilonStudy

    def to_dict(self) -> dict:
        return {"run_set": self.laws.run_set, "laws": self.laws.to_rows(),
                "regression": self.regression.to_rows(), "frontier": self.frontier.to_dict(),
                "eq6": self.blend.to_dict()}


@dataclass(frozen=True)
class ComplexityFit:
    """Every run set's laws, regressions and frontier (what ``meta complexity fit`` prints).

    Attributes
    ----------
    sets : tuple of RunSetFit
    grid : str
        Start grid of ``huber-lbfgs``.
    seconds : float
        Wall time of the batched fit.
    """

    sets: tuple[RunSetFit, ...]
    grid: str
    seconds: float

    def run_set(self, name: str) -> RunSetFit:
        """The fit of run set ``name``."""
        for s in self.sets:
            if s.laws.run_set == name:
                return s
        raise MetaError(f"Unknown run set '{name}'. Known run sets: "
                        f"{', '.join(s.laws.run_set for s in self.sets)}.")

    def to_dict(self) -> dict:
        """One JSON document: per set, ``laws``, ``regression``, ``frontier`` and ``eq6``."""
        return {"estimator": "huber-lbfgs", "form": "chinchilla", "grid": self.grid,
                "seconds": self.seconds, "sets": [s.to_dict() for s in self.sets]}

    def report(self) -> str:
        """A plain-text summary."""
        lines = []
        for s in self.sets:
            law = s.laws
            lines.append(f"[[Run set]] {law.run_set}: {len(law.families)} corpora")
            lines.append(f"    {'family':<28} {'H':>6} {'E':>8} {'A':>10} {'B':>10} "
                         f"{'alpha':>7} {'beta':>7} {'a=b/(a+b)':>9}  status")
            for i, f in enumerate(law.families):
                E, A, B, al, be = law.params[i]
                lines.append(f"    {f:<28} {law.h[i]:6.3f} {E:8.4g} {A:10.4g} {B:10.4g} "
                             f"{al:7.3f} {be:7.3f} {s.frontier.exponent[i]:9.3f}  "
                             f"{law.status[i]}"
                             + (f" (not identified: {law.unidentified[i]})"
                                if law.unidentified[i] else ""))
            lines.append("    regression on H (slope, intercept, p-value):")
            for row in s.regression.to_rows():
                lines.append(f"      {row['param']:<8} {_g(row['slope']):>10} "
                             f"{_g(row['intercept']):>10}  p={_g(row['p_value'])}")
            fr = s.frontier
            where = ", ".join(f"{c:.3f}" for c in fr.crossings) or "none"
            lines.append(f"    frontier exponent slope on H: {fr.exponent_slope:.3f} "
                         f"({'toward data' if fr.toward_data else 'toward parameters'} as H "
                         f"rises); crosses 1:1 between corpora at H = {where}; "
                         f"alpha(H) = beta(H) at H = {_g(fr.regression_crossing)}")
            lines += _blend_lines(s.blend)
        return "\n".join(lines)


def _blend_lines(b: EpsilonStudy) -> list[str]:
    nested = ", ".join(f"{e:.2f}" for e in b.nested)
    lines = [f"    Eq. 6 (Hoffmann's law blended into the lines, A and B in log): "
             f"epsilon = {b.law.epsilon:.2f}; leave-one-corpus-out chooses {b.chosen:.2f} "
             f"(without each corpus in turn: {nested})",
             "      mean ARE of the final loss, in-sample / held-out:"]
    for i, m in enumerate(b.methods):
        label = METHODS[m] + (f" (ε = {b.epsilons[i]:.2f})" if m == "eq6" else "")
        lines.append(f"        {label:<54} {_pct(b.pooled(b.in_sample)[i]):>7} / "
                     f"{_pct(b.pooled(b.held_out)[i])}")
    lines.append(f"      blended frontier crosses 1:1 at H = {_g(b.law.crossing)}")
    return lines


def _pct(v) -> str:
    return "-" if not np.isfinite(v) else f"{100 * v:.1f}%"


def _g(v) -> str:
    return "nan" if v is None or not np.isfinite(v) else f"{v:.4g}"


def fit_points(points: pl.DataFrame, *, grid: str = "hoffmann",
               compute=(1e15, 1e17, 1e19, 1e21), epsilon: float | None = None) -> ComplexityFit:
    """Per-corpus laws, regressions, frontiers and Eq. 6 from :func:`corpus_points`'s rows.

    Parameters
    ----------
    points : polars.DataFrame
        Columns ``run_set, family, n, d, loss, h, h_std``.
    grid : str, default="hoffmann"
        Start grid of ``huber-lbfgs``.
    compute : sequence of float
        FLOPs at which the frontier is tabulated.
    epsilon : float in [0, 1], optional
        ε of Eq. 6; default: chosen per run set by leave-one-corpus-out.

    Returns
    -------
    ComplexityFit
    """
    epsilon = parse_epsilon(epsilon)
    corpora = (points.group_by("run_set", "family", maintain_order=True)
               .agg(pl.col("h").first(), pl.col("h_std").first(), pl.col("n"), pl.col("d"),
                    pl.col("loss"))
               .sort("run_set", "h", "family"))
    xs = [np.column_stack([n, d]) for n, d in zip(corpora["n"].to_list(),
                                                  corpora["d"].to_list(), strict=True)]
    batch = LawBatch.from_ragged(xs, corpora["loss"].to_list(),
                                 keys=corpora["family"].to_list())
    result: FitResult = HuberLBFGS(grid=grid, form="chinchilla").fit(batch).result_
    sets = []
    for name in corpora["run_set"].unique(maintain_order=True).to_list():
        idx = np.flatnonzero((corpora["run_set"] == name).to_numpy())
        h = corpora["h"].to_numpy()[idx]
        h_std = corpora["h_std"].fill_null(float("nan")).to_numpy()[idx]
        laws = CorpusLaws(name, tuple(corpora["family"][int(i)] for i in idx), h, h_std,
                          result.params[idx], tuple(result.status[i] for i in idx),
                          result.objective[idx], result.n_points[idx],
                          tuple(result.unidentified[i] for i in idx))
        reg = regress_on_h(h, laws.params)
        runs = [tuple(np.asarray(corpora[c][int(i)].to_list(), dtype=float)
                      for c in ("n", "d", "loss")) for i in idx]
        sets.append(RunSetFit(laws, reg, frontier(h, laws.params, reg, compute),
                              study_epsilon(h, laws.params, runs, epsilon=epsilon)))
    return ComplexityFit(tuple(sets), grid, result.seconds)


def complexity_fit(con: duckdb.DuckDBPyConnection,
                   families: list[str] | tuple[str, ...] | None = None, *,
                   grid: str = "hoffmann", epsilon: float | None = None) -> ComplexityFit:
    """Fit every corpus with an H in the warehouse (or ``families``), grouped by run set.

    ``epsilon`` is Eq. 6's ε (default: chosen from the runs; see :func:`fit_points`).

    Examples
    --------
    See ``meta complexity fit --json``.
    """
    return fit_points(corpus_points(con, families), grid=grid, epsilon=epsilon)
