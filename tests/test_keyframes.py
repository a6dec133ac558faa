"""Keyframe policies, their agreement with the true keyframes, the keyframes file and the
keyframe request every keyframe-to-pose system takes."""

import json

import numpy as np
import pytest

from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.keyframes import (POLICIES, Keyframes, clip_keyframes, keyframe_agreement, keyframe_mask, masked_segments,
                               onset_mid_offset, read_keyframes, select_keyframes, true_keyframes,
                               write_keyframes_file)


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


def _sequence(T=30):
    feats = np.random.default_rng(0).normal(size=(T, 240)).astype(np.float32)
    return Sequence(feats, "rot6d", 25.0, segments=(Segment(2, 10, "A"), Segment(14, 25, "B")), text="a b",
                    language="ASL", id="s")


def test_true_keyframes_are_onset_mid_offset_of_the_gold_signs():
    # (2, 10): 2, (2 + 9) // 2 = 5, 9; (14, 25): 14, (14 + 24) // 2 = 19, 24.
    assert true_keyframes(_sequence()).tolist() == [2, 5, 9, 14, 19, 24]


def test_clip_keyframes_come_from_the_table_or_default_to_the_true_ones():
    seq = _sequence()
    assert clip_keyframes(seq, None).tolist() == true_keyframes(seq).tolist()
    frames = clip_keyframes(seq, {"s": [1, 7, 29], "other": [0]})
    assert frames.dtype == np.int64 and frames.tolist() == [1, 7, 29]
    with pytest.raises(SignlibError, match="clip 's' has no keyframes; rerun the `keyframes` stage"):
        clip_keyframes(seq, {"other": [0]})
    with pytest.raises(SignlibError, match="outside a clip of 30 frames"):
        clip_keyframes(seq, {"s": [0, 30]})


def test_keyframes_file_round_trips_every_policy(tmp_path):
    path = tmp_path / "keyframes.json"
    tables = {"onset_mid_offset": {"a": [0, 4, 9], "b": [1]}, "random": {"a": [np.int64(2), 3]}}
    write_keyframes_file(path, tables, mask_p=0.3, tolerance=2)
    raw = json.loads(path.read_text())
    assert raw["policies"] == ["onset_mid_offset", "random"] and raw["mask_p"] == 0.3 and raw["tolerance"] == 2
    assert read_keyframes(path, "onset_mid_offset") == {"a": [0, 4, 9], "b": [1]}
    assert read_keyframes(path, "random") == {"a": [2, 3]}
    with pytest.raises(SignlibError, match="unknown keyframe policy 'every'"):
        write_keyframes_file(tmp_path / "bad.json", {"every": {"a": [1]}}, mask_p=0.3, tolerance=2)
    assert not (tmp_path / "bad.json").exists()


def test_keyframes_file_errors_name_the_file(tmp_path):
    path = tmp_path / "keyframes.json"
    with pytest.raises(SignlibError, match="keyframes.json: keyframes file not found .run the .keyframes. stage."):
        read_keyframes(path, "onset_mid_offset")
    path.write_text("{oops")
    with pytest.raises(SignlibError, match="keyframes.json: not valid JSON"):
        read_keyframes(path, "onset_mid_offset")
    path.write_text(json.dumps({"keyframes": {"random": {"a": [1, 2]}}}))
    with pytest.raises(SignlibError, match="keyframes.json: no keyframes for policy 'onset_mid_offset'"):
        read_keyframes(path, "onset_mid_offset")
    with pytest.raises(SignlibError, match="unknown keyframe policy 'every'"):
        read_keyframes(path, "every")
    assert read_keyframes(path, "random") == {"a": [1, 2]}


def test_a_keyframe_request_takes_the_frames_of_a_sequence():
    seq = _sequence()
    keys = Keyframes.from_sequence(seq, [2, 9, 24])
    assert keys.frames.dtype == np.int64 and keys.features.dtype == np.float32 and keys.num_frames == 30
    np.testing.assert_array_equal(keys.features, seq.features[[2, 9, 24]])        # (3, 240)
    assert keys.segments == seq.segments
    with pytest.raises(SignlibError, match="s: keyframes \\[0, 30\\] fall outside its 30 frames"):
        Keyframes.from_sequence(seq, [0, 30])
    assert Keyframes(np.array([], np.int64), np.zeros((0, 240)), 5).frames.shape == (0,)  # the length alone


@pytest.mark.parametrize("make, message", [
    (lambda: Keyframes(np.array([0, 30]), np.zeros((2, 240)), 30), "outside"),
    (lambda: Keyframes(np.array([-1, 3]), np.zeros((2, 240)), 30), "outside"),
    (lambda: Keyframes(np.array([5, 3]), np.zeros((2, 240)), 30), "sorted"),
    (lambda: Keyframes(np.array([3, 3]), np.zeros((2, 240)), 30), "distinct"),
    (lambda: Keyframes(np.array([1]), np.zeros((2, 240)), 30), "features"),
    (lambda: Keyframes(np.array([1]), np.full((1, 240), np.nan), 30), "NaN"),
    (lambda: Keyframes(np.array([], np.int64), np.zeros((0, 240)), 0), "num_frames"),
])
def test_bad_keyframes_are_refused(make, message):
    with pytest.raises(SignlibError, match=message):
        make()


@pytest.mark.parametrize("bad", [12.5, 12.0, True, "12", 0])
def test_keyframes_refuse_a_length_that_is_not_a_positive_whole_number(bad):
    with pytest.raises(SignlibError, match="num_frames"):
        Keyframes(np.zeros(0, np.int64), np.zeros((0, 3), np.float32), bad)
