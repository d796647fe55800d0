"""The paper's prediction experiments: target, model set, features, y transform, split, fit.

One experiment predicts one downstream score y of held-out (more capable) models from the
models below a split, three ways (``plot_scaling_predictions`` of the released code):

- ``pc``: impute and PCA the benchmark scores of the training split, project the test split
  with that fit, and fit a sigmoid of PC-1..PC-K (K = 3);
- ``flops``: the same sigmoid of ln C (C in units of 1E21 FLOPs, the code's units and natural
  log); models of unknown FLOPs are dropped, from the test split too;
- ``size``: the same of ln N (N in billions).

MSE is on the processed-y scale (raw accuracy, or the min-max normalised score). Because the
compute baselines drop models of unknown FLOPs or size, each method's ``test_mse`` (its own
test models, as the code reports it) comes with ``test_mse_common``: every method scored on
the test models that all of them can score.

Split rule (``split_data``): ``cutoff`` trains on models with C <= threshold and tests on the
rest, **including models of unknown FLOPs** (NaN compares False); the threshold comparison
allows a relative 1e-9 for round-off of upstream's 1E21 units. ``rank`` sorts by processed y
(descending, stable) and tests on the top ``int(fraction * n)``.

Provenance of the settings (see ``shared/methods/observational.md``): agents (Sec 4.2),
post-training (Sec 4.3, from ``model_subset_selection_eval.ipynb``) and Leaderboard-v2 (App.
C.3) are read from the authors' notebooks; the emergent BigBench settings come from a
third-party transcription of an absent notebook (unverified) and use the README's default fit
(sigmoid with a floor, least squares).
"""

from __future__ import annotations

import contextlib
import math
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import polars as pl

from analyses.observational import data
from analyses.observational.equivalent_flops import LogLinear, equivalent_flops
from analyses.observational.pca import CapabilitySpace
from analyses.observational.sigmoid import SigmoidParams, SigmoidRegression, mse
from warehouse.errors import MetaError, UnknownName

if TYPE_CHECKING:
    from analyses.observational.bootstrap import Bootstrap

BENCHMARKS = ("MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "GSM8K", "XWinograd",
              "HumanEval")
NONGSM = tuple(b for b in BENCHMARKS if b != "GSM8K")
INSTRUCT = ("MMLU", "ARC-C", "HellaSwag", "Winogrande", "TruthfulQA", "GSM8K", "HumanEval")

# utils/constants.py @4d6e1e43: EVAL_BASE_MODEL_WITH_FLOPS_FAMILIES, the Leaderboard-v2 model
# filter (evaluated families less Mistral, Mixtral and Qwen2; pre-registered models included).
LEADERBOARD_FAMILIES = (
    "Llama-2", "Llama", "Llama-3", "Llama-3.1", "Qwen1.5", "Qwen", "Yi", "Yi-1.5", "Gemma",
    "Gemma-2", "Falcon", "Phi", "Pythia", "BLOOM", "GPT-Neo/J", "OPT", "MPT", "XGLM",
    "CodeLlama", "StarCoder", "StarCoder2", "DeepSeek-Coder", "DeepSeek-V2", "DeepSeek-Coder-V2",
    "Jamba",
)
# BBH_SUBTASKS2RANDOM_VAL of utils/constants.py: chance accuracy of the 27 BBH subtasks.
BBH_CHANCE = (1 / 2, 1 / 2, 1 / 6, 1 / 3, 0, 1 / 2, 1 / 9, 1 / 2, 1 / 5, 1 / 7, 1 / 3, 1 / 5, 0,
              1 / 2, 0, 1 / 5, 1 / 18, 1 / 4, 1 / 6, 1 / 2, 1 / 2, 1 / 4, 1 / 5, 1 / 7, 1 / 3,
              1 / 2, 0)
FLOPS_UNIT = 1e21  # the code's 'FLOPs (1E21)'
SIZE_UNIT = 1e9  # the code's 'Model Size (B)'
LOG_EPS = 1e-9  # apply_funcs(..., "log"): np.log(x + 1e-9)
METHODS = ("pc", "flops", "size")
MODEL_SETS = ("analysis-set", "leaderboard", "instruct")


def one_blas_thread() -> contextlib.AbstractContextManager:
    """Limit BLAS to one thread while many tiny fits run.

    OpenBLAS wakes its thread pool for every tiny product; on two cores that made the
    bootstrap's L-BFGS-B refits six times slower. Uses ``threadpoolctl`` when installed.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - optional speed-up
        return contextlib.nullcontext()
    return threadpool_limits(1, user_api="blas")


@dataclass(frozen=True)
class Split:
    """How models are divided into training and test.

    Attributes
    ----------
    kind : {"cutoff", "rank"}
    value : float
        ``cutoff``: the FLOPs threshold (training: C <= value). ``rank``: the test share
        (< 1, of the models with a target value) or count (>= 1) of top-scoring models.
    """

    kind: str
    value: float

    def is_test(self, flops: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Boolean test mask over models with FLOPs ``flops`` (NaN = unknown) and targets ``y``.

        Examples
        --------
        >>> import numpy as np
        >>> Split("cutoff", 8.4e22).is_test(np.array([1e22, 8.4e22, 1e23, np.nan]),
        ...                                 np.zeros(4)).tolist()
        [False, False, True, True]
        >>> Split("rank", 0.5).is_test(np.full(4, np.nan), np.array([0.1, 0.9, 0.5, 0.2])).tolist()
        [False, True, True, False]
        """
        if self.kind == "cutoff":
            with np.errstate(invalid="ignore"):
                train = flops <= self.value * (1 + 1e-9)
            return ~train
        if self.kind == "rank":
            n = len(y)
            n_test = int(self.value * n) if self.value < 1 else int(self.value)
            if not 0 <= n_test < n:
                raise MetaError(f"A rank split of {self.value} leaves no training model of {n}.")
            order = np.argsort(-np.asarray(y, dtype=float), kind="stable")
            test = np.zeros(n, dtype=bool)
            test[order[:n_test]] = True
            return test
        raise MetaError(f"Unknown split kind '{self.kind}'. Known split kinds: cutoff, rank.")

    def describe(self) -> str:
        """``C <= 8.4e+22 FLOPs`` or ``top 10% by y held out``."""
        if self.kind == "cutoff":
            return f"train C <= {self.value:.3g} FLOPs; test: the rest and unknown C"
        share = f"{self.value:.0%}" if self.value < 1 else f"{int(self.value)}"
        return f"test: top {share} by target"


@dataclass(frozen=True)
class Experiment:
    """One prediction task as the released code sets it up.

    Attributes
    ----------
    name : str
        Registry key, ``group/short-name``.
    target : str
        Upstream column (warehouse metric) predicted.
    title : str
    group : str
        ``emergent``, ``post-training``, ``leaderboard-v2``, ``agents`` or ``custom``.
    models : {"analysis-set", "leaderboard", "instruct"}
        The paper's 77 analysis-set base models; base models of :data:`LEADERBOARD_FAMILIES`
        (pre-registered ones included); or the 27 chat models.
    features : tuple of str
        Benchmarks imputed and PCA'd.
    split : Split
    y_range : tuple of float or None
        ``minmax_norm`` range: y' = (y - lo) / (hi - lo).
    nonlinearity, loss : str
        See :class:`~analyses.observational.sigmoid.SigmoidRegression`.
    delta : float
    ref_family : str
        Reference family of the f-equivalent FLOPs.
    provenance : str
        Where the settings come from.
    """

    name: str
    target: str
    title: str
    group: str
    models: str
    features: tuple[str, ...]
    split: Split
    y_range: tuple[float, float] | None = None
    nonlinearity: str = "sigmoid-parametric"
    loss: str = "ols"
    delta: float = 1.0
    ref_family: str = "Llama-2"
    provenance: str = ""


def _registry() -> dict[str, Experiment]:
    cut84 = Split("cutoff", 84 * FLOPS_UNIT)
    emergent = "third-party transcription of the absent emergent notebook (unverified); " \
               "fit: the README default"
    post = "model_subset_selection_eval.ipynb (reproduced)"
    lb = "base_llm_leaderboard_v2.ipynb (reproduced)"
    agents = "instruct_llm_agent_capability.ipynb (reproduced)"
    exps = [
        Experiment("emergent/word-unscramble", "word_unscrambling_2_exact_match",
                   "Word unscramble (BigBench, 2-shot)", "emergent", "analysis-set", BENCHMARKS,
                   cut84, provenance=emergent),
        Experiment("emergent/persian-qa", "parsinlu_qa_2_acc", "Persian QA (BigBench, 2-shot)",
                   "emergent", "analysis-set", BENCHMARKS, cut84, y_range=(0.25, 1.0),
                   provenance=emergent),
        Experiment("emergent/ipa-transliterate-em", "ipa_transliterate_2_exact_match",
                   "IPA transliterate, exact match (BigBench, 2-shot)", "emergent",
                   "analysis-set", BENCHMARKS, cut84, provenance=emergent),
        Experiment("emergent/ipa-transliterate-bleu", "ipa_transliterate_2_bleu",
                   "IPA transliterate, BLEU (BigBench, 2-shot)", "emergent", "analysis-set",
                   BENCHMARKS, cut84, y_range=(0.0, 100.0), provenance=emergent),
    ]
    for code, title in (("3ds", "3-digit subtraction"), ("3da", "3-digit addition"),
                        ("2dm", "2-digit multiplication"), ("2da", "2-digit addition")):
        exps.append(Experiment(f"emergent/arithmetic-{code}", f"arithmetic_{code}_2_acc",
                               f"Arithmetic: {title} (BigBench, 2-shot)", "emergent",
                               "analysis-set", NONGSM, Split("cutoff", 22 * FLOPS_UNIT),
                               provenance=emergent))
    for short, col, title in (
        ("gsm8k-naive", "gsm8k_5_exact_match,flexible-extract", "GSM8K: naive + greedy"),
        ("gsm8k-cot", "gsm8k_cot_8_exact_match,flexible-extract", "GSM8K: CoT + greedy"),
        ("gsm8k-cot-1-sample", "gsm8k_cot_self_consistency_8_exact_match,"
         "score-first-flexible-extract", "GSM8K: CoT + 1 sample"),
        ("gsm8k-cot-sc-5", "gsm8k_cot_self_consistency_8_exact_match,maj@5-flexible-extract",
         "GSM8K: CoT + self-consistency (5 samples)"),
    ):
        exps.append(Experiment(f"post-training/{short}", col, title, "post-training",
                               "analysis-set", NONGSM, cut84, loss="huber", provenance=post))
    for short, col, chance, cut, title in (
        ("gpqa", "leaderboard_gpqa", 0.25, 168, "Leaderboard v2: GPQA"),
        ("math-hard", "leaderboard_math_hard", 0.0, 252, "Leaderboard v2: MATH Lvl 5"),
        ("bbh", "leaderboard_bbh", sum(BBH_CHANCE) / len(BBH_CHANCE), 84, "Leaderboard v2: BBH"),
    ):
        exps.append(Experiment(f"leaderboard-v2/{short}", col, title, "leaderboard-v2",
                               "leaderboard", NONGSM, Split("cutoff", cut * FLOPS_UNIT),
                               y_range=(chance, 1.0), nonlinearity="sigmoid", loss="huber",
                               provenance=lb))
    exps += [
        Experiment("agents/agentbench", "ABench-OA", "AgentBench overall score", "agents",
                   "instruct", INSTRUCT, Split("rank", 0.1), y_range=(0.0, 10.0),
                   ref_family="Llama-2-Chat", provenance=agents),
        Experiment("agents/agentboard", "ABoard-Avg_SR", "AgentBoard success rate", "agents",
                   "instruct", INSTRUCT, Split("rank", 0.1), y_range=(0.0, 100.0),
                   ref_family="Llama-2-Chat", provenance=agents),
    ]
    return {e.name: e for e in exps}


EXPERIMENTS: dict[str, Experiment] = _registry()


def get_experiment(name: str) -> Experiment:
    """The registered experiment ``name`` (raises the 'Known experiments: ...' message)."""
    if name not in EXPERIMENTS:
        raise UnknownName("experiment", name, list(EXPERIMENTS))
    return EXPERIMENTS[name]


def experiment_for_target(con: duckdb.DuckDBPyConnection, target: str, *,
                          y_range: tuple[float, float] | None = None) -> Experiment:
    """The registered experiment of ``target``, or a generic one for any other obsscaling metric.

    A generic base-model target uses the analysis set, the 8 benchmarks less the target (less
    GSM8K too for GSM8K-like and arithmetic targets, as the code does "to avoid making the
    task trivial"), the FLOPs cutoff of Llama-2-7B and the README's default fit. A metric of
    the chat models uses the 7 chat benchmarks and the agents' top-10% split.
    """
    for exp in EXPERIMENTS.values():
        if exp.target == target:
            return exp if y_range is None else replace(exp, y_range=y_range)
    data.check_metrics(con, [target])
    instruct = data.model_table(con, [target], kind="instruct")
    base = data.model_table(con, [target], kind="base", tags=["obs-analysis-set"])
    if base[target].drop_nulls().len() >= instruct[target].drop_nulls().len():
        values, models, split, ref = base[target], "analysis-set", Split("cutoff", 8.4e22), \
            "Llama-2"
        gsm_like = "gsm" in target.lower() or "arithmetic" in target.lower()
        features = tuple(b for b in (NONGSM if gsm_like else BENCHMARKS) if b != target)
    else:
        values, models, split, ref = instruct[target], "instruct", Split("rank", 0.1), \
            "Llama-2-Chat"
        features = tuple(b for b in INSTRUCT if b != target)
    if values.drop_nulls().len() == 0:
        raise MetaError(f"No model of the analysis set or the chat models has '{target}'.")
    if y_range is None and (values.max() > 1 or values.min() < 0):
        raise MetaError(
            f"'{target}' ranges over [{values.min():g}, {values.max():g}], outside [0, 1]; "
            "give its scale with --y-range LO HI."
        )
    return Experiment(f"custom/{target}", target, target, "custom", models, features, split,
                      y_range=y_range, ref_family=ref, provenance="generic defaults")


@dataclass(frozen=True)
class ExperimentData:
    """An experiment's models: features, processed target and split.

    Attributes
    ----------
    experiment : Experiment
    table : polars.DataFrame
        ``model``, ``family``, ``num_params``, ``flops``, the feature columns, ``y_raw``,
        ``y`` (processed) and ``test`` (bool), one row per model with a target value.
    """

    experiment: Experiment
    table: pl.DataFrame

    @property
    def train(self) -> pl.DataFrame:
        """Training rows."""
        return self.table.filter(~pl.col("test"))

    @property
    def test(self) -> pl.DataFrame:
        """Test rows."""
        return self.table.filter(pl.col("test"))


def load(con: duckdb.DuckDBPyConnection, experiment: Experiment) -> ExperimentData:
    """Read an experiment's models from the warehouse, process y and split."""
    exp = experiment
    if exp.models not in MODEL_SETS:
        raise UnknownName("model set", exp.models, MODEL_SETS)
    columns = [*exp.features, exp.target]
    if exp.models == "analysis-set":
        table = data.model_table(con, columns, kind="base", tags=["obs-analysis-set"])
    elif exp.models == "leaderboard":
        table = data.model_table(con, columns, kind="base", families=LEADERBOARD_FAMILIES)
    else:
        table = data.model_table(con, columns, kind="instruct")
    table = table.filter(pl.col(exp.target).is_not_null())
    y = table[exp.target].to_numpy().astype(float)
    if exp.y_range is not None:
        lo, hi = exp.y_range
        y = (y - lo) / (hi - lo)
    flops = table["flops"].fill_null(np.nan).to_numpy().astype(float)
    test = exp.split.is_test(flops, y)
    table = table.select(
        "model", "family", "num_params", "flops", *exp.features,
        pl.col(exp.target).alias("y_raw"),
    ).with_columns(y=pl.Series(y), test=pl.Series(test))
    if table.filter(~pl.col("test")).height < 2:
        raise MetaError(f"Experiment '{exp.name}' has fewer than 2 training models.")
    return ExperimentData(exp, table)


@dataclass(frozen=True, eq=False)
class MethodFit:
    """One method's sigmoid fit on an experiment's training split and its test error.

    Attributes
    ----------
    method : {"pc", "flops", "size"}
    features : tuple of str
        Regressors: ``PC-1 .. PC-K``, ``ln FLOPs (1E21)`` or ``ln size (B)``.
    params : SigmoidParams
    success : bool
        The optimiser reported convergence.
    predictions : polars.DataFrame
        ``model``, ``family``, ``num_params``, ``flops``, ``test``, ``y``, ``y_hat`` and ``z``
        (the linear score ``alpha + beta'x``) of every model the method can score.
    dropped : tuple of str
        Models without the method's regressor (unknown FLOPs or size), left out.
    space : CapabilitySpace or None
        The training-split imputer and PCA (``pc`` only).
    """

    method: str
    features: tuple[str, ...]
    params: SigmoidParams
    success: bool
    predictions: pl.DataFrame
    dropped: tuple[str, ...]
    space: CapabilitySpace | None = None

    def _split(self, test: bool) -> pl.DataFrame:
        return self.predictions.filter(pl.col("test") == test)

    @property
    def train_mse(self) -> float:
        """Mean squared error on the training models (processed-y scale)."""
        t = self._split(False)
        return mse(t["y_hat"], t["y"])

    @property
    def test_mse(self) -> float:
        """Mean squared error on the test models this method can score (NaN for none)."""
        t = self._split(True)
        return mse(t["y_hat"], t["y"])

    @property
    def n_train(self) -> int:
        """Training models fitted."""
        return self._split(False).height

    @property
    def n_test(self) -> int:
        """Test models scored."""
        return self._split(True).height

    def mse_on(self, models: list[str]) -> float:
        """MSE over the given test models."""
        t = self._split(True).filter(pl.col("model").is_in(models))
        return mse(t["y_hat"], t["y"])


def _regressors(table: pl.DataFrame, method: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(x (n,), known (n,) bool, name) of a compute baseline."""
    col, unit, name = {"flops": ("flops", FLOPS_UNIT, "ln FLOPs (1E21)"),
                       "size": ("num_params", SIZE_UNIT, "ln size (B)")}[method]
    raw = table[col].cast(pl.Float64).fill_null(np.nan).to_numpy()
    known = np.isfinite(raw)
    return np.log(raw / unit + LOG_EPS), known, name


def fit_method(train: pl.DataFrame, test: pl.DataFrame, experiment: Experiment, method: str, *,
               n_components: int = 3) -> MethodFit:
    """Fit one method on ``train`` rows and score ``train`` and ``test`` rows.

    Parameters
    ----------
    train, test : polars.DataFrame
        Rows of :attr:`ExperimentData.table` (``test`` may be empty).
    experiment : Experiment
    method : {"pc", "flops", "size"}
    n_components : int, default=3
        K, the PCs regressed on (``pc``).

    Returns
    -------
    MethodFit
    """
    if method not in METHODS:
        raise UnknownName("method", method, METHODS)
    reg = SigmoidRegression(experiment.nonlinearity, loss=experiment.loss, delta=experiment.delta)
    both = pl.concat([train, test], how="vertical_relaxed")
    n_train = train.height
    space = None
    if method == "pc":
        feats = list(experiment.features)
        space = CapabilitySpace(n_components=5).fit(train.select(feats).to_numpy())
        if n_components > space.n_components_:
            raise MetaError(
                f"K = {n_components} components asked, but the training split supports only "
                f"{space.n_components_}."
            )
        scores = np.vstack([
            space.project(space.train_filled_),
            space.transform(test.select(feats).to_numpy()) if test.height else
            np.empty((0, space.n_components_)),
        ])[:, :n_components]
        x, known = scores, np.ones(both.height, dtype=bool)
        names = tuple(f"PC-{i + 1}" for i in range(n_components))
    else:
        x1, known, name = _regressors(both, method)
        x, names = x1[:, None], (name,)
    is_train = np.arange(both.height) < n_train
    fit_rows = is_train & known
    reg.fit(x[fit_rows], both["y"].to_numpy()[fit_rows])
    z = np.full(both.height, np.nan)
    z[known] = reg.score_of(x[known])
    preds = both.select("model", "family", "num_params", "flops", "test", "y").with_columns(
        y_hat=pl.Series(reg.params_.curve(z)), z=pl.Series(z)
    )
    dropped = tuple(both.filter(~pl.Series(known))["model"].to_list())
    preds = preds.filter(pl.Series(known))
    return MethodFit(method, names, reg.params_, reg.success_, preds, dropped, space)


@dataclass(frozen=True, eq=False)
class ExperimentResult:
    """Every method of one experiment, on the same split.

    Attributes
    ----------
    experiment : Experiment
        As run (with any cutoff override).
    n_components : int
        K of the ``pc`` method.
    data : ExperimentData
    methods : dict of str to MethodFit
    common_test : tuple of str
        Test models every method scores.
    equivalent : LogLinear or None
        The reference-family line of the ``pc`` fit's linear score against log10 FLOPs (None
        when the reference family has fewer than two models with FLOPs here).
    weights : dict of str to float
        The benchmark-weight view: beta' V_K, the ``pc`` fit's weights carried back to the
        benchmarks (logit units per unit of accuracy).
    bootstrap : analyses.observational.bootstrap.Bootstrap or None
    seconds : float
    """

    experiment: Experiment
    n_components: int
    data: ExperimentData
    methods: dict[str, MethodFit]
    common_test: tuple[str, ...]
    equivalent: LogLinear | None
    weights: dict[str, float]
    bootstrap: Bootstrap | None = None
    seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def mse_table(self) -> pl.DataFrame:
        """One row per method: training and test sizes and MSEs, and the common-test MSE."""
        rows = []
        for name, fit in self.methods.items():
            rows.append({
                "method": name, "features": ", ".join(fit.features), "n_train": fit.n_train,
                "train_mse": fit.train_mse, "n_test": fit.n_test, "test_mse": fit.test_mse,
                "n_test_common": len(self.common_test),
                "test_mse_common": fit.mse_on(list(self.common_test)),
                "dropped": len(fit.dropped),
            })
        return pl.DataFrame(rows)

    def to_dict(self) -> dict:
        """A JSON-able summary (what ``meta obs fit --json`` prints)."""
        exp = self.experiment
        out = {
            "experiment": exp.name, "target": exp.target, "title": exp.title,
            "models": exp.models, "features": list(exp.features),
            "split": {"kind": exp.split.kind, "value": exp.split.value,
                      "rule": exp.split.describe()},
            "y_range": list(exp.y_range) if exp.y_range else None,
            "nonlinearity": exp.nonlinearity, "loss": exp.loss,
            "delta": exp.delta if exp.loss == "huber" else None,
            "n_components": self.n_components, "provenance": exp.provenance,
            "n_models": self.data.table.height, "common_test": list(self.common_test),
            "methods": {}, "weights": self.weights,
            "equivalent_flops": None if self.equivalent is None else {
                "ref_family": exp.ref_family, "slope": self.equivalent.slope,
                "intercept": self.equivalent.intercept, "n": self.equivalent.n},
            "seconds": self.seconds, "notes": list(self.notes),
        }
        for name, fit in self.methods.items():
            out["methods"][name] = {
                "features": list(fit.features), "params": fit.params.to_dict(),
                "converged": fit.success, "n_train": fit.n_train, "train_mse": fit.train_mse,
                "n_test": fit.n_test, "test_mse": fit.test_mse,
                "n_test_common": len(self.common_test),
                "test_mse_common": fit.mse_on(list(self.common_test)),
                "dropped_models": list(fit.dropped),
            }
        if self.bootstrap is not None:
            b = self.bootstrap
            out["bootstrap"] = {
                "method": b.method, "n_resamples": b.n_resamples, "seed": b.seed,
                "level": b.level, "n_failed": b.n_failed, "coverage": b.coverage,
                "intervals": b.table.to_dicts(),
            }
        return out


def run(con: duckdb.DuckDBPyConnection, experiment: Experiment | str, *,
        cutoff_flops: float | None = None, n_components: int = 3, n_bootstrap: int = 0,
        seed: int = 0, level: float = 0.9) -> ExperimentResult:
    """Run one experiment: every method on the same split, plus the derived views.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
    experiment : Experiment or str
        An experiment or a registry name (see :data:`EXPERIMENTS`).
    cutoff_flops : float, optional
        Replace the experiment's split by a FLOPs cutoff (in FLOPs, e.g. 8.4e22).
    n_components : int, default=3
        K of the ``pc`` method.
    n_bootstrap : int, default=0
        Resamples of the ``pc`` method's bootstrap intervals (0: none).
    seed : int, default=0
    level : float, default=0.9

    Returns
    -------
    ExperimentResult
    """
    t0 = time.perf_counter()
    exp = get_experiment(experiment) if isinstance(experiment, str) else experiment
    if cutoff_flops is not None:
        if not (cutoff_flops > 0 and math.isfinite(cutoff_flops)):
            raise MetaError(f"--cutoff-flops must be a positive number of FLOPs; got "
                            f"{cutoff_flops!r}.")
        exp = replace(exp, split=Split("cutoff", float(cutoff_flops)))
    if not (isinstance(n_components, int) and 1 <= n_components <= len(exp.features)):
        raise MetaError(
            f"The number of components K must be an int in the range [1, {len(exp.features)}]. "
            f"Got {n_components!r} instead."
        )
    ed = load(con, exp)
    if ed.test.height == 0:
        raise MetaError(f"Experiment '{exp.name}' has no test model under its split "
                        f"({exp.split.describe()}).")
    with one_blas_thread():
        fits = {m: fit_method(ed.train, ed.test, exp, m, n_components=n_components)
                for m in METHODS}
    common = set(ed.test["model"].to_list())
    for fit in fits.values():
        common &= set(fit.predictions.filter(pl.col("test"))["model"].to_list())
    common_test = tuple(m for m in ed.test["model"].to_list() if m in common)
    pc = fits["pc"]
    notes = []
    try:
        line = equivalent_flops(pc.predictions["z"].to_numpy(), pc.predictions["family"].to_list(),
                                pc.predictions["flops"].fill_null(np.nan).to_numpy(),
                                ref_family=exp.ref_family)
    except MetaError as e:
        line = None
        notes.append(str(e))
    components = pc.space.components_[:n_components]
    weights = dict(zip(exp.features, (np.asarray(pc.params.beta) @ components).tolist(),
                       strict=True))
    for name, fit in fits.items():
        if not fit.success:
            notes.append(f"the {name} fit did not report convergence")
        dropped_test = [m for m in fit.dropped if m in set(ed.test["model"].to_list())]
        if dropped_test:
            notes.append(f"{name}: {len(dropped_test)} test model(s) of unknown "
                         f"{'FLOPs' if name == 'flops' else 'size'} dropped")
    boot = None
    if n_bootstrap:
        from analyses.observational.bootstrap import bootstrap

        boot = bootstrap(ed, "pc", n_resamples=n_bootstrap, seed=seed, level=level,
                         n_components=n_components, reference=pc)
    return ExperimentResult(exp, n_components, ed, fits, common_test, line, weights, boot,
                            time.perf_counter() - t0, tuple(notes))
