"""Joint positions of any sequence: forward kinematics for rotations, the features for keypoints."""

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
