"""Scoring against a truth with missing joints: the truth's masks take part, and a clip with
nothing comparable is excluded from the summary and counted, not scored as perfect."""

import math

import numpy as np
import pytest

from signlib.data.positions import position_valid, sequence_positions
from signlib.data.sequence import Sequence
from signlib.evaluate.production import score, summarize_rows
from signlib.evaluate.tables import mean_std_table
from signlib.pose.layout import get_layout
from signlib.pose.rotation import axis_angle_to_rot6d_np
from signlib.pose.skeleton import forward_kinematics_np

XYZ = get_layout("xyz_template")


def _positions(frames: int, seed: int) -> np.ndarray:
    lay = get_layout("rot6d")
    angles = np.random.default_rng(seed).normal(scale=0.3, size=(frames, lay.num_joints, 3))
    return forward_kinematics_np(axis_angle_to_rot6d_np(angles).reshape(frames, lay.dim), lay)


def _clip(xyz: np.ndarray, valid=None, sid="c") -> Sequence:
    return Sequence(xyz.reshape(len(xyz), -1).astype(np.float32), "xyz_template", 25.0, valid=valid, id=sid)


def test_missing_truth_joints_are_not_compared_with_their_fill_value():
    truth_xyz = _positions(30, seed=0)
    valid = np.ones((30, XYZ.num_joints), bool)
    valid[10:20, XYZ.joint_slice("right_hand")] = False
    filled = truth_xyz.copy()
    filled[10:20, XYZ.joint_slice("right_hand")] = 0.0  # what a reader puts where nothing was seen
    truth = _clip(filled, valid)
    # A prediction equal to the observed truth is perfect: the fill value is never a target.
    row = score(_clip(truth_xyz), truth, procrustes=True, equal_length=True)
    for key in ("body_mean", "hand_mean", "pa_hand_mean", "mpjpe_hand", "pa_mpjpe_hand"):
        assert row[key] == pytest.approx(0.0, abs=1e-6), key
    # Without the masks the same prediction would be charged for the filled joints.
    unmasked = score(_clip(truth_xyz), _clip(filled), procrustes=False)
    assert unmasked["hand_mean"] > 1e-3


def test_a_truth_without_hands_gives_nan_and_the_summary_counts_it():
    xyz = _positions(20, seed=1)
    valid = np.ones((20, XYZ.num_joints), bool)
    for side in ("left_hand", "right_hand"):
        valid[:, XYZ.joint_slice(side)] = False
    rows = [{"id": "a", "language": "dgs", "system": "s", **score(_clip(xyz), _clip(xyz, valid, "a"), False)},
            {"id": "b", "language": "dgs", "system": "s", **score(_clip(_positions(20, 2)), _clip(xyz, None, "b"), False)}]
    assert math.isnan(rows[0]["hand_mean"]) and rows[0]["hand_dropped_frames"] == 20
    summary = [r for r in summarize_rows(rows, ("body_mean", "hand_mean")) if r["language"] == "all"][0]
    assert summary["hand_mean_excluded"] == 1 and "body_mean_excluded" not in summary
    assert summary["hand_mean"] == pytest.approx(rows[1]["hand_mean"])
    display, _ = mean_std_table([summary], {"hand": ("hand_mean", 100)})
    assert display[0]["hand"].endswith("(1 excl.)")


def test_rotation_masks_map_to_forward_kinematics_points():
    lay = get_layout("rot6d")
    feats = axis_angle_to_rot6d_np(np.zeros((4, lay.num_joints, 3))).reshape(4, lay.dim)
    valid = np.ones((4, lay.num_joints), bool)
    valid[1, lay.joint_slice("left_hand").start + 3] = False   # one finger joint of the left hand
    valid[2, 0] = False                                        # the first body joint
    seq = Sequence(feats.astype(np.float32), "rot6d", 25.0, valid=valid)
    points = position_valid(seq)
    assert points.shape == sequence_positions(seq)[0].shape[:2]
    assert not points[1, XYZ.joint_slice("left_hand")].any() and points[1, XYZ.joint_slice("right_hand")].all()
    assert not points[2, 0] and points[2, 1:].all() and points[0].all() and points[3].all()
