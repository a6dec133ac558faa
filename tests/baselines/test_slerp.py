"""The SLERP keyframe-to-pose baseline on whole sequences: it passes through the keyframes, holds
before the first and after the last, reads nothing but the keyframe frames, and says which it used.
(The interpolation maths itself is tested in tests/pose/test_rotation.py.)"""

import numpy as np
import pytest

from signlib.baselines.slerp import slerp_sequence
from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.pose.layout import get_layout
from signlib.pose.normalize import orthonormalize_rot6d


def _rot6d(T: int = 20, seed: int = 0) -> Sequence:
    rng = np.random.default_rng(seed)
    feats = orthonormalize_rot6d(rng.normal(size=(T, 240)).astype(np.float32), "rot6d")
    valid = np.ones((T, get_layout("rot6d").num_joints), bool)
    valid[5, 3] = False
    return Sequence(feats, "rot6d", 25.0, valid=valid, segments=(Segment(2, 16, "A"),), text="a",
                    language="ASL", id="clip")


def test_hits_the_keyframes_and_holds_before_the_first_and_after_the_last():
    seq = _rot6d()
    out = slerp_sequence(seq, [3, 9, 15])
    assert out.num_frames == seq.num_frames and out.layout == seq.layout
    np.testing.assert_allclose(out.features[[3, 9, 15]], seq.features[[3, 9, 15]], atol=1e-5)
    np.testing.assert_allclose(out.features[:3], np.repeat(seq.features[3:4], 3, 0), atol=1e-5)
    np.testing.assert_allclose(out.features[16:], np.repeat(seq.features[15:16], 4, 0), atol=1e-5)
    assert not np.allclose(out.features[6], seq.features[6], atol=1e-2)    # in between: interpolated


def test_reads_only_the_keyframe_frames():
    seq = _rot6d()
    other = _rot6d(seed=1).features
    other[[4, 12]] = seq.features[[4, 12]]             # same keyframes, every other frame different
    a = slerp_sequence(seq, [4, 12])
    b = slerp_sequence(seq.replace(features=other), [4, 12])
    np.testing.assert_array_equal(a.features, b.features)


def test_interpolates_keypoint_layouts_linearly():
    lay = get_layout("xyz_mediapipe")
    x = np.zeros((5, lay.dim), np.float32)
    x[4] = 1.0
    out = slerp_sequence(Sequence(x, lay.name, 25.0, id="xyz"), [0, 4])
    np.testing.assert_allclose(out.features[:, 0], [0.0, 0.25, 0.5, 0.75, 1.0], atol=1e-6)


def test_drops_labels_and_the_missing_joint_mask_and_records_the_keyframes():
    seq = _rot6d().replace(bio=np.zeros(20, np.int8))
    out = slerp_sequence(seq, np.array([3, 15]))
    assert out.valid is None and out.bio is None and out.meta == {"keyframes": [3, 15]}
    assert (out.id, out.text, out.language, out.segments) == (seq.id, seq.text, seq.language, seq.segments)


def test_no_keyframes_is_an_error_naming_the_sequence():
    with pytest.raises(SignlibError, match="clip: SLERP needs at least one keyframe"):
        slerp_sequence(_rot6d(), [])
