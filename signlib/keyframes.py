"""Keyframe selection: which frames of a clip a keyframe-conditioned generator gets to see.

The SignSparK policy takes the onset, midpoint and offset frame of every sign; on the generated
corpus the sign spans come from construction (the true keyframes), on real data from FAST.
"""

from __future__ import annotations

import numpy as np

from signlib.errors import SignlibError


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
        frames += [start, (start + end - 1) // 2, end - 1]
    return np.unique(np.array(frames, dtype=np.int64))


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


#: policy name → ``f(segments, num_frames, rng) -> (K,) frames``.
POLICIES = {
    "onset_mid_offset": lambda segments, T, rng: onset_mid_offset(segments, T),
    "random": lambda segments, T, rng: random_keyframes(3 * len(list(segments)), T, rng),
    "masked_segments": lambda segments, T, rng: masked_segments(segments, T, rng),
}


def select_keyframes(policy: str, segments, num_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Keyframes of a clip under ``policy`` (see :data:`POLICIES`)."""
    try:
        fn = POLICIES[policy]
    except KeyError:
        raise SignlibError(f"unknown keyframe policy {policy!r}; policies: {', '.join(POLICIES)}") from None
    return fn([(int(s[0]), int(s[1])) for s in segments], num_frames, rng)


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
