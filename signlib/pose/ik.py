"""Inverse kinematics for one wrist: move a pose so that its wrist reaches a target point.

The keyframe editor lets a user drag a wrist; this module turns the dragged point into a pose.

- ``rot6d`` layouts: the shoulder and elbow rotations of that side are solved by L-BFGS through
  the differentiable :func:`~signlib.pose.skeleton.forward_kinematics`, minimising
  ``|wrist(x) - target|² + λ Σ_j |x_j - x_j⁰|²``: the target term pulls the wrist, the second picks,
  among the arm poses that reach it, the one nearest the pose the user started from. The collar is
  left out: with it in the chain the optimiser shrugs the shoulder to reach, which signers rarely
  do. Everything else (the wrist's own rotation, the fingers, the other arm) is unchanged, so the
  hand shape travels with the wrist. The solved 6D values are projected back onto rotations (Gram–Schmidt) before they
  are returned, so the result is a valid pose whatever the optimiser did.
- ``xyz`` layouts have no joint rotations to solve: the wrist and every point of that hand move
  rigidly by the drag; the elbow and shoulder stay where they are.

A target out of reach is not an error: the arm stretches towards it and :attr:`IKResult.residual`
says how far the wrist stayed from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from signlib.errors import SignlibError
from signlib.pose.layout import Layout, get_layout
from signlib.pose.rotation import axis_angle_to_matrix, matrix_to_rot6d, rot6d_to_matrix
from signlib.pose.skeleton import DEFAULT_SKELETON, Skeleton, fk_point_names, forward_kinematics

SIDES = ("left", "right")
#: The arm joints IK solves, root first.
ARM_CHAIN = ("shoulder", "elbow")


@dataclass(frozen=True)
class IKResult:
    """A solved pose.

    Attributes:
        features: ``(D,)`` float32 pose in the input layout.
        wrist: ``(3,)`` the wrist position it reaches (FK / layout coordinates).
        residual: distance from ``wrist`` to the target, in the layout's units.
    """

    features: np.ndarray
    wrist: np.ndarray
    residual: float


def _check(features, layout: Layout, side: str, target) -> tuple[np.ndarray, np.ndarray]:
    if side not in SIDES:
        raise SignlibError(f"side={side!r}: expected one of {SIDES}")
    x = np.asarray(features, dtype=np.float32)
    if x.ndim != 1 or x.shape[0] != layout.dim:
        raise SignlibError(f"features: expected one ({layout.dim},) pose of layout {layout.name!r}, got {x.shape}")
    t = np.asarray(target, dtype=np.float32)
    size = layout.channels if layout.kind == "xyz" else 3
    if t.shape != (size,) or not np.isfinite(t).all():
        raise SignlibError(f"target: expected a finite point of {size} coordinates, got {target!r}")
    return x, t


def wrist_position(features, layout: Layout | str, side: str, skeleton: Skeleton = DEFAULT_SKELETON) -> np.ndarray:
    """``(C,)`` position of the ``side`` wrist of one ``(D,)`` pose (FK for rot6d)."""
    lay = get_layout(layout)
    x = np.asarray(features, dtype=np.float32)
    if lay.kind == "xyz":
        return lay.unflatten(x)[lay.joint_index(f"{side}_wrist")].copy()
    with torch.no_grad():
        points = forward_kinematics(torch.from_numpy(x)[None], lay, skeleton)[0]
    return points[fk_point_names(lay).index(f"{side}_wrist")].numpy()


def _hand_points(layout: Layout, side: str) -> list[int]:
    """Every joint of the ``side`` hand plus the body's wrist point (xyz layouts)."""
    part = layout.joint_slice(f"{side}_hand")
    return sorted({*range(part.start, part.stop), layout.joint_index(f"{side}_wrist")})


def _solve_xyz(x: np.ndarray, layout: Layout, side: str, target: np.ndarray) -> IKResult:
    joints = layout.unflatten(x.copy())
    delta = target - joints[layout.joint_index(f"{side}_wrist")]
    joints[_hand_points(layout, side)] += delta
    out = joints.reshape(-1)
    return IKResult(out, target.copy(), 0.0)


def _solve_rot6d(x: np.ndarray, layout: Layout, side: str, target: np.ndarray, skeleton: Skeleton,
                 iterations: int) -> IKResult:
    cols = []
    for joint in ARM_CHAIN:
        j = layout.joint_index(f"{side}_{joint}")
        cols += range(6 * j, 6 * j + 6)
    cols_t = torch.tensor(cols)
    base = torch.from_numpy(x)[None]
    start = base[0, cols_t].clone()
    goal = torch.from_numpy(target)
    wrist = fk_point_names(layout).index(f"{side}_wrist")

    def pose(values: torch.Tensor) -> torch.Tensor:
        full = base.clone()
        full[0, cols_t] = values
        return full

    def descend(init: torch.Tensor) -> tuple[float, torch.Tensor]:
        arm = init.clone().requires_grad_(True)
        opt = torch.optim.LBFGS([arm], lr=1.0, max_iter=iterations, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            reached = forward_kinematics(pose(arm), layout, skeleton)[0, wrist]
            # Distances in centimetres, so L-BFGS's gradient tolerance does not stop it millimetres
            # short; the light hold picks, among the arm poses that reach, the one nearest the start.
            value = (100 * (reached - goal)).pow(2).sum() + 0.1 * (arm - start).pow(2).sum()
            value.backward()
            return value

        opt.step(closure)
        return float(closure().detach()), arm.detach()

    # A straight elbow is a singular point (bending it moves the wrist only to second order), so a
    # second start with the elbow bent lets a stretched-out arm fold towards a near target.
    bent = start.clone()
    bent[6:] = matrix_to_rot6d(axis_angle_to_matrix(torch.tensor([0.0, -1.0 if side == "left" else 1.0, 0.0])))
    _, solved = min((descend(init) for init in (start, bent)), key=lambda r: r[0])
    with torch.no_grad():
        # Back onto rotations: L-BFGS moves the 6D values off the space of orthonormal frames.
        solved = matrix_to_rot6d(rot6d_to_matrix(solved.reshape(-1, 6))).reshape(-1)
        full = pose(solved)
        reached = forward_kinematics(full, layout, skeleton)[0, wrist]
    out = full[0].numpy().astype(np.float32)
    return IKResult(out, reached.numpy(), float((reached - goal).norm()))


def wrist_ik(features, layout: Layout | str, side: str, target, skeleton: Skeleton = DEFAULT_SKELETON,
             iterations: int = 60) -> IKResult:
    """Move the ``side`` wrist of one pose to ``target`` (module docstring).

    Args:
        features: ``(D,)`` one frame of ``layout``.
        layout: a rot6d or xyz layout (name or :class:`Layout`).
        side: ``"left"`` or ``"right"`` (the signer's).
        target: ``(3,)`` point in FK coordinates (metres, y up) for rot6d; for xyz layouts a point
            in the layout's own coordinates (``C`` values).
        iterations: L-BFGS iterations (rot6d only).
    Returns:
        :class:`IKResult` with the new ``(D,)`` pose.
    """
    lay = get_layout(layout)
    x, t = _check(features, lay, side, target)
    if lay.kind == "xyz":
        return _solve_xyz(x, lay, side, t)
    return _solve_rot6d(x, lay, side, t, skeleton, iterations)
