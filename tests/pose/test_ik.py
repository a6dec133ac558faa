"""Wrist inverse kinematics: reachable targets are reached, nothing but the arm moves, the result
is a valid pose, and unreachable targets and bad arguments are reported."""

import numpy as np
import pytest
import torch

from signlib.errors import SignlibError
from signlib.pose.ik import wrist_ik, wrist_position
from signlib.pose.layout import get_layout
from signlib.pose.rotation import axis_angle_to_rot6d, rot6d_to_matrix
from signlib.pose.skeleton import rest_features

LAYOUT = get_layout("rot6d")


def _pose(seed: int) -> np.ndarray:
    """A rest pose with every joint rotated by up to ~0.6 rad: arms bent, as when signing."""
    rng = np.random.default_rng(seed)
    x = rest_features(LAYOUT)[0].reshape(-1, 6)
    aa = torch.from_numpy(rng.uniform(-0.6, 0.6, (len(x), 3)).astype(np.float32))
    return axis_angle_to_rot6d(aa).reshape(-1).numpy()


def _arm_cols(side: str) -> set[int]:
    return {6 * LAYOUT.joint_index(f"{side}_{j}") + c for j in ("shoulder", "elbow") for c in range(6)}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("side", ["left", "right"])
def test_a_reachable_target_is_reached_and_only_that_arm_moves(seed, side):
    start, other = _pose(seed), _pose(100 + seed)
    # The wrist of another pose whose arm joints are different: reachable by construction.
    donor = start.copy()
    cols = sorted(_arm_cols(side))
    donor[cols] = other[cols]
    target = wrist_position(donor, LAYOUT, side)
    assert np.linalg.norm(target - wrist_position(start, LAYOUT, side)) > 0.02  # a real move
    result = wrist_ik(start, LAYOUT, side, target)
    assert result.residual < 0.005
    np.testing.assert_allclose(wrist_position(result.features, LAYOUT, side), target, atol=0.005)
    untouched = sorted(set(range(LAYOUT.dim)) - _arm_cols(side))
    np.testing.assert_array_equal(result.features[untouched], start[untouched])


def test_the_solved_arm_joints_are_rotations():
    start = _pose(7)
    result = wrist_ik(start, LAYOUT, "right", wrist_position(start, LAYOUT, "right") + [0.05, -0.1, 0.08])
    R = rot6d_to_matrix(torch.from_numpy(result.features).reshape(-1, 6)).double()
    np.testing.assert_allclose((R @ R.transpose(-1, -2)).numpy(), np.broadcast_to(np.eye(3), R.shape), atol=1e-5)
    np.testing.assert_allclose(torch.linalg.det(R).numpy(), 1.0, atol=1e-5)


def test_a_target_out_of_reach_stretches_the_arm_and_reports_the_gap():
    start = rest_features(LAYOUT)[0].numpy()
    shoulder_to_wrist = 0.52  # the template's upper arm + forearm
    far = wrist_position(start, LAYOUT, "right") + np.array([-0.3, 0.0, 0.0])  # further out along the arm
    result = wrist_ik(start, LAYOUT, "right", far)
    assert result.residual == pytest.approx(0.3, abs=0.01)
    assert result.residual > 0.29 and shoulder_to_wrist > 0


def test_a_straight_arm_can_fold_towards_the_body():
    start = rest_features(LAYOUT)[0].numpy()  # T-pose: the elbow is straight, a singular start
    target = wrist_position(start, LAYOUT, "right") + np.array([0.7, 0.0, 0.0])  # across to the chest
    assert wrist_ik(start, LAYOUT, "right", target).residual < 0.01


def test_keypoint_layouts_move_the_hand_rigidly_and_keep_the_elbow():
    lay = get_layout("xyz_mediapipe")
    rng = np.random.default_rng(0)
    pose = rng.normal(size=lay.dim).astype(np.float32)
    wrist = wrist_position(pose, lay, "left")
    result = wrist_ik(pose, lay, "left", wrist + [0.1, 0.2, 0.0])
    before, after = lay.unflatten(pose), lay.unflatten(result.features)
    hand = lay.joint_slice("left_hand")
    np.testing.assert_allclose(after[hand] - before[hand], np.broadcast_to([0.1, 0.2, 0.0], before[hand].shape),
                               atol=1e-6)
    elbow = lay.joint_index("left_elbow")
    np.testing.assert_array_equal(after[elbow], before[elbow])
    np.testing.assert_array_equal(after[lay.joint_slice("right_hand")], before[lay.joint_slice("right_hand")])


@pytest.mark.parametrize("call, message", [
    (lambda x: wrist_ik(x, "rot6d", "middle", [0, 0, 0]), "side='middle'"),
    (lambda x: wrist_ik(x, "rot6d", "left", [0, 0]), "target: expected a finite point of 3"),
    (lambda x: wrist_ik(x, "rot6d", "left", [0, np.nan, 0]), "target: expected a finite point"),
    (lambda x: wrist_ik(x[:10], "rot6d", "left", [0, 0, 0]), "features: expected one (240,) pose"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(SignlibError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call(rest_features(LAYOUT)[0].numpy())
