"""Wrist speed: zero for a still pose, known for a constant-velocity wrist, and profiles line up clips."""

import numpy as np
import pytest

from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.evaluate.motion import mean_speed, speed_profile, wrist_speed
from signlib.pose.layout import get_layout

LAY = get_layout("xyz_mediapipe")


def _moving(T: int, velocity: float, fps: float = 25.0) -> Sequence:
    """Both wrists move along x at ``velocity`` units per second; everything else is still."""
    x = np.zeros((T, LAY.num_joints, 3), np.float32)
    for w in ("left_wrist", "right_wrist"):
        x[:, LAY.joint_index(w), 0] = velocity * np.arange(T) / fps
    return Sequence(x.reshape(T, -1), LAY.name, fps, id="m")


def test_wrist_speed_of_constant_motion_and_of_a_still_pose():
    np.testing.assert_allclose(wrist_speed(_moving(10, 0.5)), 0.5, rtol=1e-5)
    np.testing.assert_allclose(wrist_speed(_moving(10, 0.0)), 0.0)


def test_speed_profile_lines_up_clips_of_different_lengths():
    mean, std = speed_profile([_moving(10, 1.0), _moving(40, 3.0)], bins=5)
    np.testing.assert_allclose(mean, 2.0, rtol=1e-5)
    np.testing.assert_allclose(std, 1.0, rtol=1e-5)
    assert mean_speed([_moving(10, 1.0)]) == pytest.approx(1.0, rel=1e-5)


def test_bad_input_is_a_clear_error():
    with pytest.raises(SignlibError, match="at least 2 frames"):
        wrist_speed(_moving(1, 1.0))
    with pytest.raises(SignlibError, match="no sequences"):
        speed_profile([])
