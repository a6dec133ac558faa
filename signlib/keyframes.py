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
