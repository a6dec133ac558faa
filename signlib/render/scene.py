"""What to draw for a sequence: its posed mesh or Gaussian avatar in every frame, and a camera
that frames the whole clip.

- ``rot6d`` sequences: the procedural capsule body (:mod:`signlib.render.body`) posed by linear
  blend skinning on the global joint transforms of the identity's skeleton; with the user's
  SMPL-X files (``body_model``, a :class:`signlib.pose.body_model.SMPLXBodyModel`) the real SMPL-X
  mesh instead.
- keypoint sequences (``xyz`` layouts, real ``.pose`` files): capsules between the keypoints
  (:mod:`signlib.render.keypoint_mesh`).

A body part whose joints are missing in a frame (``Sequence.valid``) is hidden in that frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.pose.layout import SMPLX_JOINT_INDEX, get_layout
from signlib.pose.skeleton import global_transforms
from signlib.render.avatar import Avatar, build_avatar, pose_avatar
from signlib.render.body import PART_CODES, Identity, identity_skeleton, procedural_body
from signlib.render.camera import Camera, front_camera
from signlib.render.keypoint_mesh import keypoint_mesh
from signlib.render.skinning import skin_points


#: The procedural body's torso runs below the waist; framing stops at this height (metres, the
#: rest pose's spine3 at 0), so the signing space fills the picture and the torso leaves at its bottom.
WAIST = -0.30


@dataclass(frozen=True, eq=False)
class MeshScene:
    """A mesh in every frame: ``vertices (T, V, 3)``, ``faces (F, 3)``, ``colors (V, 3)``,
    ``visible (T, F)`` bool (False hides a face in that frame) and ``framed (V,)`` bool, the
    vertices a camera should keep in view."""

    vertices: torch.Tensor
    faces: torch.Tensor
    colors: torch.Tensor
    visible: torch.Tensor
    framed: torch.Tensor

    @property
    def num_frames(self) -> int:
        return self.vertices.shape[0]

    def framing_points(self) -> torch.Tensor:
        """``(P, 3)``: every framed vertex of a visible face, over all frames."""
        return self.vertices[vertex_visibility(self) & self.framed[None]]


@dataclass(frozen=True, eq=False)
class AvatarScene:
    """A Gaussian avatar in every frame: the rest-pose ``avatar``, posed ``means (T, G, 3)`` and
    ``quats (T, G, 4)``, and ``visible (T, G)`` bool."""

    avatar: Avatar
    means: torch.Tensor
    quats: torch.Tensor
    visible: torch.Tensor

    @property
    def num_frames(self) -> int:
        return self.means.shape[0]

    def framing_points(self) -> torch.Tensor:
        """``(P, 3)``: the visible means above the waist, over all frames."""
        return self.means[self.visible & (self.avatar.means[:, 1] > WAIST)[None]]


def _check(seq: Sequence) -> None:
    if seq.num_frames == 0:
        raise SignlibError(f"{seq.id or 'sequence'}: cannot render a clip with zero frames")
    if not np.isfinite(seq.features).all():
        raise SignlibError(f"{seq.id or 'sequence'}: features contain NaN or inf")


def part_visibility(seq: Sequence) -> torch.Tensor:
    """``(T, 3)`` bool: whether every joint of the body, left hand and right hand was observed."""
    lay = get_layout(seq.layout)
    valid = seq.valid_or_all()
    out = np.ones((seq.num_frames, 3), bool)
    for name, start, stop in lay.parts:
        out[:, PART_CODES[name]] = valid[:, start:stop].all(1)
    return torch.from_numpy(out)


def mesh_scene(seq: Sequence, identity: Identity = Identity(), body_model=None) -> MeshScene:
    """The posed mesh of every frame of ``seq`` (see the module docstring)."""
    _check(seq)
    lay = get_layout(seq.layout)
    if lay.kind != "rot6d":
        km = keypoint_mesh(lay.unflatten(seq.features), lay, seq.valid)
        return MeshScene(km.vertices, km.faces, km.colors, km.visible, torch.ones(km.vertices.shape[1], dtype=torch.bool))
    if body_model is not None:
        out = body_model(seq.features, lay)
        faces = torch.from_numpy(body_model.faces)
        colors = torch.tensor(identity.skin, dtype=torch.float32).expand(out.vertices.shape[1], 3)
        # SMPL-X has legs: frame from the waist up, as the capsule body (joint 9 is spine3).
        rest_y = out.vertices[0, :, 1] - (out.joints[0, SMPLX_JOINT_INDEX["spine3"], 1] if out.joints.shape[1] > 9 else 0)
        return MeshScene(out.vertices.detach().float(), faces, colors,
                         torch.ones(seq.num_frames, len(faces), dtype=torch.bool), (rest_y > WAIST).detach())
    mesh = procedural_body(lay, identity)
    tf = global_transforms(torch.from_numpy(seq.features).float(), lay, identity_skeleton(identity))
    with torch.no_grad():
        vertices = skin_points(mesh.vertices, mesh.joints, mesh.weights, tf)
    visible = part_visibility(seq)[:, mesh.face_part]                           # (T, F)
    return MeshScene(vertices, mesh.faces, mesh.colors, visible, mesh.vertices[:, 1] > WAIST)


def avatar_scene(seq: Sequence, identity: Identity = Identity(), count: int = 3000, seed: int = 0) -> AvatarScene:
    """The posed Gaussian avatar of every frame of a ``rot6d`` sequence."""
    _check(seq)
    lay = get_layout(seq.layout)
    if lay.kind != "rot6d":
        raise SignlibError(f"{seq.id or 'sequence'}: the Gaussian avatar needs joint rotations (a rot6d layout), "
                           f"got {lay.name!r}; keypoint clips render as skeletons and capsule meshes")
    avatar = build_avatar(procedural_body(lay, identity), count=count, seed=seed)
    tf = global_transforms(torch.from_numpy(seq.features).float(), lay, identity_skeleton(identity))
    with torch.no_grad():
        means, quats = pose_avatar(avatar, tf)
    return AvatarScene(avatar, means, quats, part_visibility(seq)[:, avatar.part])


def clip_camera(points: torch.Tensor, width: int = 256, height: int = 256) -> Camera:
    """A front camera framing ``points (..., 3)`` (e.g. a scene's :meth:`MeshScene.framing_points`
    over the whole clip, so the view does not move; several clips' points concatenated share one
    framing)."""
    pts = points.reshape(-1, 3).float()
    if len(pts) == 0:
        raise SignlibError("clip_camera: nothing visible to frame")
    return front_camera(pts.amin(0).numpy(), pts.amax(0).numpy(), width, height)


def vertex_visibility(scene: MeshScene) -> torch.Tensor:
    """``(T, V)`` bool: vertices used by at least one visible face."""
    T, V = scene.vertices.shape[:2]
    # a boolean "or" over faces: count the visible faces that touch each vertex
    counts = torch.zeros(T, V)
    for k in range(3):
        counts.index_add_(1, scene.faces[:, k], scene.visible.float())
    return counts > 0
