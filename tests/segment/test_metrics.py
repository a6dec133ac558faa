"""Segmentation metrics against hand-computed values, edge cases and per-video averaging."""

import itertools
import math

import numpy as np
import pytest

from signlib.data.bio import B, I, O, segments_to_bio
from signlib.errors import SignlibError
from signlib.segment.metrics import (boundary_f1, boundary_scores, frame_f1, inside_iou, match_boundaries,
                                     over_under_segmentation, segment_ratio, segmentation_scores)

TRUE = np.array([O, B, I, I, O, O])


def test_frame_f1_hand_computed():
    pred = np.array([O, B, I, I, I, B])
    # O: true {0,4,5}, pred {0}       → TP 1, FP 0, FN 2 → 2/(2+0+2) = 1/2
    # I: true {2,3},   pred {2,3,4}   → TP 2, FP 1, FN 0 → 4/(4+1+0) = 4/5
    # B: true {1},     pred {1,5}     → TP 1, FP 1, FN 0 → 2/(2+1+0) = 2/3
    # macro = (1/2 + 4/5 + 2/3) / 3 = (15 + 24 + 20) / 30 / 3 = 59/90
    assert frame_f1(pred, TRUE) == pytest.approx(59 / 90)


def test_frame_f1_skips_a_class_absent_from_both():
    # No B anywhere. O: TP 1, FN 1 → 2/3; I: TP 2, FP 1 → 4/5; B skipped.
    # macro = (2/3 + 4/5) / 2 = (10 + 12) / 15 / 2 = 11/15 (counting B as 0 would give 22/45)
    assert frame_f1([O, I, I, I], [O, O, I, I]) == pytest.approx(11 / 15)


def test_frame_f1_of_a_signless_clip_predicted_signless_is_one():
    assert frame_f1([O, O, O], [O, O, O]) == 1.0


@pytest.mark.parametrize("pred,true,mask", [
    ([O, I, B, B], [O, I, -100, B], None),  # the wrong frame 2 carries no label
    ([O, I, B, B], [O, I, -1, B], None),     # UNK truth is not scored either
    ([O, I, -100, B], [O, I, I, B], None),   # padded prediction
    ([O, B, I, O], [O, B, I, B], 3),         # frame 3 is past the valid length
    ([O, B, I, O], [O, B, I, B], np.array([True, True, True, False])),
])
def test_unscored_frames_are_ignored(pred, true, mask):
    assert frame_f1(pred, true, mask) == 1.0
    assert inside_iou(pred, true, mask) == 1.0


def test_frame_f1_without_scored_frames_is_nan():
    assert np.isnan(frame_f1([O, I], [-100, -100]))


def test_inside_iou_hand_computed():
    pred = np.array([O, O, B, I, I, O])
    # inside true {1,2,3}, pred {2,3,4}: intersection {2,3} = 2, union {1,2,3,4} = 4 → 2/4
    assert inside_iou(pred, TRUE) == 0.5


@pytest.mark.parametrize("pred,true,expected", [
    ([O, O, O], [O, O, O], 1.0),   # both empty
    ([O, O, O], [O, B, I], 0.0),   # all-O prediction of a clip with signs
    ([B, I, I], [O, O, O], 0.0),   # signing predicted in a signless clip
    ([B, B, B], [B, I, I], 1.0),   # B versus I does not matter for inside-ness
])
def test_inside_iou_edge_cases(pred, true, expected):
    assert inside_iou(pred, true) == expected


@pytest.mark.parametrize("n_pred,n_true,expected", [
    (3, 2, 1.5),
    (2, 4, 0.5),
    (0, 4, 0.0),
    (0, 0, math.nan),  # no gold: undefined, whatever was predicted
    (1, 0, math.nan),  # (the old rule scored this false segment 1.0, like a perfect clip)
])
def test_segment_ratio(n_pred, n_true, expected):
    pred = [(2 * k, 2 * k + 1) for k in range(n_pred)]
    true = [(2 * k, 2 * k + 1) for k in range(n_true)]
    got = segment_ratio(pred, true)
    assert math.isnan(got) if math.isnan(expected) else got == expected


GOLD = [(2, 10), (10, 20)]  # touching: frame 10 is an end and a start
PRED = [(3, 9), (12, 20), (25, 30)]


@pytest.mark.parametrize("tolerance,expected", [
    # starts pred {3,12,25} vs gold {2,10}: 3↔2 (1), 12↔10 (2) → 2; ends {9,20,30} vs {10,20}: 9↔10, 20↔20 → 2
    # M = 4, N_pred = 6, N_gold = 4 → 2·4 / (6 + 4) = 0.8
    (2, 0.8),
    # starts: only 3↔2 → 1; ends → 2; M = 3 → 6/10
    (1, 0.6),
    # starts: none; ends: 20↔20 → 1; M = 1 → 2/10
    (0, 0.2),
])
def test_boundary_f1_hand_computed(tolerance, expected):
    assert boundary_f1(PRED, GOLD, tolerance) == pytest.approx(expected)


def test_boundary_matching_is_one_to_one():
    # starts pred {9,11} vs gold {10}: one match; ends pred {15,20} vs gold {20}: one match
    # M = 2, N_pred = 4, N_gold = 2 → 4/6
    assert boundary_f1([(9, 15), (11, 20)], [(10, 20)], tolerance=2) == pytest.approx(2 / 3)


def test_a_start_only_matches_a_start():
    # pred start 6 equals gold end 6, but starts and ends are matched separately → no match.
    assert boundary_f1([(6, 7)], [(5, 6)], tolerance=0) == 0.0


@pytest.mark.parametrize("pred,true", [([], []), ([(1, 3)], [(1, 3)])])
def test_boundary_f1_perfect_or_both_empty_is_one(pred, true):
    assert boundary_f1(pred, true) == 1.0


@pytest.mark.parametrize("pred,true", [([], [(1, 3)]), ([(1, 3)], [])])
def test_boundary_f1_with_one_side_empty_is_zero(pred, true):
    assert boundary_f1(pred, true) == 0.0


def test_matching_beats_greedy_by_distance():
    # All three pairs 2↔1, 2↔3, 4↔3 are at distance 1; pairing 2↔3 first would leave 1 match.
    assert match_boundaries([2, 4], [1, 3], tolerance=1) == 2


def brute_force_matches(pred, true, tolerance):
    """Largest matching by trying every assignment of predicted points (small inputs only)."""
    best = 0
    for perm in itertools.permutations(range(len(true)), min(len(pred), len(true))):
        for chosen in itertools.permutations(range(len(pred)), len(perm)):
            best = max(best, sum(abs(pred[p] - true[g]) <= tolerance for p, g in zip(chosen, perm)))
    return best


@pytest.mark.parametrize("seed", range(20))
def test_matching_is_maximal_on_random_points(seed):
    rng = np.random.default_rng(seed)
    pred = rng.integers(0, 15, rng.integers(0, 5)).tolist()
    true = rng.integers(0, 15, rng.integers(0, 5)).tolist()
    tolerance = int(rng.integers(0, 4))
    assert match_boundaries(pred, true, tolerance) == brute_force_matches(pred, true, tolerance)


def test_segmentation_scores_perfect_prediction():
    videos = [segments_to_bio([(0, 3), (3, 5), (8, 12)], 15), segments_to_bio([(2, 4)], 6)]
    scores = segmentation_scores(videos, videos, convention="b_splits")
    assert (scores["frame_f1"], scores["inside_iou"], scores["segment_ratio"], scores["boundary_f1"]) == (1, 1, 1, 1)
    assert scores["num_videos"] == 2 and scores["num_frames"] == 21
    assert scores["num_pred_segments"] == scores["num_true_segments"] == 4


def test_segmentation_scores_all_o_prediction():
    true = np.array([O, B, I, I, O])
    scores = segmentation_scores([np.zeros(5, int)], [true])
    # frame F1: O TP 2 (frames 0, 4), FP 3 (frames 1–3) → 4/7; I: FN 2 → 0; B: FN 1 → 0
    # macro = (4/7 + 0 + 0) / 3 = 4/21
    assert scores["frame_f1"] == pytest.approx(4 / 21)
    assert scores["inside_iou"] == 0.0
    assert scores["segment_ratio"] == 0.0
    assert scores["boundary_f1"] == 0.0


@pytest.mark.parametrize("convention,ratio,bf1", [
    # pred (signspark) [(1, 5)] vs gold (b_splits) [(1, 3), (3, 5)]: ratio 1/2;
    # starts {1} vs {1,3} → 1, ends {5} vs {3,5} → 1; M = 2 → 2·2 / (2 + 4) = 2/3
    ("signspark", 0.5, 2 / 3),
    ("b_splits", 1.0, 1.0),
])
def test_segmentation_scores_convention_only_changes_the_prediction_side(convention, ratio, bf1):
    labels = np.array([O, B, I, B, I, O])
    scores = segmentation_scores([labels], [labels], convention=convention)
    assert scores["frame_f1"] == 1.0
    assert scores["segment_ratio"] == pytest.approx(ratio)
    assert scores["boundary_f1"] == pytest.approx(bf1)


def test_segmentation_scores_average_per_video_not_per_frame():
    # video 1 (4 frames): IoU 1. video 2 (20 frames): inside true {0..9}, pred {0..4} → 5/10.
    v1 = np.array([B, I, I, O])
    t2 = segments_to_bio([(0, 10)], 20)
    p2 = segments_to_bio([(0, 5)], 20)
    scores = segmentation_scores([v1, p2], [v1, t2])
    assert scores["inside_iou"] == pytest.approx((1.0 + 0.5) / 2)  # pooled frames would give 8/13
    # ratios 1 and 1 → 1; boundary F1 video 2 (tol 2): start 0↔0, end 5 vs 10 no → 2·1/4 = 1/2
    assert scores["segment_ratio"] == 1.0
    assert scores["boundary_f1"] == pytest.approx((1.0 + 0.5) / 2)


def test_segmentation_scores_masks_truncate_segments():
    # Past the length of 4 the prediction invents a sign; masked, it is not a segment.
    pred = np.array([B, I, O, O, B, I])
    true = np.array([B, I, O, O, -100, -100])
    scores = segmentation_scores([pred], [true], masks=[4])
    assert scores["num_pred_segments"] == 1 and scores["segment_ratio"] == 1.0
    assert scores["boundary_f1"] == 1.0 and scores["num_frames"] == 4
    # -100 in the truth alone has the same effect.
    assert segmentation_scores([pred], [true])["segment_ratio"] == 1.0


def test_min_length_drops_short_predicted_segments():
    pred = np.array([B, O, B, I, I, O])
    true = np.array([O, O, B, I, I, O])
    assert segmentation_scores([pred], [true])["segment_ratio"] == 2.0
    assert segmentation_scores([pred], [true], min_length=2)["segment_ratio"] == 1.0


def test_videos_without_scored_frames_are_skipped():
    scores = segmentation_scores([[O, B], [B, I]], [[-100, -100], [B, I]])
    assert scores["num_videos"] == 1 and scores["num_skipped_videos"] == 1
    assert scores["frame_f1"] == 1.0
    empty = segmentation_scores([], [])
    assert empty["num_videos"] == 0 and np.isnan(empty["frame_f1"])


@pytest.mark.parametrize("call,match", [
    (lambda: frame_f1([O, I], [O, I, I]), "differ in length"),
    (lambda: frame_f1([O, -1], [O, I]), "UNK"),
    (lambda: inside_iou([O, I], [O, I], mask=5), "outside a video"),
    (lambda: inside_iou([O, I], [O, I], mask=[1, 0]), "mask"),
    (lambda: segmentation_scores([[O]], [[O], [O]]), "1 predicted videos but 2"),
    (lambda: segmentation_scores([[O, 7]], [[O, I]]), r"video 0: .*\[7\]"),
    (lambda: segmentation_scores([[O]], [[O]], convention="x"), "unknown segment convention"),
    (lambda: boundary_f1([(3, 3)], []), "empty"),
    (lambda: match_boundaries([1], [1], tolerance=-1), "tolerance"),
])
def test_bad_inputs_raise_one_line_errors(call, match):
    with pytest.raises(SignlibError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


# --- boundary precision / recall, tolerances in seconds, over- and under-segmentation -----------

def test_boundary_precision_and_recall_count_matched_starts_and_ends():
    true = [(10, 20), (30, 40)]
    pred = [(11, 19), (50, 60)]            # one sign found (both boundaries), one false segment
    got = boundary_scores(pred, true, tolerance=1)
    assert got == {"precision": 0.5, "recall": 0.5, "f1": 0.5}
    got = boundary_scores(pred[:1], true, tolerance=1)
    assert got["precision"] == 1.0 and got["recall"] == 0.5 and got["f1"] == pytest.approx(2 / 3)


@pytest.mark.parametrize("pred,true,expected", [
    ([], [], (1.0, 1.0, 1.0)),
    ([], [(3, 9)], (math.nan, 0.0, 0.0)),  # nothing predicted: precision undefined
    ([(3, 9)], [], (0.0, math.nan, 0.0)),  # nothing to find: recall undefined
])
def test_boundary_scores_missing_data_rules(pred, true, expected):
    got = boundary_scores(pred, true)
    for key, want in zip(("precision", "recall", "f1"), expected):
        assert math.isnan(got[key]) if math.isnan(want) else got[key] == want, key


def _labels(segments, length):
    labels = np.zeros(length, np.int64)
    for s, e in segments:
        labels[s:e] = I
        labels[s] = B
    return labels


def test_tolerance_in_seconds_gives_the_same_result_at_any_frame_rate():
    # The same signing recorded at 25 and at 50 fps, prediction late by 0.12 s on every boundary.
    scores = {}
    for fps in (25, 50):
        k = fps // 25
        true = [(10 * k, 20 * k), (30 * k, 40 * k)]
        late = int(round(0.12 * fps))
        pred = [(s + late, e + late) for s, e in true]
        scores[fps] = segmentation_scores([_labels(pred, 60 * k)], [_labels(true, 60 * k)],
                                          fps=fps, tolerances_s=(0.08, 0.2))
    for fps in (25, 50):
        assert scores[fps]["boundary_f1@0.08s"] == 0.0
        assert scores[fps]["boundary_f1@0.2s"] == 1.0
        assert scores[fps]["boundary_precision@0.2s"] == scores[fps]["boundary_recall@0.2s"] == 1.0
    # A tolerance of 5 frames would be 0.2 s at 25 fps but 0.1 s at 50 fps: the answers differ.
    frames = [segmentation_scores([_labels([(s + 3 * k, e + 3 * k) for s, e in [(10 * k, 20 * k)]], 60 * k)],
                                  [_labels([(10 * k, 20 * k)], 60 * k)], tolerance=5)["boundary_f1"] for k in (1, 2)]
    assert frames == [1.0, 0.0]


def test_tolerances_in_seconds_need_fps_and_valid_values():
    labels = [_labels([(2, 6)], 10)]
    with pytest.raises(SignlibError, match="need fps"):
        segmentation_scores(labels, labels, tolerances_s=(0.1,))
    with pytest.raises(SignlibError, match="tolerances_s"):
        segmentation_scores(labels, labels, fps=25, tolerances_s=(-0.1,))
    with pytest.raises(SignlibError, match="fps values"):
        segmentation_scores(labels, labels, fps=[25, 50], tolerances_s=(0.1,))
    with pytest.raises(SignlibError, match="fps must be a positive"):
        segmentation_scores(labels, labels, fps=0, tolerances_s=(0.1,))


@pytest.mark.parametrize("pred,true,over,under", [
    ([(0, 10), (10, 20)], [(0, 20)], 1.0, 0.0),               # one sign split in two
    ([(0, 40)], [(0, 20), (20, 40)], 0.0, 1.0),               # two signs merged into one
    ([(0, 21), (21, 40)], [(0, 20), (20, 40)], 0.0, 0.0),     # a one-frame touch is not a hit
    ([(0, 10), (10, 20), (20, 40)], [(0, 20), (25, 30), (30, 40)], 1 / 3, 1 / 3),
    ([], [(0, 20)], 0.0, math.nan),
    ([(0, 20)], [], math.nan, 0.0),
])
def test_over_and_under_segmentation(pred, true, over, under):
    got = over_under_segmentation(pred, true)
    for key, want in (("over", over), ("under", under)):
        assert math.isnan(got[key]) if math.isnan(want) else got[key] == pytest.approx(want), key


def test_a_false_segment_on_a_signless_clip_is_not_a_perfect_segment_ratio():
    signless = _labels([], 30)
    one_false = _labels([(5, 15)], 30)
    perfect = _labels([(5, 15)], 30)
    got = segmentation_scores([one_false, perfect], [signless, perfect])
    assert got["segment_ratio"] == 1.0                      # the clip with gold only
    assert got["num_videos_without_gold"] == 1 and got["false_segments_without_gold"] == 1
    alone = segmentation_scores([one_false], [signless])
    assert math.isnan(alone["segment_ratio"]) and alone["boundary_f1"] == 0.0
    assert math.isnan(alone["boundary_recall"]) and alone["boundary_precision"] == 0.0
    clean = segmentation_scores([signless], [signless])
    assert clean["false_segments_without_gold"] == 0 and clean["boundary_f1"] == 1.0
