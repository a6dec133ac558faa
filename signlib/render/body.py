"""A procedural, licence-free signer: capsules per bone, slab palms, torso, neck and head, skinned
to the template skeleton.

The licensed SMPL-X/MANO meshes are not available to most users, so the default body is built from
the skeleton itself, in its rest pose (:func:`signlib.pose.skeleton.global_transforms`):

- a **capsule** (cylinder with hemispherical caps, optionally tapered) on every bone: collars,
  upper arms, forearms, the neck and three segments per finger;
- a flattened ellipsoid **slab** for each palm, ellipsoids for the **torso** and the **head**.

Every vertex is bound to at most two skeleton nodes (:class:`BodyMesh` ``joints``/``weights``):
the node whose rotation carries its bone, blended smoothly towards the neighbouring node within a
quarter of the bone's length of a joint (weights 0.5/0.5 exactly at the joint, so the two bones
meeting there deform the same way and the skin does not tear). The same binding drives the mesh
and the Gaussian avatar (:mod:`signlib.render.avatar`).

A :class:`Identity` (a seeded palette and bone scaling) gives different-looking signers; its
skeleton must also be the one the pose is solved on (:func:`identity_skeleton`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import torch

from signlib.pose.layout import Layout, get_layout
from signlib.pose.skeleton import DEFAULT_SKELETON, FINGERS, Skeleton, global_transforms, rest_features
from signlib.render.primitives import capsule, ellipsoid

#: Part codes of :attr:`BodyMesh.part` (hidden per frame when a part's joints are missing).
BODY, LEFT_HAND, RIGHT_HAND = 0, 1, 2
#: Layout part name → part code.
PART_CODES = {"body": BODY, "left_hand": LEFT_HAND, "right_hand": RIGHT_HAND}
_SKIN = ((0.96, 0.80, 0.69), (0.87, 0.67, 0.53), (0.76, 0.57, 0.45), (0.55, 0.38, 0.28), (0.40, 0.27, 0.20))
# Interpreters wear dark, plain clothing so the hands stand out; the palette keeps to that.
_SHIRT = ((0.12, 0.14, 0.20), (0.18, 0.18, 0.18), (0.10, 0.22, 0.25), (0.25, 0.12, 0.14), (0.16, 0.20, 0.12))
_HAIR = ((0.10, 0.07, 0.05), (0.30, 0.20, 0.10), (0.55, 0.40, 0.20), (0.65, 0.62, 0.58), (0.15, 0.12, 0.12))


@dataclass(frozen=True)
class Identity:
    """How the signer looks: colours (RGB in [0, 1]) and bone scaling.

    Attributes:
        skin, shirt, hair: colours.
        arm_scale: factor on collar, upper-arm and forearm lengths; hand_scale on the hand;
            width_scale on the torso and limb radii.
    """

    skin: tuple[float, float, float] = _SKIN[1]
    shirt: tuple[float, float, float] = _SHIRT[0]
    hair: tuple[float, float, float] = _HAIR[0]
    arm_scale: float = 1.0
    hand_scale: float = 1.0
    width_scale: float = 1.0

    @staticmethod
    def from_seed(seed: int) -> "Identity":
        """A random identity (seed 0 is the default one)."""
        if seed == 0:
            return Identity()
        rng = np.random.default_rng(seed)
        pick = lambda pal: pal[int(rng.integers(len(pal)))]  # noqa: E731
        return Identity(pick(_SKIN), pick(_SHIRT), pick(_HAIR), float(rng.uniform(0.92, 1.08)),
                        float(rng.uniform(0.92, 1.08)), float(rng.uniform(0.9, 1.12)))


def identity_skeleton(identity: Identity) -> Skeleton:
    """The template skeleton with ``identity``'s bone scaling (pose FK must use it too)."""
    body = tuple((n, tuple(identity.arm_scale * v for v in o) if any(k in n for k in ("collar", "shoulder", "elbow",
                  "wrist")) else o) for n, o in DEFAULT_SKELETON.body)
    hand = tuple((n, tuple(identity.hand_scale * v for v in o)) for n, o in DEFAULT_SKELETON.right_hand)
    return Skeleton(body=body, right_hand=hand)


@dataclass(frozen=True, eq=False)
class BodyMesh:
    """A skinnable triangle mesh in the rest pose.

    Attributes:
        vertices: ``(V, 3)`` rest positions, metres; normals ``(V, 3)`` unit outward normals.
        faces: ``(F, 3)`` int64 vertex indices.
        colors: ``(V, 3)`` RGB in [0, 1].
        part: ``(V,)`` int64 part codes (:data:`BODY`, :data:`LEFT_HAND`, :data:`RIGHT_HAND`).
        joints: ``(V, 2)`` int64 skeleton node indices (into ``node_names``); weights ``(V, 2)``
            float32, rows summing to 1.
        node_names: the skeleton nodes, as :class:`signlib.pose.skeleton.Transforms` names them.
    """

    vertices: torch.Tensor
    normals: torch.Tensor
    faces: torch.Tensor
    colors: torch.Tensor
    part: torch.Tensor
    joints: torch.Tensor
    weights: torch.Tensor
    node_names: tuple[str, ...]

    @property
    def face_part(self) -> torch.Tensor:
        """``(F,)`` part code of each face (its first vertex's)."""
        return self.part[self.faces[:, 0]]


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


class _Builder:
    """Collects primitives (vertex arrays) and their skinning into one mesh."""

    def __init__(self, names: tuple[str, ...], parents: tuple[int, ...], rest: np.ndarray):
        self.names, self.parents, self.rest = names, parents, rest
        self.parts: list[tuple] = []

    def node(self, name: str) -> int:
        return self.names.index(name)

    def add(self, prim, color, part: int, node: int, blend_start: int = -1, blend_end: int = -1):
        """Add a primitive bound to ``node``; along a bone (``prim.s`` in [0, 1] from start to end)
        the weight moves towards ``blend_start`` / ``blend_end`` within a quarter bone of a joint."""
        v = len(prim.vertices)
        joints = np.full((v, 2), node, np.int64)
        weights = np.zeros((v, 2), np.float32)
        weights[:, 0] = 1.0
        beta = 0.25
        if blend_end >= 0:
            w = _smooth((prim.s - (1 - beta)) / (2 * beta))
            joints[:, 1], weights[:, 1] = blend_end, w
        if blend_start >= 0:
            w = _smooth((beta - prim.s) / (2 * beta))
            start = w > 0
            joints[start, 1], weights[start, 1] = blend_start, w[start]
        weights[:, 0] = 1.0 - weights[:, 1]
        colors = np.broadcast_to(np.asarray(color, np.float32), (v, 3)).copy()
        self.parts.append((prim, colors, part, joints, weights))

    def bone(self, a: str, b: str, r0: float, r1: float, color, part: int, rings: int = 10, rows: int = 3,
             blend: bool = True):
        ia, ib = self.node(a), self.node(b)
        prim = capsule(self.rest[ia], self.rest[ib], r0, r1, rings=rings, rows=rows)
        self.add(prim, color, part, ia, self.parents[ia] if blend else -1, ib if blend else -1)

    def build(self) -> BodyMesh:
        verts, norms, faces, cols, parts, joints, weights, offset = [], [], [], [], [], [], [], 0
        for prim, colors, part, j, w in self.parts:
            verts.append(prim.vertices)
            norms.append(prim.normals)
            faces.append(prim.faces + offset)
            cols.append(colors)
            parts.append(np.full(len(prim.vertices), part, np.int64))
            joints.append(j)
            weights.append(w)
            offset += len(prim.vertices)
        cat = lambda xs, dt: torch.from_numpy(np.concatenate(xs).astype(dt))  # noqa: E731
        return BodyMesh(cat(verts, np.float32), cat(norms, np.float32), cat(faces, np.int64), cat(cols, np.float32),
                        cat(parts, np.int64), cat(joints, np.int64), cat(weights, np.float32), self.names)


@functools.lru_cache(maxsize=8)
def procedural_body(layout: Layout | str = "rot6d", identity: Identity = Identity()) -> BodyMesh:
    """The capsule body of a ``rot6d`` layout in its rest pose (see the module docstring). Cached:
    every clip of a run shares one body per identity (treat its tensors as read-only).

    Args:
        layout: a rot6d layout (``rot6d`` or ``rot6d_spine3``).
        identity: colours and bone scaling; pose it with :func:`identity_skeleton` ``(identity)``.
    Returns:
        A :class:`BodyMesh` of about 6,000 triangles.
    """
    lay = get_layout(layout)
    skel = identity_skeleton(identity)
    tf = global_transforms(rest_features(lay), lay, skel)
    rest = tf.positions[0].double().numpy()
    b = _Builder(tf.names, tf.parents, rest)
    ws, skin, shirt = identity.width_scale, identity.skin, identity.shirt
    pos = lambda n: rest[b.node(n)]  # noqa: E731
    root = b.node("spine3")
    # Torso: from the hips to the collar line, a little behind the spine joint (pictures are framed
    # down to the waist, so its rounded bottom stays out of view).
    b.add(ellipsoid(pos("spine3") + np.array([0.0, -0.40, -0.035]), np.eye(3), np.array([0.17, 0.60, 0.10]) * ws,
                    rings=18, rows=12), shirt, BODY, root)
    b.bone("neck", "head", 0.048 * ws, 0.045 * ws, skin, BODY)
    head = ellipsoid(pos("head") + np.array([0.0, 0.085, 0.02]), np.eye(3), np.array([0.076, 0.102, 0.092]),
                     rings=16, rows=12)
    # Hair on the top and the back of the head: the face is what is left at the front.
    local = (head.vertices - (pos("head") + np.array([0.0, 0.085, 0.02]))) / np.array([0.076, 0.102, 0.092])
    b.add(head, np.where(((local[:, 1] > 0.45) | (local[:, 2] < -0.2))[:, None], identity.hair, skin),
          BODY, b.node("head"))
    for side, part in (("left", LEFT_HAND), ("right", RIGHT_HAND)):
        b.bone(f"{side}_collar", f"{side}_shoulder", 0.06 * ws, 0.055 * ws, shirt, BODY)
        b.bone(f"{side}_shoulder", f"{side}_elbow", 0.052 * ws, 0.043 * ws, shirt, BODY, rows=5)
        b.bone(f"{side}_elbow", f"{side}_wrist", 0.041 * ws, 0.028 * ws, shirt, BODY, rows=5)
        _hand(b, side, part, skin, identity.hand_scale)
    return b.build()


def _hand(b: _Builder, side: str, part: int, skin, scale: float) -> None:
    wrist = b.node(f"{side}_wrist")
    w = b.rest[wrist]
    mcps = np.stack([b.rest[b.node(f"{side}_{f}1")] for f in FINGERS[1:]])
    along = mcps.mean(0) - w
    length = np.linalg.norm(along)
    across = mcps[0] - mcps[-1]
    x = along / length
    y = across - x * (across @ x)
    y /= np.linalg.norm(y)
    frame = np.stack([x, y, np.cross(x, y)], 1)  # columns: along the fingers, across the knuckles, the palm normal
    radii = np.array([0.56 * length, 0.62 * np.linalg.norm(across) + 0.006 * scale, 0.013 * scale])
    b.add(ellipsoid(w + 0.5 * along, frame, radii, rings=12, rows=8), skin, part, wrist)
    # The thenar and the three finger segments; radii taper towards the tips.
    b.bone(f"{side}_wrist", f"{side}_thumb1", 0.014 * scale, 0.012 * scale, skin, part, rings=8, rows=2, blend=False)
    for f in FINGERS:
        r = (0.0105 if f == "thumb" else 0.0088 if f != "pinky" else 0.0078) * scale
        chain = (f"{side}_{f}1", f"{side}_{f}2", f"{side}_{f}3", f"{side}_{f}_tip")
        for k in range(3):
            b.bone(chain[k], chain[k + 1], r * (1 - 0.08 * k), r * (1 - 0.08 * (k + 1)), skin, part, rings=8, rows=2)
