"""The ladder paper's tasks: their upstream columns, MMLU's weights and the accuracy floors.

Bhagia et al. 2024, Sec. 3 and ``src/scaling/utils.py`` (``tasks``); ``methods/ladder.md`` Sec. 1.
"""

from __future__ import annotations

from dataclasses import dataclass

C4 = "eval/c4_en-validation/CrossEntropyLoss"


@dataclass(frozen=True)
class Task:
    """One task as the paper's code defines it.

    Attributes
    ----------
    key : str
        The code's name, which the published tables' ``Task`` column holds.
    label : str
        The display name (``variance.csv``'s ``Task``).
    ids : tuple of str
        The upstream task ids whose columns are averaged.
    weights : tuple of float
        One per id (MMLU's subject shares; 1 otherwise).
    floor : float
        Chance accuracy; only step 2's starting value uses it.
    accuracy : str, default="len_norm"
        The accuracy column's suffix (BoolQ: ``acc``).
    """

    key: str
    label: str
    ids: tuple[str, ...]
    weights: tuple[float, ...]
    floor: float
    accuracy: str = "len_norm"

    def columns(self, quantity: str) -> list[str]:
        """The metric names of ``quantity`` (``bpb``, ``acc``, ``soft_log``), one per id."""
        return [column(i, quantity, self.accuracy) for i in self.ids]


def column(task_id: str, quantity: str, accuracy: str = "len_norm") -> str:
    """The metric name of one task id's quantity.

    Examples
    --------
    >>> column("piqa_val", "bpb")
    'eval/downstream_bpb/piqa_val_rc_5shot_bpb'
    """
    return {
        "bpb": f"eval/downstream_bpb/{task_id}_rc_5shot_bpb",
        "acc": f"eval/downstream/{task_id}_rc_5shot_{accuracy}",
        "soft_log": f"eval/downstream_soft_log/{task_id}_rc_5shot_soft_log",
    }[quantity]


def _single(key: str, label: str, floor: float, accuracy: str = "len_norm") -> Task:
    return Task(key, label, (key.removesuffix("_5shot"),), (1.0,), floor, accuracy)


MMLU = Task(
    "mmlu_avg_test_5shot", "MMLU",
    tuple(f"mmlu_{s}_test" for s in ("stem", "humanities", "social_sciences", "other")),
    (0.215, 0.335, 0.219, 0.231), 0.25,
)
# The eight tasks of the paper's tables, in their order.
TASKS: tuple[Task, ...] = (
    MMLU,
    _single("hellaswag_val_5shot", "HellaSwag", 0.25),
    _single("arc_challenge_test_5shot", "ARC-Challenge", 0.25),
    _single("arc_easy_test_5shot", "ARC-Easy", 0.25),
    _single("piqa_val_5shot", "PIQA", 0.5),
    _single("csqa_val_5shot", "CommonsenseQA", 0.2),
    _single("socialiqa_val_5shot", "Social IQa", 1 / 3),
    _single("openbookqa_test_5shot", "OpenBookQA", 0.25),
)
# variance.csv adds two tasks.
VARIANCE_TASKS: tuple[Task, ...] = TASKS + (
    _single("boolq_val_5shot", "BoolQ", 0.5, accuracy="acc"),
    _single("winogrande_val_5shot", "Winogrande", 0.5),
)


def metrics(tasks: tuple[Task, ...] = VARIANCE_TASKS) -> list[str]:
    """Every metric name the study reads: the C4 loss and each task's columns."""
    names = {C4}
    for task in tasks:
        for quantity in ("bpb", "acc", "soft_log"):
            names.update(task.columns(quantity))
    return sorted(names)
