"""From signs to motion: per-frame arm targets and hand poses, then IK to ``rot6d`` features.

A clip is built as a chain of :class:`Track` pieces for the dominant (right) and non-dominant
(left) arm: rest → transition → sign → transition → sign → … → rest. Each piece holds per-frame
wrist targets, hand orientation (finger direction + palm normal), elbow swivel and MANO finger
angles. Transitions are minimum-jerk blends whose length grows with the distance the hands travel.
:func:`sign_tracks` makes a sign's citation form by default; given the in-context parameters of
:mod:`~signlib.data.synthetic.context` it makes the reduced form (displaced location, smaller
wrist rotations, the handshape anticipating the next sign). Finally both arms are solved by IK and
everything is converted to 6D rotations in the stored convention.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from signlib.data.synthetic import handshapes
from signlib.data.synthetic.kinematics import (mirror_points, mirror_rotations, rotvec_to_matrix, solve_left_arm,
                                               solve_right_arm)
from signlib.data.synthetic.lexicon import BASE_HAND, LOCATIONS, ORIENTATIONS, SignSpec
from signlib.pose.layout import UPPER_BODY_10
from signlib.pose.rotation import axis_angle_to_rot6d, matrix_to_rot6d

_J = {n: i for i, n in enumerate(UPPER_BODY_10)}
_RELAXED = np.zeros((15, 3))
_RELAXED[:12, 2] = 0.25
_RELAXED[12:] = handshapes.handshape_pose("B")[12:] * 0.5
# Arms hanging by the thighs, palms inwards; "standby" is where a non-dominant hand waits while
# the dominant hand signs alone.
REST = dict(target=(-0.17, -0.31, 0.10), finger=(0.1, -1.0, 0.25), palm=(1.0, 0.0, 0.2))
STANDBY = dict(target=(-0.13, -0.22, 0.17), finger=(0.4, -0.6, 0.6), palm=(0.6, 0.2, -0.2))


@dataclass
class Track:
    """One arm over ``n`` frames: ``target``/``finger``/``palm`` ``(n, 3)``, ``swivel`` ``(n,)``,
    ``hand`` ``(n, 15, 3)`` MANO axis-angle in the right-hand convention."""

    target: np.ndarray
    finger: np.ndarray
    palm: np.ndarray
    swivel: np.ndarray
    hand: np.ndarray

    def __len__(self) -> int:
        return len(self.target)

    def frame(self, t: int) -> "Track":
        return Track(*(getattr(self, k)[t:t + 1] for k in ("target", "finger", "palm", "swivel", "hand")))

    @staticmethod
    def concat(tracks: list["Track"]) -> "Track":
        return Track(*(np.concatenate([getattr(t, k) for t in tracks]) for k in ("target", "finger", "palm", "swivel", "hand")))


def still(pose: dict, n: int, side: int = 1, hand: np.ndarray = _RELAXED, offset=(0.0, 0.0, 0.0)) -> Track:
    """A held pose; ``side=-1`` mirrors it onto the left arm."""
    m = np.array([side, 1.0, 1.0])
    return Track(np.tile((np.array(pose["target"]) + offset) * m, (n, 1)), np.tile(np.array(pose["finger"]) * m, (n, 1)),
                 np.tile(np.array(pose["palm"]) * m, (n, 1)), np.zeros(n), np.tile(hand, (n, 1, 1)))


def min_jerk(n: int) -> np.ndarray:
    """``(n,)`` minimum-jerk progress from just after 0 to just before 1."""
    tau = np.arange(1, n + 1) / (n + 1)
    return 10 * tau ** 3 - 15 * tau ** 4 + 6 * tau ** 5


def transition(a: Track, b: Track, n: int) -> Track:
    """``n`` frames from the last frame of ``a`` to the first of ``b`` (minimum jerk)."""
    s = min_jerk(n)
    lerp = lambda x, y: x[-1] + (s.reshape(-1, *[1] * (x.ndim - 1))) * (y[0] - x[-1])  # noqa: E731
    return Track(lerp(a.target, b.target), lerp(a.finger, b.finger), lerp(a.palm, b.palm), lerp(a.swivel, b.swivel),
                 lerp(a.hand, b.hand))


def transition_frames(a: Track, b: Track, speed: float) -> int:
    """Transition length: grows with the distance the wrists travel (about 3 + 30 frames/m)."""
    dist = np.linalg.norm(b.target[0] - a.target[-1])
    return int(np.clip(round((3 + 30 * dist) / speed), 3, 20))


def _rotate(v: np.ndarray, axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    return (rotvec_to_matrix(axis / np.linalg.norm(axis, axis=-1, keepdims=True) * angle[:, None]) @ v[..., None])[..., 0]


def _path(spec: SignSpec, tau: np.ndarray, size: float) -> np.ndarray:
    """``(n, 3)`` wrist offset of the movement at progress ``tau``."""
    d = np.array(spec.direction, float)
    d /= np.linalg.norm(d)
    perp = np.cross(d, [0.0, 0.0, 1.0]) if abs(d[2]) < 0.9 else np.cross(d, [0.0, 1.0, 0.0])
    perp /= np.linalg.norm(perp)
    m, k = spec.movement, spec.repeats
    if m == "straight":
        return np.outer(tau - 0.5, d) * size
    if m == "arc":
        return np.outer(tau - 0.5, d) * size + np.outer(np.sin(np.pi * tau), perp) * 0.35 * size
    if m == "circle":
        phi = 2 * np.pi * k * tau
        return 0.5 * size * (np.outer(np.cos(phi) - 1, d) + np.outer(np.sin(phi), perp))
    if m == "zigzag":
        tri = 2 * np.abs(((3 * tau) % 1.0) - 0.5) - 0.5
        return np.outer(tau - 0.5, d) * size + np.outer(tri, perp) * 0.5 * size
    if m == "repeated":
        return np.outer(np.abs(np.sin(np.pi * k * tau)), d) * 0.5 * size
    return np.zeros((len(tau), 3))  # hold, twist, wiggle: the wrist stays put


def sign_tracks(spec: SignSpec, n: int, amplitude: float, rng: np.random.Generator, shift=(0.0, 0.0, 0.0),
                extent: float = 1.0, next_handshape: str | None = None, anticipation: float = 0.0
                ) -> tuple[Track, Track]:
    """Dominant and non-dominant :class:`Track` of ``spec`` performed over ``n`` frames.

    The defaults give the citation form. In context (:mod:`~signlib.data.synthetic.context`)
    ``shift`` ``(3,)`` moves the location (metres; a base hand moves with it, a symmetric other hand
    mirrors it), ``extent`` scales wrist-twist and finger-wiggle angles, and the hand shape goes
    ``anticipation`` of the way toward ``next_handshape`` over the sign's last 40%.
    """
    tau = np.linspace(0.0, 1.0, n)
    size = spec.size * amplitude
    shift = np.asarray(shift, float)
    target = np.array(LOCATIONS[spec.location]) + shift + _path(spec, tau, size) + rng.normal(0, 0.008, 3)
    finger0, palm0 = (np.array(v, float) for v in ORIENTATIONS[spec.orientation])
    finger, palm = np.tile(finger0, (n, 1)), np.tile(palm0, (n, 1))
    if spec.movement == "twist":  # forearm rotation: the palm turns about the finger axis
        angle = 0.7 * extent * np.sin(2 * np.pi * spec.repeats * tau / 2)
        palm = _rotate(palm, finger, angle)
    h0, h1 = handshapes.handshape_pose(spec.handshape), handshapes.handshape_pose(spec.handshape_end)
    blend = np.clip((tau - 0.25) / 0.5, 0, 1)[:, None, None]
    blend = blend * blend * (3 - 2 * blend)  # smoothstep: the change happens mid-sign
    hand = h0 + blend * (h1 - h0)
    if spec.movement == "wiggle":  # fingers flex out of phase with each other
        phase = np.array([0.0, 1.2, 3.6, 2.4])
        wave = 0.45 * extent * (0.5 + 0.5 * np.sin(2 * np.pi * spec.repeats * tau[:, None] - phase))  # (n, 4)
        hand = hand.copy()
        for f in range(4):
            hand[:, 3 * f:3 * f + 3, 2] += wave[:, f:f + 1]
    if next_handshape is not None and anticipation > 0:  # the fingers already head for the next sign
        ramp = np.clip((tau - 0.6) / 0.4, 0, 1)[:, None, None]
        ramp = anticipation * ramp * ramp * (3 - 2 * ramp)
        hand = hand + ramp * (handshapes.handshape_pose(next_handshape) - hand)
    dom = Track(target, finger, palm, np.zeros(n), hand)
    if spec.hands == "one":
        return dom, still(STANDBY, n, side=-1)
    if spec.hands == "base":
        base = handshapes.handshape_pose(spec.base_handshape)
        return dom, still(dict(target=BASE_HAND, finger=(0.3, 0.0, 1.0), palm=(0.0, 1.0, 0.0)), n, side=1, hand=base,
                          offset=shift)
    # Symmetric: the other hand mirrors the dominant one, half a cycle late when alternating.
    other = Track(mirror_points(target), mirror_points(finger), mirror_points(palm), np.zeros(n), hand.copy())
    if spec.alternating:
        shift = max(1, n // (2 * max(spec.repeats, 1)))
        other = Track(*(np.concatenate([a[:1].repeat(shift, 0), a[:-shift]]) for a in
                        (other.target, other.finger, other.palm, other.swivel, other.hand)))
    return dom, other


def to_features(dom: Track, other: Track, head: np.ndarray, left_dominant: bool) -> np.ndarray:
    """Solve both arms and build ``(T, 240)`` stored rot6d features.

    ``other`` targets are world positions of the left arm (``x > 0``). ``head``: ``(T, 2, 3)``
    axis-angle of neck and head. A left-dominant signer is the mirror image of the whole clip.
    """
    T = len(dom)
    right = solve_right_arm(dom.target, dom.finger, dom.palm, dom.swivel)
    left = solve_left_arm(other.target, other.finger, other.palm, other.swivel)
    R = np.tile(np.eye(3), (T, 10, 1, 1))
    R[:, _J["neck"]], R[:, _J["head"]] = rotvec_to_matrix(head[:, 0]), rotvec_to_matrix(head[:, 1])
    for side, sol in (("right", right), ("left", left)):
        for part in ("collar", "shoulder", "elbow", "wrist"):
            R[:, _J[f"{side}_{part}"]] = getattr(sol, part)
    hands = [other.hand, dom.hand]  # stored order: left hand, right hand (both right-hand convention)
    if left_dominant:
        R = mirror_rotations(R)
        swap = {i: _J[n.replace("left", "#").replace("right", "left").replace("#", "right")] for n, i in _J.items()}
        R = R[:, [swap[i] for i in range(10)]]
        hands = hands[::-1]
    body = matrix_to_rot6d(torch.from_numpy(R.astype(np.float32))).reshape(T, 60)
    fingers = axis_angle_to_rot6d(torch.from_numpy(np.concatenate(hands, 1).astype(np.float32))).reshape(T, 180)
    return torch.cat([body, fingers], 1).numpy()
