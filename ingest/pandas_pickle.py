"""pandas DataFrames and Series read from third-party pickles without unpickling them.

:func:`safe_load` (on :mod:`ingest.safepickle`'s bounded stack machine) resolves only the exact
numpy/pandas globals that a pickled DataFrame or Series names, and maps each to a small inert
stand-in that records its arguments and state; :func:`decode` then rebuilds plain numpy arrays
from the recorded raw bytes (``numpy.frombuffer``). No pandas or numpy reconstruction code runs,
pandas need not be installed, and a pickle naming any other global (``os.system``, ...) is
refused with a :class:`~warehouse.errors.BadRow` naming the file.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ingest.readers import relpath, require
from ingest.safepickle import MAX_BYTES, safe_loads
from warehouse.errors import BadRow

MAX_ROWS = 10**6  # a RangeIndex longer than this is not one of the small frames read here


# ---------------------------------------------------------------------------------------------
# Inert stand-ins for the globals the pickles name. Each only records what it is given.


class _Inert:
    """Base of the stand-ins: ``BUILD`` only stores its state, nothing else can run."""

    state: object = None

    def __setstate__(self, state: object) -> None:
        self.state = state


class _Marker(_Inert):
    """A class that is only ever passed as an argument (``numpy.ndarray``, ``Index``, ...)."""


class _NDArrayMarker(_Marker):
    pass


class _IndexMarker(_Marker):
    pass


class _RangeIndexMarker(_Marker):
    pass


class _DType(_Inert):
    """``numpy.dtype(code, align, copy)``, then ``BUILD`` with (version, byte order, ...)."""

    def __init__(self, code: object, align: object = False, copy: object = True):
        self.code = code


class _Array(_Inert):
    """``numpy.core.multiarray._reconstruct(...)``; ``BUILD`` gives (version, shape, dtype,
    fortran, raw bytes or list of objects)."""


class _Index(_Inert):
    """``pandas.core.indexes.base._new_Index(cls, attributes)``."""

    def __init__(self, cls: object, attrs: object):
        self.cls, self.attrs = cls, attrs


class _Block(_Inert):
    """``pandas._libs.internals._unpickle_block(values, placement, ndim)``."""

    def __init__(self, values: object, placement: object, ndim: object):
        self.values, self.placement = values, placement


class _Manager(_Inert):
    """A pandas block manager: ``BlockManager(blocks, axes)``, or ``NEWOBJ`` then ``BUILD``
    with the (axes, values, items, extra) state of a ``SingleBlockManager``."""

    args: tuple = ()

    def __init__(self, *args: object):
        self.args = args


class _Series(_Inert):
    """``Series`` made by ``NEWOBJ`` (no ``__init__`` runs); ``BUILD`` gives its ``__dict__``."""


class _DataFrame(_Inert):
    """``DataFrame`` made by ``NEWOBJ``; ``BUILD`` gives its ``__dict__``."""


def _frame_state(obj: object) -> dict:
    """The ``__dict__`` a pickled Series/DataFrame was built with ({} if malformed)."""
    return obj.state if isinstance(obj.state, dict) else {}


def _reconstruct(cls: object, shape: object, dtype: object) -> _Array:
    return _Array()


def _new_index(cls: object, attrs: object) -> _Index:
    return _Index(cls, attrs)


def _unpickle_block(values: object, placement: object, ndim: object) -> _Block:
    return _Block(values, placement, ndim)


# (module, name) -> stand-in. Nothing else can be named by a pickle read here.
ALLOWED: dict[tuple[str, str], object] = {
    ("builtins", "slice"): slice,
    ("numpy", "dtype"): _DType,
    ("numpy", "ndarray"): _NDArrayMarker,
    ("numpy.core.multiarray", "_reconstruct"): _reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _reconstruct,
    ("pandas.core.series", "Series"): _Series,
    ("pandas.core.frame", "DataFrame"): _DataFrame,
    ("pandas.core.internals.managers", "BlockManager"): _Manager,
    ("pandas.core.internals.managers", "SingleBlockManager"): _Manager,
    ("pandas._libs.internals", "_unpickle_block"): _unpickle_block,
    ("pandas.core.indexes.base", "_new_Index"): _new_index,
    ("pandas.core.indexes.base", "Index"): _IndexMarker,
    ("pandas.core.indexes.range", "RangeIndex"): _RangeIndexMarker,
}


HINT = " (only the numpy/pandas pieces of a DataFrame or Series are allowed)"


def safe_load(path: Path, data_root: Path) -> object:
    """The stand-in tree of a pickle file, or a BadRow naming it if it is not a valid one.

    The pickle is never unpickled: :func:`ingest.safepickle.safe_loads` runs its opcodes on a
    bounded stack machine that can only build :data:`ALLOWED` stand-ins, builtin containers
    and scalars, no deeper than ``MAX_DEPTH`` and without self-references.

    Parameters
    ----------
    path : Path
        The pickle.
    data_root : Path
        Root that error messages are relative to.

    Raises
    ------
    BadRow
        A forbidden global, a pickle that is too large, too deep or self-referencing, or one
        that is truncated or malformed.
    """
    name = relpath(require(path), data_root)
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise BadRow(name, None, f"the pickle is {size:,} bytes; the safe reader reads at most "
                                 f"{MAX_BYTES:,}")
    return safe_loads(path.read_bytes(), name, ALLOWED, hint=HINT)


# ---------------------------------------------------------------------------------------------
# Decoding the stand-ins into numpy arrays and plain dicts.

_NUMERIC_KINDS = frozenset("fiub")
LABELS = (str, int, float, bool, type(None))  # what an object array (column names) may hold


def _array(obj: object, where: str) -> np.ndarray | list:
    """A numpy array (numeric dtypes) or a list (object dtype) from an :class:`_Array`."""
    if not isinstance(obj, _Array) or not isinstance(obj.state, tuple) or len(obj.state) != 5:
        raise ValueError(f"{where}: expected a numpy array")
    _, shape, dtype, fortran, raw = obj.state
    # Only plain ints and strings reach numpy: it would walk any nested structure it is given
    # (a shape or an object array of shared tuples is 2**depth steps).
    if (not isinstance(dtype, _DType) or not isinstance(dtype.code, str)
            or not isinstance(shape, tuple) or len(shape) > 32
            or not all(type(d) is int and 0 <= d < 2**40 for d in shape)):
        raise ValueError(f"{where}: malformed numpy array")
    n = math.prod(shape)
    if dtype.code == "O8":
        if not isinstance(raw, list) or len(raw) != n:
            raise ValueError(f"{where}: object array of the wrong length")
        if not all(isinstance(x, LABELS) for x in raw):
            raise ValueError(f"{where}: object array of something other than labels")
        return raw
    byteorder = dtype.state[1] if isinstance(dtype.state, tuple) and len(dtype.state) > 1 else "="
    if not isinstance(byteorder, str) or byteorder not in ("<", ">", "=", "|"):
        raise ValueError(f"{where}: unsupported dtype {dtype.code!r:.20}")
    dt = np.dtype((byteorder if byteorder != "|" else "") + dtype.code)
    if dt.kind not in _NUMERIC_KINDS or not isinstance(raw, bytes) or len(raw) != n * dt.itemsize:
        raise ValueError(f"{where}: unsupported or truncated {dtype.code!r:.20} data")
    return np.frombuffer(raw, dtype=dt).reshape(shape, order="F" if fortran else "C")


def _labels(index: object, where: str) -> list:
    """The labels of an :class:`_Index` (an ``Index`` of data or a ``RangeIndex``)."""
    if not isinstance(index, _Index) or not isinstance(index.attrs, dict):
        raise ValueError(f"{where}: expected a pandas index")
    if index.cls is _RangeIndexMarker:
        a = index.attrs
        labels = range(int(a["start"]), int(a["stop"]), int(a["step"]))
        if len(labels) > MAX_ROWS:
            raise ValueError(f"{where}: RangeIndex of {len(labels)} rows")
        return list(labels)
    if index.cls is _IndexMarker:
        data = _array(index.attrs.get("data"), where)
        return list(data)
    raise ValueError(f"{where}: unsupported index type")


def _positions(placement: object, n: int, where: str) -> list[int]:
    """Column positions of a block from its ``mgr_locs`` (a slice or an int array)."""
    if isinstance(placement, slice):
        return list(range(n))[placement]
    return [int(i) for i in np.asarray(_array(placement, where)).ravel()]


def decode_frame(obj: object, where: str) -> dict[str, np.ndarray]:
    """Columns of a pickled DataFrame (pandas >= 2 ``BlockManager(blocks, axes)`` layout)."""
    mgr = _frame_state(obj).get("_mgr") if isinstance(obj, _DataFrame) else None
    if not isinstance(mgr, _Manager):
        raise ValueError(f"{where}: expected a DataFrame")
    if len(mgr.args) != 2:
        raise ValueError(f"{where}: unsupported DataFrame layout")
    blocks, axes = mgr.args
    columns = [str(c) for c in _labels(axes[0], where)]
    n_rows = len(_labels(axes[1], where))
    out: dict[str, np.ndarray] = {}
    for block in blocks:
        if not isinstance(block, _Block):
            raise ValueError(f"{where}: expected a pandas block")
        values = np.asarray(_array(block.values, where))
        values = values.reshape(-1, n_rows) if values.ndim != 2 else values
        for j, col in enumerate(_positions(block.placement, len(columns), where)):
            out[columns[col]] = values[j]
    if len(out) != len(columns):
        raise ValueError(f"{where}: blocks do not cover the columns")
    return out


def decode_series(obj: object, where: str) -> dict[str, float]:
    """Label -> value of a pickled Series (``SingleBlockManager`` state layout)."""
    mgr = _frame_state(obj).get("_mgr") if isinstance(obj, _Series) else None
    if not isinstance(mgr, _Manager):
        raise ValueError(f"{where}: expected a Series")
    state = mgr.state
    if not isinstance(state, tuple) or len(state) != 4:
        raise ValueError(f"{where}: unsupported Series layout")
    axes, values, _, _ = state
    labels = [str(x) for x in _labels(axes[0], where)]
    data = np.asarray(_array(values[0], where), dtype=np.float64).ravel()
    if len(labels) != len(data):
        raise ValueError(f"{where}: index and values differ in length")
    return dict(zip(labels, data.tolist(), strict=True))


def decode(path: Path, data_root: Path, kind: str) -> dict[str, object]:
    """A ``{name: DataFrame or Series}`` pickle as ``{name: columns}`` / ``{name: weights}``.

    Raises
    ------
    BadRow
        The file is not a pickled dict of that shape (or names a forbidden global).
    """
    name = relpath(path, data_root)
    obj = safe_load(path, data_root)
    if not isinstance(obj, dict):
        raise BadRow(name, None, "expected a pickled dict of pandas objects")
    try:
        if kind == "frame":
            return {str(k): decode_frame(v, f"entry {k!r:.60}") for k, v in obj.items()}
        return {str(k): decode_series(v, f"entry {k!r:.60}") for k, v in obj.items()}
    except (ValueError, TypeError, KeyError, AttributeError, IndexError, OverflowError) as e:
        raise BadRow(name, None, str(e)) from None
