"""Joint-position loss of the generator: the clean-sequence estimate scored where the metrics look.

The flow objective lives in normalised feature units (6D rotations for ``rot6d``), but every
production metric (DTW-JPE, MPJPE) measures joint positions: upper-body joints, and hand points
relative to their wrist. A rotation error near the shoulder moves the whole arm while the same
error at a fingertip moves millimetres, and no per-channel weighting of rotations can express that
for every pose. This term runs the differentiable forward kinematics of
:func:`signlib.pose.skeleton.forward_kinematics` on the estimate ``x̂1`` and on the data and
penalises the squared distance of every point, in centimetres, the way the metrics split the body
(``xyz`` layouts are positions already and skip the kinematics).
"""

from __future__ import annotations

import torch

from signlib.pose.layout import get_layout, xyz_layout_for
from signlib.pose.skeleton import forward_kinematics, rest_features

HAND_PARTS = ("left_hand", "right_hand")


def positions(features: torch.Tensor, layout: str) -> torch.Tensor:
    """``(B, T, J, 3)`` points of raw ``features (B, T, D)``: forward kinematics for ``rot6d``,
    the features themselves for ``xyz`` (2D keypoints get ``z = 0``)."""
    lay = get_layout(layout)
    if lay.kind == "rot6d":
        return forward_kinematics(features, lay)
    x = features.reshape(*features.shape[:-1], lay.num_joints, lay.channels)
    return torch.cat([x, torch.zeros_like(x[..., :1])], -1) if lay.channels == 2 else x


def metric_points(xyz: torch.Tensor, layout: str) -> torch.Tensor:
    """``(B, T, J, 3)``: body points as they are, hand points minus their wrist (the first point of
    each hand), as DTW-JPE compares them."""
    lay = xyz_layout_for(get_layout(layout))
    parts = [xyz[..., lay.joint_slice("body"), :]]
    for side in HAND_PARTS:
        hand = xyz[..., lay.joint_slice(side), :]
        parts.append(hand - hand[..., :1, :])
    return torch.cat(parts, -2)


def position_loss(x_hat: torch.Tensor, x1: torch.Tensor, length_mask: torch.Tensor, layout: str) -> torch.Tensor:
    """Mean over real frames and points of the squared point distance in cm², between raw
    (denormalised) ``x_hat`` and ``x1`` ``(B, T, D)``; ``length_mask (B, T)`` bool."""
    keep = length_mask.bool()[..., None]
    if get_layout(layout).kind == "rot6d":  # padding is zeros, which are no rotation: use the rest pose there
        rest = rest_features(layout).to(x1)
        x_hat, x1 = torch.where(keep, x_hat, rest), torch.where(keep, x1, rest)
    err = (metric_points(positions(x_hat, layout), layout) - metric_points(positions(x1, layout), layout)) * 100.0
    per_frame = (err ** 2).sum(-1).mean(-1)                                       # (B, T)
    real = length_mask.to(per_frame.dtype)
    return (per_frame * real).sum() / real.sum().clamp_min(1.0)
