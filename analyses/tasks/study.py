"""The two-step prediction of a family's largest model on every task, from its smaller sizes.

For each family and each number k of training sizes (its k smallest, from
:data:`~analyses.tasks.data.MIN_TRAIN_SIZES` to every size below the largest):

- **step 1** fits the ladder paper's power law L(N, D) = exp(a - alpha ln N) + exp(b - beta
  ln D) + E to the general loss of each training run's final checkpoint (one point per run;
  its log-Huber objective and single L-BFGS-B start, :func:`analyses.ladder.step1.fit_step1`);
- **step 2** fits the paper's sigmoid from that loss to a task's accuracy on every checkpoint
  of the training runs that has both, skipped and smoothed as the paper does (the first 10%
  of each run, a trailing mean of 5; a run evaluated once keeps its one point), plus the
  ideal point (0, 1), starting from the task's chance level
  (:func:`analyses.ladder.step2.fit_step2`);
- the **chained** law predicts each run of the largest size at its final checkpoint:
  Acc(L(N, D)); the **no-fit baseline** predicts the accuracy of the most-trained run of the
  largest training size.

The targets (every run of the largest size) are never fitted: they enter only as the (N, D)
a law is evaluated at and as the actual accuracy it is scored against. Nothing is random:
the fits are deterministic, so the laws are reproducible to the bit.

References
----------
Bhagia et al. 2024, Secs. 3-4 (the C4 variant); ``methods/ladder.md`` Secs. 2-4.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
from scipy.optimize import OptimizeWarning

from analyses.executor import one_thread
from analyses.ladder import step1, step2
from analyses.ladder.data import Run
from analyses.ladder.fitted import LadderFit
from analyses.ladder.points import last_mean, step2_points
from analyses.ladder.study import Law, chained_coefficients, worst_status
from analyses.tasks.data import LOSS, MIN_TRAIN_SIZES, FamilyRuns, Task

SKIP = 0.1  # the paper's --skip_perc
WINDOW = 5  # the paper's --moving_avg (step 2)
CHAINED = "chained"
BASELINE = "largest-train"


def split(runs: Sequence[Run], k: int) -> tuple[list[Run], list[Run]]:
    """The runs of the ``k`` smallest sizes (training) and those of the largest (targets).

    Examples
    --------
    >>> r = [Run(str(n), n, [], np.zeros(1), np.zeros(1), {}) for n in (1.0, 2.0, 3.0, 3.0)]
    >>> [[x.model_id for x in part] for part in split(r, 2)]
    [['1.0', '2.0'], ['3.0', '3.0']]
    """
    sizes = sorted({r.num_params for r in runs})
    if not 1 <= k < len(sizes):
        raise ValueError(f"k must be in [1, {len(sizes) - 1}]; got {k}.")
    kept = set(sizes[:k])
    return ([r for r in runs if r.num_params in kept],
            [r for r in runs if r.num_params == sizes[-1]])


def fit_loss(train: Sequence[Run]) -> LadderFit:
    """Step 1: the power law in (N, D) of each run's final general loss."""
    x = np.array([[r.num_params, r.tokens[-1]] for r in train])
    y = np.array([last_mean(r.values[LOSS], 1) for r in train])
    return step1.fit_step1(step1.POWER, x, y)


def scored(run: Run, task: Task) -> np.ndarray:
    """Indices of the run's checkpoints evaluated on ``task``."""
    values = run.values.get(task.key)
    return np.flatnonzero(np.isfinite(values)) if values is not None else np.array([], int)


def fit_accuracy(train: Sequence[Run], task: Task) -> tuple[LadderFit, float]:
    """Step 2: the sigmoid from general loss to the task's accuracy, on every scored
    checkpoint of the training runs (skipped, smoothed, the ideal point added).

    Returns
    -------
    fit : LadderFit
    fit_error : float
        Mean absolute error in accuracy over the fitted points (the ideal point left out):
        the relative error of ``fit.fit_error`` is undefined where an accuracy is 0.
    """
    xs, ys = [], []
    for run in train:
        rows = scored(run, task)
        x, y = step2_points(run.values[LOSS][rows], run.values[task.key][rows],
                            skip=SKIP, window=WINDOW)
        xs.append(x)
        ys.append(y)
    x, y = np.concatenate(xs), np.concatenate(ys)
    # steep trial sigmoids overflow, the step's relative error divides by accuracies of 0
    # (fit_error below replaces it), and the covariance, never used, is often not estimable
    with np.errstate(over="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", OptimizeWarning)
        fit = step2.fit_step2(step2.SIGMOID, x, y, floor=task.chance, ideal=True)
        return fit, float(np.mean(np.abs(fit.predict(x) - y)))


def _final(run: Run, task: Task) -> tuple[int, float]:
    """The run's last scored checkpoint and its accuracy."""
    i = int(scored(run, task)[-1])
    return i, float(run.values[task.key][i])


def task_laws(loss: LadderFit, train: Sequence[Run], targets: Sequence[Run],
              task: Task, settings: dict) -> list[Law]:
    """The chained law and the no-fit baseline of one task, with their predictions of every
    target; none when a run of the ladder was not evaluated on the task."""
    if any(scored(r, task).size == 0 for r in [*train, *targets]):
        return []
    fit, fit_error = fit_accuracy(train, task)
    largest = max(r.num_params for r in train)
    source = [r for r in train if r.num_params == largest][-1]  # the most-trained
    baseline = _final(source, task)[1]
    ids = tuple(r.model_id for r in train)
    settings = settings | {"task": task.key, "metric": task.metric, "shots": task.shots,
                           "benchmark": task.benchmark, "chance": task.chance}
    chained = Law(CHAINED, task.key, f"chained-{loss.form.name}", "accuracy",
                  chained_coefficients(loss, fit), worst_status(loss.status, fit.status),
                  float("nan"), loss.n_points + fit.n_points, fit_error, ids,
                  settings | {"variant": CHAINED, "skip": SKIP, "window": WINDOW,
                              "ideal": True})
    no_fit = Law(BASELINE, task.key, BASELINE, "accuracy", {"accuracy": baseline}, "ok",
                 float("nan"), 1, float("nan"), ids,
                 settings | {"variant": BASELINE, "from": source.model_id})
    for target in targets:
        i, actual = _final(target, task)
        x = np.array([[target.num_params, target.tokens[i]]])
        with np.errstate(over="ignore"):  # a steep sigmoid far from its midpoint
            predicted = float(fit.predict(loss.predict(x))[0])
        chained.predictions[target.model_id] = (target.checkpoints[i], predicted, actual)
        no_fit.predictions[target.model_id] = (target.checkpoints[i], baseline, actual)
    return [chained, no_fit]


def fit_family(family: FamilyRuns, tasks: Sequence[Task] | None = None) -> list[Law]:
    """Every law of one family: per number of training sizes and task, the chained law and
    the no-fit baseline (see the module docstring).

    Parameters
    ----------
    family : FamilyRuns
        From :func:`analyses.tasks.data.load_family`.
    tasks : sequence of Task, optional
        A subset of ``family.tasks`` (all by default).

    Returns
    -------
    list of Law
        Settings name the task, its benchmark and chance level, and ``sizes`` (k).
    """
    n_sizes = len({r.num_params for r in family.runs})
    laws = []
    with one_thread():  # hundreds of tiny fits: BLAS threads only slow them down
        for k in range(MIN_TRAIN_SIZES, n_sizes):
            train, targets = split(family.runs, k)
            loss = fit_loss(train)
            settings = {"loss": "perf", "step1_window": 1, "sizes": k}
            for task in family.tasks if tasks is None else tasks:
                laws += task_laws(loss, train, targets, task, settings)
    return laws
