"""Keyframes: which frames of a clip a keyframe-conditioned generator sees, and how they travel.

- **Policies** (:data:`POLICIES`, :func:`select_keyframes`): ``onset_mid_offset`` (SignSparK: the
  first, middle and last frame of every sign), ``random`` (the same budget of frames drawn
  uniformly: no timing) and ``masked_segments`` (onset/mid/offset of the signs that survive random
  masking with probability ``mask_p``). Evaluation always uses :data:`EVALUATION_POLICY`.
- **True keyframes** (:func:`true_keyframes`): onset/mid/offset of a clip's gold segments (on the
  generated corpus they come from construction; FAST approximates them on real data).
- **The keyframes file** (:func:`write_keyframes_file`, :func:`read_keyframes`): what the
  ``keyframes`` stage mines for every clip under every policy, as JSON
  ``{"policies": [...], "mask_p", "tolerance", "keyframes": {policy: {clip id: [frames]}}}``.
- **The request** (:class:`Keyframes`): keyframe frames with their features and the length of the
  sequence to generate through them, which every keyframe-to-pose system takes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError, file_error
from signlib.io import read_json, write_json
from signlib.text.counts import count

#: The policy every evaluation uses: the paper measures keyframe-to-pose from segment keyframes.
EVALUATION_POLICY = "onset_mid_offset"


def segment_keyframes(start: int, end: int) -> tuple[int, int, int]:
    """Onset, midpoint and offset frame of the sign span ``[start, end)``: ``start``,
    ``(start + end - 1) // 2`` and ``end - 1`` (repeated where the span is shorter than 3 frames)."""
    return start, (start + end - 1) // 2, end - 1


def onset_mid_offset(segments, num_frames: int) -> np.ndarray:
    """Sorted unique keyframes: ``start``, ``(start + end - 1) // 2`` and ``end - 1`` of every
    segment ``(start, end)`` (end exclusive).

    Returns:
        ``(K,)`` int64 frame indices in ``[0, num_frames)``.
    """
    frames = []
    for seg in segments:
        start, end = int(seg[0]), int(seg[1])
        if not 0 <= start < end <= num_frames:
            raise SignlibError(f"segment ({start}, {end}) is outside a clip of {num_frames} frames")
        frames += segment_keyframes(start, end)
    return np.unique(np.array(frames, dtype=np.int64))


def true_keyframes(seq: Sequence) -> np.ndarray:
    """``(K,)`` onset/mid/offset frames of every gold sign of ``seq``."""
    return onset_mid_offset([(s.start, s.end) for s in seq.segments], seq.num_frames)


def keyframe_mask(keyframes, num_frames: int) -> np.ndarray:
    """``(T,)`` bool, True on keyframes."""
    mask = np.zeros(num_frames, bool)
    keys = np.asarray(keyframes, dtype=np.int64)
    if keys.size and (keys.min() < 0 or keys.max() >= num_frames):
        raise SignlibError(f"keyframes {keys.tolist()} fall outside a clip of {num_frames} frames")
    mask[keys] = True
    return mask


def random_keyframes(count: int, num_frames: int, rng: np.random.Generator) -> np.ndarray:
    """``count`` distinct frames drawn uniformly (the "random" policy: same budget, no timing)."""
    count = min(max(int(count), 0), num_frames)
    return np.sort(rng.choice(num_frames, count, replace=False)).astype(np.int64)


def masked_segments(segments, num_frames: int, rng: np.random.Generator, p: float = 0.3) -> np.ndarray:
    """Onset/mid/offset keyframes of the signs that survive random masking: each sign's three
    keyframes are dropped together with probability ``p`` (at least one sign is kept)."""
    segments = list(segments)
    if not segments:
        return np.zeros(0, np.int64)
    keep = rng.random(len(segments)) >= p
    if not keep.any():
        keep[rng.integers(len(segments))] = True
    return onset_mid_offset([s for s, k in zip(segments, keep) if k], num_frames)


def _onset_mid_offset(segments, T, rng, mask_p):
    return onset_mid_offset(segments, T)


def _random(segments, T, rng, mask_p):
    return random_keyframes(3 * len(segments), T, rng)


def _masked(segments, T, rng, mask_p):
    return masked_segments(segments, T, rng, mask_p)


#: policy name → ``f(segments, num_frames, rng, mask_p) -> (K,) frames``.
POLICIES = {"onset_mid_offset": _onset_mid_offset, "random": _random, "masked_segments": _masked}


def check_policy(policy: str) -> str:
    if policy not in POLICIES:
        raise SignlibError(f"unknown keyframe policy {policy!r}; policies: {', '.join(POLICIES)}")
    return policy


def select_keyframes(policy: str, segments, num_frames: int, rng: np.random.Generator,
                     mask_p: float = 0.3) -> np.ndarray:
    """Keyframes of a clip under ``policy`` (see :data:`POLICIES`); ``mask_p`` is read by
    ``masked_segments``."""
    return POLICIES[check_policy(policy)]([(int(s[0]), int(s[1])) for s in segments], num_frames, rng, mask_p)


def keyframe_agreement(predicted, true, tolerance: int = 2) -> float:
    """Share of ``true`` keyframes with a ``predicted`` keyframe within ±``tolerance`` frames
    (1.0 when there are no true keyframes)."""
    true = np.asarray(true, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    if true.size == 0:
        return 1.0
    if predicted.size == 0:
        return 0.0
    return float((np.abs(true[:, None] - predicted[None, :]).min(1) <= tolerance).mean())


def write_keyframes_file(path: str | os.PathLike, keyframes: Mapping[str, Mapping[str, list[int]]],
                         mask_p: float, tolerance: int) -> None:
    """Write ``{policy: {clip id: frames}}`` (every policy of :data:`POLICIES`) atomically."""
    for policy in keyframes:
        check_policy(policy)
    write_json(path, {"policies": sorted(keyframes), "mask_p": mask_p, "tolerance": tolerance,
                      "keyframes": {p: {k: [int(f) for f in v] for k, v in table.items()}
                                    for p, table in keyframes.items()}})


def read_keyframes(path: str | os.PathLike, policy: str) -> dict[str, list[int]]:
    """``{clip id: frames}`` of ``policy`` from a keyframes file."""
    check_policy(policy)
    if not os.path.exists(path):
        raise file_error(path, "keyframes file not found (run the `keyframes` stage)")
    raw = read_json(path)
    try:
        table = raw["keyframes"][policy]
        return {str(k): [int(f) for f in v] for k, v in table.items()}
    except (KeyError, TypeError, ValueError) as err:
        raise file_error(path, f"no keyframes for policy {policy!r} ({type(err).__name__})") from None


def clip_keyframes(seq: Sequence, keyframes: Mapping[str, list[int]] | None) -> np.ndarray:
    """The keyframes a generator gets for ``seq``: mined ones from ``keyframes`` (a table of
    :func:`read_keyframes`), or the true ones when ``keyframes`` is None. A clip missing from the
    table is an error: the keyframes file belongs to another corpus."""
    if keyframes is None:
        return true_keyframes(seq)
    if seq.id not in keyframes:
        raise SignlibError(f"clip {seq.id!r} has no keyframes; rerun the `keyframes` stage for this corpus")
    frames = np.asarray(keyframes[seq.id], np.int64)
    keyframe_mask(frames, seq.num_frames)  # range check with a clear error
    return frames


@dataclass(frozen=True)
class Keyframes:
    """A keyframe request: ``features (K, D)`` at sorted, distinct ``frames (K,)`` of a
    ``num_frames``-long sequence (``K`` may be 0: the length alone), and the gloss spans when known."""

    frames: np.ndarray
    features: np.ndarray
    num_frames: int
    segments: tuple[Segment, ...] = field(default=(), compare=False)

    def __post_init__(self):
        frames = np.asarray(self.frames, np.int64).reshape(-1)
        feats = np.asarray(self.features, np.float32)
        # count() refuses 12.5 (and True) instead of letting a float length slip through.
        object.__setattr__(self, "num_frames", count(self.num_frames, "keyframes: num_frames"))
        if feats.ndim != 2 or len(feats) != len(frames):
            raise SignlibError(f"keyframes: features must be (K={len(frames)}, D), got {feats.shape}")
        if len(frames) and (frames.min() < 0 or frames.max() >= self.num_frames):
            raise SignlibError(f"keyframes {frames.tolist()} fall outside a sequence of {self.num_frames} frames")
        if np.any(np.diff(frames) <= 0):
            raise SignlibError(f"keyframes {frames.tolist()} must be sorted and distinct")
        if not np.isfinite(feats).all():
            raise SignlibError("keyframes: features contain NaN or inf")
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "features", feats)

    @staticmethod
    def from_sequence(seq: Sequence, frames) -> "Keyframes":
        """The given frames of ``seq`` (e.g. mined onset/mid/offset) as keyframes."""
        frames = np.asarray(frames, np.int64)
        if len(frames) and (frames.min() < 0 or frames.max() >= seq.num_frames):
            raise SignlibError(f"{seq.id}: keyframes {frames.tolist()} fall outside its {seq.num_frames} frames")
        return Keyframes(frames, seq.features[frames], seq.num_frames, seq.segments)
