"""Capsule meshes for keypoint layouts (real ``.pose`` files): a capsule between every pair of
connected keypoints, rebuilt each frame, and a sphere for the head.

Keypoints carry no rotations, so there is nothing to skin: each bone's capsule is placed directly
between its two keypoints in every frame (:func:`signlib.render.primitives.capsule_template`).
Radii scale with the clip's median shoulder width, so normalised clips and clips in pixels or
metres look the same. A bone with a missing endpoint (``valid`` False, e.g. a hand the detector
lost) is hidden in that frame: its faces are masked, never drawn at a fill value.

Image-coordinate layouts (``y`` down, MediaPipe) are turned into the renderer's ``y``-up world
frame by ``(x, y, z) -> (x, -y, -z)``; 2D keypoints get ``z = 0``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from signlib.errors import SignlibError
from signlib.pose.layout import Layout, get_layout
from signlib.render.body import BODY, LEFT_HAND, PART_CODES, RIGHT_HAND
from signlib.render.primitives import capsule_template, perpendicular_frame

_COLOURS = {BODY: (0.20, 0.24, 0.34), LEFT_HAND: (0.20, 0.47, 0.71), RIGHT_HAND: (0.84, 0.30, 0.24)}
_HEAD = (0.80, 0.66, 0.56)


@dataclass(frozen=True, eq=False)
class KeypointMesh:
    """Per-frame capsule geometry.

    Attributes:
        vertices: ``(T, V, 3)`` world positions (``y`` up).
        faces: ``(F, 3)`` int64; colors ``(V, 3)``; part ``(F,)`` part code per face.
        visible: ``(T, F)`` bool, False for faces of bones with a missing endpoint.
    """

    vertices: torch.Tensor
    faces: torch.Tensor
    colors: torch.Tensor
    part: torch.Tensor
    visible: torch.Tensor


def keypoint_bones(layout: Layout | str) -> list[tuple[int, int, int]]:
    """``(child, parent, part)`` for every parent link of the layout, plus the shoulder line."""
    lay = get_layout(layout)
    part_of = np.zeros(lay.num_joints, np.int64)
    for name, start, stop in lay.parts:
        part_of[start:stop] = PART_CODES[name]
    bones = [(j, p, int(part_of[j])) for j, p in enumerate(lay.parents) if p >= 0]
    if "left_shoulder" in lay.joints and "right_shoulder" in lay.joints:
        bones.append((lay.joint_index("left_shoulder"), lay.joint_index("right_shoulder"), BODY))
    return bones


def world_positions(points: np.ndarray, layout: Layout | str) -> np.ndarray:
    """``(T, J, C)`` keypoints (C = 2 or 3) → ``(T, J, 3)`` in the renderer's ``y``-up frame."""
    lay = get_layout(layout)
    p = np.asarray(points, np.float64)
    if p.ndim != 3 or p.shape[1] != lay.num_joints or p.shape[2] not in (2, 3):
        raise SignlibError(f"keypoints must be (T, {lay.num_joints}, 2 or 3) for layout {lay.name!r}, "
                           f"got {p.shape}")
    if p.shape[2] == 2:
        p = np.concatenate([p, np.zeros_like(p[..., :1])], -1)
    return p if lay.y_up else p * np.array([1.0, -1.0, -1.0])


def keypoint_mesh(points: np.ndarray, layout: Layout | str, valid: np.ndarray | None = None,
                  rings: int = 8) -> KeypointMesh:
    """Capsules between the keypoints of every frame.

    Args:
        points: ``(T, J, C)`` keypoints in the layout's coordinates; invalid ones may hold anything
            (even NaN): they are replaced and their bones hidden.
        valid: ``(T, J)`` bool or None (all valid).
    Returns:
        :class:`KeypointMesh`.
    """
    lay = get_layout(layout)
    p = world_positions(points, lay)
    T = len(p)
    if T == 0:
        raise SignlibError("keypoint_mesh: the clip has zero frames")
    ok = np.isfinite(p).all(-1) & (np.ones(p.shape[:2], bool) if valid is None else np.asarray(valid, bool))
    if not ok.any():
        raise SignlibError(f"keypoint_mesh: no valid keypoint in any frame (layout {lay.name!r})")
    p = np.where(ok[..., None], p, 0.0)
    left, right = lay.joint_index("left_shoulder"), lay.joint_index("right_shoulder")
    both = ok[:, left] & ok[:, right]
    width = np.median(np.linalg.norm(p[both, left] - p[both, right], axis=-1)) if both.any() else 0.35
    s, c, tfaces = capsule_template(rings, rows=1, cap_rows=2)
    verts, faces, colors, parts, vis = [], [], [], [], []
    for child, parent, part in keypoint_bones(lay):
        r = width * (0.09 if part == BODY else 0.02)
        a, b = p[:, parent], p[:, child]                                       # (T, 3)
        d = b - a
        length = np.linalg.norm(d, axis=-1, keepdims=True)
        axis = np.where(length > 1e-9, d / np.maximum(length, 1e-12), np.array([0.0, 1.0, 0.0]))
        e1, e2 = perpendicular_frame(axis)
        offset = c[None, :, :1] * e1[:, None] + c[None, :, 1:2] * e2[:, None] + c[None, :, 2:] * axis[:, None]
        faces.append(tfaces + sum(len(v[0]) for v in verts))
        verts.append(a[:, None] + s[None, :, None] * d[:, None] + r * offset)
        colors.append(np.broadcast_to(_COLOURS[part], (len(s), 3)))
        parts.append(np.full(len(tfaces), part))
        vis.append(np.repeat((ok[:, parent] & ok[:, child])[:, None], len(tfaces), 1))
    head = lay.joint_index("nose") if "nose" in lay.joints else (lay.joint_index("head") if "head" in lay.joints else -1)
    if head >= 0:
        # A sphere is a capsule of zero length.
        offset = np.broadcast_to(c, (T, len(c), 3))
        faces.append(tfaces + sum(len(v[0]) for v in verts))
        verts.append(p[:, head, None] + 0.28 * width * offset)
        colors.append(np.broadcast_to(_HEAD, (len(s), 3)))
        parts.append(np.full(len(tfaces), BODY))
        vis.append(np.repeat(ok[:, head, None], len(tfaces), 1))
    return KeypointMesh(torch.from_numpy(np.concatenate(verts, 1).astype(np.float32)),
                        torch.from_numpy(np.concatenate(faces).astype(np.int64)),
                        torch.from_numpy(np.concatenate(colors).astype(np.float32)),
                        torch.from_numpy(np.concatenate(parts).astype(np.int64)),
                        torch.from_numpy(np.concatenate(vis, 1)))
