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
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterable, Mapping

from pympi import Elan

from signlib.data.sequence import Segment
from signlib.errors import SignlibError, file_error
from signlib.io import write_bytes

Annotation = tuple[int, int, str]  # (start_ms, end_ms, value)
_DATE = "1970-01-01T00:00:00+00:00"  # fixed, for reproducible bytes (ELAN requires a dateTime)
#: Latest time accepted (2**31 - 1 ms, 24.8 days): later ones are corrupt, not long recordings.
MAX_MS = 2**31 - 1


def ms_to_frame(ms: float, fps: float) -> int:
    """The frame boundary nearest to ``ms`` (halves round up)."""
    return int(math.floor(ms * fps / 1000.0 + 0.5))


def frame_to_ms(frame: int, fps: float) -> int:
    """The millisecond nearest to frame boundary ``frame`` (halves round up)."""
    return int(math.floor(frame * 1000.0 / fps + 0.5))


# ---------------------------------------------------------------- reading


def _slot_problem(path: Path) -> str | None:
    """Why pympi could not read well-formed XML, when a time slot is the cause: pympi turns every
    ``TIME_VALUE`` into an int while parsing and fails without saying which. Names the slot and an
    annotation (with its tier) that uses it, or returns None when the slots look fine."""
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError, ValueError):
        return None
    for slot in root.iter("TIME_SLOT"):
        ts, value = slot.get("TIME_SLOT_ID", ""), slot.get("TIME_VALUE")
        if not any(c.isdigit() for c in ts):
            return f"time slot id {ts[:40]!r} has no number (ELAN ids look like 'ts12')"
        try:
            if value is not None:
                int(value)
            continue
        except ValueError:
            pass
        for tier in root.iter("TIER"):
            for ann in tier.iter("ALIGNABLE_ANNOTATION"):
                if ts in (ann.get("TIME_SLOT_REF1"), ann.get("TIME_SLOT_REF2")):
                    return (f"tier {tier.get('TIER_ID', '?')[:40]!r}: annotation {ann.get('ANNOTATION_ID', '?')[:40]!r} "
                            f"uses time slot {ts[:40]!r}, whose TIME_VALUE {value[:40]!r} is not whole milliseconds")
        return f"time slot {ts[:40]!r} has TIME_VALUE {value[:40]!r}, not whole milliseconds"
    return None


def _load(path: Path) -> Elan.Eaf:
    if not path.is_file():
        raise file_error(path, "no such file" if not path.exists() else "is not a file")
    try:
        # pympi warns on unknown EAF versions and reads "-" as stdin; an absolute path avoids the
        # latter, and SystemExit is caught too so a library exit can never end a notebook kernel.
        # Entity-expansion bombs are stopped by expat itself (2.4+ limits amplification).
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            return Elan.Eaf(str(path.resolve()), suppress_version_warning=True)
    except (Exception, SystemExit) as e:
        if isinstance(e, KeyError):
            what = f"not an ELAN document: missing element or attribute {e}"
        elif type(e) is Exception and "parse" in str(e):  # pympi's wrapper of an XML ParseError
            what = "not well-formed XML"
        elif isinstance(e, IndexError):  # an annotation without its ANNOTATION_VALUE element
            what = "an annotation has no ANNOTATION_VALUE"
        else:
            slot = _slot_problem(path) if isinstance(e, ValueError) else None
            if slot:
                raise file_error(path, slot) from None
            what = f"{type(e).__name__}: {str(e)[:200]}"
        raise file_error(path, f"not a readable ELAN .eaf file ({what})") from None


def _aligned_slots(eaf: Elan.Eaf, path: Path, tier: str, aid: str, ref: str) -> tuple[str, str]:
    """The time slots of the alignable annotation that reference annotation ``aid`` points at,
    directly or through other references. pympi's own walk loops forever on a cycle."""
    seen = {aid}
    while ref not in seen:
        seen.add(ref)
        owner = eaf.tiers.get(eaf.annotations.get(ref))
        if owner is None:
            break
        if ref in owner[0]:
            return owner[0][ref][:2]
        if ref not in owner[1]:
            break
        ref = owner[1][ref][0]
    else:
        raise file_error(path, f"tier {tier!r}: annotation {aid[:40]!r} refers to itself through "
                               f"annotation {ref[:40]!r} (a cycle of references)")
    raise file_error(path, f"tier {tier!r}: annotation {aid[:40]!r} refers to a missing annotation {ref[:40]!r}")


def _ms(eaf: Elan.Eaf, path: Path, tier: str, label: str, slot: str) -> int:
    if slot not in eaf.timeslots:
        raise file_error(path, f"tier {tier!r}: annotation {label} refers to a missing time slot {slot[:40]!r}")
    ms = eaf.timeslots[slot]
    if ms is None:
        raise file_error(path, f"tier {tier!r}: annotation {label} has a time slot without a time value")
    if not 0 <= ms <= MAX_MS:
        raise file_error(path, f"tier {tier!r}: annotation {label} has time {str(ms)[:20]} ms "
                               f"(time slot {slot[:40]!r}); times must be 0 to {MAX_MS} ms")
    return ms


def _tier(eaf: Elan.Eaf, path: Path, tier: str) -> list[Annotation]:
    """``(start_ms, end_ms, value)`` of every annotation of ``tier``: times are whole, non-negative
    milliseconds that do not run backwards; reference annotations take their parent's times."""
    if tier not in eaf.tiers:
        raise file_error(path, f"no tier {tier!r}; tiers are {sorted(eaf.tiers)}")
    aligned, refs = eaf.tiers[tier][0], eaf.tiers[tier][1]
    rows = [(aid, slots[0], slots[1], slots[2]) for aid, slots in aligned.items()]
    rows += [(aid, *_aligned_slots(eaf, path, tier, aid, ref), value) for aid, (ref, value, _, _) in refs.items()]
    out = []
    for aid, slot1, slot2, value in rows:
        value = "" if value is None else str(value)
        label = f"{value[:40]!r}" + (f" ({aid[:40]})" if aid else "")
        start, end = (_ms(eaf, path, tier, label, slot) for slot in (slot1, slot2))
        if end < start:
            raise file_error(path, f"tier {tier!r}: annotation {label} ends ({end} ms) before it starts ({start} ms)")
        out.append((start, end, value))
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
            if not 0 <= start_i < end_i <= MAX_MS:
                raise file_error(path, f"tier {name!r}: annotation {value!r} needs 0 <= start < end <= {MAX_MS}, "
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
