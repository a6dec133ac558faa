"""Normalisation of pose features before they are stored or modelled.

- ``rot6d``: re-orthonormalise every 6D rotation (estimators and interpolation leave them slightly
  off SO(3), and downstream metrics assume proper rotations).
- ``xyz``: translate so the mid-shoulder point is the origin and scale so the mean shoulder width
  is 1, per clip (signers sit at different distances and camera zooms).
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


def feature_stats(features: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std ``(D,)`` over all frames of ``features`` (a list of ``(T, D)``).

    Computed on the training split only and stored beside models that standardise their input.
    """
    stacked = np.concatenate(features, 0).astype(np.float64)
    return stacked.mean(0).astype(np.float32), np.maximum(stacked.std(0), 1e-6).astype(np.float32)
