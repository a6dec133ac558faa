"""Keyframe policies and their agreement with the true keyframes."""

import numpy as np
import pytest

from signlib.errors import SignlibError
from signlib.keyframes import (POLICIES, keyframe_agreement, keyframe_mask, masked_segments, onset_mid_offset,
                               select_keyframes)


def test_onset_mid_offset_of_each_sign():
    # (2, 7): onset 2, mid (2 + 6) // 2 = 4, offset 6; (7, 8): a one-frame sign gives 7 once.
    np.testing.assert_array_equal(onset_mid_offset([(2, 7), (7, 8)], 10), [2, 4, 6, 7])


def test_out_of_range_segments_and_keyframes_are_errors():
    with pytest.raises(SignlibError, match="outside"):
        onset_mid_offset([(5, 12)], 10)
    with pytest.raises(SignlibError, match="outside"):
        keyframe_mask([3, 10], 10)


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_every_policy_returns_sorted_frames_inside_the_clip(policy):
    frames = select_keyframes(policy, [(3, 9), (12, 20)], 25, np.random.default_rng(0))
    assert frames.dtype == np.int64 and (np.diff(frames) > 0).all()
    assert frames.min() >= 0 and frames.max() < 25


def test_random_policy_keeps_the_budget():
    assert len(select_keyframes("random", [(3, 9), (12, 20)], 25, np.random.default_rng(1))) == 6


def test_masked_segments_drop_whole_signs_and_keep_at_least_one():
    rng = np.random.default_rng(0)
    for _ in range(20):
        frames = masked_segments([(0, 5), (10, 15)], 20, rng, p=0.99)
        assert len(frames) == 3 and (set(frames) in ({0, 2, 4}, {10, 12, 14}))


def test_unknown_policy():
    with pytest.raises(SignlibError, match="unknown keyframe policy 'every'"):
        select_keyframes("every", [], 5, np.random.default_rng(0))


# True keyframes 2, 4, 6 and tolerance 1; the distance from each true keyframe to its nearest
# predicted one decides: [3, 5, 7] -> 1, 1, 1 (all matched); [0, 4, 9] -> 2, 0, 2 (one of three);
# [4, 7] -> 2, 0, 1 (two of three); none predicted -> 0.
@pytest.mark.parametrize("predicted,expected", [([3, 5, 7], 1.0), ([0, 4, 9], 1 / 3), ([4, 7], 2 / 3), ([], 0.0)])
def test_keyframe_agreement_counts_true_keyframes_matched_within_tolerance(predicted, expected):
    assert keyframe_agreement(predicted, [2, 4, 6], tolerance=1) == pytest.approx(expected)
