"""Atomic file output: nothing already written is lost when a write fails half-way.

Every writer in signlib goes through :func:`atomic_path` (or the helpers built on it): data is
written to a temporary file in the destination folder and moved over the target with
``os.replace``, which is atomic on POSIX and Windows. A crash, a full disk or an exception while
encoding leaves the previous file untouched.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

from signlib.errors import file_error


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success move it over ``path``.

    ``suffix`` defaults to the target's suffix, because some libraries (numpy, ELAN) choose the
    format or append an extension from the file name.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=suffix if suffix is not None else path.suffix,
                               dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


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
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise file_error(path, f"not valid JSON ({type(err).__name__})") from None


def read_yaml_mapping(path: str | os.PathLike, missing: str = "file not found") -> dict:
    """A YAML file that must hold a mapping; errors name the file (``missing`` says what to do
    when it does not exist). Read with ``yaml.safe_load``: a YAML file never builds objects."""
    import yaml

    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise file_error(path, missing) from None
    except yaml.YAMLError as err:
        raise file_error(path, f"not valid YAML ({type(err).__name__})") from None
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
    with atomic_path(path, suffix=".npz") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=method) as zf:
            for name, value in arrays.items():
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = method
                with zf.open(info, "w", force_zip64=True) as fh:
                    np.lib.format.write_array(fh, np.asanyarray(value), allow_pickle=False)
