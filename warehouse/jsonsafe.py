"""JSON that other tools can read: NaN and infinity become null (``json.dumps`` would write the
non-standard ``NaN``), at any depth."""

from __future__ import annotations

import json
import math


def json_safe(value: object) -> object:
    """``value`` with every non-finite float, in dicts, lists and tuples too, replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    return value


def dumps(value: object) -> str:
    """Indented, standard JSON of ``value`` (non-finite floats as null)."""
    return json.dumps(json_safe(value), default=str, indent=2)
