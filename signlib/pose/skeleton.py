"""Template skeleton and batched, differentiable forward kinematics (FK) for ``rot6d`` layouts.

Frame (as SMPL-X): metres, ``y`` up, ``x`` towards the subject's **left**, ``z`` forward. Identity
rotations give the SMPL-X rest pose: a T-pose with the left arm along ``+x`` and the right arm along
``-x``, palms down. The root is spine3, fixed at the origin; for the 10-joint ``rot6d`` layout it
has the identity orientation, for ``rot6d_spine3`` its rotation is the first layout joint.

Kinematics follow SMPL: a joint's global rotation is ``G_j = G_parent(j) @ R_j`` (``R_j`` the local
rotation stored in the features) and its position ``p_j = p_parent(j) + G_parent(j) @ o_j`` with
``o_j`` the rest offset from its parent.

Hands: the template hand is the **right** hand (MANO convention: fingers along ``-x``, palm facing
``-y``, thumb forward ``+z``); the left hand uses the x-mirrored offsets. Features store both hands
in the right-hand convention, so the left hand's local rotations are mirrored back
(``R -> S R S``, ``S = diag(-1, 1, 1)``) before FK. The wrist's global rotation comes from the body.

Output points follow :func:`signlib.pose.layout.xyz_layout_for`: the body joints in layout order,
then 21 left-hand then 21 right-hand points in MediaPipe order. MANO joints map to MediaPipe points
as ``thumb1/2/3 -> cmc/mcp/ip`` and ``<finger>1/2/3 -> mcp/pip/dip``; fingertips are end points
offset from joint 3. Each hand's ``wrist`` point is the body wrist joint.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import torch

from signlib.errors import SignlibError
from signlib.pose.layout import HAND21, Layout, get_layout, xyz_layout_for
from signlib.pose.rotation import mirror_rot6d, rot6d_to_matrix

Vec3 = tuple[float, float, float]
FINGERS = ("thumb", "index", "middle", "ring", "pinky")

# Rest offsets from the parent joint, metres, for the midline and the LEFT side of an adult upper
# body (roughly SMPL-X neutral proportions); the right side is the x-mirror, so the template is
# exactly symmetric and mirroring a pose mirrors its joint positions.
_BODY_OFFSETS: tuple[tuple[str, Vec3], ...] = (
    ("spine3", (0.0, 0.0, 0.0)),            # the root, at the origin
    ("neck", (0.0, 0.200, -0.020)),         # spine3 -> base of the neck, slightly behind
    ("head", (0.0, 0.100, 0.030)),          # neck -> head joint (skull base), slightly forward
    ("left_collar", (0.075, 0.110, -0.015)),  # spine3 -> sternoclavicular joint
    ("left_shoulder", (0.110, 0.040, -0.010)),  # collar -> glenohumeral joint
    ("left_elbow", (0.270, 0.0, 0.0)),      # upper arm
    ("left_wrist", (0.250, 0.0, 0.0)),      # forearm
)

# Rest offsets of the RIGHT hand (MANO-like): the parent of ``<finger>1`` is the wrist, of
# ``<finger>k`` is ``<finger>k-1`` and of ``<finger>_tip`` is ``<finger>3``. The palm (wrist -> MCP)
# is about 9 cm; the thumb's CMC sits forward (+z) and slightly palmar (-y) of the wrist.
_RIGHT_HAND_OFFSETS: tuple[tuple[str, Vec3], ...] = (
    ("thumb1", (-0.024, -0.014, 0.020)), ("thumb2", (-0.028, -0.006, 0.022)),
    ("thumb3", (-0.028, -0.004, 0.010)), ("thumb_tip", (-0.024, -0.002, 0.006)),
    ("index1", (-0.088, -0.004, 0.024)), ("index2", (-0.038, 0.0, 0.002)),
    ("index3", (-0.023, 0.0, 0.001)), ("index_tip", (-0.020, 0.0, 0.0)),
    ("middle1", (-0.092, -0.003, 0.004)), ("middle2", (-0.043, 0.0, 0.0)),
    ("middle3", (-0.027, 0.0, 0.0)), ("middle_tip", (-0.021, 0.0, 0.0)),
    ("ring1", (-0.085, -0.004, -0.015)), ("ring2", (-0.040, 0.0, -0.002)),
    ("ring3", (-0.026, 0.0, -0.001)), ("ring_tip", (-0.020, 0.0, 0.0)),
    ("pinky1", (-0.076, -0.006, -0.033)), ("pinky2", (-0.030, 0.0, -0.003)),
    ("pinky3", (-0.019, 0.0, -0.001)), ("pinky_tip", (-0.018, 0.0, 0.0)),
)

# MediaPipe point suffix -> MANO joint number (0 = the fingertip end point).
_MP_TO_MANO = {"thumb": {"cmc": 1, "mcp": 2, "ip": 3, "tip": 0}}
_MP_TO_MANO.update({f: {"mcp": 1, "pip": 2, "dip": 3, "tip": 0} for f in FINGERS[1:]})


@dataclass(frozen=True)
class Skeleton:
    """A template skeleton: rest offsets (metres) from each joint's parent.

    Attributes:
        body: ``(name, offset)`` for spine3, the midline and the left-side body joints; right-side
            joints are their x-mirror.
        right_hand: ``(name, offset)`` for the 15 MANO joints and 5 fingertips of the right hand;
            the left hand is its x-mirror.
    """

    body: tuple[tuple[str, Vec3], ...] = field(default=_BODY_OFFSETS)
    right_hand: tuple[tuple[str, Vec3], ...] = field(default=_RIGHT_HAND_OFFSETS)

    def offset(self, name: str) -> np.ndarray:
        """``(3,)`` rest offset of template joint ``name`` from its parent, e.g. ``"right_elbow"``,
        ``"left_index2"``, ``"left_thumb_tip"``."""
        body, hand = dict(self.body), dict(self.right_hand)
        side, _, rest = name.partition("_")
        mirror = np.array([-1.0, 1.0, 1.0])
        if name in body:
            return np.array(body[name])
        if side == "right" and f"left_{rest}" in body:
            return mirror * np.array(body[f"left_{rest}"])
        if side in ("left", "right") and rest in hand:
            return np.array(hand[rest]) * (mirror if side == "left" else 1.0)
        raise SignlibError(f"the template skeleton has no joint {name!r}")


DEFAULT_SKELETON = Skeleton()


@dataclass(frozen=True)
class _Plan:
    """FK nodes of one layout sorted by tree depth, so every depth level is a contiguous range."""

    names: tuple[str, ...]      # N template node names
    rot_index: torch.Tensor     # (N,) index into the layout joints; J = identity (root, tips)
    offsets: torch.Tensor       # (N, 3) float64 rest offsets from the parent node
    levels: tuple[tuple[int, int, torch.Tensor], ...]  # (start, stop, parent node indices)
    out_index: torch.Tensor     # (J_xyz,) node of each output point


def fk_point_names(layout: Layout | str) -> tuple[str, ...]:
    """Template joint name of each FK output point (e.g. ``"left_index1"`` for ``left_index_mcp``);
    a hand's ``wrist`` point is the body wrist joint."""
    lay = get_layout(layout)
    xyz = xyz_layout_for(lay)
    names = list(xyz.joints[xyz.joint_slice("body")])
    for side in ("left", "right"):
        for point in HAND21:
            if point == "wrist":
                names.append(f"{side}_wrist")
                continue
            finger, _, which = point.partition("_")
            k = _MP_TO_MANO[finger][which]
            names.append(f"{side}_{finger}{k}" if k else f"{side}_{finger}_tip")
    return tuple(names)


@functools.lru_cache(maxsize=32)
def _plan(lay: Layout, skeleton: Skeleton) -> _Plan:
    # Node list: the root spine3, every layout joint, and the fingertips; parents by name.
    parent = {"spine3": None}
    rot = {"spine3": lay.num_joints}
    for j, (name, p) in enumerate(zip(lay.joints, lay.parents)):
        rot[name] = j
        if name != "spine3":
            # Body joints whose parent is not a layout joint (neck, collars in ``rot6d``) hang off
            # the fixed root.
            parent[name] = lay.joints[p] if p >= 0 else "spine3"
    for side in ("left", "right"):
        for finger in FINGERS:
            parent[f"{side}_{finger}_tip"] = f"{side}_{finger}3"
            rot[f"{side}_{finger}_tip"] = lay.num_joints

    def depth(name: str) -> int:
        return 0 if parent[name] is None else 1 + depth(parent[name])

    names = sorted(parent, key=depth)  # stable: keeps layout order within a level
    index = {n: i for i, n in enumerate(names)}
    depths = [depth(n) for n in names]
    levels = []
    for d in range(1, max(depths) + 1):
        start, stop = depths.index(d), len(depths) - depths[::-1].index(d)
        levels.append((start, stop, torch.tensor([index[parent[n]] for n in names[start:stop]])))
    offsets = np.stack([skeleton.offset(n) for n in names])  # float64; cast to the input's dtype in FK
    return _Plan(tuple(names), torch.tensor([rot[n] for n in names]), torch.from_numpy(offsets),
                 tuple(levels), torch.tensor([index[n] for n in fk_point_names(lay)]))


def _solve(features: torch.Tensor, layout: Layout | str, skeleton: Skeleton, caller: str):
    """FK over every template node: ``(plan, G (..., T, N, 3, 3), P (..., T, N, 3))``."""
    lay = get_layout(layout)
    if lay.kind != "rot6d":
        raise SignlibError(f"{caller} needs a rot6d layout, got {lay.kind} layout {lay.name!r}; "
                           "its features already are positions")
    lay.check(features)
    plan = _plan(lay, skeleton)
    x = features.reshape(*features.shape[:-1], lay.num_joints, 6)            # (..., T, J, 6)
    # Stored left hand -> world left hand: the mirror is its own inverse.
    left = lay.joint_slice("left_hand")
    x = torch.cat((x[..., :left.start, :], mirror_rot6d(x[..., left, :]), x[..., left.stop:, :]), dim=-2)
    local = rot6d_to_matrix(x)                                                # (..., T, J, 3, 3)
    eye = torch.eye(3, dtype=local.dtype, device=local.device).expand(*local.shape[:-3], 1, 3, 3)
    local = torch.cat((local, eye), dim=-3)[..., plan.rot_index.to(local.device), :, :]  # (..., T, N, 3, 3)
    offsets = plan.offsets.to(local)                                          # (N, 3)
    # Depth 0 is the root alone, at the origin.
    G = local[..., :1, :, :]                                                  # (..., T, 1, 3, 3)
    P = torch.zeros_like(G[..., 0])                                           # (..., T, 1, 3)
    for start, stop, par in plan.levels:
        par = par.to(local.device)
        Gp = G[..., par, :, :]                                                # (..., T, n, 3, 3)
        P = torch.cat((P, P[..., par, :] + (Gp @ offsets[start:stop, :, None])[..., 0]), dim=-2)
        G = torch.cat((G, Gp @ local[..., start:stop, :, :]), dim=-3)
    return plan, G, P


def forward_kinematics(features: torch.Tensor, layout: Layout | str,
                       skeleton: Skeleton = DEFAULT_SKELETON) -> torch.Tensor:
    """Joint positions of ``rot6d`` features on the template skeleton (differentiable).

    Args:
        features: ``(..., T, D)`` 6D local rotations (any leading batch dims), left hand stored in
            the right-hand convention.
        layout: a ``rot6d`` layout (name or :class:`Layout`). ``xyz`` layouts raise
            :class:`SignlibError`: their features already are positions, FK does not apply.
        skeleton: rest offsets.
    Returns:
        ``(..., T, J_xyz, 3)`` positions in metres, points ordered as ``xyz_layout_for(layout)``.
    """
    plan, _, P = _solve(features, layout, skeleton, "forward_kinematics")
    return P[..., plan.out_index.to(P.device), :]


@dataclass(frozen=True, eq=False)
class Transforms:
    """Global joint transforms of every template node (the root, each layout joint, the fingertips).

    Attributes:
        names: ``N`` template node names (e.g. ``"spine3"``, ``"left_elbow"``, ``"right_index_tip"``).
        parents: ``N`` parent node indices (-1 for the root).
        rotations: ``(..., T, N, 3, 3)`` global rotations ``G_j`` (identity in the rest pose); a
            fingertip carries its finger's joint-3 rotation.
        positions: ``(..., T, N, 3)`` joint positions, metres.
        rest_positions: ``(N, 3)`` positions in the rest pose (identity rotations).
    """

    names: tuple[str, ...]
    parents: tuple[int, ...]
    rotations: torch.Tensor
    positions: torch.Tensor
    rest_positions: torch.Tensor

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise SignlibError(f"the skeleton has no node {name!r}") from None


def global_transforms(features: torch.Tensor, layout: Layout | str,
                      skeleton: Skeleton = DEFAULT_SKELETON) -> Transforms:
    """Global rotation and position of every template node: what linear blend skinning needs.

    Args:
        features: ``(..., T, D)`` rot6d features, as :func:`forward_kinematics`.
    Returns:
        :class:`Transforms`; a point ``x`` rigidly attached to node ``j`` in the rest pose moves to
        ``G_j (x - rest_j) + p_j``.
    """
    plan, G, P = _solve(features, layout, skeleton, "global_transforms")
    # A fingertip has no rotation of its own (identity local): G already carries the parent's.
    lay = get_layout(layout)
    _, _, rest = _solve(rest_features(lay).to(features.dtype), lay, skeleton, "global_transforms")
    parents = [-1] * len(plan.names)
    for start, stop, par in plan.levels:
        for k, node in enumerate(range(start, stop)):
            parents[node] = int(par[k])
    return Transforms(plan.names, tuple(parents), G, P, rest[0])


def forward_kinematics_np(features: np.ndarray, layout: Layout | str,
                          skeleton: Skeleton = DEFAULT_SKELETON) -> np.ndarray:
    """numpy version of :func:`forward_kinematics`: ``(..., T, D)`` → ``(..., T, J_xyz, 3)``."""
    with torch.no_grad():
        x = torch.as_tensor(np.asarray(features, dtype=np.float32))
        return forward_kinematics(x, layout, skeleton).numpy()


def rest_features(layout: Layout | str, frames: int = 1) -> torch.Tensor:
    """``(frames, D)`` identity rotations: the template's rest pose (T-pose, flat hands)."""
    lay = get_layout(layout)
    if lay.kind != "rot6d":
        raise SignlibError(f"rest_features needs a rot6d layout, got {lay.name!r}")
    return torch.tensor([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]).repeat(frames, lay.num_joints)
