"""Linear blend skinning (LBS) on the template skeleton's global joint transforms.

A point bound to nodes ``j`` with weights ``w_j`` (summing to 1) and rest position ``x`` moves to

    x' = Σ_j w_j (G_j (x - r_j) + p_j)

with ``G_j``, ``p_j`` node ``j``'s global rotation and position in the frame being drawn and
``r_j`` its rest position (:class:`signlib.pose.skeleton.Transforms`). Gaussians also need an
orientation: their rotation is
the weighted average of the nodes' rotations as unit quaternions (signs aligned to the first node,
then normalised), composed with the Gaussian's rest orientation; for the 0.5/0.5 blends at joints
this is the rotation half-way between the two bones.

Every point has at most two nodes (``joints``/``weights`` of shape ``(P, 2)``), so skinning is two
gathers per frame rather than a dense ``(P, nodes)`` product.
"""

from __future__ import annotations

import torch

from signlib.pose.skeleton import Transforms


def _gather(x: torch.Tensor, joints: torch.Tensor) -> torch.Tensor:
    """``x (T, N, ...)`` gathered at ``joints (P, 2)`` → ``(T, P, 2, ...)``."""
    return x[:, joints]


def skin_points(points: torch.Tensor, joints: torch.Tensor, weights: torch.Tensor,
                transforms: Transforms) -> torch.Tensor:
    """Posed positions of rest ``points``.

    Args:
        points: ``(P, 3)`` rest positions; joints ``(P, 2)`` node indices; weights ``(P, 2)``.
        transforms: global transforms of ``T`` frames (``rotations (T, N, 3, 3)``).
    Returns:
        ``(T, P, 3)``.
    """
    G = _gather(transforms.rotations.to(points), joints)                      # (T, P, 2, 3, 3)
    p = _gather(transforms.positions.to(points), joints)                      # (T, P, 2, 3)
    local = points[:, None, :] - transforms.rest_positions.to(points)[joints]  # (P, 2, 3)
    moved = (G @ local[None, ..., None])[..., 0] + p                          # (T, P, 2, 3)
    return (weights.to(points)[None, ..., None] * moved).sum(-2)


def matrix_to_quat(R: torch.Tensor) -> torch.Tensor:
    """``(..., 3, 3)`` rotations → ``(..., 4)`` unit quaternions ``(w, x, y, z)``, ``w >= 0``.

    Shepperd's method: the largest of the four candidate denominators is used, so it is stable
    for every rotation (including 180° turns, where ``w`` is 0)."""
    m = R.reshape(*R.shape[:-2], 9)
    m00, m01, m02, m10, m11, m12, m20, m21, m22 = m.unbind(-1)
    cands = torch.stack([
        torch.stack([1 + m00 + m11 + m22, m21 - m12, m02 - m20, m10 - m01], -1),
        torch.stack([m21 - m12, 1 + m00 - m11 - m22, m01 + m10, m02 + m20], -1),
        torch.stack([m02 - m20, m01 + m10, 1 - m00 + m11 - m22, m12 + m21], -1),
        torch.stack([m10 - m01, m02 + m20, m12 + m21, 1 - m00 - m11 + m22], -1),
    ], -2)                                                                    # (..., 4, 4)
    diag = torch.stack([1 + m00 + m11 + m22, 1 + m00 - m11 - m22, 1 - m00 + m11 - m22, 1 - m00 - m11 + m22], -1)
    best = diag.argmax(-1, keepdim=True)                                      # (..., 1)
    q = torch.gather(cands, -2, best[..., None].expand(*best.shape, 4))[..., 0, :]
    q = q / q.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return torch.where(q[..., :1] < 0, -q, q)


def quat_multiply(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Hamilton product of ``(..., 4)`` quaternions ``(w, x, y, z)``: the rotation ``a`` after ``b``."""
    aw, ax, ay, az = a.unbind(-1)
    bw, bx, by, bz = b.unbind(-1)
    return torch.stack([aw * bw - ax * bx - ay * by - az * bz,
                        aw * bx + ax * bw + ay * bz - az * by,
                        aw * by - ax * bz + ay * bw + az * bx,
                        aw * bz + ax * by - ay * bx + az * bw], -1)


def skin_rotations(rest_quats: torch.Tensor, joints: torch.Tensor, weights: torch.Tensor,
                   transforms: Transforms) -> torch.Tensor:
    """Posed orientations ``(T, P, 4)`` of points with rest orientations ``rest_quats (P, 4)``:
    the weighted quaternion average of their nodes' rotations, applied after the rest rotation."""
    q = _gather(matrix_to_quat(transforms.rotations.to(rest_quats)), joints)  # (T, P, 2, 4)
    # q and -q are the same rotation: align the second to the first before averaging.
    sign = torch.where((q[..., 0, :] * q[..., 1, :]).sum(-1, keepdim=True) < 0, -1.0, 1.0)
    avg = weights[None, :, :1].to(q) * q[..., 0, :] + weights[None, :, 1:].to(q) * sign * q[..., 1, :]
    avg = avg / avg.norm(dim=-1, keepdim=True).clamp_min(1e-12)
    return quat_multiply(avg, rest_quats[None].expand_as(avg))
