"""Arm IK on the template skeleton: reaches its targets, respects joint limits, mirrors exactly."""

import numpy as np
import pytest
import torch

from signlib.data.synthetic.kinematics import (ELBOW_MAX, WRIST_LIMIT, hand_frame, matrix_to_rotvec, rotvec_to_matrix,
                                               solve_left_arm, solve_right_arm)
from signlib.data.synthetic.lexicon import LOCATIONS
from signlib.pose.layout import UPPER_BODY_10
from signlib.pose.rotation import matrix_to_rot6d
from signlib.pose.skeleton import forward_kinematics_np

J = {n: i for i, n in enumerate(UPPER_BODY_10)}
REACH_TOLERANCE = 1e-3  # metres


def _fk(solutions: dict) -> np.ndarray:
    """World positions ``(T, J, 3)`` of body joints given arm solutions per side."""
    T = len(next(iter(solutions.values())).collar)
    R = np.tile(np.eye(3), (T, 40, 1, 1))
    for side, sol in solutions.items():
        for part in ("collar", "shoulder", "elbow", "wrist"):
            R[:, J[f"{side}_{part}"]] = getattr(sol, part)
    feats = matrix_to_rot6d(torch.tensor(R, dtype=torch.float32)).reshape(T, -1).numpy()
    return forward_kinematics_np(feats, "rot6d")


def _targets(seed=0, T=64):
    rng = np.random.default_rng(seed)
    base = np.array(list(LOCATIONS.values()))[rng.integers(len(LOCATIONS), size=T)]
    return base + rng.normal(0, 0.01, (T, 3)), rng.normal(size=(T, 3)), rng.normal(size=(T, 3))


@pytest.mark.parametrize("seed", range(3))
def test_ik_reaches_every_sign_location_within_tolerance(seed):
    target, finger, palm = _targets(seed)
    right = solve_right_arm(target, finger, palm)
    left = solve_left_arm(target * [-1, 1, 1], finger, palm)
    P = _fk({"right": right, "left": left})
    np.testing.assert_allclose(right.reached, target, atol=REACH_TOLERANCE)  # all locations are reachable
    np.testing.assert_allclose(P[:, J["right_wrist"]], target, atol=REACH_TOLERANCE)
    np.testing.assert_allclose(P[:, J["left_wrist"]], target * [-1, 1, 1], atol=REACH_TOLERANCE)


def test_generated_sign_movements_are_reached_almost_always():
    from signlib.data.synthetic.lexicon import draw_sign
    from signlib.data.synthetic.motion import sign_tracks

    rng = np.random.default_rng(0)
    reached = []
    for _ in range(300):
        dom, other = sign_tracks(draw_sign("k", "G", "noun", rng), 16, 1.2, rng)
        for track, solve in ((dom, solve_right_arm), (other, solve_left_arm)):
            sol = solve(track.target, track.finger, track.palm)
            reached.append(np.linalg.norm(sol.reached - track.target, axis=-1).max() < REACH_TOLERANCE)
    assert np.mean(reached) > 0.98


def test_unreachable_targets_are_pulled_onto_the_reachable_shell():
    far = np.array([[-2.0, 0.0, 2.0]])
    sol = solve_right_arm(far, np.array([[0, 0, 1.0]]), np.array([[0, -1.0, 0]]))
    P = _fk({"right": sol})
    assert np.linalg.norm(P[0, J["right_wrist"]] - sol.reached[0]) < REACH_TOLERANCE
    assert np.linalg.norm(P[0, J["right_wrist"]] - P[0, J["right_shoulder"]]) <= 0.52 + 1e-6


@pytest.mark.parametrize("seed", range(3))
def test_joint_angles_stay_within_limits(seed):
    target, finger, palm = _targets(seed)
    target[::3] += np.random.default_rng(seed).normal(0, 0.5, target[::3].shape)  # some wild targets
    sol = solve_right_arm(target, finger, palm)
    elbow = np.linalg.norm(matrix_to_rotvec(sol.elbow), axis=-1)
    assert (elbow >= 0).all() and (elbow <= ELBOW_MAX + 1e-6).all()
    assert (sol.elbow[:, 1, 0] == 0).all()  # a hinge: the elbow only flexes about y
    assert (np.linalg.norm(matrix_to_rotvec(sol.wrist), axis=-1) <= WRIST_LIMIT + 1e-6).all()
    for R in (sol.collar, sol.shoulder, sol.elbow, sol.wrist):
        np.testing.assert_allclose(R @ np.swapaxes(R, -1, -2), np.broadcast_to(np.eye(3), R.shape), atol=1e-9)
        assert np.isfinite(R).all()


def test_elbows_hang_below_the_shoulder_for_signing_space_targets():
    target, finger, palm = _targets(1)
    P = _fk({"right": solve_right_arm(target, finger, palm)})
    assert (P[:, J["right_elbow"], 1] < P[:, J["right_shoulder"], 1] + 0.05).mean() > 0.9


def test_hand_frame_points_fingers_and_palm_where_asked():
    G = hand_frame(np.array([[0, 0, 1.0]]), np.array([[0, -1.0, 0]]))[0]
    np.testing.assert_allclose(G @ [-1, 0, 0], [0, 0, 1], atol=1e-12)  # template fingers along -x
    np.testing.assert_allclose(G @ [0, -1, 0], [0, -1, 0], atol=1e-12)  # template palm faces -y


@pytest.mark.parametrize("seed", range(3))
def test_rotvec_round_trip(seed):
    rv = np.random.default_rng(seed).normal(size=(50, 3))
    rv *= (np.pi * 0.99 / np.maximum(np.linalg.norm(rv, axis=-1, keepdims=True), np.pi))  # keep angle < π
    np.testing.assert_allclose(matrix_to_rotvec(rotvec_to_matrix(rv)), rv, atol=1e-9)
