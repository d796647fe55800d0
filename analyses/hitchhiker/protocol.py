"""The Hitchhiker's Guide protocol: which checkpoints a law is fitted on and scored against.

Choshen, Zhang & Andreas (2024), Sec. 3 and the released code (``hist_fit``,
``get_model_data``):

- a law is fitted within one family of at least 3 models;
- its target is the family's largest model, scored on the target's checkpoints with
  ``tokens >= 0.7 * (its final tokens)``, each weighted equally;
- training rows are checkpoints of the chosen training models with
  ``1e10 < tokens < p * (max tokens of those models)`` ("discard the first 10B tokens");
- ARE = mean over test checkpoints of ``|L - L_hat| / L``.

Families with several runs per size (hyperparameter sweeps, Chinchilla-style grids of token
budgets, ladders, users' own runs) follow one rule set, here, that gives the released protocol
back wherever a family has one run per size:

- a *sweep* is a set of runs of one size whose final tokens agree within :data:`SWEEP_TOKENS`
  (they differ in hyperparameters); by default (``runs="best"``) only each sweep's best run
  (lowest final perf) is studied: the envelope. Runs of one size at different token budgets
  are data, not a sweep, and all stay. ``runs="all"`` keeps every run;
- the target is the family's named target (``families.target``) if it has one, else the best
  run (lowest final perf) of the largest size;
- training models are runs of sizes strictly smaller than the target's, and "the k smallest
  models" means every run of the k smallest sizes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

CUT = 1e10  # the early-token cut, Sec. 6.1 (``cut_beginning``)
TEST_FROM = 0.7  # test rows: the target's last 30% of tokens
FRACTIONS = tuple(round(0.1 * i, 1) for i in range(1, 11))  # p
MIN_MODELS = 3
MAX_TARGET_PERF = 10.0  # ``at_least_loss``: families whose target never gets below are skipped
SWEEP_TOKENS = 0.1  # runs of one size whose final tokens differ by at most 10% form a sweep
RUNS = ("best", "all")


@dataclass(frozen=True, eq=False)
class Family:
    """The ``perf`` points of one family, and its models ordered by size.

    Attributes
    ----------
    name : str
    points : pl.DataFrame
        ``model_id, checkpoint_id, num_params, tokens, flops, perf`` (tokens not null).
    data_hash : str
        Digest of ``points`` (:func:`warehouse.identity.data_hash`), part of every law's id.
    dropped : int
        Points of the family left out of ``points`` (a non-positive size or tokens, a
        non-finite or non-positive perf).
    named_target : str or None
        The model the user named as the target (``families.target``), if any.
    runs : {"best", "all"}
        Study each sweep's best run only (the envelope), or every run.
    conventions : frozenset of str
        The released-code conventions the family was shaped and is studied under
        (:mod:`analyses.hitchhiker.conventions`; empty: the corrected default).
    model_ids : list of str
        The models studied, smallest first (ties: fewer tokens first, then by id).
    """

    name: str
    points: pl.DataFrame
    data_hash: str = ""
    dropped: int = 0
    named_target: str | None = None
    runs: str = "best"
    conventions: frozenset[str] = frozenset()
    model_ids: list[str] = field(init=False)

    def __post_init__(self):
        if self.runs not in RUNS:
            raise ValueError(f"runs must be one of {', '.join(RUNS)}; got {self.runs!r}.")
        models = (
            self.points.sort("tokens")
            .group_by("model_id")
            .agg(pl.col("num_params").first(), max_tokens=pl.col("tokens").last(),
                 final=pl.col("perf").last())
            .sort("num_params", "max_tokens", "model_id")
        )
        if self.runs == "best":
            named = pl.col("model_id") == pl.lit(self.named_target, pl.String)
            models = models.filter(_envelope(models) | named.fill_null(False))
        ids = models["model_id"].to_list()
        index = {m: i for i, m in enumerate(ids)}
        set_ = object.__setattr__
        set_(self, "model_ids", ids)
        set_(self, "_index", index)
        set_(self, "_sizes", models["num_params"].to_numpy().astype(float))
        set_(self, "_max_tokens", models["max_tokens"].to_numpy().astype(float))
        set_(self, "_final", models["final"].to_numpy().astype(float))
        set_(self, "_model", np.array([index.get(m, -1) for m in self.points["model_id"]],
                                      dtype=int))
        for column in ("num_params", "tokens", "flops", "perf"):
            set_(self, f"_{column}", self.points[column].cast(pl.Float64).to_numpy())

    def column(self, name: str, rows: np.ndarray) -> np.ndarray:
        """Values of ``num_params``, ``tokens``, ``flops`` or ``perf`` at row indices."""
        return getattr(self, f"_{name}")[rows]

    @property
    def target(self) -> str:
        """The named target, else the best run (lowest final perf) of the largest size."""
        if self.named_target in self.model_ids:
            return self.named_target
        return self.best_of(self._sizes.max())

    def best_of(self, size: float) -> str:
        """The run of ``size`` with the lowest final perf (ties: the most trained)."""
        idx = np.flatnonzero(self._sizes == size)
        finals = self._final[idx]
        return self.model_ids[idx[finals == finals.min()][-1]]

    def size(self, model_id: str) -> float:
        return float(self._sizes[self._index[model_id]])

    def final(self, model_id: str) -> tuple[float, float]:
        """Tokens and perf of the run's last checkpoint."""
        i = self._index[model_id]
        return float(self._max_tokens[i]), float(self._final[i])

    def smaller_than(self, model_id: str) -> list[str]:
        """Models of sizes strictly smaller than ``model_id``'s, smallest first."""
        size = self.size(model_id)
        return [m for m, s in zip(self.model_ids, self._sizes, strict=True) if s < size]

    def sizes(self, models: Sequence[str]) -> list[float]:
        """The distinct sizes of ``models``, ascending."""
        return sorted({self.size(m) for m in models})

    def of_sizes(self, models: Sequence[str], sizes: Sequence[float]) -> list[str]:
        """The models among ``models`` whose size is one of ``sizes`` (order kept)."""
        wanted = set(sizes)
        return [m for m in models if self.size(m) in wanted]

    def rows(self, models: Sequence[str]) -> np.ndarray:
        """Row indices of every checkpoint of ``models``."""
        wanted = np.isin(self._model, [self._index[m] for m in models])
        return np.flatnonzero(wanted)

    def run_index(self, rows: np.ndarray) -> np.ndarray:
        """The position in ``model_ids`` of the run of each row."""
        return self._model[rows]

    def test(self, target: str | None = None, min_tokens: float = 0.0) -> np.ndarray:
        """Rows of the target's checkpoints in its last 30% of tokens (above ``min_tokens``)."""
        rows = self.rows([target or self.target])
        tokens = self._tokens[rows]
        keep = (tokens >= TEST_FROM * tokens.max()) & (tokens > min_tokens)
        return rows[keep]

    def train(
        self,
        models: Sequence[str],
        fraction: float = 1.0,
        min_tokens: float = CUT,
        suffix: float | None = None,
    ) -> np.ndarray:
        """Rows of ``models`` with ``min_tokens < tokens < fraction * max tokens``.

        ``max tokens`` is over the chosen models jointly, and the bound is strict as in the
        released code, so even ``p = 1`` leaves out the single most-trained checkpoint. With
        ``suffix`` m, only the end of the runs: ``m * 0.7 * max <= tokens < 0.7 * max`` (the
        Hitchhiker ``minimal_cut``).
        """
        rows = self.rows(models)
        if rows.size == 0:
            return rows
        tokens = self._tokens[rows]
        top = tokens.max()
        if suffix is not None:
            keep = (tokens >= suffix * TEST_FROM * top) & (tokens < TEST_FROM * top)
        else:
            keep = tokens < fraction * top
        return rows[keep & (tokens > min_tokens)]

    def n_sizes(self, rows: np.ndarray) -> int:
        """Distinct model sizes among training rows, the paper's "number of models"
        (``unique_model_size``: sizes rounded to millions when there are more than 5 rows per
        size, as digitised sizes are noisy)."""
        sizes = self._num_params[rows]
        if sizes.size == 0:
            return 0
        if sizes.size / np.unique(sizes).size > 5:
            sizes = np.round(sizes, -6)
        return int(np.unique(sizes).size)


def _envelope(models: pl.DataFrame) -> pl.Expr:
    """True for the best run (lowest final perf; ties: the first id) of each sweep of
    ``models`` (sorted by size, then final tokens): a sweep is a chain of runs of one size
    whose final tokens each exceed the previous run's by at most :data:`SWEEP_TOKENS`."""
    jump = (pl.col("max_tokens") / pl.col("max_tokens").shift(1).over("num_params")
            > 1 + SWEEP_TOKENS).fill_null(True)
    sweeps = models.with_columns(_budget=jump.cum_sum().over("num_params"))
    best = (
        sweeps.sort("final", "model_id")
        .group_by("num_params", "_budget", maintain_order=True)
        .first()["model_id"]
    )
    return pl.col("model_id").is_in(best.implode())


def eligible(family: Family, min_models: int = MIN_MODELS) -> str | None:
    """Why a family cannot be studied (with at least ``min_models`` model sizes), or None."""
    n = len(family.sizes(family.model_ids))
    if n < min_models:
        return f"{n} model sizes (fewer than {min_models})"
    best = family.column("perf", family.rows([family.target])).min()
    if best > MAX_TARGET_PERF:
        return f"the target's best perf is {best:.3g} (above {MAX_TARGET_PERF:g})"
    if family.test().size == 0:
        return "the target has no test checkpoint"
    return None


@dataclass(frozen=True, eq=False)
class LawSpec:
    """One law to fit: its training rows, its test rows, and what defines it.

    Attributes
    ----------
    study, form : str
        ``form`` is a registry name of :mod:`analyses.laws` (``constant`` for a baseline).
    family : Family
    train, test : ndarray of int
        Row indices into ``family.points``: fitted on, and scored by ARE.
    spec : dict
        The ``laws.train_spec`` fields (models, n_models, fraction, min_tokens, suffix,
        left_out, target, scale_up).
    """

    study: str
    family: Family
    form: str
    train: np.ndarray
    test: np.ndarray
    spec: dict


def law_spec(
    study: str,
    family: Family,
    models: Sequence[str],
    *,
    form: str = "chinchilla",
    fraction: float = 1.0,
    min_tokens: float = CUT,
    suffix: float | None = None,
    left_out: str | None = None,
    target: str | None = None,
    test_min_tokens: float = 0.0,
) -> LawSpec:
    """The spec of a law fitted on ``models`` of ``family`` and scored on ``target``."""
    target = target or family.target
    largest = max(family.size(m) for m in models)
    train = family.train(models, fraction, min_tokens, suffix)
    return LawSpec(
        study=study,
        family=family,
        form=form,
        train=train,
        test=family.test(target, test_min_tokens),
        spec={
            "models": list(models),
            "n_models": family.n_sizes(train),
            "fraction": fraction,
            "min_tokens": min_tokens,
            "suffix": suffix,
            "left_out": left_out,
            "target": target,
            "scale_up": family.size(target) / largest,
        },
    )
