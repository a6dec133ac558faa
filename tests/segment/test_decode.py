"""Probabilities → BIO labels → segments, the two segment conventions and the BIO round trip."""

import numpy as np
import pytest

from signlib.data.bio import B, I, O, bio_to_segments, segments_to_bio
from signlib.errors import SignlibError
from signlib.segment.decode import decode_segments, labels_to_segments, probs_to_labels

# Columns O, I, B. Inside = p_I + p_B; the comment gives (inside, p_B) and the label at 0.5 / 0.5.
PROBS = np.array([
    [0.9, 0.05, 0.05],  # (0.1, 0.05) → O
    [0.2, 0.3, 0.5],    # (0.8, 0.5)  → B: p_B reaches the threshold
    [0.1, 0.8, 0.1],    # (0.9, 0.1)  → I
    [0.2, 0.2, 0.6],    # (0.8, 0.6)  → B
    [0.3, 0.6, 0.1],    # (0.7, 0.1)  → I
    [0.6, 0.3, 0.1],    # (0.4, 0.1)  → O
    [0.4, 0.5, 0.1],    # (0.6, 0.1)  → B: p_B is low, but the frame starts a run of inside frames
    [0.4, 0.6, 0.0],    # (0.6, 0.0)  → I
])


def random_segments(rng, num_frames=60):
    """Non-overlapping segments in order; a gap of 0 makes two touch (the first two always do)."""
    segments, t = [], int(rng.integers(0, 3))
    while True:
        length = int(rng.integers(1, 7))
        if t + length > num_frames:
            return segments
        segments.append((t, t + length))
        t += length + (0 if len(segments) == 1 else int(rng.choice([0, 0, 1, 4])))


def test_probs_to_labels_follows_the_documented_rule():
    labels = probs_to_labels(PROBS)
    assert labels.dtype == np.int8
    np.testing.assert_array_equal(labels, [O, B, I, B, I, O, B, I])


@pytest.mark.parametrize("b_threshold,inside_threshold,expected", [
    # p_B = 0.6 at frame 3 is below 0.7 → I; frame 1 stays B because it starts the run.
    (0.7, 0.5, [O, B, I, I, I, O, B, I]),
    # inside 0.4 at frame 5 now counts, so frames 1–7 are one run and frame 6 no longer starts one.
    (0.5, 0.35, [O, B, I, B, I, I, I, I]),
    # b_threshold 0: every inside frame is B.
    (0.0, 0.5, [O, B, B, B, B, O, B, B]),
    # inside_threshold 1.0: only frames with p_O = 0 are inside (frame 7 has p_I + p_B = 0.6).
    (0.5, 1.0, [O, O, O, O, O, O, O, O]),
])
def test_thresholds_move_the_labels(b_threshold, inside_threshold, expected):
    np.testing.assert_array_equal(probs_to_labels(PROBS, b_threshold, inside_threshold), expected)


@pytest.mark.parametrize("convention,min_length,expected", [
    ("signspark", 1, [(1, 5), (6, 8)]),         # the B at frame 3 does not split frames 1–4
    ("b_splits", 1, [(1, 3), (3, 5), (6, 8)]),  # it does here
    ("signspark", 3, [(1, 5)]),                 # (6, 8) has 2 frames < 3
    ("b_splits", 2, [(1, 3), (3, 5), (6, 8)]),  # all have exactly 2 frames
    ("b_splits", 3, []),
])
def test_decode_segments_conventions_and_min_length(convention, min_length, expected):
    assert decode_segments(PROBS, convention, min_length=min_length) == expected


def test_decode_segments_accepts_labels_directly():
    labels = [O, B, I, B, I, O, B, I]
    assert decode_segments(np.array(labels)) == labels_to_segments(labels) == [(1, 5), (6, 8)]
    assert decode_segments(labels, "b_splits") == [(1, 3), (3, 5), (6, 8)]


def test_signspark_segments_are_maximal_non_o_runs():
    # A sign ending on the last frame and one starting with I (no B) are both segments.
    assert labels_to_segments([I, I, O, B, B, B, O, I]) == [(0, 2), (3, 6), (7, 8)]
    assert labels_to_segments([I, I, O, B, B, B, O, I], "b_splits") == [(0, 2), (3, 4), (4, 5), (5, 6), (7, 8)]


def test_unknown_and_ignored_frames_count_as_outside():
    assert labels_to_segments([B, I, -1, I, -100, B]) == [(0, 2), (3, 4), (5, 6)]


def test_empty_and_signless_inputs_give_no_segments():
    assert decode_segments(np.zeros((0, 3))) == []
    assert probs_to_labels(np.zeros((0, 3))).shape == (0,)
    assert decode_segments(np.tile([1.0, 0.0, 0.0], (5, 1))) == []


@pytest.mark.parametrize("seed", range(8))
def test_segments_round_trip_through_one_hot_probs(seed):
    rng = np.random.default_rng(seed)
    segments = random_segments(rng)
    assert segments[0][1] == segments[1][0]  # at least one pair of touching signs
    bio = segments_to_bio(segments, 60)
    probs = np.eye(3)[bio]  # row t is one-hot at column bio[t]; columns O, I, B match label values
    assert decode_segments(probs, "b_splits") == segments
    # SignSparK merges touching signs, which is what split_on_b=False means.
    assert decode_segments(probs, "signspark") == bio_to_segments(bio, split_on_b=False)


def test_touching_segments_round_trip_explicitly():
    segments = [(0, 3), (3, 4), (4, 9), (10, 12)]
    probs = np.eye(3)[segments_to_bio(segments, 12)]
    assert decode_segments(probs, "b_splits") == segments
    assert decode_segments(probs, "signspark") == [(0, 9), (10, 12)]


@pytest.mark.parametrize("probs,match", [
    (np.zeros((4, 2)), r"shape \(T, 3\)"),
    (np.zeros((4, 3, 1)), "probs"),
    (np.array([[0.5, np.nan, 0.5]]), "NaN"),
    (np.array([[2.0, -1.0, 0.5]]), "logits"),
])
def test_bad_probs_raise_one_line_errors(probs, match):
    with pytest.raises(SignlibError, match=match) as info:
        decode_segments(probs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("kwargs,match", [
    ({"convention": "bio"}, "unknown segment convention"),
    ({"b_threshold": 1.5}, "b_threshold"),
    ({"inside_threshold": -0.1}, "inside_threshold"),
    ({"b_threshold": float("nan")}, "b_threshold"),
    ({"min_length": 0}, "min_length"),
])
def test_bad_arguments_raise(kwargs, match):
    with pytest.raises(SignlibError, match=match):
        decode_segments(PROBS, **kwargs)


@pytest.mark.parametrize("labels,match", [
    ([0, 1, 5], r"\[5\]"),
    ([[0, 1]], r"shape \(T,\)"),
    ([0.0, 1.5], "whole numbers"),
])
def test_bad_labels_raise(labels, match):
    with pytest.raises(SignlibError, match=match):
        labels_to_segments(labels)
