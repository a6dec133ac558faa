"""Handshapes as MANO joint angles of the right hand (15 joints × axis-angle).

A handshape is written as a state per finger: how each of the three joints flexes and how far the
finger spreads. Flexion of the template right hand (fingers along ``-x``, palm ``-y``) is a
rotation about ``+z`` (it curls the finger towards the palm); spread is a rotation about ``y``
(``+`` towards the thumb). The thumb flexes about the axis that folds it across the palm.

The inventory covers the handshapes sign phonologies share most (ASL names, as in the literature):
A, S, B, 5, 1, V, W, Y, I, L, claw-5, C, O, F, bent-B, X, 3, horns, E, flat-O, U, bent-V, T, K,
open-8 (middle bent), baby-O.
"""

from __future__ import annotations

import numpy as np

from signlib.pose.layout import MANO_JOINTS

# Per-joint flexion (rad) of the four long fingers, (MCP, PIP, DIP).
_FINGER = {
    "ext": (0.0, 0.0, 0.0),
    "fist": (1.45, 1.65, 1.0),
    "bent": (1.35, 0.05, 0.05),     # flat hand bent at the knuckles
    "hook": (0.15, 1.5, 1.1),       # X-like
    "curve": (0.55, 0.65, 0.45),    # C / claw
    "half": (0.9, 1.0, 0.7),        # O (meets the thumb)
}
# Thumb: (rotation of thumb1 about y (abduction), flexion of thumb1/2/3 about the fold axis).
_THUMB = {
    "out": (0.65, 0.0, 0.0, 0.0),       # L, Y, 5
    "side": (-0.1, 0.25, 0.2, 0.1),     # A: along the index
    "across": (0.2, 0.9, 0.6, 0.5),     # B, 1, V: folded over the palm
    "opposed": (0.45, 0.7, 0.35, 0.35),  # O, F, C: meets the fingers
    "wrap": (0.1, 1.0, 0.8, 0.7),       # S, T: over the curled fingers
}
_FOLD_AXIS = np.array([1.0, 0.0, 1.0]) / np.sqrt(2.0)
_SPREAD = {"index": 0.22, "middle": 0.0, "ring": -0.14, "pinky": -0.3}
_ORDER = ("index", "middle", "pinky", "ring")  # MANO order of the long fingers

#: name → (index, middle, ring, pinky states, thumb state, spread fingers?)
HANDSHAPES: dict[str, tuple[str, str, str, str, str, bool]] = {
    "A": ("fist", "fist", "fist", "fist", "side", False),
    "S": ("fist", "fist", "fist", "fist", "wrap", False),
    "B": ("ext", "ext", "ext", "ext", "across", False),
    "5": ("ext", "ext", "ext", "ext", "out", True),
    "1": ("ext", "fist", "fist", "fist", "across", False),
    "V": ("ext", "ext", "fist", "fist", "across", True),
    "W": ("ext", "ext", "ext", "fist", "across", True),
    "Y": ("fist", "fist", "fist", "ext", "out", True),
    "I": ("fist", "fist", "fist", "ext", "wrap", False),
    "L": ("ext", "fist", "fist", "fist", "out", False),
    "claw5": ("curve", "curve", "curve", "curve", "out", True),
    "C": ("curve", "curve", "curve", "curve", "opposed", False),
    "O": ("half", "half", "half", "half", "opposed", False),
    "F": ("half", "ext", "ext", "ext", "opposed", True),
    "bentB": ("bent", "bent", "bent", "bent", "across", False),
    "X": ("hook", "fist", "fist", "fist", "wrap", False),
    "3": ("ext", "ext", "fist", "fist", "out", True),
    "horns": ("ext", "fist", "fist", "ext", "wrap", True),
    "E": ("hook", "hook", "hook", "hook", "across", False),
    "flatO": ("bent", "bent", "bent", "bent", "opposed", False),
    "U": ("ext", "ext", "fist", "fist", "across", False),
    "bentV": ("hook", "hook", "fist", "fist", "across", True),
    "T": ("half", "fist", "fist", "fist", "wrap", False),
    "K": ("ext", "curve", "fist", "fist", "opposed", True),
    "open8": ("ext", "bent", "ext", "ext", "out", True),
    "babyO": ("half", "fist", "fist", "fist", "opposed", False),
}


def _rotvec_y(angle: float) -> np.ndarray:
    return np.array([0.0, angle, 0.0])


def handshape_pose(name: str) -> np.ndarray:
    """``(15, 3)`` axis-angle of the right hand's MANO joints for handshape ``name``."""
    index, middle, ring, pinky, thumb, spread = HANDSHAPES[name]
    states = {"index": index, "middle": middle, "ring": ring, "pinky": pinky}
    pose = np.zeros((15, 3))
    for f, finger in enumerate(_ORDER):
        flex = _FINGER[states[finger]]
        for k in range(3):
            pose[3 * f + k, 2] = flex[k]
        # Spread only where the finger is straight enough for it to show; curled fingers close up.
        if spread and states[finger] in ("ext", "curve"):
            pose[3 * f] += _rotvec_y(_SPREAD[finger])
    abd, f1, f2, f3 = _THUMB[thumb]
    pose[12] = _rotvec_y(abd) + f1 * _FOLD_AXIS
    pose[13] = f2 * _FOLD_AXIS
    pose[14] = f3 * _FOLD_AXIS
    return pose


#: all handshapes as one array ``(H, 15, 3)``, in :data:`HANDSHAPES` order.
NAMES = tuple(HANDSHAPES)
assert len(MANO_JOINTS) == 15


def inventory() -> np.ndarray:
    """``(H, 15, 3)`` every handshape."""
    return np.stack([handshape_pose(n) for n in NAMES])


#: Relative frequency of each handshape as a sign's dominant handshape: unmarked handshapes
#: (B, 5, 1, A, S, C, O) are the most frequent across sign languages.
FREQUENCY = np.array([3 if n in ("B", "5", "1", "A", "S", "C", "O") else 1 for n in NAMES], float)
FREQUENCY /= FREQUENCY.sum()
