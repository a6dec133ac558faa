"""Arm inverse kinematics on the template skeleton, solved for the RIGHT arm.

Signs are described by where the wrist goes and how the hand is oriented; this module turns those
targets into the local joint rotations the features store (collar, shoulder, elbow, wrist):

1. the collar elevates and protracts a little towards high and forward targets (a shrug);
2. a two-bone solver places the elbow (law of cosines) on the side of a pole direction that keeps
   it down, back and out, the way human elbows hang;
3. the shoulder rotation maps the rest upper arm and (flexed) forearm onto the solved ones;
4. the wrist rotation turns the forearm frame into the wanted hand frame, clamped to a range of
   motion (``WRIST_LIMIT``), so no target can produce an impossible wrist.

Joint limits: elbow flexion in ``[0, ELBOW_MAX]`` (no hyperextension), collar within
``COLLAR_LIMIT``, wrist within ``WRIST_LIMIT``. Unreachable targets are pulled onto the reachable
shell along the shoulder→target line.

Left arms are solved as mirrored right arms (the template is exactly x-symmetric), see
:func:`mirror_rotations`. Everything is vectorised over frames: arrays are ``(T, ...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signlib.pose.skeleton import DEFAULT_SKELETON, Skeleton

ELBOW_MAX = 2.5        # rad, about 145°: full flexion
COLLAR_LIMIT = 0.25    # rad
WRIST_LIMIT = 1.3      # rad, total rotation of the wrist relative to the forearm
_S = np.diag([-1.0, 1.0, 1.0])


def _normalize(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def rotvec_to_matrix(rv: np.ndarray) -> np.ndarray:
    """``(..., 3)`` rotation vectors → ``(..., 3, 3)`` (Rodrigues)."""
    angle = np.linalg.norm(rv, axis=-1, keepdims=True)
    axis = rv / np.maximum(angle, 1e-12)
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    K = np.zeros(rv.shape[:-1] + (3, 3))
    K[..., 0, 1], K[..., 0, 2], K[..., 1, 0] = -z, y, z
    K[..., 1, 2], K[..., 2, 0], K[..., 2, 1] = -x, -y, x
    a = angle[..., None]
    return np.eye(3) + np.sin(a) * K + (1 - np.cos(a)) * (K @ K)


def matrix_to_rotvec(R: np.ndarray) -> np.ndarray:
    """``(..., 3, 3)`` → ``(..., 3)`` rotation vectors, angle in ``[0, π]``."""
    cos = np.clip((np.trace(R, axis1=-2, axis2=-1) - 1) / 2, -1, 1)
    angle = np.arccos(cos)
    w = np.stack([R[..., 2, 1] - R[..., 1, 2], R[..., 0, 2] - R[..., 2, 0], R[..., 1, 0] - R[..., 0, 1]], -1)
    sin = np.sin(angle)[..., None]
    out = w / np.maximum(2 * sin, 1e-12) * angle[..., None]
    # Near π the antisymmetric part vanishes: take the axis from the symmetric part instead.
    near_pi = angle > np.pi - 1e-3
    if near_pi.any():
        B = (R[near_pi] + np.eye(3)) / 2
        axis = _normalize(B[np.arange(len(B)), np.argmax(np.diagonal(B, axis1=-2, axis2=-1), -1)])
        out[near_pi] = axis * angle[near_pi][:, None]
    return out


def clamp_rotation(R: np.ndarray, limit: float) -> np.ndarray:
    """Scale each rotation's angle down to at most ``limit`` (same axis)."""
    rv = matrix_to_rotvec(R)
    angle = np.linalg.norm(rv, axis=-1, keepdims=True)
    return rotvec_to_matrix(rv * np.minimum(1.0, limit / np.maximum(angle, 1e-12)))


def _frame(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Orthonormal frame ``(..., 3, 3)`` (columns) from a primary and a secondary direction."""
    e1 = _normalize(a)
    e2 = _normalize(b - (b * e1).sum(-1, keepdims=True) * e1)
    return np.stack([e1, e2, np.cross(e1, e2)], -1)


@dataclass(frozen=True)
class ArmSolution:
    """Local rotations ``(T, 3, 3)`` of one arm, and the reached wrist position ``(T, 3)``."""

    collar: np.ndarray
    shoulder: np.ndarray
    elbow: np.ndarray
    wrist: np.ndarray
    reached: np.ndarray


def hand_frame(finger_dir: np.ndarray, palm_normal: np.ndarray) -> np.ndarray:
    """Global rotation ``(T, 3, 3)`` of a RIGHT hand whose fingers point along ``finger_dir`` and
    whose palm faces ``palm_normal`` (the template right hand: fingers ``-x``, palm ``-y``)."""
    F = _frame(finger_dir, palm_normal)          # columns: finger, palm, finger × palm
    rest = _frame(np.array([-1.0, 0, 0]), np.array([0, -1.0, 0]))
    return F @ rest.T


def solve_right_arm(target: np.ndarray, finger_dir: np.ndarray, palm_normal: np.ndarray,
                    swivel: np.ndarray | float = 0.0, skeleton: Skeleton = DEFAULT_SKELETON) -> ArmSolution:
    """Right-arm IK.

    Args:
        target: ``(T, 3)`` wanted wrist positions (metres, spine3 frame).
        finger_dir, palm_normal: ``(T, 3)`` wanted hand orientation (need not be orthogonal).
        swivel: ``(T,)`` or scalar, extra rotation (rad) of the elbow about the shoulder→wrist axis.
    """
    target = np.asarray(target, float)
    T = len(target)
    o_collar, o_shoulder = skeleton.offset("right_collar"), skeleton.offset("right_shoulder")
    L1 = np.linalg.norm(skeleton.offset("right_elbow"))
    L2 = np.linalg.norm(skeleton.offset("right_wrist"))
    # 1. Collar: shrug up for high targets, forward for far-forward ones, within limits.
    rel = target - (o_collar + o_shoulder)
    elev = np.clip(0.35 * rel[:, 1], -0.05, COLLAR_LIMIT)
    prot = np.clip(0.25 * rel[:, 2], -0.05, 0.15)
    # For the right (-x) side, a -z rotation lifts the shoulder and a +y rotation brings it forward.
    collar = rotvec_to_matrix(np.stack([np.zeros(T), prot, -elev], -1))
    shoulder_pos = o_collar + collar @ o_shoulder               # (T, 3)
    # 2. Two-bone solve with reach clamped to the shell the arm can reach.
    d_vec = target - shoulder_pos
    # The closest reachable distance is set by full elbow flexion, so flexion never needs clipping.
    d_min = np.sqrt(L1 ** 2 + L2 ** 2 - 2 * L1 * L2 * np.cos(np.pi - ELBOW_MAX)) + 1e-6
    d = np.clip(np.linalg.norm(d_vec, axis=-1), d_min, L1 + L2 - 1e-4)
    u = _normalize(d_vec)
    reached = shoulder_pos + u * d[:, None]
    cos_elbow = np.clip((L1 ** 2 + L2 ** 2 - d ** 2) / (2 * L1 * L2), -1, 1)
    flex = np.clip(np.pi - np.arccos(cos_elbow), 0, ELBOW_MAX)
    cos_sh = np.clip((L1 ** 2 + d ** 2 - L2 ** 2) / (2 * L1 * d), -1, 1)
    alpha = np.arccos(cos_sh)
    pole = np.broadcast_to(np.array([-0.45, -1.0, -0.35]), (T, 3))  # elbows hang down, out, back
    w = _normalize(pole - (pole * u).sum(-1, keepdims=True) * u)
    swivel = np.broadcast_to(np.asarray(swivel, float), (T,))
    w = w * np.cos(swivel)[:, None] + np.cross(u, w) * np.sin(swivel)[:, None]
    upper = np.cos(alpha)[:, None] * u + np.sin(alpha)[:, None] * w       # (T, 3) unit upper-arm dir
    elbow_pos = shoulder_pos + L1 * upper
    fore = _normalize(reached - elbow_pos)
    # 3. Shoulder: rest (upper, forearm) pair → solved pair. Right elbow flexion is +y.
    elbow = rotvec_to_matrix(np.stack([np.zeros(T), flex, np.zeros(T)], -1))
    a0 = np.array([-1.0, 0, 0])
    f0 = elbow @ a0                                                          # rest forearm dir after flexion
    # Fully straight arms have no bend plane; a tiny flexion floor keeps the frame defined.
    rest_frame = _frame(np.broadcast_to(a0, (T, 3)), f0 + 1e-3 * np.array([0, -1.0, 0]))
    goal_frame = _frame(upper, fore + 1e-3 * w)
    G_shoulder = goal_frame @ np.swapaxes(rest_frame, -1, -2)
    shoulder = np.swapaxes(collar, -1, -2) @ G_shoulder
    # 4. Wrist: whatever rotation remains to reach the wanted hand frame, within its range.
    G_elbow = G_shoulder @ elbow
    wrist = clamp_rotation(np.swapaxes(G_elbow, -1, -2) @ hand_frame(finger_dir, palm_normal), WRIST_LIMIT)
    return ArmSolution(collar, shoulder, elbow, wrist, reached)


def mirror_rotations(R: np.ndarray) -> np.ndarray:
    """``S R S``: the rotation of the mirrored (other-side) joint."""
    return _S @ R @ _S


def mirror_points(p: np.ndarray) -> np.ndarray:
    """x → -x."""
    return p * np.array([-1.0, 1.0, 1.0])


def solve_left_arm(target, finger_dir, palm_normal, swivel=0.0, skeleton: Skeleton = DEFAULT_SKELETON) -> ArmSolution:
    """Left-arm IK through the mirrored right arm (the template is x-symmetric)."""
    sol = solve_right_arm(mirror_points(np.asarray(target, float)), mirror_points(np.asarray(finger_dir, float)),
                          mirror_points(np.asarray(palm_normal, float)), swivel, skeleton)
    return ArmSolution(*(mirror_rotations(getattr(sol, k)) for k in ("collar", "shoulder", "elbow", "wrist")),
                       mirror_points(sol.reached))
