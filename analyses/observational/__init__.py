"""Observational scaling laws (Ruan, Maddison & Hashimoto 2024) over the warehouse.

A low-dimensional capability space (PCA of ~8 standard benchmarks over ~100 public models)
predicts harder downstream scores through a sigmoid, compared with compute baselines, and
places the warehouse's own training runs in the same space.

- :mod:`~analyses.observational.data`: the model x benchmark matrices (the only I/O);
- :mod:`~analyses.observational.impute`: iterative rank-1 imputation (:class:`RankOneImputer`);
- :mod:`~analyses.observational.pca`: :class:`CapabilitySpace` (scikit-learn's PCA);
- :mod:`~analyses.observational.sigmoid`: :class:`SigmoidRegression`;
- :mod:`~analyses.observational.equivalent_flops`: f-equivalent FLOPs and family trends;
- :mod:`~analyses.observational.experiments`: the paper's experiments (:data:`EXPERIMENTS`)
  and splits; :mod:`~analyses.observational.methods` loads one and fits its three methods
  (``pc`` and the compute baselines); :mod:`~analyses.observational.results` runs them all;
- :mod:`~analyses.observational.bootstrap`: bootstrap prediction intervals over models;
- :mod:`~analyses.observational.space`: the base capability space and checkpoint placement;
- :mod:`~analyses.observational.figures` and :mod:`~analyses.observational.report`:
  ``meta report observational``.
"""

from analyses.observational.equivalent_flops import LogLinear, equivalent_flops, family_trends
from analyses.observational.experiments import (
    BENCHMARKS,
    EXPERIMENTS,
    INSTRUCT,
    NONGSM,
    Experiment,
    Split,
    experiment_for_target,
    get_experiment,
)
from analyses.observational.impute import RankOneImputer
from analyses.observational.pca import CapabilitySpace
from analyses.observational.results import ExperimentResult, run
from analyses.observational.sigmoid import SigmoidParams, SigmoidRegression

__all__ = [
    "BENCHMARKS",
    "EXPERIMENTS",
    "INSTRUCT",
    "NONGSM",
    "CapabilitySpace",
    "Experiment",
    "ExperimentResult",
    "LogLinear",
    "RankOneImputer",
    "SigmoidParams",
    "SigmoidRegression",
    "Split",
    "equivalent_flops",
    "experiment_for_target",
    "family_trends",
    "get_experiment",
    "run",
]
