"""BiMix data-mixing runs (Ge et al. 2024, arXiv:2405.14908), from the Hitchhiker data.

``raw_data/bimix-law/{Pile,SlimPajama}/ppls.pkl`` map a mixture name ("Baseline", "DoReMi",
...) to a pandas DataFrame with a ``global_step`` column and one validation **perplexity**
column per domain (SlimPajama's frames also carry ``avg``); ``ratios.pkl`` map the same names
to a pandas Series of domain weights. Every run is one 280M-parameter decoder.

**These are third-party pickles and are never unpickled.** :func:`safe_load` (on
:mod:`ingest.safepickle`'s bounded stack machine) resolves only the exact numpy/pandas globals
these files name, and maps each to a small inert stand-in that records its arguments and
state; :func:`decode` then rebuilds plain numpy arrays from the
recorded raw bytes (``numpy.frombuffer``). No pandas or numpy reconstruction code runs, pandas
need not be installed, and a pickle naming any other global (``os.system``, ...) is refused
with a :class:`~warehouse.errors.BadRow` naming the file.

As in the Hitchhiker code (``get_bimix``):

- one model, and one family, per mixture: ``<corpus>`` for the baseline and
  ``<corpus>_<mixture>_mix`` otherwise (the Hitchhiker ``scaled_set``; "scaled in the sense of
  data ratio, not size", so each family holds one model and no law is fitted on it alone);
- tokens = ``global_step`` × 512 × 1024 (batch 512 sequences of 1,024 tokens); steps are kept;
- metrics ``<domain>_ppl`` (task = the domain; ``avg_ppl`` is upstream's mean over the domains)
  and ``perf`` = their mean, over every such column of the frame.

**Deviation: kind ``loss``, not ``ppl``.** Upstream calls the values perplexities and the
Hitchhiker code takes their log2, but they are log-perplexities in nats: 1.4-3.8 after 5-100B
tokens (Github 1.37, DM Mathematics 1.36, Pile-CC 3.24 at the end of the Pile baseline), which
matches per-domain cross-entropies of similar-size Pile models and would be implausible as
perplexities (a perplexity of 1.37 is a loss of 0.31 nats). So ``perf`` here is the mean of the
raw values; the Hitchhiker ``perf`` is the mean of their log2. The metric names keep ColPret's
``_ppl`` suffix so they can be matched with its columns; each model's ``flag`` says so.
- the domain weights ``<domain>_data_ratio`` are model constants; they are stored as kind
  ``other`` metrics on each model's last checkpoint, so ``SELECT ... WHERE metric LIKE
  '%_data_ratio'`` gives every mixture.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import polars as pl

from ingest.base import FAMILY_SCHEMA, POINT_SCHEMA, SourceData, SourceInfo, frame
from ingest.readers import relpath, require
from ingest.safepickle import MAX_BYTES, safe_loads
from warehouse.errors import BadRow

SOURCE = SourceInfo(
    name="bimix",
    citation="Ge et al. 2024, BiMix: A Bivariate Data Mixing Law for Language Model Pretraining "
    "(arXiv:2405.14908), collected in Choshen, Zhang & Andreas 2024",
    upstream="IBM/ColPret@16f23bbe054277ddc4afd07a972dd7cfbe3f48c3",
    license="MIT (ColPret); BiMix files Apache-2.0",
    files=(
        "hitchhiker/raw_data/bimix-law/Pile/ppls.pkl",
        "hitchhiker/raw_data/bimix-law/Pile/ratios.pkl",
        "hitchhiker/raw_data/bimix-law/SlimPajama/ppls.pkl",
        "hitchhiker/raw_data/bimix-law/SlimPajama/ratios.pkl",
    ),
)

CORPORA = ("Pile", "SlimPajama")
TOKENS_PER_STEP = 512 * 1024
NUM_PARAMS = 280e6
STEP = "global_step"
MAX_ROWS = 10**6  # a RangeIndex longer than this is not one of these small frames
FLAG = (
    "upstream's 'ppls' are log-perplexities (nats), stored as kind loss; the Hitchhiker code "
    "took log2 of them as if they were perplexities"
)


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


# ---------------------------------------------------------------------------------------------


def family_name(corpus: str, mixture: str) -> str:
    """The Hitchhiker ``scaled_set`` of a mixture: the corpus for the baseline, else
    ``<corpus>_<mixture>_mix``."""
    return corpus if mixture == "Baseline" else f"{corpus}_{mixture}_mix"


def _corpus(corpus: str, data_root: Path) -> tuple[list[dict], list[pl.DataFrame]]:
    folder = data_root / "hitchhiker/raw_data/bimix-law" / corpus
    ppl_path, ratio_path = folder / "ppls.pkl", folder / "ratios.pkl"
    ppls = decode(ppl_path, data_root, "frame")
    ratios = decode(ratio_path, data_root, "series")
    ppl_name, ratio_name = relpath(ppl_path, data_root), relpath(ratio_path, data_root)
    models, points = [], []
    for mixture, columns in ppls.items():
        if STEP not in columns:
            raise BadRow(ppl_name, None, f"entry {mixture!r:.60} has no {STEP} column")
        if mixture not in ratios:
            raise BadRow(ratio_name, None, f"no domain weights for mixture {mixture!r:.60}")
        for domain, weight in ratios[mixture].items():
            if not 0 <= weight <= 1:  # NaN fails too
                raise BadRow(ratio_name, None, f"entry {mixture!r:.60}: the weight of "
                                               f"{domain!r:.60} is {weight:g}, not in [0, 1]")
        steps = np.asarray(columns[STEP])
        if steps.dtype.kind not in "iu" and not np.all(steps == np.round(steps)):
            raise BadRow(ppl_name, None, f"entry {mixture!r:.60}: {STEP} is not an integer")
        family = family_name(corpus, mixture)
        model_id = f"bimix/{family}"
        models.append({
            "model_id": model_id, "family": family, "num_params": NUM_PARAMS, "seed": 0,
            "epochs": 1.0, "data": family, "file": ppl_name, "flag": FLAG,
        })
        step = pl.Series("step", steps.astype(np.int64))
        for col, values in columns.items():
            if col == STEP:
                continue
            points.append(pl.DataFrame({
                "step": step, "value": np.asarray(values, dtype=np.float64),
            }).with_columns(metric=pl.lit(f"{col}_ppl"), kind=pl.lit("loss"), task=pl.lit(col),
                            model_id=pl.lit(model_id), file=pl.lit(ppl_name)))
        last = int(steps.max())
        points.append(pl.DataFrame({
            "metric": [f"{d}_data_ratio" for d in ratios[mixture]],
            "value": list(ratios[mixture].values()),
            "task": list(ratios[mixture]),
        }).with_columns(step=pl.lit(last, pl.Int64), kind=pl.lit("other"),
                        model_id=pl.lit(model_id), file=pl.lit(ratio_name)))
    return models, points


def load(data_root: Path) -> SourceData:
    """Decode the four pickles: one model per (corpus, mixture), perplexities by step."""
    models, parts = [], []
    for corpus in CORPORA:
        m, p = _corpus(corpus, data_root)
        models += m
        parts += p
    points = pl.concat([p.select(sorted(p.columns)) for p in parts], how="diagonal_relaxed")
    points = points.with_columns(
        tokens=pl.col("step").cast(pl.Float64) * TOKENS_PER_STEP, shots=pl.lit(0, pl.Int64),
        row=pl.lit(None, pl.Int64),
    )
    models = pl.DataFrame(models)
    ppl_metrics = (
        points.filter(pl.col("kind") == "loss").group_by("model_id")
        .agg(pl.col("metric").unique().sort())
    )
    perf = dict(ppl_metrics.iter_rows())
    families = frame(
        [{
            "family": r["family"], "model_type": "DoReMi", "arch": "dec", "data": r["family"],
            "perf_metric": perf[r["model_id"]], "scaled": True,
            "original_paper": "DataMixing arxiv.org/abs/2405.14908",
        } for r in models.iter_rows(named=True)],
        FAMILY_SCHEMA,
    )
    return SourceData(
        families=families, models=models,
        points=points.select([c for c in POINT_SCHEMA if c in points.columns]),
        n_files=len(SOURCE.files),
    )
