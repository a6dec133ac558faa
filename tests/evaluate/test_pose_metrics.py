"""Per-frame pose costs, parts, Procrustes and (PA-)MPJPE against answers known by construction."""

import numpy as np
import pytest

from signlib.errors import SignlibError
from signlib.evaluate.pose_metrics import frame_costs, mpjpe, pa_mpjpe, pck, procrustes, split_parts
from signlib.evaluate.rigid import rotation_scale_svd
from signlib.pose.layout import get_layout
from signlib.pose.rotation import axis_angle_to_rot6d_np
from signlib.pose.skeleton import forward_kinematics_np

TEMPLATE = get_layout("xyz_template")


def fk_positions(frames: int, seed: int, spread: float = 0.3) -> np.ndarray:
    """``(frames, 52, 3)`` float64 positions of the xyz_template layout from random small rotations."""
    lay = get_layout("rot6d")
    angles = np.random.default_rng(seed).normal(scale=spread, size=(frames, lay.num_joints, 3))
    features = axis_angle_to_rot6d_np(angles).reshape(frames, lay.dim)
    return forward_kinematics_np(features, lay).astype(np.float64)


def random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    return q if np.linalg.det(q) > 0 else -q


def similarity(x: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray, float, np.ndarray]:
    """``x`` ``(..., J, 3)`` rotated, scaled and translated by one random transform."""
    rng = np.random.default_rng(seed)
    rot, scale, shift = random_rotation(rng), rng.uniform(0.5, 2.0), rng.normal(size=3)
    return scale * x @ rot.T + shift, rot, scale, shift


def test_split_parts_on_fk_positions_gives_body_and_wrist_relative_hands():
    xyz = fk_positions(6, seed=0)
    parts = split_parts(xyz, "xyz_template")
    assert parts["body"].xyz.shape == (6, 10, 3)
    assert parts["left_hand"].xyz.shape == parts["right_hand"].xyz.shape == (6, 21, 3)
    assert parts["hand"].xyz.shape == (6, 42, 3)
    np.testing.assert_array_equal(parts["body"].xyz, xyz[:, :10])
    for side in ("left_hand", "right_hand"):
        s = TEMPLATE.joint_slice(side)
        np.testing.assert_allclose(parts[side].xyz, xyz[:, s] - xyz[:, s.start, None])
        np.testing.assert_array_equal(parts[side].xyz[:, 0], 0.0)
    # Forward kinematics puts each hand's wrist point on the body's wrist joint.
    np.testing.assert_allclose(xyz[:, TEMPLATE.joint_slice("left_hand").start],
                               xyz[:, TEMPLATE.joint_index("left_wrist")], atol=1e-6)


@pytest.mark.parametrize("name,body_joints", [("xyz_template", 10), ("xyz_mediapipe", 7),
                                              ("xyz_template_spine3", 11)])
def test_split_parts_follows_the_layout(name, body_joints):
    lay = get_layout(name)
    xyz = np.random.default_rng(1).normal(size=(4, lay.num_joints, 3))
    parts = split_parts(xyz.reshape(4, -1), name)        # flat (T, D) input is accepted too
    assert parts["body"].xyz.shape == (4, body_joints, 3)
    assert parts["hand"].xyz.shape == (4, 42, 3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_procrustes_recovers_a_known_similarity(seed):
    src = np.random.default_rng(100 + seed).normal(size=(15, 3))
    dst, rot, scale, shift = similarity(src, seed)
    s, r, t = procrustes(src, dst)
    np.testing.assert_allclose(r, rot, atol=1e-10)
    np.testing.assert_allclose([s], [scale], rtol=1e-10)
    np.testing.assert_allclose(t, shift, atol=1e-10)


def test_procrustes_never_returns_a_reflection():
    src = np.random.default_rng(3).normal(size=(10, 3))
    mirrored = src * np.array([-1.0, 1.0, 1.0])
    _, r, _ = procrustes(src, mirrored)
    assert np.linalg.det(r) == pytest.approx(1.0)


def test_plain_cost_is_the_mean_joint_distance():
    a = np.zeros((2, 4, 3))
    b = np.zeros((3, 4, 3))
    b[1] += [3.0, 4.0, 0.0]
    b[2, :2] += [0.0, 0.0, 2.0]                          # half the joints 2 m away
    np.testing.assert_allclose(frame_costs(a, b), [[0.0, 5.0, 1.0]] * 2)


@pytest.mark.parametrize("seed", [0, 5])
def test_pa_cost_is_zero_for_a_similarity_copy_and_not_for_plain(seed):
    a = fk_positions(5, seed)[:, :10]
    b, *_ = similarity(a, seed)
    pa = frame_costs(a, b, aligned=True)
    np.testing.assert_allclose(np.diag(pa), 0.0, atol=1e-5)
    assert np.diag(frame_costs(a, b)).min() > 1e-2


def per_pair_pa_costs(a, va, b, vb, rows: int, cols: int) -> np.ndarray:
    """The reference: one SVD Procrustes per frame pair on its shared joints (0 when none)."""
    expected = np.zeros((rows, cols))
    for i in range(rows):
        for j in range(cols):
            ok = va[i] & vb[j]
            if ok.any():
                s, r, t = procrustes(a[i, ok], b[j, ok])
                expected[i, j] = np.linalg.norm(s * a[i, ok] @ r.T + t - b[j, ok], axis=-1).mean()
    return expected


@pytest.mark.parametrize("masked", [False, True])
def test_all_pairs_pa_cost_matches_a_loop_of_procrustes(masked):
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(4, 9, 3)), rng.normal(size=(6, 9, 3))
    va = rng.random((4, 9)) > 0.3 if masked else np.ones((4, 9), bool)
    vb = rng.random((6, 9)) > 0.3 if masked else np.ones((6, 9), bool)
    expected = per_pair_pa_costs(a, va, b, vb, 4, 6)
    # A small chunk size makes the chunked loop run more than once.
    np.testing.assert_allclose(frame_costs(a, b, va, vb, aligned=True, chunk_joint_pairs=60), expected,
                               atol=1e-10)


def pose_pair_with_masks(part: str, seed: int, masked: bool):
    """Parts of two FK sequences (18 and 23 frames) and masks where some frames share 0, 1 or 2 joints."""
    a, b = (split_parts(fk_positions(t, seed + k, spread=0.25), TEMPLATE)[part] for k, t in enumerate((18, 23)))
    va, vb = a.valid.copy(), b.valid.copy()
    if masked:
        rng = np.random.default_rng(seed)
        va &= rng.random(va.shape) > 0.2
        vb &= rng.random(vb.shape) > 0.2
        va[1], vb[2] = False, False                                       # no joint at all
        for row, keep in ((va[3], 1), (va[4], 2), (vb[5], 1), (vb[6], 2)):
            row[:] = False
            row[1:1 + keep] = True                                        # one or two joints only
    return a.xyz, va, b.xyz, vb


@pytest.mark.parametrize("masked", [False, True])
@pytest.mark.parametrize("part", ["body", "left_hand", "hand"])
def test_pa_frame_costs_match_the_svd_solver_and_per_pair_procrustes(part, masked):
    a, va, b, vb = pose_pair_with_masks(part, seed=11, masked=masked)
    fast = frame_costs(a, b, va, vb, aligned=True)
    np.testing.assert_allclose(fast, frame_costs(a, b, va, vb, aligned=True, solver=rotation_scale_svd),
                               rtol=0, atol=1e-10)
    # Independently: one SVD Procrustes per pair (below the closed form's batch size), as before.
    expected = per_pair_pa_costs(a, va, b, vb, 7, 8)
    np.testing.assert_allclose(fast[:7, :8], expected, rtol=0, atol=1e-10)
    if masked:
        assert fast[1].max() == 0.0 and fast[:, 2].max() == 0.0          # no shared joint: cost 0


def test_pa_frame_costs_on_real_signing_match_the_svd_solver(realdata_dir):
    """Real MediaPipe signing (hands often flat, some undetected) against its dictionary stitching."""
    from signlib.data.formats.pose_file import pose_to_sequence, read_pose
    from signlib.data.positions import sequence_positions

    folder = realdata_dir / "dgs_fluent_sentences" / "test"
    seqs = [pose_to_sequence(read_pose(folder / f"test_13_{kind}.pose")) for kind in ("original", "updated")]
    (x1, lay), (x2, _) = (sequence_positions(s) for s in seqs)
    p, r = split_parts(x1, lay, seqs[0].valid), split_parts(x2, lay, seqs[1].valid)
    for part in ("body", "hand"):
        args = (p[part].xyz, r[part].xyz, p[part].valid, r[part].valid)
        fast = frame_costs(*args, aligned=True)
        # Coordinates are up to ~600 units here: 1e-12 of that, i.e. ~1e-12 m at the metre scale.
        np.testing.assert_allclose(fast, frame_costs(*args, aligned=True, solver=rotation_scale_svd),
                                   rtol=0, atol=1e-12 * np.abs(x1).max())


@pytest.mark.parametrize("aligned", [False, True])
def test_masked_joints_are_left_out_even_when_nan(aligned):
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(3, 8, 3)), rng.normal(size=(4, 8, 3))
    va = np.ones((3, 8), bool)
    va[:, 5] = False
    a_nan = a.copy()
    a_nan[:, 5] = np.nan
    expected = frame_costs(np.delete(a, 5, 1), np.delete(b, 5, 1), aligned=aligned)
    np.testing.assert_allclose(frame_costs(a_nan, b, va, None, aligned=aligned), expected, atol=1e-12)


def test_pairs_without_shared_joints_cost_zero():
    a, b = np.ones((2, 3, 3)), np.zeros((2, 3, 3))
    va = np.array([[True, False, False], [True, True, True]])
    vb = np.array([[False, True, True], [True, True, True]])
    np.testing.assert_allclose(frame_costs(a, b, va, vb), [[0.0, 3 ** 0.5], [3 ** 0.5, 3 ** 0.5]])


def test_moving_a_whole_hand_costs_nothing_for_the_hand_part():
    ref = fk_positions(4, seed=4)
    pred = ref.copy()
    pred[:, TEMPLATE.joint_slice("right_hand")] += [0.2, -0.1, 0.3]
    assert mpjpe(pred, ref, TEMPLATE) == pytest.approx({"body": 0.0, "hand": 0.0}, abs=1e-12)
    shifted = ref + [0.3, 0.4, 0.0]                       # whole skeleton moved by 0.5 m
    assert mpjpe(shifted, ref, TEMPLATE) == pytest.approx({"body": 0.5, "hand": 0.0}, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1])
def test_mpjpe_of_identical_and_of_similarity_copies(seed):
    ref = fk_positions(8, seed)
    assert mpjpe(ref, ref, TEMPLATE) == {"body": 0.0, "hand": 0.0}
    assert pa_mpjpe(ref, ref, TEMPLATE) == pytest.approx({"body": 0.0, "hand": 0.0}, abs=1e-6)
    moved, *_ = similarity(ref, seed)
    pa = pa_mpjpe(moved, ref, TEMPLATE, parts=("body", "hand", "left_hand", "right_hand"))
    assert max(pa.values()) < 1e-5
    assert min(mpjpe(moved, ref, TEMPLATE).values()) > 1e-2


def test_mpjpe_leaves_out_frames_without_shared_joints():
    ref = np.zeros((2, TEMPLATE.num_joints, 3))
    pred = ref + [0.0, 1.0, 0.0]
    valid = np.ones((2, TEMPLATE.num_joints), bool)
    valid[1] = False
    assert mpjpe(pred, ref, TEMPLATE, valid_pred=valid)["body"] == pytest.approx(1.0)
    assert np.isnan(mpjpe(pred, ref, TEMPLATE, valid_pred=np.zeros_like(valid))["body"])


@pytest.mark.parametrize("pred_shape,ref_shape,kwargs,match", [
    ((5, 52, 3), (6, 52, 3), {}, "frames"),
    ((5, 50, 3), (5, 50, 3), {}, "joints but layout"),
    ((0, 52, 3), (0, 52, 3), {}, "empty"),
    ((5, 52), (5, 52), {}, r"shape \(T, J, 3\)"),
    ((5, 52, 3), (5, 52, 3), {"layout": "rot6d"}, "xyz layout"),
    ((5, 52, 3), (5, 52, 3), {"parts": ("face",)}, "unknown metric parts"),
    ((5, 52, 3), (5, 52, 3), {"valid_pred": np.ones((5, 3), bool)}, "valid mask"),
])
def test_bad_inputs_are_one_line_errors(pred_shape, ref_shape, kwargs, match):
    kwargs = {"layout": TEMPLATE, **kwargs}
    with pytest.raises(SignlibError, match=match) as err:
        mpjpe(np.zeros(pred_shape), np.zeros(ref_shape), **kwargs)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("metric", [mpjpe, pa_mpjpe])
def test_nan_at_a_valid_joint_is_an_error(metric):
    pred = fk_positions(3, seed=0)
    pred[1, 7, 2] = np.nan
    with pytest.raises(SignlibError, match="NaN"):
        metric(pred, fk_positions(3, seed=1), TEMPLATE)


def test_torch_tensors_are_accepted():
    torch = pytest.importorskip("torch")
    ref = fk_positions(3, seed=0)
    assert mpjpe(torch.from_numpy(ref), ref, TEMPLATE)["body"] == 0.0


def test_a_missing_wrist_invalidates_its_hand_only():
    xyz = fk_positions(2, seed=9)
    valid = np.ones(xyz.shape[:2], bool)
    valid[0, TEMPLATE.joint_slice("left_hand").start] = False
    parts = split_parts(xyz, TEMPLATE, valid)
    assert not parts["left_hand"].valid[0].any() and parts["left_hand"].valid[1].all()
    assert parts["right_hand"].valid.all() and parts["body"].valid.all()
    assert parts["hand"].valid[0].sum() == 21


def test_pck_counts_joints_within_the_threshold_among_observed_ones():
    ref = fk_positions(6, seed=11)
    pred = ref.copy()
    body = TEMPLATE.joint_slice("body")
    pred[:3, body] += np.array([0.04, 0.0, 0.0])     # 4 cm: correct at 5 cm
    pred[3:, body] += np.array([0.0, 0.07, 0.0])     # 7 cm: wrong at 5 cm, correct at 10 cm
    assert pck(pred, ref, TEMPLATE, 0.05)["body"] == pytest.approx(0.5)
    assert pck(pred, ref, TEMPLATE, 0.10)["body"] == 1.0
    assert pck(pred, ref, TEMPLATE, 0.05)["hand"] == 1.0   # hands are wrist-relative: unmoved
    valid = np.ones((6, TEMPLATE.num_joints), bool)
    valid[3:, body] = False                                # the wrong frames were not observed
    assert pck(pred, ref, TEMPLATE, 0.05, valid_ref=valid)["body"] == 1.0
    valid[:, body] = False
    assert np.isnan(pck(pred, ref, TEMPLATE, 0.05, valid_ref=valid)["body"])
    for bad in (0, -1.0, float("nan"), True, "5cm"):
        with pytest.raises(SignlibError, match="threshold"):
            pck(pred, ref, TEMPLATE, bad)
