"""How much a sequence moves: wrist speed over time, the measure of regression to the mean.

A model trained with a plain regression loss on signing it cannot predict exactly learns the
conditional mean, and averaging many differently timed movements cancels them out: the output
drifts slowly through an average pose. Its wrists move far more slowly than real signing does,
which a plot of wrist speed over (normalised) time shows at a glance.
"""

from __future__ import annotations

import numpy as np

from signlib.data.positions import sequence_positions
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.pose.normalize import resample_time

WRISTS = ("left_wrist", "right_wrist")


def wrist_speed(seq: Sequence) -> np.ndarray:
    """``(T - 1,)`` speed of the wrists, averaged over both, between consecutive frames, in the
    positions' units per second (metres/s for ``rot6d`` and metric ``xyz`` layouts)."""
    if seq.num_frames < 2:
        raise SignlibError(f"{seq.id or 'sequence'}: wrist speed needs at least 2 frames, has {seq.num_frames}")
    pos, lay = sequence_positions(seq)
    idx = [lay.joint_index(w) for w in WRISTS]
    step = np.linalg.norm(np.diff(pos[:, idx], axis=0), axis=-1)           # (T - 1, 2)
    return step.mean(-1) * seq.fps


def speed_profile(sequences: list[Sequence], bins: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over sequences of the wrist speed on normalised time (start 0, end 1).

    Each sequence's speed curve is resampled to ``bins`` points first, so clips of different
    lengths line up by their relative position. Returns ``(mean (bins,), std (bins,))``.
    """
    if not sequences:
        raise SignlibError("speed_profile: no sequences")
    if bins < 2:
        raise SignlibError(f"speed_profile: bins={bins} must be >= 2")
    curves = np.stack([resample_time(wrist_speed(s), bins) for s in sequences])
    return curves.mean(0), curves.std(0)


def mean_speed(sequences: list[Sequence]) -> float:
    """Wrist speed averaged over all frames of all sequences."""
    if not sequences:
        raise SignlibError("mean_speed: no sequences")
    return float(np.concatenate([wrist_speed(s) for s in sequences]).mean())
