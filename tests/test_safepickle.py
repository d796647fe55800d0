"""Crafted pickles against the safe reader: deep nesting, self-references, shared structures
whose hash or repr would take 2**40 steps, huge sizes, disallowed globals and opcodes. Each
must end in one BadRow naming the file, quickly, in the process that reads it (the payloads
that crash or hang ``pickle`` run in a child process, so a crash could not take pytest down).
"""

from __future__ import annotations

import pickle
import struct
import subprocess
import sys
import time

import pytest

from ingest import bimix, pandas_pickle
from ingest.safepickle import MAX_BYTES, MAX_DEPTH, safe_loads
from tests.conftest import REPO, mirror_source
from warehouse.errors import BadRow

PROTO = b"\x80\x04"
PILE = "hitchhiker/raw_data/bimix-law/Pile/ppls.pkl"


def deep_tuple(n: int) -> bytes:
    """``((((),),),)`` n deep: EMPTY_TUPLE, then TUPLE1 n times."""
    return b")" + b"\x85" * n


def shared_tuple(n: int) -> bytes:
    """t0 = (), t(i+1) = (t(i), t(i)): n levels, 2**n leaves, a few bytes per level."""
    out = b")\x940"  # EMPTY_TUPLE, MEMOIZE (0), POP
    for i in range(n):  # BINGET i twice, TUPLE2, MEMOIZE (i + 1), POP
        out += b"h" + bytes([i]) + b"h" + bytes([i]) + b"\x86\x940"
    return out + b"h" + bytes([n])


def in_dict(key: bytes, value: bytes) -> bytes:
    """A pickle of {key: value}: EMPTY_DICT, key, value, SETITEM, STOP."""
    return PROTO + b"}" + key + value + b"s."


KEY_ONE = b"\x8c\x08Baseline"  # SHORT_BINUNICODE 'Baseline'
PAYLOADS = {
    # nesting
    "tuple nested 100,000 deep": PROTO + deep_tuple(100_000) + b".",
    "list nested 100,000 deep": PROTO + b"]" * 100_000 + b"a" * 99_999 + b".",
    "dict key nested 100,000 deep": in_dict(deep_tuple(100_000), b"K\x01"),
    "dict value nested 100,000 deep": in_dict(KEY_ONE, deep_tuple(100_000)),
    # shared structure: hash and repr of the key take 2**40 steps
    "dict key of 2**40 shared tuples": in_dict(shared_tuple(40), b"K\x01"),
    "frozenset of 2**40 shared tuples": PROTO + b"(" + shared_tuple(40) + b"\x91.",
    # self-references
    "list holding itself": PROTO + b"]\x94h\x00a.",
    "tuple holding a list that holds the tuple": PROTO + b"]\x94h\x00\x85\x94a.",
    "self-referencing tuples 40 deep": PROTO + b"]\x94h\x00" + b"\x85" * 40 + b"a.",
    "dict holding itself": PROTO + b"}\x94" + KEY_ONE + b"h\x00s.",
    "object whose state holds it": PROTO + b"\x8c\x11pandas.core.frame\x94\x8c\tDataFrame"
    b"\x94\x93\x94)\x81\x94}\x94(" + KEY_ONE + b"h\x03u" + b"b.",
    # sizes
    "bytes claiming 2**62 bytes": PROTO + b"\x8e" + struct.pack("<Q", 2**62) + b"xx.",
    "string claiming 4 GiB": PROTO + b"X" + struct.pack("<I", 2**32 - 1) + b"abc.",
    "integer of 16,000 bits": PROTO + b"\x8b" + struct.pack("<i", 2000) + b"\x01" * 2000 + b".",
    "memo index 10**12": b"p1000000000000\n.",
    "frame claiming 2**60 bytes": PROTO + b"\x95" + struct.pack("<Q", 2**60) + b"N.",
    # globals and opcodes that can run code
    "os.system": pickle.dumps(__import__("os").system),
    "builtins.eval by GLOBAL": b"cbuiltins\neval\n(S'1+1'\ntR.",
    "subprocess.Popen by STACK_GLOBAL": PROTO + b"\x8c\nsubprocess\x8c\x05Popen\x93.",
    "extension code": PROTO + b"\x82\x01.",
    "persistent id": PROTO + b"K\x01Q.",
    "INST": b"(iposix\nsystem\n.",
    "a stand-in called as a class": PROTO + b"\x8c\x18pandas.core.indexes.base\x94\x8c\n_new_Index"
    b"\x94\x93\x94)\x81.",
    "REDUCE of a shared structure": PROTO + shared_tuple(40) + b")R.",
    "garbage": b"\x00\xff" * 50,
    "empty": b"",
}


@pytest.mark.parametrize("label", list(PAYLOADS))
def test_crafted_payload_is_one_bad_row_quickly(label):
    start = time.perf_counter()
    with pytest.raises(BadRow) as e:
        safe_loads(PAYLOADS[label], "x.pkl", pandas_pickle.ALLOWED, hint=pandas_pickle.HINT)
    assert time.perf_counter() - start < 2.0
    assert str(e.value).startswith("x.pkl: ") and "\n" not in str(e.value)


@pytest.mark.parametrize("label, message", [
    ("tuple nested 100,000 deep",
     f"x.pkl: not a pickle the safe reader accepts: it nests objects more than {MAX_DEPTH} deep"),
    ("dict key of 2**40 shared tuples",
     "x.pkl: not a pickle the safe reader accepts: a dict key or set member is a tuple, not a "
     "scalar"),
    ("list holding itself",
     "x.pkl: not a pickle the safe reader accepts: an object refers to itself, which the safe "
     "reader cannot represent"),
    ("self-referencing tuples 40 deep",
     "x.pkl: not a pickle the safe reader accepts: an object is changed after another holds it "
     "(a self-reference), which the safe reader cannot represent"),
    ("os.system",
     f"x.pkl: the pickle names {'posix' if sys.platform != 'win32' else 'nt'}.system, which the "
     "safe reader does not allow (only the numpy/pandas pieces of a DataFrame or Series are "
     "allowed)"),
    ("extension code",
     "x.pkl: not a pickle the safe reader accepts: it uses opcode EXT1, which the safe reader "
     "does not allow"),
    ("integer of 16,000 bits",
     "x.pkl: not a pickle the safe reader accepts: it holds an integer of more than 1024 bits"),
])
def test_crafted_payload_messages(label, message):
    with pytest.raises(BadRow) as e:
        safe_loads(PAYLOADS[label], "x.pkl", pandas_pickle.ALLOWED, hint=pandas_pickle.HINT)
    assert str(e.value) == message


def test_shared_structure_as_a_value_is_built_without_walking_it():
    # 2**40 leaves, 41 levels: within MAX_DEPTH, returned as the DAG it is, in no time
    start = time.perf_counter()
    doc = safe_loads(in_dict(KEY_ONE, shared_tuple(40)), "x.pkl", {})
    assert time.perf_counter() - start < 1.0
    assert doc["Baseline"][0] is doc["Baseline"][1]


@pytest.mark.parametrize("protocol", range(6))
def test_plain_data_round_trips(protocol):
    value = {"a": [1, 2.5, None, True, -(2**70), (1, ("x",))], "b": {"c": {}}, "d": "é"}
    if protocol >= 3:  # bytes before protocol 3 and frozensets before 4 are REDUCE calls
        value["e"] = b"\x00\xff"
    if protocol >= 4:
        value["f"] = frozenset({1, "y"})
    assert safe_loads(pickle.dumps(value, protocol=protocol), "x.pkl", {}) == value


def test_a_file_over_the_size_limit_is_not_read(tmp_path):
    path = mirror_source(bimix.SOURCE, PILE, tmp_path / "data")
    with path.open("wb") as f:
        f.truncate(MAX_BYTES + 1)
    with pytest.raises(BadRow, match=r"Pile/ppls\.pkl: the pickle is 16,777,217 bytes; the safe "):
        bimix.load(tmp_path / "data")


CHILD = """
import sys, time
from pathlib import Path
from ingest import bimix, safepickle
from tests.test_safepickle import PAYLOADS
from warehouse.errors import MetaError
path, root = Path(sys.argv[1]), Path(sys.argv[2])
for label, payload in PAYLOADS.items():
    path.write_bytes(payload)
    start = time.perf_counter()
    try:
        bimix.load(root)
    except MetaError as e:
        print(f"{time.perf_counter() - start:.3f} {e}")
    else:
        print("loaded", label)
"""


def test_bimix_load_refuses_every_payload_in_a_process_that_survives(tmp_path):
    path = mirror_source(bimix.SOURCE, PILE, tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(tmp_path / "data")],
        capture_output=True, text=True, timeout=120, cwd=REPO,
    )
    assert done.returncode == 0, done.stderr[-2000:]  # no segfault (-11), no traceback
    lines = done.stdout.splitlines()
    assert len(lines) == len(PAYLOADS)
    for line in lines:
        seconds, message = line.split(" ", 1)
        assert float(seconds) < 2.0 and message.startswith("hitchhiker/raw_data/bimix-law/Pile")


def test_numpy_never_sees_a_shared_structure():
    """A shape or an object array made of shared tuples (which numpy would walk 2**40 times)
    is refused by the decoder before numpy sees it."""
    shared = ()
    for _ in range(40):
        shared = (shared, shared)
    dtype = pandas_pickle._DType("O8")
    start = time.perf_counter()
    for state in [(1, (shared,), dtype, False, []), (1, (2,), dtype, False, [shared, shared]),
                  (1, (1,), pandas_pickle._DType(shared), False, b"")]:
        array = pandas_pickle._Array()
        array.state = state
        with pytest.raises(ValueError, match="where: (malformed numpy array|object array of)"):
            pandas_pickle._array(array, "where")
    assert time.perf_counter() - start < 1.0
