"""A pickle reader for third-party files: it builds only what it is allowed to, boundedly.

``pickle.Unpickler`` with a restricted ``find_class`` stops a pickle from naming ``os.system``,
but not from making the process recurse, crash or hang while it builds allowed objects: a
tuple nested 100,000 deep used as a dict key makes the C hash recurse until the stack
overflows (a segfault), and 40 tuples each holding the previous one twice make a key whose
hash or ``repr`` takes 2**40 steps. :func:`safe_loads` therefore does not call the unpickler.
It reads the opcodes with :func:`pickletools.genops` (a parser that builds nothing) and runs
the small subset a pickled pandas frame needs on its own stack machine, which

- resolves globals only through the ``allowed`` map (anything else is refused by name);
- calls (``REDUCE``, ``NEWOBJ``) only the allowed stand-ins, and ``BUILD``\\s only what they made;
- bounds the input (:data:`MAX_BYTES`), the opcodes run (:data:`MAX_OPS`), the nesting depth
  of what it builds (:data:`MAX_DEPTH`) and the size of integers (:data:`MAX_INT_BITS`);
- refuses self-references: a container or object may not be changed (``APPEND``,
  ``SETITEM``, ``BUILD``, ...) once something else holds it, so nothing it returns contains a
  cycle, and every object's depth is final when another takes it in;
- takes only scalars (str, bytes, int, float, bool, None) as dict keys and set members, so no
  hash or comparison of a container ever runs.

Every refusal is one :class:`~warehouse.errors.BadRow` naming the file. The result is a tree
(a DAG where the pickle shares objects) of builtin containers, scalars and stand-ins, no deeper
than :data:`MAX_DEPTH`, which a caller can walk without recursion limits.
"""

from __future__ import annotations

import io
import pickletools
from collections.abc import Callable, Mapping

from warehouse.errors import BadRow

MAX_BYTES = 16 * 2**20  # the BiMix pickles are 2-26 KB
MAX_OPS = 2_000_000
MAX_DEPTH = 64  # a pickled DataFrame nests about 8 deep
MAX_INT_BITS = 1024
SCALARS = (str, bytes, int, float, bool, type(None))
_CONSTANTS = {"NONE": None, "NEWTRUE": True, "NEWFALSE": False}
_PLAIN = ("INT", "BININT", "BININT1", "BININT2", "LONG",
          "LONG1", "LONG4", "FLOAT", "BINFLOAT", "STRING", "BINSTRING", "SHORT_BINSTRING",
          "UNICODE", "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "SHORT_BINBYTES",
          "BINBYTES", "BINBYTES8", "BYTEARRAY8")


class _Refused(Exception):
    """A reason to refuse the pickle (turned into a BadRow naming the file)."""


class _Machine:
    """The stack machine of one pickle: ``run(ops)`` returns what ``STOP`` pops."""

    def __init__(self, find: Callable[[str, str], object], callables: tuple, max_depth: int,
                 size: int):
        self.find, self.callables, self.max_depth, self.size = find, callables, max_depth, size
        self.stack: list = []
        self.marks: list[list] = []
        self.memo: dict[int, object] = {}
        self.depth: dict[int, int] = {}  # id -> nesting depth of every object built here
        self.held: set[int] = set()  # ids of objects that another object or call has taken
        self.made: set[int] = set()  # ids of what the allowed callables returned
        self.alive: list = []  # everything built, so that no id is reused while this runs

    # --- bookkeeping ----------------------------------------------------------------------
    def _new(self, obj: object, depth: int) -> object:
        if depth > self.max_depth:
            raise _Refused(f"it nests objects more than {self.max_depth} deep")
        self.depth[id(obj)] = depth
        self.alive.append(obj)
        return obj

    def _take(self, items, into: object = None) -> int:
        """Mark ``items`` as held by another object; the depth that holding them gives."""
        deepest = 0
        for item in items:
            if item is into and into is not None:
                raise _Refused("an object refers to itself, which the safe reader cannot "
                               "represent")
            self.held.add(id(item))
            deepest = max(deepest, self.depth.get(id(item), 0))
        return deepest + 1

    def _mutable(self, target: object, kind: type | tuple) -> None:
        if not isinstance(target, kind):
            raise _Refused(f"it adds items to a {type(target).__name__}")
        if id(target) in self.held:
            raise _Refused("an object is changed after another holds it (a self-reference), "
                           "which the safe reader cannot represent")

    def _grow(self, target: object, depth: int) -> None:
        if depth > self.max_depth:
            raise _Refused(f"it nests objects more than {self.max_depth} deep")
        self.depth[id(target)] = max(self.depth.get(id(target), 0), depth)

    @staticmethod
    def _key(key: object) -> object:
        if not isinstance(key, SCALARS):
            raise _Refused(f"a dict key or set member is a {type(key).__name__}, not a scalar")
        return key

    def _pop_mark(self) -> list:
        if not self.marks:
            raise _Refused("it pops a mark it never set")
        items, self.stack = self.stack, self.marks.pop()
        return items

    def _pop(self) -> object:
        if not self.stack:
            raise _Refused("it pops an empty stack")
        return self.stack.pop()

    def _top(self) -> object:
        if not self.stack:
            raise _Refused("it reads an empty stack")
        return self.stack[-1]

    # --- the opcodes ----------------------------------------------------------------------
    def run(self, ops) -> object:
        for n, (op, arg, pos) in enumerate(ops):
            if n >= MAX_OPS:
                raise _Refused(f"it has more than {MAX_OPS} opcodes")
            name = op.name
            if name == "STOP":
                if len(self.stack) != 1 or self.marks:
                    raise _Refused("it stops with a malformed stack")
                return self.stack.pop()
            handler = getattr(self, f"op_{name}", None)
            if name in _CONSTANTS:
                self.stack.append(_CONSTANTS[name])
            elif name in _PLAIN:
                if isinstance(arg, int) and arg.bit_length() > MAX_INT_BITS:
                    raise _Refused(f"it holds an integer of more than {MAX_INT_BITS} bits")
                self.stack.append(bytes(arg) if name == "BYTEARRAY8" else arg)
            elif name == "FRAME":
                if arg > self.size - pos:  # a file cut short: not readable, as genops says
                    raise ValueError(f"a frame of {arg} bytes runs past the end (truncated?)")
            elif handler is not None:
                handler(arg)
            else:
                raise _Refused(f"it uses opcode {name}, which the safe reader does not allow")
        raise ValueError("it ends before its STOP opcode (truncated?)")

    def op_PROTO(self, arg: int) -> None:
        if not 0 <= arg <= 5:
            raise _Refused(f"unknown pickle protocol {arg}")

    def op_MARK(self, arg: None) -> None:
        self.marks.append(self.stack)
        self.stack = []

    def op_POP(self, arg: None) -> None:
        self._pop()

    def op_POP_MARK(self, arg: None) -> None:
        self._pop_mark()

    def op_DUP(self, arg: None) -> None:
        self.stack.append(self._top())

    def _tuple(self, items: list) -> None:
        self.stack.append(self._new(tuple(items), self._take(items)))

    def op_EMPTY_TUPLE(self, arg: None) -> None:
        self._tuple([])

    def op_TUPLE(self, arg: None) -> None:
        self._tuple(self._pop_mark())

    def _tuple_n(self, n: int) -> None:
        if len(self.stack) < n:
            raise _Refused("it pops an empty stack")
        items = self.stack[len(self.stack) - n:]
        del self.stack[len(self.stack) - n:]
        self._tuple(items)

    def op_TUPLE1(self, arg: None) -> None:
        self._tuple_n(1)

    def op_TUPLE2(self, arg: None) -> None:
        self._tuple_n(2)

    def op_TUPLE3(self, arg: None) -> None:
        self._tuple_n(3)

    def op_EMPTY_LIST(self, arg: None) -> None:
        self.stack.append(self._new([], 1))

    def op_LIST(self, arg: None) -> None:
        items = self._pop_mark()
        self.stack.append(self._new(list(items), self._take(items)))

    def op_EMPTY_DICT(self, arg: None) -> None:
        self.stack.append(self._new({}, 1))

    def op_DICT(self, arg: None) -> None:
        items = self._pop_mark()
        target = self._new({}, 1)
        self._set_items(target, items)
        self.stack.append(target)

    def op_EMPTY_SET(self, arg: None) -> None:
        self.stack.append(self._new(set(), 1))

    def op_FROZENSET(self, arg: None) -> None:
        items = [self._key(k) for k in self._pop_mark()]
        self.stack.append(self._new(frozenset(items), 1))

    def op_APPEND(self, arg: None) -> None:
        value = self._pop()
        self._append(self._top(), [value])

    def op_APPENDS(self, arg: None) -> None:
        items = self._pop_mark()
        self._append(self._top(), items)

    def _append(self, target: object, items: list) -> None:
        self._mutable(target, list)
        self._grow(target, self._take(items, into=target))
        target.extend(items)

    def op_SETITEM(self, arg: None) -> None:
        value, key = self._pop(), self._pop()
        self._set_items(self._top(), [key, value])

    def op_SETITEMS(self, arg: None) -> None:
        items = self._pop_mark()
        self._set_items(self._top(), items)

    def _set_items(self, target: object, items: list) -> None:
        self._mutable(target, dict)
        if len(items) % 2:
            raise _Refused("it sets a dict item without a value")
        keys = [self._key(k) for k in items[::2]]
        self._grow(target, self._take(items[1::2], into=target))
        target.update(zip(keys, items[1::2], strict=True))

    def op_ADDITEMS(self, arg: None) -> None:
        items = self._pop_mark()
        target = self._top()
        self._mutable(target, set)
        target.update(self._key(k) for k in items)

    def op_GET(self, arg: int) -> None:
        if arg not in self.memo:
            raise _Refused(f"it reads memo entry {arg}, which it never stored")
        self.stack.append(self.memo[arg])

    op_BINGET = op_LONG_BINGET = op_GET

    def op_PUT(self, arg: int) -> None:
        if not 0 <= arg <= MAX_OPS:
            raise _Refused(f"it stores memo entry {arg}")
        self.memo[arg] = self._top()

    op_BINPUT = op_LONG_BINPUT = op_PUT

    def op_MEMOIZE(self, arg: None) -> None:
        self.memo[len(self.memo)] = self._top()

    def op_GLOBAL(self, arg: str) -> None:
        module, _, name = arg.partition(" ")
        self.stack.append(self.find(module, name))

    def op_STACK_GLOBAL(self, arg: None) -> None:
        name, module = self._pop(), self._pop()
        if not isinstance(module, str) or not isinstance(name, str):
            raise _Refused("STACK_GLOBAL names a global with something other than strings")
        self.stack.append(self.find(module, name))

    def _call(self, how: str, func: object, args: object) -> None:
        if not isinstance(args, tuple):
            raise _Refused(f"{how} gets arguments that are not a tuple")
        if not any(func is c for c in self.callables):
            # the type only: the repr of what a pickle built can take 2**depth steps
            raise _Refused(f"{how} calls a {type(func).__name__}, not an allowed global")
        depth = self._take([args])
        try:
            obj = func(*args) if how == "REDUCE" else func.__new__(func, *args)
        except (TypeError, ValueError) as e:
            raise _Refused(f"{how} of {getattr(func, '__name__', func)!s:.40} failed ({e})") \
                from None
        self.made.add(id(self._new(obj, depth)))
        self.stack.append(obj)

    def op_REDUCE(self, arg: None) -> None:
        args, func = self._pop(), self._pop()
        self._call("REDUCE", func, args)

    def op_NEWOBJ(self, arg: None) -> None:
        args, cls = self._pop(), self._pop()
        if not isinstance(cls, type):
            raise _Refused("NEWOBJ of something that is not a class")
        self._call("NEWOBJ", cls, args)

    def op_BUILD(self, arg: None) -> None:
        state = self._pop()
        target = self._top()
        setstate = getattr(type(target), "__setstate__", None)
        if id(target) not in self.made or setstate is None:
            raise _Refused(f"BUILD of a {type(target).__name__}, not an object an allowed "
                           "global made")
        if id(target) in self.held:
            raise _Refused("an object is changed after another holds it (a self-reference), "
                           "which the safe reader cannot represent")
        self._grow(target, self._take([state], into=target))
        setstate(target, state)


def safe_loads(data: bytes, name: str, allowed: Mapping[tuple[str, str], object], *,
               hint: str = "", max_depth: int = MAX_DEPTH) -> object:
    """The object a pickle describes, built from ``allowed`` globals only, within bounds.

    Parameters
    ----------
    data : bytes
        The pickle.
    name : str
        The file, as messages name it.
    allowed : mapping of (module, name) to object
        The only globals the pickle may name, each resolved to the object given (inert
        stand-ins, ``slice``); the values are also the only things ``REDUCE``/``NEWOBJ`` may
        call, and ``BUILD`` only sets up (via its class's ``__setstate__``) what they made.
    hint : str, default=''
        Added to the message that refuses another global, e.g. what is allowed.
    max_depth : int, default=MAX_DEPTH
        How deep the objects built may nest.

    Raises
    ------
    BadRow
        Naming ``name``: a global that is not allowed, a pickle larger than ``MAX_BYTES``, with
        more than ``MAX_OPS`` opcodes, objects nested deeper than ``max_depth``, a
        self-reference, a container as a dict key, an opcode outside the subset, or a stream
        that is not a pickle (truncated, garbage).

    Examples
    --------
    >>> import pickle
    >>> safe_loads(pickle.dumps({"a": [1, 2.5, (None, "x")]}), "f.pkl", {})
    {'a': [1, 2.5, (None, 'x')]}
    >>> safe_loads(pickle.dumps(((((),),),)), "f.pkl", {}, max_depth=2)
    Traceback (most recent call last):
    ...
    warehouse.errors.BadRow: f.pkl: not a pickle the safe reader accepts: it nests objects more than 2 deep
    """  # noqa: E501

    def find(module: str, attr: str) -> object:
        if (module, attr) not in allowed:
            raise BadRow(name, None, f"the pickle names {module:.60}.{attr:.60}, which the safe "
                                     f"reader does not allow{hint}")
        return allowed[(module, attr)]

    if len(data) > MAX_BYTES:
        raise BadRow(name, None, f"the pickle is {len(data):,} bytes; the safe reader reads at "
                                 f"most {MAX_BYTES:,}")
    machine = _Machine(find, tuple(allowed.values()), max_depth, len(data))
    try:
        return machine.run(pickletools.genops(io.BytesIO(data)))
    except _Refused as e:
        raise BadRow(name, None, f"not a pickle the safe reader accepts: {e}") from None
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, EOFError,
            UnicodeDecodeError) as e:
        # pickletools.genops on bytes that are not a pickle: truncated, an unknown opcode,
        # an argument cut short
        reason = " ".join(f"{type(e).__name__}: {e}".split())[:200]
        raise BadRow(name, None, f"not a readable pickle ({reason})") from None
