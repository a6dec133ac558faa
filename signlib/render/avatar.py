"""A 3D Gaussian avatar on the procedural body: flat Gaussians sampled on its surface, skinned like
the mesh (the paper renders 3D Gaussian Splatting avatars, Fig 6).

Each Gaussian lies on a triangle of the :class:`signlib.render.body.BodyMesh` (faces drawn by
area, points uniform on the face), flattened along the surface normal, oriented with the surface,
coloured by its body part, and bound to the skeleton nodes of the nearest vertex. Half of the
budget goes to the hands, which are small but carry most of the signing; the body and head share
the other half. Posing (:func:`pose_avatar`) moves the means by linear blend skinning and turns
the orientations by weighted quaternion averaging (:mod:`signlib.render.skinning`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from signlib.errors import SignlibError
from signlib.pose.skeleton import Transforms
from signlib.render.body import BODY, LEFT_HAND, RIGHT_HAND, BodyMesh
from signlib.render.primitives import perpendicular_frame
from signlib.render.skinning import matrix_to_quat, skin_points, skin_rotations


@dataclass(frozen=True, eq=False)
class Avatar:
    """Gaussians in the rest pose.

    Attributes:
        means: ``(G, 3)`` metres; quats ``(G, 4)`` ``(w, x, y, z)``; scales ``(G, 3)`` standard
            deviations along the quaternion's axes (the third is the surface normal, thin).
        opacities: ``(G,)`` in (0, 1); colors ``(G, 3)`` RGB in [0, 1].
        joints, weights: ``(G, 2)`` skinning binding (as :class:`BodyMesh`); part: ``(G,)``.
    """

    means: torch.Tensor
    quats: torch.Tensor
    scales: torch.Tensor
    opacities: torch.Tensor
    colors: torch.Tensor
    joints: torch.Tensor
    weights: torch.Tensor
    part: torch.Tensor

    @property
    def count(self) -> int:
        return len(self.means)


def _face_areas(v: np.ndarray, f: np.ndarray) -> np.ndarray:
    return 0.5 * np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]), axis=1)


@functools.lru_cache(maxsize=8)
def build_avatar(mesh: BodyMesh, count: int = 3000, seed: int = 0, hand_share: float = 0.5,
                 opacity: float = 0.98, flatness: float = 0.4) -> Avatar:
    """Sample ``count`` Gaussians on ``mesh`` (see the module docstring). Cached per mesh object
    and arguments, as :func:`signlib.render.body.procedural_body` is (treat the tensors as read-only).

    Args:
        count: number of Gaussians (2,000 to 5,000 is the usual range: enough to close the
            surface at 256 to 512 pixels).
        seed: the sampling seed (a different seed gives the same look, other positions).
        hand_share: share of the budget for the two hands together.
        opacity: every Gaussian's opacity; flatness: normal scale / tangent scale.
    """
    if count < 10:
        raise SignlibError(f"build_avatar: count must be at least 10, got {count}")
    rng = np.random.default_rng(seed)
    v, f = mesh.vertices.double().numpy(), mesh.faces.numpy()
    normals, part = mesh.normals.double().numpy(), mesh.part.numpy()
    area = _face_areas(v, f)
    face_part = part[f[:, 0]]
    budget = {BODY: count - 2 * int(count * hand_share / 2), LEFT_HAND: int(count * hand_share / 2),
              RIGHT_HAND: int(count * hand_share / 2)}
    chosen, spacing = [], []
    for code, n in budget.items():
        ids = np.flatnonzero((face_part == code) & (area > 0))
        if n == 0 or ids.size == 0:
            continue
        weights = area[ids] / area[ids].sum()
        chosen.append(rng.choice(ids, size=n, p=weights))
        # The mean distance between neighbours on this part's surface sets the Gaussians' size.
        spacing.append(np.full(n, np.sqrt(area[ids].sum() / n)))
    faces = np.concatenate(chosen)
    step = np.concatenate(spacing)
    # Uniform barycentric coordinates on each face.
    r1, r2 = np.sqrt(rng.random(len(faces))), rng.random(len(faces))
    bary = np.stack([1 - r1, r1 * (1 - r2), r1 * r2], 1)                      # (G, 3)
    tri = f[faces]                                                             # (G, 3)
    means = (bary[..., None] * v[tri]).sum(1)
    n = (bary[..., None] * normals[tri]).sum(1)
    n /= np.linalg.norm(n, axis=1, keepdims=True)
    e1, e2 = perpendicular_frame(n)
    rot = np.stack([e1, e2, n], -1)                                            # columns: tangents, normal
    nearest = tri[np.arange(len(tri)), bary.argmax(1)]
    sigma = 0.6 * step
    scales = np.stack([sigma, sigma, flatness * sigma], 1)
    # A little colour noise per Gaussian reads as cloth and skin texture rather than flat paint.
    colors = np.clip(mesh.colors.numpy()[nearest] + rng.normal(0, 0.015, (len(faces), 3)), 0, 1)
    t = lambda x, dt=torch.float32: torch.as_tensor(np.ascontiguousarray(x), dtype=dt)  # noqa: E731
    return Avatar(t(means), matrix_to_quat(t(rot)), t(scales), torch.full((len(faces),), opacity),
                  t(colors), mesh.joints[nearest], mesh.weights[nearest], mesh.part[nearest])


def pose_avatar(avatar: Avatar, transforms: Transforms) -> tuple[torch.Tensor, torch.Tensor]:
    """Posed means ``(T, G, 3)`` and orientations ``(T, G, 4)`` for ``T`` frames of transforms."""
    means = skin_points(avatar.means, avatar.joints, avatar.weights, transforms)
    quats = skin_rotations(avatar.quats, avatar.joints, avatar.weights, transforms)
    return means, quats
