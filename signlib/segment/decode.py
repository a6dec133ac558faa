"""Per-frame class probabilities → BIO labels → sign segments (DESIGN.md §7).

Probabilities are ``(T, 3)`` with the columns in FAST order ``O, I, B`` (signlib's label values
``O=0, I=1, B=2``, :mod:`signlib.data.bio`). Labels are ``(T,)`` integers in that convention.
Segments are ``(start, end)`` frame pairs, ``end`` exclusive, in increasing order.

Thresholding (:func:`probs_to_labels`), per frame ``t``:

1. frame ``t`` is *inside* a sign when ``p_I[t] + p_B[t] >= inside_threshold``, else it is ``O``;
2. an inside frame is ``B`` when ``p_B[t] >= b_threshold``, or when it is the first frame of a run
   of inside frames (frame 0, or frame ``t-1`` outside): a sign cannot begin with ``I``;
3. every other inside frame is ``I``.

Inside-ness uses ``p_I + p_B`` rather than the arg-max, so a frame that the model splits between
``I`` and ``B`` (typical near a boundary) still counts as signing.

Segment conventions (:func:`labels_to_segments`, :func:`decode_segments`):

- ``"signspark"``: a segment is a maximal run of non-``O`` frames; a ``B`` inside the run does not
  split it (SignSparK's decoding, robust to spurious ``B`` spikes mid-sign).
- ``"b_splits"``: additionally every ``B`` starts a new segment, so touching signs stay apart; the
  convention of ground truth, and the exact inverse of :func:`signlib.data.bio.segments_to_bio`.

Segments shorter than ``min_length`` frames are dropped afterwards (no re-merging). Labels other
than ``I`` and ``B`` (``O``, ``UNK = -1``, the ignore value ``-100``) count as outside.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signlib import validate
from signlib.data.bio import B, I, O, UNK, bio_to_segments
from signlib.errors import SignlibError

#: The segment conventions :func:`labels_to_segments` understands.
SEGMENT_CONVENTIONS = ("signspark", "b_splits")
#: Label value of frames that carry no label (padding); treated as outside for segments.
IGNORE = -100
#: Label values accepted in a labels array.
VALID_LABELS = (O, I, B, UNK, IGNORE)
# Probabilities from a softmax may overshoot [0, 1] by rounding; anything beyond this is not one.
_PROB_SLACK = 1e-4


def _to_numpy(x) -> np.ndarray:
    """Anything ``np.asarray`` takes, or a torch tensor (detached, copied to the CPU)."""
    if hasattr(x, "detach"):  # torch tensors, without importing torch here
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def check_probs(probs) -> np.ndarray:
    """Validate per-frame probabilities ``(T, 3)`` (columns O, I, B) → float64 ``(T, 3)``."""
    probs = _to_numpy(probs)
    if probs.ndim != 2 or probs.shape[1] != 3:
        raise SignlibError(f"probs must have shape (T, 3) with columns O, I, B; got {probs.shape}")
    if not (np.issubdtype(probs.dtype, np.floating) or np.issubdtype(probs.dtype, np.integer)):
        raise SignlibError(f"probs must be numeric; got dtype {probs.dtype}")
    probs = probs.astype(np.float64)
    if not np.isfinite(probs).all():
        frames = np.flatnonzero(~np.isfinite(probs).all(axis=1))[:5].tolist()
        raise SignlibError(f"probs contain NaN or inf at frames {frames}")
    if probs.size and (probs.min() < -_PROB_SLACK or probs.max() > 1 + _PROB_SLACK):
        # Logits passed by mistake would threshold silently into nonsense; say so instead.
        raise SignlibError(f"probs must lie in [0, 1] (softmax output, not logits); got range "
                           f"[{probs.min():.3g}, {probs.max():.3g}]")
    return probs


def check_labels(labels, name: str = "labels") -> np.ndarray:
    """Validate FAST-convention labels ``(T,)`` → int16 ``(T,)`` (values in :data:`VALID_LABELS`)."""
    labels = _to_numpy(labels)
    if labels.ndim != 1:
        raise SignlibError(f"{name} must have shape (T,); got {labels.shape}")
    if labels.dtype == bool or not (np.issubdtype(labels.dtype, np.integer)
                                    or np.issubdtype(labels.dtype, np.floating)):
        raise SignlibError(f"{name} must be integer labels O=0, I=1, B=2; got dtype {labels.dtype}")
    if np.issubdtype(labels.dtype, np.floating):
        if not np.isfinite(labels).all() or (labels != np.round(labels)).any():
            raise SignlibError(f"{name} must be whole numbers (O=0, I=1, B=2); got non-integer values")
    bad = ~np.isin(labels, VALID_LABELS)
    if bad.any():
        raise SignlibError(f"{name} contain values {sorted(set(labels[bad].tolist()))[:5]}; "
                           f"allowed: O=0, I=1, B=2, UNK=-1, ignore=-100")
    return labels.astype(np.int16)


def _check_threshold(value, name: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise SignlibError(f"{name} must be a number in [0, 1]; got {value!r}") from None
    if not 0.0 <= value <= 1.0:  # also rejects NaN
        raise SignlibError(f"{name} must be in [0, 1]; got {value}")
    return value


def check_convention(convention: str) -> str:
    """``convention`` if it is one of :data:`SEGMENT_CONVENTIONS`, else a SignlibError."""
    if convention not in SEGMENT_CONVENTIONS:
        raise SignlibError(f"unknown segment convention {convention!r}; known: {', '.join(SEGMENT_CONVENTIONS)}")
    return convention


def _check_min_length(min_length) -> int:
    if isinstance(min_length, bool) or not isinstance(min_length, (int, np.integer)) or min_length < 1:
        raise SignlibError(f"min_length must be an integer >= 1; got {min_length!r}")
    return int(min_length)


@dataclass(frozen=True)
class DecodeConfig:
    """How probabilities become segments (``params.yaml``: ``fast.decode``); see the module docstring."""

    convention: str = "signspark"      # signspark (a B inside a run does not split it) | b_splits
    b_threshold: float = 0.5           # p(B) at or above this marks a sign onset
    inside_threshold: float = 0.5      # p(I) + p(B) at or above this is inside a sign
    min_length: int = 1                # shorter predicted segments are dropped (frames)

    def __post_init__(self):
        validate.choice(self, "convention", SEGMENT_CONVENTIONS)
        validate.numbers(self, ("b_threshold", "inside_threshold"), 0.0, 1.0)
        validate.integers(self, ("min_length",))

    def segments(self, probs_or_labels) -> list[tuple[int, int]]:
        """:func:`decode_segments` with these settings."""
        return decode_segments(probs_or_labels, self.convention, self.b_threshold, self.inside_threshold,
                               self.min_length)

    def labels(self, probs) -> np.ndarray:
        """:func:`probs_to_labels` with these thresholds."""
        return probs_to_labels(probs, self.b_threshold, self.inside_threshold)


def probs_to_labels(probs, b_threshold: float = 0.5, inside_threshold: float = 0.5) -> np.ndarray:
    """Probabilities ``(T, 3)`` (columns O, I, B) → FAST labels ``(T,)`` int8.

    See the module docstring for the exact rule: inside when ``p_I + p_B >= inside_threshold``;
    an inside frame is ``B`` when ``p_B >= b_threshold`` or when it starts a run of inside frames;
    other inside frames are ``I``; the rest ``O``. Both thresholds must lie in ``[0, 1]``.
    """
    probs = check_probs(probs)
    b_threshold = _check_threshold(b_threshold, "b_threshold")
    inside_threshold = _check_threshold(inside_threshold, "inside_threshold")
    inside = probs[:, I] + probs[:, B] >= inside_threshold
    run_start = inside.copy()
    run_start[1:] &= ~inside[:-1]
    labels = np.full(len(probs), O, dtype=np.int8)
    labels[inside] = I
    labels[inside & ((probs[:, B] >= b_threshold) | run_start)] = B
    return labels


def labels_to_segments(labels, convention: str = "signspark", min_length: int = 1) -> list[tuple[int, int]]:
    """FAST labels ``(T,)`` → segments ``[(start, end), ...]``, end exclusive.

    ``convention``: ``"signspark"`` (maximal non-``O`` runs) or ``"b_splits"`` (every ``B`` starts
    a segment). Segments shorter than ``min_length`` frames are dropped. ``UNK`` and ``-100``
    frames count as outside.
    """
    labels = check_labels(labels)
    split_on_b = check_convention(convention) == "b_splits"
    min_length = _check_min_length(min_length)
    segments = bio_to_segments(labels, split_on_b=split_on_b)
    return [(int(s), int(e)) for s, e in segments if e - s >= min_length]


def decode_segments(probs_or_labels, convention: str = "signspark", b_threshold: float = 0.5,
                    inside_threshold: float = 0.5, min_length: int = 1) -> list[tuple[int, int]]:
    """Probabilities ``(T, 3)`` or labels ``(T,)`` → segments ``[(start, end), ...]``, end exclusive.

    A 2-D input is thresholded with :func:`probs_to_labels` first; a 1-D input is taken as labels
    (the thresholds are then unused, but still validated). Then :func:`labels_to_segments`.
    """
    x = _to_numpy(probs_or_labels)
    check_convention(convention)
    b_threshold = _check_threshold(b_threshold, "b_threshold")
    inside_threshold = _check_threshold(inside_threshold, "inside_threshold")
    if x.ndim == 1:
        labels = x
    elif x.ndim == 2:
        labels = probs_to_labels(x, b_threshold, inside_threshold)
    else:
        raise SignlibError(f"decode_segments takes probs (T, 3) or labels (T,); got shape {x.shape}")
    return labels_to_segments(labels, convention, min_length)
