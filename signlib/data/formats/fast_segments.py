"""FAST sign segmentation output: ``segments.pt``.

The FAST segmenter (as shipped with signlangtk) saves its predicted sign spans with ``torch.save``;
its exact on-disk structure is not published, so signlib defines it as follows, using only types
that ``torch.load(..., weights_only=True)`` accepts (no pickled classes, so loading is safe)::

    {
        "<clip id>": {
            "segments": LongTensor (N, 2),   # (start, end) frames, end exclusive, start < end
            "glosses": list[str] (N,),       # optional: a label per segment
            "scores": FloatTensor (N,),      # optional: segment confidence
            "fps": float,                    # optional: frame rate the frames refer to
        },
        ...
    }

:func:`read_segments` returns the same structure, normalised (int64 / float32 tensors, a list of
str, a float), and :func:`to_segments` turns one entry into :class:`signlib.data.Segment` records.
"""

from __future__ import annotations

import math
import os
import warnings
import zipfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import torch

from signlib.data.sequence import Segment
from signlib.errors import file_error
from signlib.io import write_torch

ENTRY_KEYS = ("segments", "glosses", "scores", "fps")


def _as_tensor(value: Any, what: str, path) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    try:
        return torch.as_tensor(np.asarray(value))
    except (TypeError, ValueError, RuntimeError):
        raise file_error(path, f"{what} is not an array (got {type(value).__name__})") from None


def _check_entry(clip: Any, entry: Any, path) -> dict:
    """Validate one clip's entry and return it normalised."""
    if not isinstance(clip, str):
        raise file_error(path, f"clip ids must be strings, got {type(clip).__name__} {clip!r}")
    if not isinstance(entry, Mapping):
        raise file_error(path, f"clip {clip!r}: entry is a {type(entry).__name__}, expected a dict with 'segments'")
    unknown = [k for k in entry if k not in ENTRY_KEYS]
    if unknown:
        raise file_error(path, f"clip {clip!r}: unknown key {unknown[0]!r} (allowed: {', '.join(ENTRY_KEYS)})")
    if "segments" not in entry:
        raise file_error(path, f"clip {clip!r}: missing key 'segments'")
    seg = _as_tensor(entry["segments"], f"clip {clip!r}: 'segments'", path)
    if seg.numel() == 0:
        seg = torch.zeros((0, 2), dtype=torch.int64)  # [] arrives as float64; empty is empty
    integer = not (seg.dtype.is_floating_point or seg.dtype.is_complex or seg.dtype == torch.bool)
    if seg.ndim != 2 or seg.shape[1] != 2 or not integer:
        raise file_error(path, f"clip {clip!r}: 'segments' must be an integer (N, 2) tensor, "
                               f"got {seg.dtype} {tuple(seg.shape)}")
    seg = seg.to(torch.int64)
    if len(seg) and ((seg[:, 0] < 0).any() or (seg[:, 1] <= seg[:, 0]).any()):
        bad = seg[(seg[:, 0] < 0) | (seg[:, 1] <= seg[:, 0])][0].tolist()
        raise file_error(path, f"clip {clip!r}: segment {bad} is not 0 <= start < end")
    out: dict = {"segments": seg}
    n = len(seg)
    if "glosses" in entry:
        glosses = entry["glosses"]
        if not isinstance(glosses, (list, tuple)) or not all(isinstance(g, str) for g in glosses) or len(glosses) != n:
            raise file_error(path, f"clip {clip!r}: 'glosses' must be a list of {n} strings")
        out["glosses"] = list(glosses)
    if "scores" in entry:
        scores = _as_tensor(entry["scores"], f"clip {clip!r}: 'scores'", path)
        if tuple(scores.shape) != (n,) or not scores.dtype.is_floating_point or not torch.isfinite(scores).all():
            raise file_error(path, f"clip {clip!r}: 'scores' must be a finite float ({n},) tensor, "
                                   f"got {scores.dtype} {tuple(scores.shape)}")
        out["scores"] = scores.to(torch.float32)
    if "fps" in entry:
        fps = entry["fps"]
        fps = fps.item() if isinstance(fps, torch.Tensor) and fps.numel() == 1 else fps
        try:
            ok = not isinstance(fps, bool) and isinstance(fps, (int, float)) and math.isfinite(fps) and fps > 0
        except OverflowError:  # an integer too large for a float
            ok = False
        if not ok:
            raise file_error(path, f"clip {clip!r}: 'fps' must be a positive number, got {str(fps)[:40]}")
        out["fps"] = float(fps)
    return out


def _check(mapping: Any, path) -> dict[str, dict]:
    if not isinstance(mapping, Mapping):
        raise file_error(path, f"holds a {type(mapping).__name__}, expected a dict of clip id -> segments")
    return {clip: _check_entry(clip, entry, path) for clip, entry in mapping.items()}


def _check_archive(path: Path) -> None:
    """Refuse what torch would trust: a file that is no zip archive starting with a zip header (the
    legacy pre-1.6 format, whose reader allocates lengths read from the file, or junk), or a zip
    directory that claims members larger than the file holds."""
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            magic = fh.read(4)
        with zipfile.ZipFile(path) as zf:
            members = zf.infolist()
    except FileNotFoundError:
        raise file_error(path, "no such file") from None
    except IsADirectoryError:
        raise file_error(path, "is a directory, not a segments.pt file") from None
    except OSError as e:
        raise file_error(path, f"cannot read file ({e.strerror or e})") from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, UnicodeError, OverflowError,
            NotImplementedError) as e:
        raise file_error(path, f"not a readable segments.pt (not a torch.save zip archive: {e})") from None
    # zipfile finds an archive from its end, torch by its first bytes: without them torch takes its
    # legacy path, where a damaged length field is allocated before it is read (335 MB, seen).
    if magic != b"PK\x03\x04":
        raise file_error(path, "not a readable segments.pt (not a torch.save zip archive: it does not start "
                               "with a zip header)")
    for m in members:
        # torch.save stores members uncompressed, so sizes are exact and bounded by the file.
        if m.compress_type != zipfile.ZIP_STORED or m.file_size != m.compress_size \
                or m.header_offset + m.file_size > size:
            raise file_error(path, f"not a readable segments.pt (archive member {m.filename[:60]!r} claims "
                                   f"{m.file_size} bytes, which the {size}-byte file does not hold as torch stores them)")


def read_segments(path: str | os.PathLike) -> dict[str, dict]:
    """Read a ``segments.pt`` file (safely: ``weights_only=True``) and validate it.

    Returns:
        ``{clip id: {"segments": int64 (N, 2), optional "glosses", "scores" float32 (N,), "fps"}}``.
    Raises:
        SignlibError: naming the file when it is missing, not a torch zip archive (or one whose
            directory claims more than the file holds), holds other objects than the structure
            above, or has bad shapes.
    """
    path = Path(path)
    _check_archive(path)
    try:
        with warnings.catch_warnings():
            # A damaged pickle header reads as "protocol 157" and torch warns before failing.
            warnings.simplefilter("ignore", UserWarning)
            mapping = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise file_error(path, "no such file") from None
    # torch's weights-only unpickler raises whatever a damaged stream provokes (UnpicklingError,
    # RuntimeError, struct.error, IndexError from an empty stack, AssertionError ...); it runs no
    # code from the file, so every failure means one thing to the user.
    except Exception as e:  # noqa: BLE001
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise file_error(path, f"not a readable segments.pt (torch.load with weights_only=True failed: "
                               f"{first})") from None
    return _check(mapping, path)


def write_segments(path: str | os.PathLike, mapping: Mapping[str, Mapping[str, Any]]) -> None:
    """Validate ``mapping`` and ``torch.save`` it atomically (an old file survives a failure).

    ``segments`` / ``scores`` may be tensors, numpy arrays or nested lists.
    """
    clean = _check(mapping, path)
    write_torch(path, clean)  # byte-identical for the same segments (see signlib.io.write_torch)


def to_segments(entry: Mapping[str, Any]) -> tuple[Segment, ...]:
    """One validated entry → :class:`Segment` records (gloss ``""`` when the entry has none)."""
    glosses = entry.get("glosses") or [""] * len(entry["segments"])
    return tuple(Segment(int(a), int(b), g) for (a, b), g in zip(entry["segments"].tolist(), glosses))
