"""JSON that other tools can read: NaN and infinity become null (``json.dumps`` would write the
non-standard ``NaN``), at any depth."""

from __future__ import annotations

import json
import math


def finite_or_none(value: object) -> float | None:
    """``value`` (a Python or numpy number) as a float, or None where it is NaN or infinite.

    Examples
    --------
    >>> import numpy as np
    >>> finite_or_none(np.float32(0.5)), finite_or_none(float("nan")), finite_or_none(-np.inf)
    (0.5, None, None)
    """
    value = float(value)
    return value if math.isfinite(value) else None


def json_safe(value: object) -> object:
    """``value`` with every non-finite float, in dicts, lists and tuples too, replaced by None."""
    if isinstance(value, float):
        return finite_or_none(value)
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def dumps(value: object) -> str:
    """Indented, standard JSON of ``value`` (non-finite floats as null)."""
    return json.dumps(json_safe(value), default=str, indent=2)
