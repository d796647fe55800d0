"""The ladder study: fit step 1 and step 2 on the training runs, predict each target, chain.

``methods/ladder.md`` Secs. 2-4. Every variant of the paper's tables is one entry of
:data:`STEP1`, :data:`STEP2` or :data:`CHAINED`, named as its published CSV (``step1_main``,
``chained_flops_main``; ``step1_flops`` has no CSV of its own). Laws are fitted on the
training runs alone; a target enters only through its own (N, D, C) and observed loss, and
only as the input of a prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from analyses.executor import one_thread
from analyses.ladder import step1, step2
from analyses.ladder.data import Run
from analyses.ladder.fitted import LadderFit
from analyses.ladder.points import last_mean, step2_points
from analyses.ladder.tasks import TASKS, Task


@dataclass(frozen=True)
class Step1Spec:
    """A step-1 variant: its form, the task quantity it fits and its step-1 window."""

    form: step1.Form
    quantity: str  # bpb | c4 | taskce | acc
    window: int = 5


@dataclass(frozen=True)
class Step2Spec:
    """A step-2 variant: its form, loss quantity, skipped share, window, ideal point and the
    floor its start uses (a0 = floor - 1; None: the task's own)."""

    form: step2.Form
    quantity: str  # bpb | c4 | taskce
    skip: float = 0.1
    window: int = 5
    ideal: bool = True
    start_floor: float | None = None


# The paper's settings (--moving_avg 5 --skip_perc 0.1; TaskCE: last row, skip 0.5, no ideal
# point, the log-sigmoid), by published table name.
STEP1: dict[str, Step1Spec] = {
    "step1_main": Step1Spec(step1.POWER, "bpb"),
    "step1_c4_main": Step1Spec(step1.POWER, "c4"),
    "step1_taskce_main": Step1Spec(step1.POWER, "taskce", window=1),
    "step1_acc_main": Step1Spec(step1.ACCURACY, "acc"),
    "step1_flops": Step1Spec(step1.FLOPS, "bpb"),
}
STEP2: dict[str, Step2Spec] = {
    "step2_main": Step2Spec(step2.SIGMOID, "bpb"),
    "step2_c4_main": Step2Spec(step2.SIGMOID, "c4"),
    "step2_taskce_main": Step2Spec(step2.LOG_SIGMOID, "taskce", skip=0.5, window=1,
                                   ideal=False),
}
# chained table -> (step-1 variant, its step 2). predict.py passes its log-sigmoid flag where
# step 2 takes the floor (quirk 4), so its sigmoid starts at a0 = 0 - 1: the same optimum
# for the eight tasks to 1e-7, not for BoolQ (1.4e-4 in variance.csv's 7B Stacked Rel Error).
CHAINED_STEP2 = Step2Spec(step2.SIGMOID, "bpb", start_floor=0.0)
CHAINED: dict[str, tuple[str, Step2Spec]] = {
    "chained_main": ("step1_main", CHAINED_STEP2),
    "chained_flops_main": ("step1_flops", CHAINED_STEP2),
}
# Variants fitted once for all tasks (the C4 loss does not depend on the task).
TASK_FREE = frozenset({"step1_c4_main"})


@dataclass(frozen=True)
class Law:
    """One fitted law and its predictions of the targets.

    Attributes
    ----------
    name : str
        The variant (``step1_main``, ``step2_c4_main``, ``chained_main``, ...).
    task : str or None
        The task's key; None for a law that serves every task (``step1_c4_main``).
    form : str
        ``power``, ``flops``, ``accuracy``, ``sigmoid``, ``log-sigmoid`` or
        ``chained-power`` / ``chained-flops``.
    quantity : str
        What it predicts: ``loss`` (a task loss or the C4 loss) or ``accuracy``.
    coefficients : dict of str to float
        Fitted parameters by name (a chained law's prefixed ``step1.`` and ``step2.``).
    status : str
        ``ok``, ``at_bound``, ``max_iter`` or ``nan_objective`` (a chained law: the worse
        of its steps').
    objective : float
        The fit's objective (a chained law: NaN, it fits nothing of its own).
    n_points : int
        Points fitted.
    fit_error : float
        Mean relative error over the fitted points.
    train : tuple of str
        The model ids whose rows were fitted.
    settings : dict
        What defines the law besides its data: variant, task, windows, skip, ideal point.
    predictions : dict of str to (str, float, float)
        Target model id -> (its last checkpoint id, predicted, actual).
    """

    name: str
    task: str | None
    form: str
    quantity: str
    coefficients: dict[str, float]
    status: str
    objective: float
    n_points: int
    fit_error: float
    train: tuple[str, ...]
    settings: dict
    predictions: dict[str, tuple[str, float, float]] = field(default_factory=dict)


def step1_inputs(run: Run, form: step1.Form) -> np.ndarray:
    """The (N, D) or (C,) of a run's last row."""
    if form.name == "flops":
        return np.array([run.flops[-1]])
    return np.array([run.num_params, run.tokens[-1]])


def fit_step1(train: Sequence[Run], task: Task | None, spec: Step1Spec) -> LadderFit:
    """Fit one step-1 variant: a point per run (last-``window`` mean, last row's D)."""
    x = np.array([step1_inputs(r, spec.form) for r in train])
    y = np.array([last_mean(r.series(task, spec.quantity), spec.window) for r in train])
    return step1.fit_step1(spec.form, x, y)


def fit_step2(train: Sequence[Run], task: Task, spec: Step2Spec) -> LadderFit:
    """Fit one step-2 variant on every run's skipped and smoothed rows (concatenated)."""
    xs, ys = [], []
    for r in train:
        x, y = step2_points(r.series(task, spec.quantity), r.series(task, "acc"),
                            skip=spec.skip, window=spec.window)
        xs.append(x)
        ys.append(y)
    floor = task.floor if spec.start_floor is None else spec.start_floor
    return step2.fit_step2(spec.form, np.concatenate(xs), np.concatenate(ys),
                           floor=floor, ideal=spec.ideal)


def _settings(name: str, task: Task | None, spec) -> dict:
    out = {"variant": name, "task": task.key if task else None, "quantity": spec.quantity,
           "window": spec.window}
    if isinstance(spec, Step2Spec):
        out |= {"skip": spec.skip, "ideal": spec.ideal, "start_floor": spec.start_floor}
    return out


def _law(name, task, fit, quantity, train, settings) -> Law:
    return Law(name, task.key if task else None, fit.form.name, quantity, fit.coefficients,
               fit.status, fit.objective, fit.n_points, fit.fit_error,
               tuple(r.model_id for r in train), settings)


def run_study(train: Sequence[Run], targets: Sequence[Run],
              tasks: Sequence[Task] = TASKS) -> tuple[list[Law], pl.DataFrame]:
    """Fit every variant on ``train`` and predict every target.

    Parameters
    ----------
    train : sequence of Run
        The fitted runs (the paper's: the 16 ``final:train`` runs).
    targets : sequence of Run
        The predicted runs (the paper's: ``7B-4T`` and ``13B-5T``); never fitted.
    tasks : sequence of Task, default=TASKS
        The tasks.

    Returns
    -------
    laws : list of Law
    results : pl.DataFrame
        One row per (variant, task, target): ``result, task, target, actual, predicted,
        rel_error`` (signed, (pred - actual) / actual), ``abs_error`` (|pred - actual|) and
        ``fit_error`` (step 1 only; null otherwise).

    References
    ----------
    Bhagia et al. 2024, Secs. 3-4; ``methods/ladder.md`` Secs. 2-4.
    """
    with one_thread():  # dozens of tiny fits: BLAS threads only slow them down
        return _run(train, targets, tasks)


def _run(train: Sequence[Run], targets: Sequence[Run], tasks: Sequence[Task]
         ) -> tuple[list[Law], pl.DataFrame]:
    laws: list[Law] = []
    rows: list[dict] = []
    shared: dict[str, LadderFit] = {}
    for task in tasks:
        fits1, fits2 = {}, {}
        for name, spec in STEP1.items():
            if name in TASK_FREE:
                if name not in shared:
                    shared[name] = fit_step1(train, None, spec)
                    laws.append(_law(name, None, shared[name], "loss", train,
                                     _settings(name, None, spec)))
                fits1[name] = shared[name]
            else:
                fits1[name] = fit_step1(train, task, spec)
                quantity = "accuracy" if spec.quantity == "acc" else "loss"
                laws.append(_law(name, task, fits1[name], quantity, train,
                                 _settings(name, task, spec)))
        for name, spec in STEP2.items():
            fits2[name] = fit_step2(train, task, spec)
            laws.append(_law(name, task, fits2[name], "accuracy", train,
                             _settings(name, task, spec)))
        chained_step2 = {}
        for name, (s1, spec) in CHAINED.items():
            if spec not in chained_step2:
                chained_step2[spec] = fit_step2(train, task, spec)
            f1, f2 = fits1[s1], chained_step2[spec]
            fits2[name] = f2
            laws.append(Law(name, task.key, f"chained-{f1.form.name}", "accuracy",
                            chained_coefficients(f1, f2), worst_status(f1.status, f2.status),
                            float("nan"), f1.n_points + f2.n_points,
                            float("nan"), tuple(r.model_id for r in train),
                            {"variant": name, "task": task.key, "step1": s1,
                             "step2": _settings("step2", task, spec)}))
        by_name = {law.name: law for law in laws if law.task in (task.key, None)}
        for target in targets:
            for name, spec in STEP1.items():
                actual = last_mean(target.series(task, spec.quantity), spec.window)
                pred = float(fits1[name].predict(step1_inputs(target, spec.form)[None])[0])
                rows.append(_row(name, task, target, actual, pred, fits1[name].fit_error))
                _record(by_name[name], target, pred, actual)
            for name, spec in STEP2.items():
                observed = last_mean(target.series(task, spec.quantity), spec.window)
                actual = last_mean(target.series(task, "acc"), spec.window)
                pred = float(fits2[name].predict(np.array([observed]))[0])
                rows.append(_row(name, task, target, actual, pred, None))
                _record(by_name[name], target, pred, actual)
            for name, (s1, spec) in CHAINED.items():
                loss = fits1[s1].predict(step1_inputs(target, STEP1[s1].form)[None])
                pred = float(fits2[name].predict(loss)[0])
                actual = last_mean(target.series(task, "acc"), spec.window)
                rows.append(_row(name, task, target, actual, pred, None))
                _record(by_name[name], target, pred, actual)
    return laws, pl.DataFrame(rows, schema=RESULT_SCHEMA)


_STATUS_ORDER = ["ok", "at_bound", "max_iter", "nan_objective"]


def worst_status(*statuses: str) -> str:
    """The worst of fit statuses (ok < at_bound < max_iter < nan_objective): a chained law's.

    Examples
    --------
    >>> worst_status("ok", "at_bound")
    'at_bound'
    """
    return max(statuses, key=_STATUS_ORDER.index)


def chained_coefficients(first: LadderFit, second: LadderFit) -> dict[str, float]:
    """A chained law's coefficients: both steps', prefixed ``step1.`` and ``step2.``."""
    return ({f"step1.{k}": v for k, v in first.coefficients.items()}
            | {f"step2.{k}": v for k, v in second.coefficients.items()})
RESULT_SCHEMA = {"result": pl.String, "task": pl.String, "target": pl.String,
                 "actual": pl.Float64, "predicted": pl.Float64, "rel_error": pl.Float64,
                 "abs_error": pl.Float64, "fit_error": pl.Float64}


def _row(name: str, task: Task, target: Run, actual: float, pred: float,
         fit_error: float | None) -> dict:
    return {"result": name, "task": task.key, "target": target.model_id, "actual": actual,
            "predicted": pred, "rel_error": (pred - actual) / actual,
            "abs_error": abs(pred - actual), "fit_error": fit_error}


def _record(law: Law, target: Run, pred: float, actual: float) -> None:
    law.predictions[target.model_id] = (target.checkpoints[-1], pred, actual)
