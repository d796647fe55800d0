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

from dataclasses import dataclass, replace

import duckdb
import numpy as np

from analyses.observational import data
from warehouse.errors import MetaError, UnknownName

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
