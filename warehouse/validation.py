"""One vocabulary for checking the arguments of estimators and configurations, in scikit-learn's
words, and one check that an estimator was fitted.

A constraint is a description for the message and a predicate. :func:`validate` checks an
object's attributes against a ``{name: Constraint}`` dict (an estimator's
``_parameter_constraints``) and raises :class:`~warehouse.errors.InvalidParameter`:
"The 'delta' parameter of HuberLBFGS must be a float in the range (0, inf). Got -1 instead."

Examples
--------
>>> class Fitter:
...     _parameter_constraints = {"delta": interval(float, 0, math.inf, closed="neither")}
...     def __init__(self, delta=1e-3):
...         self.delta = delta
>>> validate(Fitter(delta=-1), Fitter._parameter_constraints)
Traceback (most recent call last):
...
warehouse.errors.InvalidParameter: The 'delta' parameter of Fitter must be a float in the range (0, inf). Got -1 instead.
>>> check_fitted(Fitter(), "params_", "predict")
Traceback (most recent call last):
...
warehouse.errors.NotFitted: This Fitter instance is not fitted yet. Call 'fit' before 'predict'.
"""  # noqa: E501

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real

from warehouse.errors import InvalidParameter, NotFitted


@dataclass(frozen=True)
class Constraint:
    """What a parameter must be: ``text`` completes "must be ...", ``ok`` tests a value."""

    text: str
    ok: Callable[[object], bool]


def is_int(value: object) -> bool:
    """An integer (Python or numpy), not a bool."""
    return isinstance(value, Integral) and not isinstance(value, bool)


def is_real(value: object) -> bool:
    """A real number (Python or numpy, int or float), not a bool and not NaN."""
    return isinstance(value, Real) and not isinstance(value, bool) and not math.isnan(value)


def _bound(x: float) -> str:
    return "inf" if x == math.inf else "-inf" if x == -math.inf else f"{x:g}"


def interval(kind: type, low: float, high: float, *, closed: str = "left") -> Constraint:
    """An int (``kind=int``) or a real number (``kind=float``) between ``low`` and ``high``.

    ``closed`` is ``"left"``, ``"right"``, ``"both"`` or ``"neither"``, as in sklearn's
    ``Interval``.
    """
    left, right = closed in ("left", "both"), closed in ("right", "both")
    number = is_int if kind is int else is_real

    def ok(v) -> bool:
        return (number(v) and (low <= v if left else low < v)
                and (v <= high if right else v < high))

    name = "an int" if kind is int else "a float"
    text = (f"{name} in the range {'[' if left else '('}{_bound(low)}, {_bound(high)}"
            f"{']' if right else ')'}")
    return Constraint(text, ok)


def one_of(*values: object) -> Constraint:
    """One of the given values."""
    return Constraint("one of " + ", ".join(map(repr, values)), lambda v: v in values)


def none_or(constraint: Constraint) -> Constraint:
    """None, or what ``constraint`` allows."""
    return Constraint(f"None or {constraint.text}", lambda v: v is None or constraint.ok(v))


POSITIVE_FLOAT = interval(float, 0, math.inf, closed="neither")
POSITIVE_INT = interval(int, 1, math.inf)
NON_NEGATIVE_INT = interval(int, 0, math.inf)
SEED = NON_NEGATIVE_INT


def check(owner: str, name: str, value: object, constraint: Constraint) -> None:
    """Raise :class:`InvalidParameter` unless ``value``, parameter ``name`` of ``owner`` (a
    class or function name), meets ``constraint``."""
    if not constraint.ok(value):
        raise InvalidParameter(f"The {name!r} parameter of {owner} must be {constraint.text}. "
                               f"Got {value!r} instead.")


def validate(owner: object, constraints: dict[str, Constraint]) -> None:
    """:func:`check` every attribute of ``owner`` named in ``constraints``, in order."""
    for name, constraint in constraints.items():
        check(type(owner).__name__, name, getattr(owner, name), constraint)


def check_fitted(estimator: object, attribute: str, method: str | None = None) -> None:
    """Raise :class:`NotFitted` (sklearn's ``check_is_fitted`` text) when ``estimator`` has no
    ``attribute`` yet; ``method`` names what was called."""
    if not hasattr(estimator, attribute):
        what = "using this estimator" if method is None else repr(method)
        raise NotFitted(f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' "
                        f"before {what}.")
