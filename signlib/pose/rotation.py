"""Rotations: 6D ↔ matrix ↔ axis-angle, hand mirroring, and SLERP between keyframes.

6D convention: the first two **rows** of the rotation matrix, ``[R00 R01 R02 R10 R11 R12]``
(Zhou et al. 2019 as implemented in pytorch3d's ``matrix_to_rotation_6d``, which the SignSparK
and SOKE data pipelines use). Decoding re-orthonormalises with Gram-Schmidt, so any 6-vector
with two non-parallel halves is a valid rotation.

All functions take torch tensors and are differentiable; the ``*_np`` helpers wrap them for numpy.
"""

from __future__ import annotations

import numpy as np
import torch

from signlib.errors import SignlibError
from signlib.pose.layout import Layout, get_layout

# Mirroring across the sagittal (YZ) plane: x → -x. A rotation R becomes S R S with S = diag(-1, 1, 1).
_MIRROR = torch.tensor([-1.0, 1.0, 1.0])


def _roma():
    """roma, imported on first use: importing it loads torch's compiler (``torch._dynamo``, about
    1.5 s on a 2-core machine), which every stage process and notebook kernel would otherwise pay
    whether or not it converts a rotation."""
    import roma

    return roma


def rot6d_to_matrix(x: torch.Tensor) -> torch.Tensor:
    """``(..., 6)`` → ``(..., 3, 3)`` by Gram-Schmidt on the two stored rows."""
    a1, a2 = x[..., :3], x[..., 3:6]
    b1 = torch.nn.functional.normalize(a1, dim=-1, eps=1e-8)
    b2 = torch.nn.functional.normalize(a2 - (b1 * a2).sum(-1, keepdim=True) * b1, dim=-1, eps=1e-8)
    b3 = torch.cross(b1, b2, dim=-1)
    return torch.stack((b1, b2, b3), dim=-2)


def matrix_to_rot6d(R: torch.Tensor) -> torch.Tensor:
    """``(..., 3, 3)`` → ``(..., 6)``: the first two rows."""
    return R[..., :2, :].reshape(*R.shape[:-2], 6)


def axis_angle_to_matrix(aa: torch.Tensor) -> torch.Tensor:
    """``(..., 3)`` rotation vectors → ``(..., 3, 3)``."""
    return _roma().rotvec_to_rotmat(aa)


def matrix_to_axis_angle(R: torch.Tensor) -> torch.Tensor:
    """``(..., 3, 3)`` → ``(..., 3)`` rotation vectors (angle in [0, π])."""
    return _roma().rotmat_to_rotvec(R)


def axis_angle_to_rot6d(aa: torch.Tensor) -> torch.Tensor:
    """``(..., 3)`` → ``(..., 6)``."""
    return matrix_to_rot6d(axis_angle_to_matrix(aa))


def rot6d_to_axis_angle(x: torch.Tensor) -> torch.Tensor:
    """``(..., 6)`` → ``(..., 3)``."""
    return matrix_to_axis_angle(rot6d_to_matrix(x))


def mirror_matrix(R: torch.Tensor) -> torch.Tensor:
    """``(..., 3, 3)``: the rotation seen in a mirror across the YZ plane, ``S R S``."""
    s = _MIRROR.to(R)
    return R * s[:, None] * s[None, :]


def mirror_axis_angle(aa: torch.Tensor) -> torch.Tensor:
    """``(..., 3)``: mirrored rotation vector ``(x, -y, -z)`` (MANO left ↔ right)."""
    return aa * torch.tensor([1.0, -1.0, -1.0]).to(aa)


def mirror_rot6d(x: torch.Tensor) -> torch.Tensor:
    """``(..., 6)`` mirrored; exact (no re-orthonormalisation): rows of ``S R S`` are ±rows of R."""
    return x * torch.tensor([1.0, -1.0, -1.0, -1.0, 1.0, 1.0]).to(x)


def mirror_left_hand(features: torch.Tensor, layout: Layout | str) -> torch.Tensor:
    """Mirror the left-hand channels of ``(..., D)`` rot6d features (an involution).

    Stored data keeps both hands in the right-hand (MANO) convention; this converts the left hand
    from world convention to stored convention and back.
    """
    lay = get_layout(layout)
    if lay.kind != "rot6d":
        raise SignlibError(f"mirror_left_hand needs a rot6d layout, got {lay.name!r}")
    lay.check(features)
    sl = lay.feature_slice("left_hand")
    out = features.clone()
    left = features[..., sl].reshape(*features.shape[:-1], -1, 6)
    out[..., sl] = mirror_rot6d(left).reshape(*features.shape[:-1], -1)
    return out


def slerp_keyframes(features: torch.Tensor, key_frames, layout: Layout | str) -> torch.Tensor:
    """Fill a whole sequence from its keyframes: the SLERP baseline of keyframe-to-pose.

    Between consecutive keyframes each joint rotation is interpolated along the shortest arc
    (quaternion SLERP) for ``rot6d`` layouts, and linearly for ``xyz`` layouts. Before the first
    and after the last keyframe the pose is held.

    Args:
        features: ``(T, D)``; only rows at ``key_frames`` are read.
        key_frames: frame indices, any order, within ``[0, T)``; at least one.
    Returns:
        ``(T, D)``, equal to ``features`` at the keyframes (up to 6D re-orthonormalisation).
    """
    lay = get_layout(layout)
    lay.check(features)
    T = features.shape[0]
    keys = torch.as_tensor(sorted(set(int(k) for k in key_frames)), dtype=torch.long)
    if keys.numel() == 0:
        raise SignlibError("slerp_keyframes: no keyframes given")
    if keys[0] < 0 or keys[-1] >= T:
        raise SignlibError(f"slerp_keyframes: keyframes {keys.tolist()} fall outside the {T} frames")
    t = torch.arange(T)
    # For each frame, the keyframe interval it falls in and its position alpha in [0, 1].
    right = torch.searchsorted(keys, t, right=False).clamp(max=len(keys) - 1)
    left = (right - (keys[right] > t).long()).clamp(min=0)
    k0, k1 = keys[left], keys[right]
    span = (k1 - k0).clamp(min=1).to(features.dtype)
    alpha = ((t - k0).to(features.dtype) / span).clamp(0, 1)
    x0 = features[k0].reshape(T, lay.num_joints, lay.channels)
    x1 = features[k1].reshape(T, lay.num_joints, lay.channels)
    if lay.kind == "xyz":
        out = x0 + alpha[:, None, None] * (x1 - x0)
    else:
        q0 = _roma().rotmat_to_unitquat(rot6d_to_matrix(x0))
        q1 = _roma().rotmat_to_unitquat(rot6d_to_matrix(x1))
        # Shortest arc: flip q1 into q0's hemisphere, then the closed-form SLERP per frame.
        q1 = torch.where(((q0 * q1).sum(-1, keepdim=True) < 0), -q1, q1)
        cos = (q0 * q1).sum(-1, keepdim=True).clamp(-1, 1)
        theta = torch.acos(cos)
        a = alpha[:, None, None]
        sin = torch.sin(theta)
        small = sin < 1e-6
        w0 = torch.where(small, 1 - a, torch.sin((1 - a) * theta) / torch.where(small, 1, sin))
        w1 = torch.where(small, a, torch.sin(a * theta) / torch.where(small, 1, sin))
        q = torch.nn.functional.normalize(w0 * q0 + w1 * q1, dim=-1)
        out = matrix_to_rot6d(_roma().unitquat_to_rotmat(q))
    return out.reshape(T, lay.dim)


def _np(fn):
    def wrapped(x, *args, **kwargs):
        return fn(torch.as_tensor(np.asarray(x, dtype=np.float32)), *args, **kwargs).numpy()
    wrapped.__doc__ = f"numpy version of :func:`{fn.__name__}`."
    wrapped.__name__ = fn.__name__ + "_np"
    return wrapped


rot6d_to_matrix_np = _np(rot6d_to_matrix)
matrix_to_rot6d_np = _np(matrix_to_rot6d)
axis_angle_to_rot6d_np = _np(axis_angle_to_rot6d)
rot6d_to_axis_angle_np = _np(rot6d_to_axis_angle)
mirror_left_hand_np = _np(mirror_left_hand)
slerp_keyframes_np = _np(slerp_keyframes)
