"""The sequence record: validation and missing-joint masks."""

import numpy as np
import pytest

from signlib.data.sequence import MAX_FRAMES, Segment, Sequence, mask_missing
from signlib.errors import SignlibError


def _seq(T=10, **kw):
    return Sequence(features=np.zeros((T, 240), np.float32), layout="rot6d", fps=25, id="clip", **kw)


def test_labels_come_from_segments_when_bio_is_absent():
    seq = _seq(segments=[(2, 5, "HOUSE")])
    np.testing.assert_array_equal(seq.labels(), [0, 0, 2, 1, 1, 0, 0, 0, 0, 0])
    assert seq.glosses == ["HOUSE"] and seq.segments[0] == Segment(2, 5, "HOUSE")


def test_with_bio_segments_names_spans_in_order():
    seq = _seq(bio=[0, 2, 1, 0, 2, 0, 0, 0, 0, 0]).with_bio_segments(["A", "B"])
    assert seq.segments == (Segment(1, 3, "A"), Segment(4, 5, "B"))


@pytest.mark.parametrize("kwargs,message", [
    ({"features": np.full((4, 240), np.nan, np.float32)}, "NaN"),
    ({"features": np.zeros((0, 240), np.float32)}, "empty sequence"),
    ({"features": np.zeros((4, 246), np.float32)}, "246 channels"),
    ({"features": np.zeros((MAX_FRAMES + 1, 240), np.float32)}, "over the limit"),
    ({"fps": 0}, "fps must be positive"),
    ({"segments": [(3, 20, "X")]}, "outside"),
    ({"bio": [0, 3, 0, 0]}, "bio must be"),
    ({"valid": np.ones((4, 3), bool)}, "valid mask"),
    ({"layout": "rot7d"}, "unknown layout 'rot7d'"),
])
def test_bad_records_are_one_line_errors(kwargs, message):
    base = dict(features=np.zeros((4, 240), np.float32), layout="rot6d", fps=25, id="clip7")
    with pytest.raises(SignlibError, match=message):
        Sequence(**{**base, **kwargs})


def test_mask_missing_turns_nan_into_an_invalid_joint():
    x = np.zeros((3, 240), np.float32)
    x[1, 6 * 12 + 2] = np.nan  # one channel of joint 12 on frame 1
    feats, valid = mask_missing(x, "rot6d")
    assert np.isfinite(feats).all()
    assert not valid[1, 12] and valid.sum() == 3 * 40 - 1
