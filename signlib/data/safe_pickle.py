"""Loading pickles that can hold data but never run code.

``pickle.load`` calls whatever callable a file names (``os.system``, ``builtins.eval``, a class's
``__reduce__``), so a downloaded ``.pkl`` is a program, not a data file. :func:`safe_load` uses a
restricted :class:`pickle.Unpickler` whose ``find_class`` resolves only the globals that plain
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
"""

from __future__ import annotations

import _compat_pickle
import io
import os
import pickle
from pathlib import Path
from typing import Any

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


class RestrictedUnpickler(pickle.Unpickler):
    """A :class:`pickle.Unpickler` that resolves only :data:`ALLOWED_GLOBALS`."""

    def find_class(self, module: str, name: str) -> Any:
        # Protocol 0-2 files use Python 2 names (``__builtin__.xrange``); translate them the way
        # pickle's fix_imports does *before* checking, so the allow-list only holds Python 3 names.
        py3 = _compat_pickle.NAME_MAPPING.get((module, name))
        canonical, attr = py3 if py3 else (_compat_pickle.IMPORT_MAPPING.get(module, module), name)
        if (canonical, attr) not in ALLOWED_GLOBALS:
            raise RefusedGlobal(module, name)
        return super().find_class(canonical, attr)

    def persistent_load(self, pid: Any) -> Any:
        # torch.save and similar point at storages through persistent ids: not plain data.
        raise pickle.UnpicklingError("persistent ids (e.g. torch storages) are not plain data")


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
        return RestrictedUnpickler(io.BytesIO(data)).load()
    except RefusedGlobal as e:
        raise file_error(label, f"refused to unpickle global {e.qualname} (only containers, numbers, "
                                "strings and numpy arrays are allowed; data files must not run code)") from None
    except SignlibError:
        raise
    # A corrupt stream can fail in many ways (bad opcode, EOF, a wrong-typed argument handed to an
    # allowed constructor); all of them mean the same thing to the user.
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            KeyError, MemoryError, OverflowError, UnicodeError, ImportError) as e:
        raise file_error(label, f"not a readable pickle ({type(e).__name__}: {e})") from None
