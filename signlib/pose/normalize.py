"""What makes pose sequences comparable: normalised space, a common time axis, standard channels.

- ``rot6d``: re-orthonormalise every 6D rotation (estimators and interpolation leave them slightly
  off SO(3), and downstream metrics assume proper rotations).
- ``xyz``: translate so the mid-shoulder point is the origin and scale so the mean shoulder width
  is 1, per clip (signers sit at different distances and camera zooms).
- Time: :func:`resample_time` stretches a clip to another number of frames (speed augmentation,
  curves on normalised time, mean sequences).
- Channels: :func:`feature_statistics` gives the per-channel mean and std over the observed frames
  of the training clips, which every model that standardises its input stores with its weights.
"""

from __future__ import annotations

import numpy as np
import torch

from signlib.errors import SignlibError
from signlib.pose.layout import Layout, get_layout
from signlib.pose.rotation import matrix_to_rot6d, rot6d_to_matrix


def orthonormalize_rot6d(features: np.ndarray, layout: Layout | str) -> np.ndarray:
    """``(T, D)`` rot6d → the same rotations, each re-orthonormalised (Gram-Schmidt)."""
    lay = get_layout(layout)
    x = torch.from_numpy(np.ascontiguousarray(features, dtype=np.float32)).reshape(-1, lay.num_joints, 6)
    return matrix_to_rot6d(rot6d_to_matrix(x)).reshape(features.shape).numpy()


def shoulder_frame(features: np.ndarray, layout: Layout | str, valid: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Centre ``(C,)`` (mean mid-shoulder point) and scale (mean shoulder width) of an xyz clip."""
    lay = get_layout(layout)
    x = features.reshape(len(features), lay.num_joints, lay.channels)
    left, right = lay.joint_index("left_shoulder"), lay.joint_index("right_shoulder")
    ok = np.ones(len(x), bool) if valid is None else (valid[:, left] & valid[:, right])
    if not ok.any():
        raise SignlibError(f"cannot normalise: no frame has both shoulders (layout {lay.name!r})")
    mid = 0.5 * (x[ok, left] + x[ok, right])
    width = np.linalg.norm(x[ok, left] - x[ok, right], axis=-1).mean()
    if not width > 1e-8:
        raise SignlibError("cannot normalise: shoulder width is zero")
    return mid.mean(0), float(width)


def normalize_xyz(features: np.ndarray, layout: Layout | str, valid: np.ndarray | None = None) -> np.ndarray:
    """``(T, D)`` xyz → centred on the shoulders, unit shoulder width."""
    lay = get_layout(layout)
    centre, scale = shoulder_frame(features, lay, valid)
    x = features.reshape(len(features), lay.num_joints, lay.channels)
    return ((x - centre) / scale).reshape(features.shape).astype(np.float32)


def normalize_features(features: np.ndarray, layout: Layout | str, valid: np.ndarray | None = None) -> np.ndarray:
    """Apply the normalisation of the layout's kind (see the module docstring)."""
    lay = get_layout(layout)
    if lay.kind == "rot6d":
        return orthonormalize_rot6d(features, lay)
    return normalize_xyz(features, lay, valid)


def resample_time(x: np.ndarray, length: int) -> np.ndarray:
    """``(T, ...)`` → ``(length, ...)`` by linear interpolation in time (same first and last
    frame, uniform change of speed; the dtype is kept). Neighbouring frames differ little, so
    blending 6D rotations channel by channel stays close to SLERP."""
    x = np.asarray(x)
    if len(x) == 0 or length < 1:
        raise SignlibError(f"resample_time: cannot resample {len(x)} frames to {length}")
    src = np.linspace(0.0, len(x) - 1, length)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, len(x) - 1)
    w = (src - lo).reshape(-1, *[1] * (x.ndim - 1))
    return (x[lo] * (1 - w) + x[hi] * w).astype(x.dtype, copy=False)


def feature_statistics(features: list[np.ndarray], valid: list[np.ndarray] | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std ``(D,)`` over the observed frames of ``features`` (``(T_i, D)``
    each); ``valid`` gives ``(T_i, D)`` bool per clip (all observed when None).

    Computed on the training split only and stored beside the weights of models that standardise
    their input (:class:`signlib.layers.Standardised`). A channel never observed gets mean 0, std 0.
    """
    if not features:
        raise SignlibError("feature_statistics: no clips")
    x = np.concatenate(features).astype(np.float64)                                        # (ΣT, D)
    w = np.ones_like(x) if valid is None else np.concatenate(valid).astype(np.float64)
    n = np.maximum(w.sum(0), 1.0)
    mean = (x * w).sum(0) / n
    std = np.sqrt(((x - mean) ** 2 * w).sum(0) / n)
    return mean.astype(np.float32), std.astype(np.float32)
