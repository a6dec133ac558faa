"""Keyframe interpolation: the keyframe-to-pose baseline every generator must beat.

Between consecutive keyframes each joint rotation follows the shortest arc (quaternion SLERP) for
``rot6d`` layouts and a straight line for ``xyz`` layouts
(:func:`signlib.pose.rotation.slerp_keyframes`); before the first and after the last keyframe the
pose is held. It reads only the keyframe frames of the truth it is given.
"""

from __future__ import annotations

import numpy as np
import torch

from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.pose.rotation import slerp_keyframes


def slerp_sequence(seq: Sequence, keyframes) -> Sequence:
    """``seq`` with every frame filled from its ``keyframes`` (at least one); labels and the
    missing-joint mask are dropped, ``meta["keyframes"]`` lists the frames used."""
    keys = np.asarray(keyframes, np.int64)
    if keys.size == 0:
        raise SignlibError(f"{seq.id or 'sequence'}: SLERP needs at least one keyframe")
    features = slerp_keyframes(torch.from_numpy(seq.features), keys, seq.layout).numpy()
    return seq.replace(features=features, valid=None, bio=None, meta={"keyframes": keys.tolist()})
