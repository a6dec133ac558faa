"""Joint positions of any sequence (forward kinematics for rotations, the features for keypoints)
and which of those points were observed."""

from __future__ import annotations

import numpy as np

from signlib.data.sequence import Sequence
from signlib.pose.layout import Layout, xyz_layout_for
from signlib.pose.skeleton import forward_kinematics_np


def sequence_positions(seq: Sequence) -> tuple[np.ndarray, Layout]:
    """``(T, J, 3)`` positions and their xyz layout (2D keypoints get ``z = 0``)."""
    lay = seq.get_layout()
    if lay.kind == "rot6d":
        return forward_kinematics_np(seq.features, lay), xyz_layout_for(lay)
    x = lay.unflatten(seq.features)
    if lay.channels == 2:
        x = np.concatenate([x, np.zeros_like(x[..., :1])], -1)
    return x, lay


def position_valid(seq: Sequence) -> np.ndarray:
    """``(T, J)`` bool: which points of :func:`sequence_positions` were observed.

    Keypoint layouts use the sequence's own mask. For rotations, forward kinematics outputs the
    body joints and then 21 points per hand: a body point is observed when its joint is, and a
    hand's points when all of that hand's joints are (one missing finger rotation moves the
    whole hand's shape).
    """
    lay = seq.get_layout()
    v = seq.valid_or_all()
    if lay.kind == "xyz":
        return v
    num_points = xyz_layout_for(lay).num_joints
    out = np.ones((seq.num_frames, num_points), bool)
    body = lay.joint_slice("body")
    out[:, :body.stop] = v[:, body]
    out[:, body.stop:body.stop + 21] = v[:, lay.joint_slice("left_hand")].all(1, keepdims=True)
    out[:, body.stop + 21:body.stop + 42] = v[:, lay.joint_slice("right_hand")].all(1, keepdims=True)
    return out
