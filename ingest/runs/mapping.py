"""Which column holds what: names recognised without flags, ``--map``, and the mapping file.

Column names are compared case-insensitively, with ``/``, ``-``, ``.`` and spaces treated as
``_`` (so ``train/loss``, ``Train-Loss`` and ``train_loss`` are one name). A field is found by
the first of its names (:data:`FIELDS`) that the file has; ``--map FIELD=COLUMN`` (or ``FIELD =
"COLUMN"`` under ``[columns]`` in the mapping file; ``--map`` wins) names it explicitly. A field
that is not in :data:`FIELDS` is a hyperparameter of that name (``--map warmup=warmup_steps``).

The loss is a column (or, in long form, a metric) named ``loss``, ``val_loss``, ``eval_loss``,
``validation_loss``, ``train_loss`` (``train/loss``) ..., or ending in ``CrossEntropyLoss``;
validation and evaluation losses come first, then a plain ``loss``, then training losses; the
others stay metrics.

Without a tokens column, tokens are step x ``tokens_per_step`` (a column of that name, or the
mapping file's constant), else flops / 6N.

The mapping file (TOML, every part optional)::

    tokens_per_step = 2097152        # tokens = step x tokens_per_step without a tokens column

    [columns]                        # field = "column", as --map
    loss = "eval/c4/CrossEntropyLoss"

    [params]                         # run -> parameter count (a number, or "125M", "1.3B")
    "ladder-125m" = 125e6

    [runs."ladder-125m"]             # per-run hyperparameters; params and tokens_per_step too
    lr = 6e-4
    schedule = "cosine"
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from ingest.parse import parse_size
from warehouse.errors import BadRow, MetaError

# field -> recognised column names (after ``key``), most specific first.
FIELDS: dict[str, tuple[str, ...]] = {
    "run": ("run", "run_id", "run_name", "name"),
    "params": ("params", "num_params", "n_params", "n", "parameters", "num_parameters",
               "n_parameters", "model_size"),
    "tokens": ("tokens", "tokens_seen", "d", "num_tokens", "n_tokens"),
    "step": ("step", "_step", "global_step", "iteration"),
    "flops": ("flops", "c", "compute"),
    "tokens_per_step": ("tokens_per_step", "tokens_per_batch", "batch_tokens"),
    "loss": (),  # see loss_rank
    "lr": ("lr", "peak_lr", "learning_rate", "max_lr"),
    "seed": ("seed",),
    "batch_size": ("batch_size", "global_batch_size"),
    "schedule": ("schedule", "lr_schedule", "scheduler"),
    "metric": ("metric", "metric_name"),
    "value": ("value",),
}
# Fields that are a run's hyperparameters (stored under these names).
HYPERPARAMETERS = ("lr", "batch_size", "seed", "schedule")

_VAL = {"val", "valid", "validation", "eval", "evaluation", "test"}
_TRAIN = {"train", "training"}
_LOSS_WORDS = _VAL | _TRAIN | {"lm"}


def key(name: str) -> str:
    """A column name as compared: lower case, runs of ``/ - .`` and spaces as one ``_``.

    Examples
    --------
    >>> key("Train/Loss"), key("tokens-seen"), key(" N ")
    ('train_loss', 'tokens_seen', 'n')
    """
    return re.sub(r"[/\-.\s]+", "_", name.strip().lower())


def loss_rank(name: str) -> int | None:
    """0 for a validation or evaluation loss, 1 for a plain loss, 2 for a training loss, None
    for a name that is not a loss.

    Examples
    --------
    >>> [loss_rank(n) for n in ("val_loss", "loss", "train/loss", "aux_loss", "lr")]
    [0, 1, 2, None, None]
    >>> loss_rank("eval/c4_en-validation/CrossEntropyLoss")
    0
    """
    k = key(name)
    words = k.split("_")
    if not (k.endswith("crossentropyloss") or k.endswith("cross_entropy")
            or (words[-1] == "loss" and set(words[:-1]) <= _LOSS_WORDS)):
        return None
    if _VAL & set(words) or "validation" in k:
        return 0
    return 2 if _TRAIN & set(words) else 1


def recognise(columns: list[str], field_name: str) -> str | None:
    """The first of ``columns`` that is one of ``field_name``'s names (by ``FIELDS`` order)."""
    keys = {}
    for c in columns:
        keys.setdefault(key(c), c)
    for alias in FIELDS.get(field_name, ()):
        if alias in keys:
            return keys[alias]
    return None


@dataclass(frozen=True)
class Mapping:
    """What the user said about the columns: ``--map`` pairs and the mapping file.

    Attributes
    ----------
    columns : dict of str to (str, str)
        field -> (column, how it was named: '--map' or the mapping file's name).
    params : dict of str to float
        run -> parameter count, from ``[params]`` and ``params`` in ``[runs."<run>"]``.
    runs : dict of str to dict
        run -> hyperparameters from ``[runs."<run>"]`` (without params and tokens_per_step).
    tokens_per_step : float or None
        The mapping file's ``tokens_per_step``.
    run_tokens_per_step : dict of str to float
        Per-run ``tokens_per_step``.
    file : str or None
        The mapping file as the user named it.
    """

    columns: dict[str, tuple[str, str]] = field(default_factory=dict)
    params: dict[str, float] = field(default_factory=dict)
    runs: dict[str, dict[str, object]] = field(default_factory=dict)
    tokens_per_step: float | None = None
    run_tokens_per_step: dict[str, float] = field(default_factory=dict)
    file: str | None = None


_TOP = ("columns", "params", "runs", "tokens_per_step")


def parse_maps(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``--map FIELD=COLUMN`` values as a dict; a value without '=' is an error naming it."""
    out = {}
    for pair in pairs:
        name, sep, column = pair.partition("=")
        if not sep or not name.strip() or not column:
            raise MetaError(f"--map '{pair}': expected FIELD=COLUMN, e.g. --map loss=val_loss.")
        out[name.strip()] = column
    return out


def load_mapping(path: Path | None, maps: dict[str, str], name: str | None = None) -> Mapping:
    """The mapping file (optional) merged with ``--map`` pairs (which win).

    Raises
    ------
    MetaError
        A file that is not valid TOML, an unknown top-level key, a value of the wrong type, or
        a size that is not a positive number.
    """
    columns: dict[str, tuple[str, str]] = {}
    params: dict[str, float] = {}
    runs: dict[str, dict[str, object]] = {}
    run_tps: dict[str, float] = {}
    tps = None
    if path is not None:
        name = name or str(path)
        if not path.is_file():
            raise MetaError(f"{name}: no such mapping file.")
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
            raise MetaError(f"{name}: not a valid TOML mapping file ({e}).") from None
        unknown = sorted(set(doc) - set(_TOP))
        if unknown:
            raise MetaError(
                f"{name}: unknown key '{unknown[0]}'; known keys: {', '.join(_TOP)}."
            )
        for fname, column in _table(doc, "columns", name).items():
            if not isinstance(column, str):
                raise MetaError(f"{name}, [columns]: {fname} must be a column name in quotes.")
            columns[fname] = (column, name)
        for run, size in _table(doc, "params", name).items():
            params[run] = _size(size, name, f"[params] '{run}'")
        for run, values in _table(doc, "runs", name).items():
            if not isinstance(values, dict):
                raise MetaError(f"{name}, [runs]: '{run}' must be a table [runs.\"{run}\"].")
            values = dict(values)
            if "params" in values:
                params[run] = _size(values.pop("params"), name, f"[runs.\"{run}\"] params")
            if "tokens_per_step" in values:
                run_tps[run] = _positive(values.pop("tokens_per_step"), name,
                                         f"[runs.\"{run}\"] tokens_per_step")
            runs[run] = values
        if "tokens_per_step" in doc:
            tps = _positive(doc["tokens_per_step"], name, "tokens_per_step")
    for fname, column in maps.items():
        columns[fname] = (column, "--map")
    return Mapping(columns, params, runs, tps, run_tps, name if path is not None else None)


def _table(doc: dict, part: str, name: str) -> dict:
    value = doc.get(part, {})
    if not isinstance(value, dict):
        raise MetaError(f"{name}: '{part}' must be a table ([{part}]).")
    return value


def _size(value: object, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise MetaError(f"{name}, {where}: the size must be a number or a string like '125M'.")
    try:
        size = parse_size(value, name, None, where)
    except BadRow:
        raise MetaError(f"{name}, {where}: '{value}' is not a size.") from None
    if not size > 0 or size == float("inf"):
        raise MetaError(f"{name}, {where}: the size is not positive ({value}).")
    return size


def _positive(value: object, name: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1e300:
        raise MetaError(f"{name}, {where}: must be a positive number (got {value!r}).")
    return float(value)
