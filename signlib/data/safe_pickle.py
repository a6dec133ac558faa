"""Loading pickles that can hold data but never run code.

``pickle.load`` calls whatever callable a file names (``os.system``, ``builtins.eval``, a class's
``__reduce__``), so a downloaded ``.pkl`` is a program, not a data file. :func:`safe_load` uses a
restricted unpickler whose ``find_class`` resolves only the globals that plain
containers, numbers, strings, bytes and numpy arrays / scalars / dtypes need, and refuses anything
else *before* it is called, with a one-line :class:`~signlib.errors.SignlibError` naming the file
and the refused global.

The allow-list was read off ``pickletools`` dumps of numpy 1.x and 2.x arrays at protocols 0-5:

- ``numpy.ndarray``, ``numpy.dtype``;
- ``numpy.core.multiarray._reconstruct`` / ``numpy._core.multiarray._reconstruct`` (arrays,
  protocols 0-4; numpy 2 renamed ``numpy.core`` to ``numpy._core``, old files keep the old name);
- ``numpy.core.multiarray.scalar`` / ``numpy._core.multiarray.scalar`` (``np.float32(1)`` etc.);
- ``numpy.core.numeric._frombuffer`` / ``numpy._core.numeric._frombuffer`` (protocol 5 arrays);
- ``_codecs.encode`` (how protocols 0-2 spell ``bytes``);
- from ``builtins`` (``__builtin__`` in protocol 0-2 files): the container and number types.

Object arrays still pass through ``find_class`` for every element's type, so they cannot smuggle
a disallowed class in.

Allowed callables can still be asked for memory the file does not hold: ``bytearray(10**12)``,
``list(range(10**12))``, ``_reconstruct(ndarray, (10**12,), ...)``. Real pickles spell their data
out, so those callables are resolved to checking versions that refuse any size over
:data:`MAX_CLAIMED` bytes or items before allocating, and a loaded array with zero-size items
cannot claim more than that many elements either (later arithmetic on it would allocate them).

The unpickler is pickle's pure-Python one, not the C one: the C unpickler sizes its memo array to
the largest index a file names (five bytes asked for 10 GB) and preallocates BYTEARRAY8 lengths,
and only the Python one lets BUILD be checked. BUILD may set state only on numpy arrays (whose
``__setstate__`` checks data against shape and dtype) and dtypes, and a dtype state must be exactly
one numpy itself writes: numpy's ``dtype.__setstate__`` trusts its input, and odd item sizes or
flags gave broken dtypes (SystemError from numpy's internals) in fuzzing.
"""

from __future__ import annotations

import _compat_pickle
import io
import math
import operator
import os
import pickle
import struct
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from signlib.errors import SignlibError, file_error

_BUILTINS = frozenset({"dict", "list", "tuple", "set", "frozenset", "str", "bytes", "bytearray",
                       "int", "float", "complex", "bool", "slice", "range"})
_NUMPY = {
    "numpy": {"ndarray", "dtype"},
    "numpy.core.multiarray": {"_reconstruct", "scalar"},
    "numpy._core.multiarray": {"_reconstruct", "scalar"},
    "numpy.core.numeric": {"_frombuffer"},
    "numpy._core.numeric": {"_frombuffer"},
}
#: Every ``(module, name)`` that :func:`safe_load` resolves; anything else is refused.
ALLOWED_GLOBALS = frozenset(
    {("builtins", n) for n in _BUILTINS}
    | {("_codecs", "encode")}
    | {(m, n) for m, names in _NUMPY.items() for n in names}
)


class RefusedGlobal(pickle.UnpicklingError):
    """Raised inside the unpickler when a file names a global outside :data:`ALLOWED_GLOBALS`."""

    def __init__(self, module: str, name: str):
        super().__init__(f"{module}.{name}")
        self.qualname = f"{module}.{name}"


#: Most bytes (or items) a pickle may ask an allowed callable for by size rather than by content.
MAX_CLAIMED = 1 << 20


class TooLarge(pickle.UnpicklingError):
    """Raised inside the unpickler when a call would allocate far more than the file spells out."""


def _claim(n: int, what: str) -> None:
    if n > MAX_CLAIMED:
        raise TooLarge(f"{what} asks for {n} bytes or items, over the limit of {MAX_CLAIMED}")


def _guard_sized(cls: type) -> Callable:
    """``bytes`` / ``bytearray`` that refuse a large length (their data would be zeros, not data)."""
    def make(*args):
        if args and isinstance(args[0], int):
            _claim(args[0], f"{cls.__name__}({args[0]})")
        return cls(*args)
    return make


def _guard_range(*args) -> range:
    """``range``, refused when long: list(), bytes() and friends would materialise it."""
    r = range(*args)
    try:
        n = len(r)
    except OverflowError:  # longer than sys.maxsize
        n = math.inf
    _claim(n, repr(r))
    return r


def _array_bytes(shape, dtype) -> int:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return math.prod(operator.index(d) for d in shape) * np.dtype(dtype).itemsize


def _guard_ndarray(shape, dtype=float, *args, **kwargs) -> np.ndarray:
    """``numpy.ndarray(shape, ...)`` called directly (real pickles never do): size checked first."""
    _claim(_array_bytes(shape, dtype), f"numpy.ndarray({shape!r})")
    return np.ndarray(shape, dtype, *args, **kwargs)


def _guard_reconstruct(real: Callable) -> Callable:
    """numpy's ``_reconstruct(ndarray, shape, typecode)``: real pickles pass shape ``(0,)`` and set
    the data afterwards; a large shape would be allocated (uninitialised) before any data is read."""
    def reconstruct(subtype, shape, typecode):
        _claim(_array_bytes(shape, typecode), f"numpy _reconstruct({shape!r})")
        # find_class hands out _guard_ndarray for numpy.ndarray; numpy needs the class itself.
        return real(np.ndarray if subtype is _guard_ndarray else subtype, shape, typecode)
    return reconstruct


def _guard(canonical: str, attr: str, resolved: Any) -> Any:
    """The checking stand-in for a global that can allocate by size, else ``resolved`` itself."""
    if canonical == "builtins" and attr in ("bytes", "bytearray"):
        return _guard_sized(resolved)
    if canonical == "builtins" and attr == "range":
        return _guard_range
    if (canonical, attr) == ("numpy", "ndarray"):
        return _guard_ndarray
    if attr == "_reconstruct":
        return _guard_reconstruct(resolved)
    return resolved


def _zero_size_giant(obj: Any) -> str | None:
    """Describe a loaded array whose items take no bytes but which claims more than
    :data:`MAX_CLAIMED` of them (``np.ndarray((10**12,), "V0")`` costs nothing until converted)."""
    stack, seen = [obj], set()
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, np.ndarray):
            if x.dtype.itemsize == 0 and x.size > MAX_CLAIMED:
                return f"an array of {x.size} zero-size items"
            if x.dtype.hasobject:
                stack.extend(x.flat)
        elif isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, (list, tuple, set, frozenset)):
            stack.extend(x)
    return None


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same types all the way down (``dtype("f4") == "f4"`` would pass ``==``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _dtype_candidates(inst: np.dtype, state: tuple) -> list[np.dtype]:
    """Dtypes built through numpy's public constructor that ``state`` may describe."""
    _, order, sub, names, fields, elsize, _, _ = state
    if sub is not None:
        return [np.dtype((sub[0], sub[1]))]
    if names is not None:
        entries = [fields[n] for n in names]
        spec = {"names": list(names), "formats": [e[0] for e in entries], "offsets": [e[1] for e in entries],
                "itemsize": elsize}
        if any(len(e) > 2 for e in entries):
            spec["titles"] = [e[2] if len(e) > 2 else None for e in entries]
        out = [np.dtype(spec)]
        try:
            out.append(np.dtype(spec, align=True))
        except ValueError:  # offsets that an aligned struct cannot have
            pass
        return out
    return [inst.newbyteorder(order) if order in ("<", ">") else inst]


def _check_dtype_state(inst: np.dtype, state: Any) -> None:
    """Refuse a dtype state unless it is exactly what numpy writes for ``inst``'s dtype.

    numpy's ``dtype.__setstate__`` trusts its input: an odd item size, alignment or flag word gives
    a dtype that breaks numpy's internals later (seen: SystemError, "get_clear_loop not set"), or
    one that makes numpy read bytes as object pointers. So the state must equal, type for type, the
    state of a dtype built through ``numpy.dtype(...)`` from the same pieces (byte order, fields
    and offsets, or subarray) and of the same item size as ``inst``. Datetime states (version 4)
    are refused: they are not plain data.
    """
    if not (isinstance(state, tuple) and len(state) == 8 and state[0] == 3):
        raise pickle.UnpicklingError(f"unexpected numpy dtype state {str(state)[:80]}")
    try:
        for cand in _dtype_candidates(inst, state):
            cls, args, cand_state = cand.__reduce__()
            if _same(args, inst.__reduce__()[1]) and _same(cand_state, state):
                return
    except (TypeError, ValueError, KeyError, IndexError, OverflowError, MemoryError):
        pass
    raise pickle.UnpicklingError(f"numpy dtype state {str(state)[:80]} is not one numpy writes for {inst}")


class RestrictedUnpickler(pickle._Unpickler):
    """An unpickler that resolves only :data:`ALLOWED_GLOBALS` and lets only numpy arrays and
    dtypes take state.

    It extends pickle's pure-Python unpickler, not the C one: the C unpickler keeps its memo in an
    array as long as the largest index a file names, so a five-byte ``LONG_BINPUT 671757106``
    allocated 10 GB (seen in fuzzing); the Python one keeps a dict. It also lets BUILD be checked.
    """

    dispatch = dict(pickle._Unpickler.dispatch)

    def find_class(self, module: str, name: str) -> Any:
        # Protocol 0-2 files use Python 2 names (``__builtin__.xrange``); translate them the way
        # pickle's fix_imports does *before* checking, so the allow-list only holds Python 3 names.
        py3 = _compat_pickle.NAME_MAPPING.get((module, name))
        canonical, attr = py3 if py3 else (_compat_pickle.IMPORT_MAPPING.get(module, module), name)
        if (canonical, attr) not in ALLOWED_GLOBALS:
            raise RefusedGlobal(module, name)
        return _guard(canonical, attr, super().find_class(canonical, attr))

    def persistent_load(self, pid: Any) -> Any:
        # torch.save and similar point at storages through persistent ids: not plain data.
        raise pickle.UnpicklingError("persistent ids (e.g. torch storages) are not plain data")

    def load_build(self) -> None:
        # Real pickles of the allowed types BUILD only numpy arrays (whose __setstate__ checks the
        # data against shape and dtype) and dtypes (checked here first).
        state = self.stack.pop()
        inst = self.stack[-1]
        if isinstance(inst, np.dtype):
            _check_dtype_state(inst, state)
        elif type(inst) is not np.ndarray:
            raise pickle.UnpicklingError(f"a {type(inst).__name__} cannot take state (BUILD)")
        inst.__setstate__(state)

    dispatch[pickle.BUILD[0]] = load_build

    def load_bytearray8(self) -> None:
        # pickle's version allocates the length the file names before reading (4 GB for a flipped
        # bit); reading first bounds memory by the bytes that are really there.
        (size,) = struct.unpack("<Q", self.read(8))
        data = self.read(size)
        if len(data) != size:
            raise pickle.UnpicklingError(f"BYTEARRAY8 of {size} bytes is cut short at {len(data)}")
        self.append(bytearray(data))

    dispatch[pickle.BYTEARRAY8[0]] = load_bytearray8


def safe_load(source: str | os.PathLike | bytes | bytearray | memoryview, *, name: str | None = None) -> Any:
    """Unpickle a file (or bytes) that may hold only containers, numbers, strings and numpy data.

    Args:
        source: a path, or the pickled bytes themselves.
        name: what error messages call the source; defaults to the path, or ``"<bytes>"``.
    Returns:
        The unpickled object.
    Raises:
        SignlibError: ``"<file>: refused to unpickle global os.system ..."`` for a disallowed
            global (nothing it names is called), or ``"<file>: not a readable pickle ..."`` for a
            missing, truncated or corrupt file.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        label = name or "<bytes>"
        data = bytes(source)
    else:
        label = name or os.fspath(source)
        try:
            data = Path(source).read_bytes()
        except OSError as e:
            raise file_error(label, f"cannot read file ({e.strerror or e})") from None
    try:
        with warnings.catch_warnings():
            # numpy deprecation notices about what an old file names (e.g. dtype alias 'a') are not
            # the user's problem and would only clutter a notebook.
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.simplefilter("ignore", np.exceptions.VisibleDeprecationWarning)
            obj = RestrictedUnpickler(io.BytesIO(data)).load()
    except RefusedGlobal as e:
        raise file_error(label, f"refused to unpickle global {e.qualname} (only containers, numbers, "
                                "strings and numpy arrays are allowed; data files must not run code)") from None
    except TooLarge as e:
        raise file_error(label, f"refused to unpickle: {e}") from None
    except SignlibError:
        raise
    # A corrupt stream can fail in many ways (bad opcode, EOF, a wrong-typed argument handed to an
    # allowed constructor, an unknown codec named to _codecs.encode); all mean the same to the user.
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError,
            LookupError, MemoryError, OverflowError, UnicodeError, ImportError, RecursionError, struct.error) as e:
        raise file_error(label, f"not a readable pickle ({type(e).__name__}: {str(e)[:200]})") from None
    giant = _zero_size_giant(obj)
    if giant:
        raise file_error(label, f"refused to unpickle: {giant}, over the limit of {MAX_CLAIMED}")
    return obj
