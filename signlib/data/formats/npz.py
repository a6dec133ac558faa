"""Reading ``.npz`` archives without trusting what their headers claim.

``numpy.load`` allocates the array an ``.npy`` header describes before it reads any data, so a
corrupt or hostile header (``shape: (10**12,)``) becomes a ``MemoryError`` or gigabytes of address
space, a member that is not an ``.npy`` comes back as raw ``bytes``, and a broken header surfaces
as a tokenizer error from deep inside numpy. :func:`read_npz` checks each member before reading it:

- the archive must open as a zip, every member must be ``<name>.npy``, names must be unique;
- the ``.npy`` header (format 1.0 or 2.0, at most 10 000 bytes) must parse and describe a plain
  bool, integer, float, bytes or unicode dtype (no objects: loading those would unpickle, no
  structured or zero-size dtypes) and a shape of non-negative sizes;
- the bytes the header claims must equal the bytes the zip directory says the member holds, and
  stay under :data:`MAX_MEMBER_BYTES`;
- the data is then read in bounded chunks and must be exactly that long (a cut member or a
  bad CRC is an error), so memory never exceeds what the file really holds;
- unicode arrays must hold valid code points.

Every failure is one :class:`~signlib.errors.SignlibError` naming the file and the member.
"""

from __future__ import annotations

import math
import os
import struct
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from signlib.errors import SignlibError, file_error

#: Largest member accepted (2 GiB): a 30 000-frame clip of 246 float32 features is 30 MB.
MAX_MEMBER_BYTES = 2**31
_KINDS = "biufSU"  # bool, signed / unsigned integers, floats, bytes, unicode
_CHUNK = 1 << 20
_NPY_MAGIC = b"\x93NUMPY"
# What zipfile and zlib raise for a damaged archive (a cut directory, a bad CRC, an unknown
# compression method, an encrypted member, an undecodable name ...).
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError, struct.error,
               NotImplementedError, RuntimeError, UnicodeError, OverflowError)
# What numpy's header parser raises for a damaged header (it tokenizes and literal-evals it).
_HEADER_ERRORS = (ValueError, TypeError, SyntaxError, tokenize.TokenError, UnicodeError, KeyError,
                  OverflowError, RecursionError, MemoryError)


def _why(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return f"{type(e).__name__}: {text[:200]}" if text else type(e).__name__


def _open(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise file_error(path, "file not found") from None
    except IsADirectoryError:
        raise file_error(path, "is a directory, not an .npz file") from None
    except OSError as e:
        raise file_error(path, f"cannot read file ({e.strerror or e})") from None
    except _ZIP_ERRORS as e:
        try:
            with open(path, "rb") as fh:
                single = fh.read(len(_NPY_MAGIC)) == _NPY_MAGIC
        except OSError:
            single = False
        if single:
            raise file_error(path, "holds a single array (.npy), not an .npz archive of named arrays") from None
        raise file_error(path, f"not a readable .npz (zip) archive ({_why(e)})") from None


def _header(fh, path: Path, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    try:
        version = np.lib.format.read_magic(fh)
        read = readers.get(version)
        if read is not None:
            shape, fortran, dtype = read(fh)
    except _HEADER_ERRORS as e:
        raise file_error(path, f"{where}: not a valid .npy header ({_why(e)})") from None
    if read is None:
        raise file_error(path, f"{where}: unsupported .npy format version {version}")
    if dtype.hasobject:
        raise file_error(path, f"{where} is an object array (refused: loading it would unpickle code)")
    if dtype.kind not in _KINDS or dtype.fields is not None or dtype.subdtype is not None or dtype.itemsize == 0:
        raise file_error(path, f"{where} has dtype {dtype}; expected a plain bool, number or string array")
    if any(n < 0 for n in shape):
        raise file_error(path, f"{where} has a negative size in its shape {shape}")
    return shape, fortran, dtype


def _read_exactly(fh, size: int, path: Path, where: str) -> bytearray:
    """``size`` bytes of ``fh`` in chunks, so a lying size costs only the bytes that really exist."""
    data = bytearray()
    while len(data) < size:
        chunk = fh.read(min(_CHUNK, size - len(data)))
        if not chunk:
            raise file_error(path, f"{where} is cut short: {len(data)} of {size} data bytes")
        data += chunk
    if fh.read(1):  # also makes zipfile reach the end of the member and check its CRC
        raise file_error(path, f"{where} has bytes after its {size} data bytes")
    return data


def _member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, limit: int) -> np.ndarray:
    where = f"member {info.filename!r}"
    with zf.open(info) as fh:
        shape, fortran, dtype = _header(fh, path, where)
        count = math.prod(shape)  # Python ints: no overflow, whatever the header says
        claimed, held = count * dtype.itemsize, info.file_size - fh.tell()
        if claimed > limit:
            raise file_error(path, f"{where}: its header claims {claimed} bytes (shape {shape} of {dtype}), "
                                   f"over the limit of {limit}")
        if claimed != held:
            raise file_error(path, f"{where}: its header claims shape {shape} of {dtype} ({claimed} bytes) "
                                   f"but the member holds {held} data bytes")
        data = _read_exactly(fh, claimed, path, where)
    array = np.frombuffer(data, dtype=dtype, count=count).reshape(shape, order="F" if fortran else "C")
    if dtype.kind == "U" and count:
        codes = np.frombuffer(data, dtype=dtype.byteorder + "u4")
        if codes.max() > 0x10FFFF:
            raise file_error(path, f"{where} holds characters that are not valid unicode")
    return array


def read_npz(path: str | os.PathLike, *, max_member_bytes: int = MAX_MEMBER_BYTES) -> dict[str, np.ndarray]:
    """Every array of an ``.npz`` archive, ``{name: array}``, after the checks in the module doc."""
    path = Path(path)
    with _open(path) as zf:
        arrays: dict[str, np.ndarray] = {}
        try:
            for info in zf.infolist():
                name = info.filename[:-4]
                if not info.filename.endswith(".npy") or not name:
                    raise file_error(path, f"member {info.filename!r} is not an .npy array")
                if name in arrays:
                    raise file_error(path, f"member {info.filename!r} appears twice")
                arrays[name] = _member(zf, info, path, max_member_bytes)
        except SignlibError:
            raise
        except _ZIP_ERRORS as e:
            raise file_error(path, f"damaged .npz archive ({_why(e)})") from None
        except OSError as e:
            raise file_error(path, f"cannot read file ({e.strerror or e})") from None
    return arrays
