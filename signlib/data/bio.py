"""Per-frame BIO labels, their conventions, and BIO ↔ segments.

signlib stores the FAST/SignSparK convention ``O=0, I=1, B=2``. Converters translate to and
from the two sign-language-segmentation conventions:

====================  ===  ===  ===  ===
convention            UNK  O    B    I
====================  ===  ===  ===  ===
``fast`` (signlib)    –    0    2    1
``sls2023``           –    0    1    2
``sls2026``           0    1    2    3
====================  ===  ===  ===  ===

Segments are ``(start, end)`` frame pairs with ``end`` exclusive.
"""

from __future__ import annotations

import numpy as np

from signlib.errors import SignlibError

O, I, B = 0, 1, 2  # the FAST convention used everywhere inside signlib
UNK = -1  # unknown frames (sls2026 label 0) while in signlib's convention

#: label value of O, B, I (and UNK) in each convention.
CONVENTIONS = {
    "fast": {"O": 0, "I": 1, "B": 2},
    "sls2023": {"O": 0, "B": 1, "I": 2},
    "sls2026": {"UNK": 0, "O": 1, "B": 2, "I": 3},
}
_SIGNLIB = {"O": O, "I": I, "B": B, "UNK": UNK}


def _table(convention: str) -> dict[str, int]:
    try:
        return CONVENTIONS[convention]
    except KeyError:
        raise SignlibError(f"unknown BIO convention {convention!r}; known: {', '.join(CONVENTIONS)}") from None


def to_fast(labels, convention: str) -> np.ndarray:
    """Labels ``(T,)`` in ``convention`` → FAST convention ``(T,)`` int8 (UNK → -1)."""
    table = _table(convention)
    labels = np.asarray(labels)
    out = np.full(labels.shape, -2, dtype=np.int8)
    for name, value in table.items():
        out[labels == value] = _SIGNLIB[name]
    if (out == -2).any():
        bad = sorted(set(np.unique(labels[out == -2]).tolist()))
        raise SignlibError(f"labels {bad} are not valid in the {convention!r} BIO convention {table}")
    return out


def from_fast(labels, convention: str) -> np.ndarray:
    """FAST-convention labels ``(T,)`` → ``convention`` ``(T,)`` int8.

    UNK (-1) frames have no value outside ``sls2026``; converting them elsewhere is an error.
    """
    table = _table(convention)
    labels = np.asarray(labels)
    out = np.full(labels.shape, -2, dtype=np.int8)
    for name, value in _SIGNLIB.items():
        if name in table:
            out[labels == value] = table[name]
    if (out == -2).any():
        bad = sorted(set(np.unique(labels[out == -2]).tolist()))
        raise SignlibError(f"FAST labels {bad} cannot be written in the {convention!r} convention")
    return out


def convert(labels, source: str, target: str) -> np.ndarray:
    """Labels from one convention to another."""
    return from_fast(to_fast(labels, source), target)


def segments_to_bio(segments, num_frames: int) -> np.ndarray:
    """``[(start, end), ...]`` (end exclusive) → FAST labels ``(T,)``: B on the first frame, I after."""
    bio = np.zeros(num_frames, dtype=np.int8)
    for start, end in segments:
        start, end = int(start), int(end)
        if not 0 <= start < end <= num_frames:
            raise SignlibError(f"segment ({start}, {end}) is outside a sequence of {num_frames} frames")
        bio[start:end] = I
        bio[start] = B
    return bio


def bio_to_segments(bio, split_on_b: bool = True) -> list[tuple[int, int]]:
    """FAST labels ``(T,)`` → segments ``[(start, end), ...]``, end exclusive.

    ``split_on_b=True``: every B starts a new segment (ground truth, where signs can touch).
    ``split_on_b=False``: the SignSparK decoding convention, a segment is a maximal run of non-O
    frames and a B inside the run does not split it. UNK frames count as O.
    """
    bio = np.asarray(bio)
    segments: list[tuple[int, int]] = []
    start = None
    for t, label in enumerate(bio.tolist()):
        inside = label in (I, B)
        if start is not None and (not inside or (split_on_b and label == B)):
            segments.append((start, t))
            start = None
        if inside and start is None:
            start = t
    if start is not None:
        segments.append((start, len(bio)))
    return segments
