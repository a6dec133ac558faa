"""Atomic file output: nothing already written is lost when a write fails half-way.

Every writer in signlib goes through :func:`atomic_path` (or the helpers built on it): data is
written to a temporary file in the destination folder and moved over the target with
``os.replace``, which is atomic on POSIX and Windows. A crash, a full disk, an exception while
encoding or a ``SIGKILL`` leaves the previous file untouched.

A killed process never runs its cleanup, so its temporary file stays behind. Temporary files are
therefore named so that no reader can mistake them for data: ``.<name>.<8 hex>.partial``, hidden
and ending in ``.partial`` whatever the target's suffix, so globs such as ``*.npz`` or
``clips/*.pose`` never match them. :func:`remove_partials` deletes such leftovers.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import re
from pathlib import Path
from typing import Any, Iterator

from signlib.errors import file_error

PARTIAL = ".partial"  # ending of every temporary file, and name of the folder for suffixed ones


def _create_unique(folder: Path, prefix: str, ending: str) -> Path:
    """Create an empty, new file ``<prefix><8 hex><ending>`` in ``folder`` and return its path.

    Not ``tempfile.mkstemp``: that creates the file with mode 0600, which ``os.replace`` would
    carry over to the target; ``os.open`` with 0o666 lets the umask decide, as for any new file.
    """
    for _ in range(100):
        candidate = folder / f"{prefix}{os.urandom(4).hex()}{ending}"
        try:
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return candidate
    raise file_error(folder, f"cannot create a temporary file {prefix}*{ending}")


def _fsync(path: Path, directory: bool = False) -> None:
    """Flush a file's data, or a folder's entries (a rename), from the OS cache to the disk."""
    if directory and os.name != "posix":  # Windows cannot open a folder; its renames are journaled
        return
    # A file is opened for writing: Windows flushes only handles with write access.
    fd = os.open(path, os.O_RDONLY if directory else os.O_RDWR | getattr(os, "O_BINARY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _refuse_renamed_output(tmp: Path, target: Path) -> None:
    """Fail when the writer wrote beside ``tmp`` instead of into it.

    ``numpy.save`` and some other writers append an extension when the name lacks theirs; the
    data then lands in ``<tmp>.npy`` and an empty ``tmp`` would replace the target. Only an empty
    ``tmp`` is checked, so ordinary writes pay for no folder listing.
    """
    if tmp.stat().st_size:
        return
    strays = sorted(tmp.parent.glob(glob.escape(tmp.name) + ".*"))
    for stray in strays:
        stray.unlink()
    if strays:
        raise file_error(target, f"the writer added an extension to the temporary file ({strays[0].name}); "
                                 "write to an open file object, or pass atomic_path(..., suffix=...)")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None, *, durable: bool = False) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it over ``path``.

    The temporary file is ``.<name>.<8 hex>.partial`` in the target's folder (see the module
    docstring). ``suffix`` is for libraries that choose the format or append an extension from the
    file name (imageio, ``numpy.save`` with a path): the temporary file then ends in ``suffix``
    and lies in a hidden ``.partial/`` folder beside the target, so flat globs still never match
    it (recursive globs must skip hidden folders). Writing to an open file object is simpler
    where the library accepts one.

    ``durable=True`` also fsyncs the file before the move and the folder after it, so the new
    file survives a power cut, not only a killed process (worth it for checkpoints; costly for
    thousands of small files).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix is None:
        tmp = _create_unique(path.parent, f".{path.name}.", PARTIAL)
    else:
        (path.parent / PARTIAL).mkdir(exist_ok=True)
        tmp = _create_unique(path.parent / PARTIAL, f".{path.name}.", suffix)
    try:
        yield tmp
        _refuse_renamed_output(tmp, path)
        if durable:
            _fsync(tmp)
        os.replace(tmp, path)
        if durable:
            _fsync(path.parent, directory=True)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if suffix is not None:
            with contextlib.suppress(OSError):  # another writer's file may still be in there
                tmp.parent.rmdir()


def remove_partials(path: str | os.PathLike) -> list[Path]:
    """Delete the temporary files that killed writes of ``path`` left behind; return them.

    Only call this when no other process is writing ``path`` at the same time: its temporary
    file would go too, and its write would fail.
    """
    path = Path(path)
    name = re.escape(path.name)
    beside = re.compile(rf"\.{name}\.[0-9a-f]{{8}}{re.escape(PARTIAL)}")
    inside = re.compile(rf"\.{name}\.[0-9a-f]{{8}}.*")
    found = [p for p in path.parent.glob(f".{glob.escape(path.name)}.*") if beside.fullmatch(p.name)]
    found += [p for p in (path.parent / PARTIAL).glob(f".{glob.escape(path.name)}.*") if inside.fullmatch(p.name)]
    for stale in found:
        with contextlib.suppress(FileNotFoundError):
            stale.unlink()
    with contextlib.suppress(OSError):
        (path.parent / PARTIAL).rmdir()
    return found


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_torch(path: str | os.PathLike, obj: Any, durable: bool = False) -> None:
    """``torch.save(obj)`` to ``path`` atomically (``durable``: fsynced, for checkpoints).

    Through an open file, not a path: ``torch.save`` names the records inside the archive after
    the file it writes, and the temporary file's random name would make equal objects differ in
    bytes (and in DVC hash) on every save."""
    import torch

    with atomic_path(path, durable=durable) as tmp, open(tmp, "wb") as fh:
        torch.save(obj, fh)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically."""
    write_bytes(path, text.encode("utf-8"))


def csv_text(rows: list[dict]) -> str:
    """Rows (dicts with the same keys) → CSV text with a header line."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buf.getvalue()


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Write ``obj`` as indented, key-sorted JSON (stable diffs, stable DVC hashes)."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """JSON from ``path``; a missing or malformed file is a one-line error naming it."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise file_error(path, "not found") from None
    except IsADirectoryError:
        raise file_error(path, "is a folder, not a JSON file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise file_error(path, f"not valid JSON ({type(err).__name__})") from None
    except OSError as err:
        raise file_error(path, f"cannot be read ({type(err).__name__}: {err.strerror or err})") from None


def read_yaml_mapping(path: str | os.PathLike, missing: str = "file not found") -> dict:
    """A YAML file that must hold a mapping; errors name the file (``missing`` says what to do
    when it does not exist). Read with ``yaml.safe_load``: a YAML file never builds objects."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise file_error(path, missing) from None
    except IsADirectoryError:
        raise file_error(path, "is a folder, not a YAML file") from None
    except (yaml.YAMLError, UnicodeDecodeError) as err:  # YAML files are UTF-8, like every text we write
        raise file_error(path, f"not valid YAML ({type(err).__name__})") from None
    except (ValueError, OverflowError, RecursionError) as err:  # PyYAML's bad escapes, deep nesting
        raise file_error(path, f"not valid YAML ({type(err).__name__})") from None
    except OSError as err:
        raise file_error(path, f"cannot be read ({type(err).__name__}: {err.strerror or err})") from None
    if raw is None:
        raise file_error(path, "is empty (or only comments): it must hold a mapping")
    if not isinstance(raw, dict):
        raise file_error(path, "must hold a mapping")
    return raw


def write_npz(path: str | os.PathLike, arrays: dict[str, Any], compress: bool = True) -> None:
    """Write ``arrays`` as an ``.npz`` atomically and byte-for-byte reproducibly.

    ``numpy.savez`` stamps every member with the current time, so the same data gives different
    files; here every member gets a fixed timestamp and a fixed order, so the same seed gives
    byte-identical corpora (and stable DVC hashes). Readable with ``numpy.load``.
    """
    import zipfile

    import numpy as np

    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    # zipfile writes whatever the name, so the temporary file needs no .npz suffix (and must not
    # have one: a killed write would leave a file that matches "*.npz").
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=method) as zf:
            for name, value in arrays.items():
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = method
                with zf.open(info, "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, np.asanyarray(value), allow_pickle=False)
