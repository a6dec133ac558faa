"""Closed triangle meshes of the body's primitives: capsules (bones) and ellipsoids (torso, head,
palms), with outward normals.

A capsule is described once as a **template** (:func:`capsule_template`): each vertex has a
position ``s`` along the bone (0 at the start joint, 1 at the end) and a unit offset ``c`` in the
bone's frame (``z`` along the bone). A capsule between points ``a`` and ``b`` with radius ``r(s)``
then has vertices ``a + s (b - a) + r(s) (c_x e1 + c_y e2 + c_z axis)``. The template is shared
by the skinned body (built once in the rest pose) and the keypoint meshes (rebuilt every frame
from the keypoints, :mod:`signlib.render.keypoint_mesh`), which is why it is its own function.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np


@dataclass(frozen=True, eq=False)
class Primitive:
    """One closed mesh: ``vertices (V, 3)``, unit ``normals (V, 3)``, ``faces (F, 3)`` int64, and
    ``s (V,)``, the position along the bone in [0, 1] (0.5 for primitives that are not bones)."""

    vertices: np.ndarray
    normals: np.ndarray
    faces: np.ndarray
    s: np.ndarray


def _ring_faces(rings: list[int], count: int, first_pole: bool, last_pole: bool) -> np.ndarray:
    """Faces between consecutive rings of ``count`` vertices; ``rings`` holds each ring's first
    vertex index (a pole is a ring of one vertex)."""
    faces = []
    k = np.arange(count)
    nxt = (k + 1) % count
    for i in range(len(rings) - 1):
        a, b = rings[i], rings[i + 1]
        if i == 0 and first_pole:
            faces.append(np.stack([np.full(count, a), b + nxt, b + k], 1))
        elif i == len(rings) - 2 and last_pole:
            faces.append(np.stack([a + k, a + nxt, np.full(count, b)], 1))
        else:
            faces.append(np.stack([a + k, a + nxt, b + nxt], 1))
            faces.append(np.stack([a + k, b + nxt, b + k], 1))
    return np.concatenate(faces).astype(np.int64)


@lru_cache(maxsize=16)
def capsule_template(rings: int = 10, rows: int = 3, cap_rows: int = 3) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A unit capsule: ``s (V,)`` along the bone, ``c (V, 3)`` unit offsets (bone along ``+z``),
    ``faces (F, 3)``; ``rings`` vertices around, ``rows`` cylinder segments, ``cap_rows`` rows per
    hemispherical cap. The arrays are shared (cached): do not modify them."""
    theta = 2 * np.pi * np.arange(rings) / rings
    s_list, c_list, starts = [np.zeros(1)], [np.array([[0.0, 0.0, -1.0]])], [0]
    count = 1

    def ring(s: float, phi: float):
        nonlocal count
        starts.append(count)
        s_list.append(np.full(rings, s))
        c_list.append(np.stack([np.cos(phi) * np.cos(theta), np.cos(phi) * np.sin(theta),
                                np.full(rings, np.sin(phi))], 1))
        count += rings

    for k in range(1, cap_rows + 1):             # start cap, up to the start equator
        ring(0.0, -np.pi / 2 + k * np.pi / (2 * cap_rows))
    for i in range(1, rows + 1):                 # the cylinder, up to the end equator
        ring(i / rows, 0.0)
    for k in range(1, cap_rows):                 # end cap
        ring(1.0, k * np.pi / (2 * cap_rows))
    starts.append(count)
    s_list.append(np.ones(1))
    c_list.append(np.array([[0.0, 0.0, 1.0]]))
    faces = _ring_faces(starts, rings, True, True)
    s, c = np.concatenate(s_list), np.concatenate(c_list)
    for arr in (s, c, faces):
        arr.setflags(write=False)
    return s, c, faces


def perpendicular_frame(axis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors ``(..., 3)`` completing unit ``axis (..., 3)`` to a right-handed frame."""
    ref = np.where(np.abs(axis[..., 2:3]) < 0.9, np.array([0.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0]))
    e1 = np.cross(ref, axis)
    e1 /= np.linalg.norm(e1, axis=-1, keepdims=True)
    return e1, np.cross(axis, e1)


def capsule(a, b, r0: float, r1: float, rings: int = 10, rows: int = 3, cap_rows: int = 3) -> Primitive:
    """A capsule from point ``a`` to ``b`` (``(3,)``), radius ``r0`` at ``a`` tapering to ``r1``."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    s, c, faces = capsule_template(rings, rows, cap_rows)
    d = b - a
    length = np.linalg.norm(d)
    axis = d / length if length > 1e-9 else np.array([0.0, 1.0, 0.0])
    e1, e2 = perpendicular_frame(axis)
    normals = c[:, :1] * e1 + c[:, 1:2] * e2 + c[:, 2:] * axis
    r = r0 + (r1 - r0) * s
    vertices = a + s[:, None] * d + r[:, None] * normals
    return Primitive(vertices, normals, faces.copy(), s.copy())


def ellipsoid(centre, frame: np.ndarray, radii, rings: int = 16, rows: int = 12) -> Primitive:
    """An ellipsoid: ``centre (3,)``, ``frame (3, 3)`` whose columns are its axes, ``radii (3,)``."""
    s, c, faces = capsule_template(rings, rows=1, cap_rows=rows // 2)
    # A capsule of zero length is a sphere: its two equators coincide (a zero-area row of faces,
    # harmless), and scaling the sphere by the radii gives the ellipsoid.
    radii = np.asarray(radii, np.float64)
    vertices = np.asarray(centre, np.float64) + (c * radii) @ frame.T
    normals = (c / radii) @ frame.T
    normals /= np.linalg.norm(normals, axis=1, keepdims=True)
    return Primitive(vertices, normals, faces.copy(), np.full(len(c), 0.5))
