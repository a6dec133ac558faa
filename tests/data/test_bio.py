"""BIO conventions and BIO ↔ segments."""

import numpy as np
import pytest

from signlib.data.bio import B, I, O, bio_to_segments, convert, from_fast, segments_to_bio, to_fast
from signlib.errors import SignlibError

FAST = np.array([0, 2, 1, 1, 2, 1, 0, 0, 2, 0], np.int8)


def test_fast_convention_values():
    assert (O, I, B) == (0, 1, 2)


@pytest.mark.parametrize("convention,expected", [
    ("fast", [0, 2, 1, 1, 2, 1, 0, 0, 2, 0]),
    ("sls2023", [0, 1, 2, 2, 1, 2, 0, 0, 1, 0]),
    ("sls2026", [1, 2, 3, 3, 2, 3, 1, 1, 2, 1]),
])
def test_from_fast_matches_the_convention_table(convention, expected):
    np.testing.assert_array_equal(from_fast(FAST, convention), expected)
    np.testing.assert_array_equal(to_fast(expected, convention), FAST)


@pytest.mark.parametrize("source,target", [("sls2023", "sls2026"), ("sls2026", "sls2023"), ("fast", "sls2023")])
def test_convert_round_trips(source, target):
    labels = from_fast(FAST, source)
    np.testing.assert_array_equal(convert(convert(labels, source, target), target, source), labels)


def test_unknown_frames_only_exist_in_sls2026():
    labels = np.array([0, 1, 2, 3])  # UNK, O, B, I
    fast = to_fast(labels, "sls2026")
    np.testing.assert_array_equal(fast, [-1, 0, 2, 1])
    with pytest.raises(SignlibError, match="sls2023"):
        from_fast(fast, "sls2023")


def test_invalid_labels_and_unknown_convention():
    with pytest.raises(SignlibError, match=r"\[5\]"):
        to_fast([0, 5], "sls2023")
    with pytest.raises(SignlibError, match="unknown BIO convention"):
        to_fast([0], "sls2025")


def test_segments_to_bio_marks_first_frame_b():
    np.testing.assert_array_equal(segments_to_bio([(1, 4), (4, 6), (8, 9)], 10), FAST)


def test_bio_to_segments_splits_on_b_by_default():
    assert bio_to_segments(FAST) == [(1, 4), (4, 6), (8, 9)]


def test_signspark_convention_keeps_a_run_of_non_o_together():
    assert bio_to_segments(FAST, split_on_b=False) == [(1, 6), (8, 9)]


def test_leading_i_without_b_still_opens_a_segment():
    assert bio_to_segments([1, 1, 0, 2]) == [(0, 2), (3, 4)]


def test_segment_outside_the_sequence_is_an_error():
    with pytest.raises(SignlibError, match=r"\(3, 12\)"):
        segments_to_bio([(3, 12)], 10)


@pytest.mark.parametrize("seed", range(5))
def test_random_segments_round_trip(seed):
    rng = np.random.default_rng(seed)
    cuts = np.sort(rng.choice(np.arange(1, 99), 10, replace=False))
    segments = [(int(a), int(b)) for a, b in zip(cuts[::2], cuts[1::2])]
    assert bio_to_segments(segments_to_bio(segments, 100)) == segments
