"""Per-hand segmentation streams are the same for rotations and keypoints."""

import numpy as np
import pytest

from signlib.data.sequence import Sequence
from signlib.data.synthetic.lexicon import draw_sign
from signlib.data.synthetic.performance import Style, perform
from signlib.errors import SignlibError
from signlib.pose.layout import get_layout
from signlib.pose.skeleton import forward_kinematics_np
from signlib.segment.features import HAND_FEATURES, hand_streams

STEADY = Style(1.0, 1.0, False, (0.0, 0.0, 0.0), 0.0, 0.0, 0.0)


def _signing(seed=0, style=STEADY):
    rng = np.random.default_rng(seed)
    feats, valid, spans = perform([draw_sign(f"k{i}", "G", "noun", rng) for i in range(3)], style, rng)
    return Sequence(features=feats, layout="rot6d", fps=25, valid=valid, id="s")


def _as_mediapipe(seq: Sequence) -> Sequence:
    """The same signing as image keypoints: MediaPipe body points, y down, pixels."""
    pos = forward_kinematics_np(seq.features, "rot6d")                       # (T, 52, 3) template points
    tmpl, mp = get_layout("xyz_template"), get_layout("xyz_mediapipe")
    out = np.zeros((seq.num_frames, mp.num_joints, 3), np.float32)
    for j, name in enumerate(mp.joints):
        src = tmpl.joint_index(name) if name in tmpl.joints else tmpl.joint_index("head")
        out[:, j] = pos[:, src]
    out[..., 1] *= -1
    out = out * 500 + 300  # pixels
    return Sequence(features=out.reshape(seq.num_frames, -1), layout="xyz_mediapipe", fps=25, id="mp")


def test_streams_have_the_documented_shape_and_flag():
    left, right = hand_streams(_signing())
    assert left.shape == right.shape == (left.shape[0], HAND_FEATURES)
    assert (left[:, -1] == 1).all() and np.isfinite(left).all()


def test_rotations_and_image_keypoints_of_the_same_signing_give_the_same_streams():
    seq = _signing(1)
    a = hand_streams(seq)
    b = hand_streams(_as_mediapipe(seq))
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, atol=1e-4)


def test_dropped_hand_frames_are_zeroed_and_flagged():
    seq = _signing(2, Style(1.0, 1.0, False, (0.0, 0.0, 0.0), 0.0, 0.0, 8.0))
    left, right = hand_streams(seq)
    missing = ~seq.valid[:, 25:].all(1)
    assert missing.any()
    assert (right[missing, -1] == 0).all() and (right[missing, 4:44] == 0).all()


def test_a_signer_mirrored_left_to_right_swaps_the_streams():
    seq = _signing(3)
    lefty = _signing(3, Style(1.0, 1.0, True, (0.0, 0.0, 0.0), 0.0, 0.0, 0.0))
    a_left, a_right = hand_streams(seq)
    b_left, b_right = hand_streams(lefty)
    np.testing.assert_allclose(a_right, b_left, atol=1e-4)


def test_missing_shoulders_is_a_clear_error():
    seq = _as_mediapipe(_signing())
    valid = np.ones((seq.num_frames, 49), bool)
    valid[:, 1] = False
    with pytest.raises(SignlibError, match="no frame shows both shoulders"):
        hand_streams(seq.replace(valid=valid))
