"""ELAN ``.eaf`` annotation files: sign (gloss) tiers read and written through ``pympi-ling``.

A tier is a list of ``(start_ms, end_ms, value)`` annotations, sorted by time. Reference tiers
(annotations that point at a parent's) get their parent's times.

Milliseconds ↔ frames: frame ``i`` spans ``[i, i + 1) / fps`` seconds, and a time maps to the
nearest frame boundary, ``frame = floor(ms * fps / 1000 + 0.5)`` (halves round up), for both the
start and the (exclusive) end. A sign shorter than half a frame still keeps one frame. Frames → ms
uses the same rule, so ``frames → ms → frames`` is exact for any fps under 1000.

Writing goes through :func:`signlib.io.write_bytes` (atomic) with a fixed document date, so the
same tiers always give the same bytes (stable DVC hashes).
"""

from __future__ import annotations

import contextlib
import io
import math
import mimetypes
import os
import warnings
from pathlib import Path
from typing import Iterable, Mapping

from pympi import Elan

from signlib.data.sequence import Segment
from signlib.errors import SignlibError, file_error
from signlib.io import write_bytes

Annotation = tuple[int, int, str]  # (start_ms, end_ms, value)
_DATE = "1970-01-01T00:00:00+00:00"  # fixed, for reproducible bytes (ELAN requires a dateTime)


def ms_to_frame(ms: float, fps: float) -> int:
    """The frame boundary nearest to ``ms`` (halves round up)."""
    return int(math.floor(ms * fps / 1000.0 + 0.5))


def frame_to_ms(frame: int, fps: float) -> int:
    """The millisecond nearest to frame boundary ``frame`` (halves round up)."""
    return int(math.floor(frame * 1000.0 / fps + 0.5))


# ---------------------------------------------------------------- reading


def _load(path: Path) -> Elan.Eaf:
    if not path.is_file():
        raise file_error(path, "no such file" if not path.exists() else "is not a file")
    try:
        # pympi warns on unknown EAF versions and reads "-" as stdin; an absolute path avoids the
        # latter, and SystemExit is caught too so a library exit can never end a notebook kernel.
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return Elan.Eaf(str(path.resolve()), suppress_version_warning=True)
    except (Exception, SystemExit) as e:
        if isinstance(e, KeyError):
            what = f"not an ELAN document: missing element or attribute {e}"
        elif type(e) is Exception and "parse" in str(e):  # pympi's wrapper of an XML ParseError
            what = "not well-formed XML"
        else:
            what = f"{type(e).__name__}: {e}"
        raise file_error(path, f"not a readable ELAN .eaf file ({what})") from None


def _tier(eaf: Elan.Eaf, path: Path, tier: str) -> list[Annotation]:
    if tier not in eaf.tiers:
        raise file_error(path, f"no tier {tier!r}; tiers are {sorted(eaf.tiers)}")
    try:
        rows = eaf.get_annotation_data_for_tier(tier)
    except (Exception, SystemExit) as e:  # a slot or parent annotation that does not exist
        raise file_error(path, f"tier {tier!r}: an annotation refers to a missing time slot or parent ({e})") from None
    out = []
    for row in rows:
        start, end, value = row[0], row[1], row[2]
        if start is None or end is None:
            raise file_error(path, f"tier {tier!r}: annotation {value!r} has a time slot without a time value")
        if end < start:
            raise file_error(path, f"tier {tier!r}: annotation {value!r} ends ({end} ms) before it starts ({start} ms)")
        out.append((int(start), int(end), "" if value is None else str(value)))
    return sorted(out)


def read_eaf(path: str | os.PathLike, tiers: Iterable[str] | None = None) -> dict[str, list[Annotation]]:
    """``{tier: [(start_ms, end_ms, value), ...]}`` for ``tiers`` (default: every tier), in time order."""
    path = Path(path)
    eaf = _load(path)
    names = list(eaf.tiers) if tiers is None else list(tiers)
    return {name: _tier(eaf, path, name) for name in names}


def eaf_segments(path: str | os.PathLike, tier: str, fps: float,
                 num_frames: int | None = None) -> list[Segment]:
    """Tier ``tier`` as frame :class:`~signlib.data.Segment` s (end exclusive, see module doc).

    With ``num_frames``, ends are clipped to the clip; an annotation starting at or after its end
    is an error (the ``.eaf`` belongs to another, longer clip or the fps is wrong).
    """
    if not (math.isfinite(fps) and fps > 0):
        raise SignlibError(f"fps must be positive, got {fps}")
    path = Path(path)
    segments = []
    for start_ms, end_ms, value in _tier(_load(path), path, tier):
        start = ms_to_frame(start_ms, fps)
        end = max(ms_to_frame(end_ms, fps), start + 1)
        if num_frames is not None:
            if start >= num_frames:
                raise file_error(path, f"tier {tier!r}: {value!r} starts at {start_ms} ms, after the "
                                       f"{num_frames} frames ({num_frames / fps:.2f} s at {fps} fps) of the clip")
            end = min(end, num_frames)
        segments.append(Segment(start, end, value))
    return segments


# ---------------------------------------------------------------- writing


def _checked(path: Path, tiers: Mapping[str, Iterable]) -> dict[str, list[Annotation]]:
    """Validate before anything is written: integer ms, ``0 <= start < end``, string values."""
    out = {}
    for name, rows in tiers.items():
        if not isinstance(name, str) or not name.strip():
            raise file_error(path, f"tier names must be non-empty strings, got {name!r}")
        clean = []
        for row in rows:
            try:
                start, end, value = row
                start_i, end_i = int(start), int(end)
                if start_i != start or end_i != end:
                    raise ValueError
            except (TypeError, ValueError):
                raise file_error(path, f"tier {name!r}: {row!r} is not (start_ms, end_ms, value) "
                                       "with whole milliseconds") from None
            if not 0 <= start_i < end_i:
                raise file_error(path, f"tier {name!r}: annotation {value!r} needs 0 <= start < end, "
                                       f"got {start_i}–{end_i} ms")
            clean.append((start_i, end_i, str(value)))
        out[name] = sorted(clean)
    return out


def write_eaf(path: str | os.PathLike, tiers: Mapping[str, Iterable],
              media_path: str | os.PathLike | None = None) -> None:
    """Write ``{tier: [(start_ms, end_ms, value), ...]}`` to an ``.eaf`` file atomically.

    ``media_path`` (the video or ``.pose`` the times refer to) is linked as a media descriptor with
    an absolute ``file://`` URL and a path relative to the ``.eaf``, as ELAN itself stores them.
    """
    path = Path(path)
    tiers = _checked(path, tiers)
    eaf = Elan.Eaf(author="signlib")
    eaf.adocument["DATE"] = _DATE
    if "default" not in tiers:
        eaf.remove_tier("default")
    for name, rows in tiers.items():
        if name not in eaf.tiers:
            eaf.add_tier(name)
        for start, end, value in rows:
            eaf.add_annotation(name, start, end, value)
    if media_path is not None:
        media = Path(media_path).resolve()
        mime = mimetypes.guess_type(media.name)[0] or "application/octet-stream"
        rel = os.path.relpath(media, path.resolve().parent)
        eaf.add_linked_file(media.as_uri(), relpath=Path(rel).as_posix(), mimetype=mime)
    try:
        # to_string, not to_eaf: to_eaf renames an existing target to .bak, which would break the
        # atomic replace and leave stray files.
        text = Elan.to_string(eaf)
    except Exception as e:
        raise file_error(path, f"cannot encode ELAN document ({type(e).__name__}: {e})") from None
    write_bytes(path, ('<?xml version="1.0" encoding="UTF-8"?>\n' + text + "\n").encode("utf-8"))


def write_segments_eaf(path: str | os.PathLike, segments: Iterable, fps: float, tier: str = "SIGN",
                       media_path: str | os.PathLike | None = None) -> None:
    """Write frame segments (:class:`~signlib.data.Segment` or ``(start, end, gloss)``) as tier ``tier``."""
    if not (math.isfinite(fps) and fps > 0):
        raise file_error(path, f"fps must be positive, got {fps}")
    rows = []
    for s in segments:
        s = s if isinstance(s, Segment) else Segment(int(s[0]), int(s[1]), str(s[2]) if len(s) > 2 else "")
        rows.append((frame_to_ms(s.start, fps), frame_to_ms(s.end, fps), s.gloss))
    write_eaf(path, {tier: rows}, media_path=media_path)
