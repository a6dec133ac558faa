"""Layouts: what the ``D`` feature channels of a ``(T, D)`` sequence mean.

A layout lists joints (or keypoints), the channels per joint, a parent tree and which contiguous
joint ranges are the body, the left hand and the right hand. Models only see ``(T, D)`` and the
layout's slices, so the same code runs on SMPL-X/MANO rotations and on MediaPipe keypoints.

Registered layouts (``get_layout(name)``):

- ``rot6d``: the joint set of the released SignSparK data, 10 SMPL-X upper-body joints + 15 MANO
  joints per hand, 6D rotations: 40 × 6 = 240 dims. Hands are stored in the right-hand (MANO)
  convention; the left hand is mirrored (see :mod:`signlib.pose.rotation`).
- ``rot6d_spine3``: the paper's 11-joint body (adds spine3): 41 × 6 = 246 dims.
- ``xyz_mediapipe``: MediaPipe Holistic upper body (nose, shoulders, elbows, wrists) + 21 points
  per hand, 3 channels.
- ``xyz_template``: what forward kinematics of ``rot6d`` gives: the 10 body joints + 21 points per
  hand in MediaPipe order, 3 channels, metres.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signlib.errors import SignlibError

PARTS = ("body", "left_hand", "right_hand")

#: SMPL-X joint indices of the upper body, by name (SMPL-X ``body_pose`` index = joint index - 1).
SMPLX_JOINT_INDEX = {
    "spine3": 9, "neck": 12, "left_collar": 13, "right_collar": 14, "head": 15,
    "left_shoulder": 16, "right_shoulder": 17, "left_elbow": 18, "right_elbow": 19,
    "left_wrist": 20, "right_wrist": 21,
}
UPPER_BODY_10 = ("neck", "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
                 "left_elbow", "right_elbow", "left_wrist", "right_wrist")
UPPER_BODY_11 = ("spine3",) + UPPER_BODY_10
_BODY_PARENT = {"spine3": None, "neck": "spine3", "left_collar": "spine3", "right_collar": "spine3",
                "head": "neck", "left_shoulder": "left_collar", "right_shoulder": "right_collar",
                "left_elbow": "left_shoulder", "right_elbow": "right_shoulder",
                "left_wrist": "left_elbow", "right_wrist": "right_elbow"}

#: The 15 MANO joints in MANO's own order (index, middle, pinky, ring, thumb; 3 per finger).
MANO_JOINTS = tuple(f"{f}{k}" for f in ("index", "middle", "pinky", "ring", "thumb") for k in (1, 2, 3))
#: The 21 hand points in MediaPipe order: wrist, then 4 per finger from the base to the tip.
HAND21 = ("wrist",) + tuple(f"{f}_{p}" for f, ps in (
    ("thumb", ("cmc", "mcp", "ip", "tip")), ("index", ("mcp", "pip", "dip", "tip")),
    ("middle", ("mcp", "pip", "dip", "tip")), ("ring", ("mcp", "pip", "dip", "tip")),
    ("pinky", ("mcp", "pip", "dip", "tip"))) for p in ps)
#: MediaPipe Holistic POSE_LANDMARKS indices of the upper-body points we keep.
MEDIAPIPE_UPPER_BODY = {"nose": 0, "left_shoulder": 11, "right_shoulder": 12, "left_elbow": 13,
                        "right_elbow": 14, "left_wrist": 15, "right_wrist": 16}


@dataclass(frozen=True)
class Layout:
    """Names the features of a ``(T, D)`` sequence.

    Attributes:
        name: registry name.
        kind: ``"rot6d"`` (6D joint rotations) or ``"xyz"`` (keypoint positions).
        joints: ``J`` joint names, body first, then left hand, then right hand.
        channels: features per joint (6 for rot6d, 3 or 2 for xyz).
        parents: ``J`` parent indices into ``joints``; -1 for a root.
        parts: ``(part, start, stop)`` joint ranges for body, left_hand, right_hand.
        y_up: whether ``y`` points up (template, metres) or down (image coordinates).
    """

    name: str
    kind: str
    joints: tuple[str, ...]
    channels: int
    parents: tuple[int, ...]
    parts: tuple[tuple[str, int, int], ...]
    y_up: bool = True  # False for image coordinates (MediaPipe / pose-format: y grows downwards)

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    @property
    def dim(self) -> int:
        """``D`` = joints × channels."""
        return len(self.joints) * self.channels

    def joint_slice(self, part: str) -> slice:
        """Joint range of ``part`` (``body``, ``left_hand`` or ``right_hand``)."""
        for name, start, stop in self.parts:
            if name == part:
                return slice(start, stop)
        raise SignlibError(f"layout {self.name!r} has no part {part!r}; parts are {[p[0] for p in self.parts]}")

    def feature_slice(self, part: str) -> slice:
        """Feature range of ``part`` in the flat ``D`` axis."""
        js = self.joint_slice(part)
        return slice(js.start * self.channels, js.stop * self.channels)

    def feature_slices(self) -> list[slice]:
        """The feature range of every part, in :attr:`parts` order."""
        return [self.feature_slice(name) for name, _, _ in self.parts]

    def joint_index(self, name: str) -> int:
        try:
            return self.joints.index(name)
        except ValueError:
            raise SignlibError(f"layout {self.name!r} has no joint {name!r}") from None

    def unflatten(self, x: np.ndarray) -> np.ndarray:
        """``(..., D)`` → ``(..., J, C)``."""
        self.check(x)
        return x.reshape(*x.shape[:-1], self.num_joints, self.channels)

    def split(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """``(..., D)`` → ``{part: (..., D_part)}`` views."""
        self.check(x)
        return {part: x[..., self.feature_slice(part)] for part, _, _ in self.parts}

    def check(self, x, what: str = "features") -> None:
        """Raise a :class:`SignlibError` unless the last axis of ``x`` is ``D``."""
        if x.shape[-1] != self.dim:
            raise SignlibError(f"{what} have {x.shape[-1]} channels but layout {self.name!r} has "
                               f"{self.dim} ({self.num_joints} joints × {self.channels})")


def _hand_names(side: str, names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(f"{side}_{n}" for n in names)


def _rot6d(body: tuple[str, ...], name: str) -> Layout:
    joints = list(body)
    parents = [body.index(_BODY_PARENT[j]) if _BODY_PARENT[j] in body else -1 for j in body]
    parts = [("body", 0, len(body))]
    for side in ("left", "right"):
        start = len(joints)
        wrist = body.index(f"{side}_wrist")
        for k, j in enumerate(MANO_JOINTS):
            joints.append(f"{side}_{j}")
            # MANO chains: finger joint 1 hangs off the wrist, 2 off 1, 3 off 2.
            parents.append(wrist if j.endswith("1") else start + k - 1)
        parts.append((f"{side}_hand", start, len(joints)))
    return Layout(name, "rot6d", tuple(joints), 6, tuple(parents), tuple(parts))


def _hand21_parents(offset: int, wrist_parent: int) -> list[int]:
    parents = [wrist_parent]
    for finger in range(5):
        base = offset + 1 + 4 * finger
        parents += [offset, base, base + 1, base + 2]
    return parents


def _xyz(body: tuple[str, ...], body_parents: list[int], name: str, channels: int = 3, y_up: bool = True) -> Layout:
    joints, parents = list(body), list(body_parents)
    parts = [("body", 0, len(body))]
    for side in ("left", "right"):
        start = len(joints)
        joints += _hand_names(side, HAND21)
        parents += _hand21_parents(start, body.index(f"{side}_wrist") if f"{side}_wrist" in body else -1)
        parts.append((f"{side}_hand", start, len(joints)))
    return Layout(name, "xyz", tuple(joints), channels, tuple(parents), tuple(parts), y_up)


def _template_xyz(body: tuple[str, ...], name: str) -> Layout:
    parents = [body.index(_BODY_PARENT[j]) if _BODY_PARENT[j] in body else -1 for j in body]
    return _xyz(body, parents, name)


_MP_BODY = tuple(MEDIAPIPE_UPPER_BODY)
_MP_PARENTS = [-1, -1, -1, 1, 2, 3, 4]  # nose; shoulders; elbows→shoulders; wrists→elbows

_REGISTRY = {
    "rot6d": lambda: _rot6d(UPPER_BODY_10, "rot6d"),
    "rot6d_spine3": lambda: _rot6d(UPPER_BODY_11, "rot6d_spine3"),
    "xyz_mediapipe": lambda: _xyz(_MP_BODY, _MP_PARENTS, "xyz_mediapipe", y_up=False),
    "xyz_template": lambda: _template_xyz(UPPER_BODY_10, "xyz_template"),
    "xyz_template_spine3": lambda: _template_xyz(UPPER_BODY_11, "xyz_template_spine3"),
}


def layout_names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def get_layout(name: str) -> Layout:
    """The registered layout called ``name``."""
    if isinstance(name, Layout):
        return name
    try:
        return _REGISTRY[name]()
    except KeyError:
        raise SignlibError(f"unknown layout {name!r}; known layouts: {', '.join(_REGISTRY)}") from None


def xyz_layout_for(layout: Layout) -> Layout:
    """The keypoint layout that forward kinematics of a rot6d ``layout`` produces."""
    if layout.kind == "xyz":
        return layout
    return get_layout("xyz_template_spine3" if "spine3" in layout.joints else "xyz_template")
