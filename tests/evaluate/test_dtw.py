"""DTW and the DTW pose metrics against a brute-force reference and answers known by construction."""

import numpy as np
import pytest

from signlib.errors import SignlibError
from signlib.evaluate.dtw import DTWResult, dtw, dtw_batch, dtw_jpe, dtw_pa_jpe
from signlib.pose.layout import get_layout
from signlib.pose.rotation import axis_angle_to_rot6d_np
from signlib.pose.skeleton import forward_kinematics_np

TEMPLATE = get_layout("xyz_template")
METRIC_KEYS = {f"{p}_{k}" for p in ("body", "hand")
               for k in ("total", "mean", "steps", "dropped_frames", "penalised_cells")}


def fk_positions(frames: int, seed: int) -> np.ndarray:
    """``(frames, 52, 3)`` xyz_template positions: FK of random small rot6d rotations."""
    lay = get_layout("rot6d")
    angles = np.random.default_rng(seed).normal(scale=0.3, size=(frames, lay.num_joints, 3))
    return forward_kinematics_np(axis_angle_to_rot6d_np(angles).reshape(frames, lay.dim), lay).astype(float)


def similarity(x: np.ndarray, seed: int) -> np.ndarray:
    """``x`` ``(..., J, 3)`` under one random rotation, uniform scale and translation."""
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    rot = q * np.sign(np.diag(r))
    rot = rot if np.linalg.det(rot) > 0 else -rot
    return rng.uniform(0.5, 2.0) * x @ rot.T + rng.normal(size=3)


def brute_force_dtw(cost: np.ndarray) -> tuple[float, int]:
    """Textbook O(T1·T2) DTW; ties go to the diagonal, then (1, 0), then (0, 1)."""
    t1, t2 = cost.shape
    acc = np.full((t1, t2), np.inf)
    steps = np.zeros((t1, t2), dtype=int)
    for i in range(t1):
        for j in range(t2):
            if i == 0 and j == 0:
                acc[i, j], steps[i, j] = cost[0, 0], 1
                continue
            options = [(i - 1, j - 1), (i - 1, j), (i, j - 1)]
            best = None
            for pi, pj in options:
                if pi >= 0 and pj >= 0 and (best is None or acc[pi, pj] < acc[best]):
                    best = (pi, pj)
            acc[i, j] = cost[i, j] + acc[best]
            steps[i, j] = steps[best] + 1
    return float(acc[-1, -1]), int(steps[-1, -1])


@pytest.mark.parametrize("shape", [(1, 1), (1, 6), (6, 1), (2, 2), (7, 13), (20, 20), (31, 17)])
@pytest.mark.parametrize("seed", [0, 1])
def test_dtw_matches_brute_force(shape, seed):
    cost = np.random.default_rng(seed).random(shape)
    total, steps = brute_force_dtw(cost)
    res = dtw(cost, return_path=True)
    assert res.total == pytest.approx(total, rel=1e-12)
    assert res.steps == steps


@pytest.mark.parametrize("shape", [(1, 5), (9, 4), (25, 30)])
def test_path_is_monotone_covers_both_ends_and_sums_to_total(shape):
    cost = np.random.default_rng(3).random(shape)
    res = dtw(cost, return_path=True)
    path = res.path
    assert tuple(path[0]) == (0, 0) and tuple(path[-1]) == (shape[0] - 1, shape[1] - 1)
    moves = {tuple(m) for m in np.diff(path, axis=0)}
    assert moves <= {(1, 0), (0, 1), (1, 1)}
    assert len(path) == res.steps
    assert cost[path[:, 0], path[:, 1]].sum() == pytest.approx(res.total, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_total_is_mean_times_steps(seed):
    res = dtw(np.random.default_rng(seed).random((12, 19)))
    assert isinstance(res, DTWResult) and res.path is None
    assert res.mean * res.steps == pytest.approx(res.total, rel=1e-12)


def test_ties_prefer_the_diagonal():
    res = dtw(np.zeros((4, 4)), return_path=True)
    assert (res.total, res.steps) == (0.0, 4)
    np.testing.assert_array_equal(res.path, np.stack([np.arange(4)] * 2, axis=1))


def test_batched_dtw_equals_one_at_a_time():
    costs = np.random.default_rng(4).random((5, 8, 11))
    totals, steps = dtw_batch(costs)
    for c, total, n in zip(costs, totals, steps):
        res = dtw(c)
        assert (total, n) == (pytest.approx(res.total, rel=1e-12), res.steps)


@pytest.mark.parametrize("cost,match", [
    (np.zeros((0, 3)), "empty"),
    (np.zeros(4), r"\(T1, T2\)"),
    (np.array([[0.0, np.nan]]), "NaN"),
])
def test_bad_cost_matrices_are_errors(cost, match):
    with pytest.raises(SignlibError, match=match):
        dtw(cost)


@pytest.mark.parametrize("metric", [dtw_jpe, dtw_pa_jpe])
def test_identical_sequences_score_zero(metric):
    ref = fk_positions(10, seed=0)
    out = metric(ref, ref, TEMPLATE)
    assert set(out) == METRIC_KEYS
    assert out["body_steps"] == out["hand_steps"] == 10
    for part in ("body", "hand"):
        assert out[f"{part}_total"] == pytest.approx(0.0, abs=1e-6)
        assert out[f"{part}_mean"] == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("metric", [dtw_jpe, dtw_pa_jpe])
@pytest.mark.parametrize("seed", [0, 1])
def test_time_warped_copy_has_zero_total(metric, seed):
    base = fk_positions(10, seed)
    rng = np.random.default_rng(seed)
    # Both sequences show every pose in order, each held for 1-3 frames: the prediction repeats
    # some of the reference's frames and drops some of its repeats, a monotone warp.
    ref = base[np.repeat(np.arange(10), rng.integers(1, 4, size=10))]
    pred = base[np.repeat(np.arange(10), rng.integers(1, 4, size=10))]
    out = metric(pred, ref, TEMPLATE)
    assert out["body_total"] == pytest.approx(0.0, abs=1e-5)
    assert out["hand_total"] == pytest.approx(0.0, abs=1e-5)
    assert out["body_steps"] >= max(len(pred), len(ref))


def test_similarity_copy_is_zero_for_pa_only():
    ref = fk_positions(12, seed=2)
    held = ref[np.repeat(np.arange(12), np.tile([1, 2, 3], 4))]   # 24 frames, every pose kept
    moved = similarity(held, seed=2)             # a different length and a global transform
    pa = dtw_pa_jpe(moved, ref, TEMPLATE)
    plain = dtw_jpe(moved, ref, TEMPLATE)
    assert pa["body_total"] < 1e-5 and pa["hand_total"] < 1e-5
    assert plain["body_total"] > 1e-2 and plain["hand_total"] > 1e-2


def test_dtw_metric_on_unrelated_sequences_is_positive_and_consistent():
    pred, ref = fk_positions(9, seed=5), fk_positions(14, seed=6)
    out = dtw_jpe(pred, ref, TEMPLATE, parts=("body", "left_hand"))
    assert out["body_total"] > 0 and 14 <= out["body_steps"] <= 22
    assert out["left_hand_mean"] * out["left_hand_steps"] == pytest.approx(out["left_hand_total"])


def test_masked_bad_joints_do_not_count():
    ref = fk_positions(6, seed=7)
    pred = ref.copy()
    pred[:, 3] = np.nan                              # a joint never detected in the prediction
    valid = np.ones(pred.shape[:2], bool)
    valid[:, 3] = False
    out = dtw_jpe(pred, ref, TEMPLATE, valid_pred=valid)
    assert out["body_total"] == 0.0
    with pytest.raises(SignlibError, match="NaN"):
        dtw_jpe(pred, ref, TEMPLATE)


def test_mismatched_layout_is_an_error():
    with pytest.raises(SignlibError, match="joints but layout"):
        dtw_jpe(np.zeros((4, 52, 3)), np.zeros((5, 52, 3)), "xyz_mediapipe")


# --- missing data -------------------------------------------------------------------------------

def _hands_missing(frames: int, lay=TEMPLATE) -> np.ndarray:
    """``(T, J)`` mask with both hands unobserved in ``frames`` (an index or slice)."""
    valid = np.ones((60, lay.num_joints), bool)
    for side in ("left_hand", "right_hand"):
        valid[frames, lay.joint_slice(side)] = False
    return valid


def test_frames_without_the_part_are_dropped_not_free():
    # The real case: the reference's hands vanish for its last 14 frames. Those cells used to
    # cost 0 against every predicted frame, so the path could park there; now the score is that
    # of the frames that show hands, and the dropped frames are counted.
    ref, pred = fk_positions(60, seed=1), fk_positions(60, seed=2)
    valid_ref = _hands_missing(slice(46, 60))
    out = dtw_jpe(pred, ref, TEMPLATE, valid_ref=valid_ref)
    cut = dtw_jpe(pred, ref[:46], TEMPLATE)
    assert out["hand_dropped_frames"] == 14 and out["body_dropped_frames"] == 0
    assert out["hand_total"] == pytest.approx(cut["hand_total"])
    assert out["hand_steps"] == cut["hand_steps"]
    assert out["hand_mean"] > 0.005
    # The body is observed everywhere: it is scored over all frames.
    assert out["body_total"] == pytest.approx(dtw_jpe(pred, ref, TEMPLATE)["body_total"])


@pytest.mark.parametrize("metric", [dtw_jpe, dtw_pa_jpe])
def test_a_part_never_shown_gives_nan_not_zero(metric):
    ref = fk_positions(20, seed=3)
    out = metric(ref, ref, TEMPLATE, valid_ref=_hands_missing(slice(None))[:20])
    assert np.isnan(out["hand_total"]) and np.isnan(out["hand_mean"]) and out["hand_steps"] == 0
    assert out["hand_dropped_frames"] == 20
    assert out["body_mean"] == pytest.approx(0.0, abs=1e-9)


def test_pairs_sharing_no_joint_pay_the_worst_comparable_cost():
    # Prediction shows only the left hand, reference only the right hand in its middle frames:
    # those pairs share no joint, so they may not be a free detour.
    lay = TEMPLATE
    ref, pred = fk_positions(12, seed=4), fk_positions(12, seed=5)
    vp = np.ones((12, lay.num_joints), bool)
    vr = np.ones((12, lay.num_joints), bool)
    vp[:, lay.joint_slice("right_hand")] = False
    vr[4:8, lay.joint_slice("left_hand")] = False
    out = dtw_jpe(pred, ref, lay, valid_pred=vp, valid_ref=vr)
    assert out["hand_penalised_cells"] == 12 * 4
    assert out["hand_dropped_frames"] == 0
    from signlib.evaluate.dtw import part_costs
    from signlib.evaluate.pose_metrics import split_pair
    p, r = split_pair(pred, ref, lay, vp, vr, ("hand",), same_length=False)
    cost, counts = part_costs(p["hand"], r["hand"], aligned=False)
    assert counts["penalised_cells"] == 48
    assert np.all(cost[:, 4:8] == cost.max()) and cost.max() > 0
