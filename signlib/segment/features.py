"""Segmentation input: one feature stream per hand, the same for every layout.

Both the generated corpus (``rot6d`` → forward kinematics) and real MediaPipe ``.pose`` files
(``xyz_mediapipe``) become the same per-hand streams, so a segmenter trained on the generated
corpus runs on real keypoints. Per frame and hand (``HAND_FEATURES`` = 52 channels):

- wrist and elbow position (x, y), relative to the mid-shoulder point, in shoulder widths;
- the 20 non-wrist hand points (x, y) relative to the wrist, in shoulder widths;
- wrist velocity and acceleration (x, y) and elbow velocity (x, y) per 1/25 s, in shoulder widths;
- hand-shape speed: the mean change of the wrist-relative hand points per 1/25 s;
- a 1/0 flag: the hand was observed in this frame (its points are zero otherwise).

Velocities matter most: a sign starts where the hand stops travelling and its own movement
begins, so onsets show as changes of speed and acceleration.

Only the frontal projection is used: depth from monocular estimators is unreliable and differs
between conventions. ``y`` points up. The left hand is mirrored (``x → -x``) so both streams see
a hand in the same convention, which lets left-dominant signers look like right-dominant ones.
"""

from __future__ import annotations

import numpy as np

from signlib.data.positions import sequence_positions
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.segment.configs import HAND_FEATURES

#: What a checkpoint records about its input, checked when it is applied to data.
FEATURE_SPEC = {"name": "hand_streams_2d", "version": 2, "per_hand": HAND_FEATURES}


def hand_streams(seq: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """``(left (T, 52), right (T, 52))`` float32 streams of ``seq`` (see the module docstring)."""
    pos, lay = sequence_positions(seq)
    valid = seq.valid_or_all() if seq.get_layout().kind == "xyz" else _hand_valid_rot6d(seq, lay.num_joints)
    xy = pos[..., :2].astype(np.float64)
    if not lay.y_up:
        xy[..., 1] *= -1
    try:
        ls, rs = lay.joint_index("left_shoulder"), lay.joint_index("right_shoulder")
    except SignlibError:
        raise SignlibError(f"{seq.id}: layout {lay.name!r} has no shoulders to normalise by") from None
    both = valid[:, ls] & valid[:, rs]
    if not both.any():
        raise SignlibError(f"{seq.id}: no frame shows both shoulders; cannot normalise for segmentation")
    centre = 0.5 * (xy[both, ls] + xy[both, rs]).mean(0)
    width = np.linalg.norm(xy[both, ls] - xy[both, rs], axis=-1).mean()
    if width < 1e-6:
        raise SignlibError(f"{seq.id}: shoulder width is zero; cannot normalise for segmentation")
    xy = (xy - centre) / width
    speed = 25.0 / seq.fps
    out = []
    for side, mirror in (("left", -1.0), ("right", 1.0)):
        hand = lay.joint_slice(f"{side}_hand")
        wrist, elbow = xy[:, lay.joint_index(f"{side}_wrist")], xy[:, lay.joint_index(f"{side}_elbow")]
        points = xy[:, hand][:, 1:] - xy[:, hand][:, :1]                      # (T, 20, 2)
        seen = valid[:, hand].all(1)                                           # (T,)
        vel = np.diff(wrist, axis=0, prepend=wrist[:1]) * speed
        acc = np.diff(vel, axis=0, prepend=vel[:1]) * speed
        elbow_vel = np.diff(elbow, axis=0, prepend=elbow[:1]) * speed
        flat = np.where(seen[:, None], points.reshape(len(xy), -1), 0.0)
        shape_speed = np.abs(np.diff(flat, axis=0, prepend=flat[:1])).mean(1, keepdims=True) * speed
        shape_speed[~seen | ~np.roll(seen, 1)] = 0.0  # no speed across a drop-out
        f = np.concatenate([wrist, elbow, flat, vel, acc, elbow_vel, shape_speed, seen[:, None]], 1)
        f[:, 0:50:2] *= mirror  # the 25 (x, y) pairs come first: mirror x for the left hand
        out.append(f.astype(np.float32))
    if not all(np.isfinite(f).all() for f in out):
        raise SignlibError(f"{seq.id}: segmentation features are not finite")
    return out[0], out[1]


def _hand_valid_rot6d(seq: Sequence, num_points: int) -> np.ndarray:
    """Per-point validity for FK output: a hand's points inherit its joints' validity."""
    lay = seq.get_layout()
    v = seq.valid_or_all()
    out = np.ones((seq.num_frames, num_points), bool)
    # FK points: body joints, then 21 left and 21 right hand points.
    nb = lay.joint_slice("body").stop
    out[:, nb:nb + 21] = v[:, lay.joint_slice("left_hand")].all(1, keepdims=True)
    out[:, nb + 21:nb + 42] = v[:, lay.joint_slice("right_hand")].all(1, keepdims=True)
    return out
