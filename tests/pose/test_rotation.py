import math

import numpy as np
import pytest
import torch

from signlib.errors import SignlibError
from signlib.pose.layout import get_layout
from signlib.pose.rotation import (axis_angle_to_matrix, axis_angle_to_rot6d, matrix_to_axis_angle,
                                   matrix_to_rot6d, mirror_axis_angle, mirror_left_hand, mirror_matrix,
                                   mirror_rot6d, rot6d_to_axis_angle, rot6d_to_matrix, slerp_keyframes,
                                   slerp_keyframes_np)

S = torch.diag(torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64))


def random_axis_angle(*shape, seed=0, max_angle=math.pi * 0.95):
    g = torch.Generator().manual_seed(seed)
    axis = torch.nn.functional.normalize(torch.randn(*shape, 3, generator=g, dtype=torch.float64), dim=-1)
    angle = torch.rand(*shape, 1, generator=g, dtype=torch.float64) * max_angle
    return axis * angle


def random_features(layout, frames, seed=0):
    lay = get_layout(layout)
    return axis_angle_to_rot6d(random_axis_angle(frames, lay.num_joints, seed=seed)).reshape(frames, lay.dim)


def test_axis_angle_matrix_rot6d_round_trips():
    aa = random_axis_angle(64, seed=1)
    R = axis_angle_to_matrix(aa)
    torch.testing.assert_close(matrix_to_axis_angle(R), aa)
    torch.testing.assert_close(rot6d_to_matrix(matrix_to_rot6d(R)), R)
    torch.testing.assert_close(rot6d_to_axis_angle(axis_angle_to_rot6d(aa)), aa)


def test_rot6d_stores_the_first_two_rows():
    R = axis_angle_to_matrix(random_axis_angle(5, seed=2))
    torch.testing.assert_close(matrix_to_rot6d(R), torch.cat((R[:, 0], R[:, 1]), dim=-1))


def test_rot6d_to_matrix_gives_proper_rotations_for_non_orthonormal_input():
    x = torch.randn(100, 6, generator=torch.Generator().manual_seed(3), dtype=torch.float64) * 3
    R = rot6d_to_matrix(x)
    torch.testing.assert_close(R @ R.transpose(-1, -2), torch.eye(3, dtype=torch.float64).expand(100, 3, 3))
    torch.testing.assert_close(torch.linalg.det(R), torch.ones(100, dtype=torch.float64))


def test_mirror_is_an_involution_and_equals_s_r_s():
    R = axis_angle_to_matrix(random_axis_angle(32, seed=4))
    torch.testing.assert_close(mirror_matrix(R), S @ R @ S)
    torch.testing.assert_close(mirror_matrix(mirror_matrix(R)), R)
    x = matrix_to_rot6d(R)
    torch.testing.assert_close(mirror_rot6d(x), matrix_to_rot6d(S @ R @ S))
    torch.testing.assert_close(mirror_rot6d(mirror_rot6d(x)), x)


def test_mirror_axis_angle_is_consistent_with_mirror_matrix():
    aa = random_axis_angle(32, seed=5)
    torch.testing.assert_close(axis_angle_to_matrix(mirror_axis_angle(aa)), mirror_matrix(axis_angle_to_matrix(aa)))


@pytest.mark.parametrize("name", ["rot6d", "rot6d_spine3"])
def test_mirror_left_hand_touches_only_the_left_hand(name):
    lay = get_layout(name)
    x = random_features(lay, 4, seed=6)
    y = mirror_left_hand(x, lay)
    for part in ("body", "right_hand"):
        torch.testing.assert_close(y[:, lay.feature_slice(part)], x[:, lay.feature_slice(part)])
    left = lay.feature_slice("left_hand")
    torch.testing.assert_close(y[:, left], mirror_rot6d(x[:, left].reshape(4, -1, 6)).reshape(4, -1))
    torch.testing.assert_close(mirror_left_hand(y, lay), x)


def test_mirror_left_hand_rejects_xyz_layouts():
    with pytest.raises(SignlibError, match="rot6d"):
        mirror_left_hand(torch.zeros(2, get_layout("xyz_template").dim), "xyz_template")


def test_slerp_hits_the_keyframes_and_holds_outside_them():
    x = random_features("rot6d", 20, seed=7)
    keys = [3, 9, 15]
    y = slerp_keyframes(x, keys, "rot6d")
    R, Ry = rot6d_to_matrix(x.reshape(20, 40, 6)), rot6d_to_matrix(y.reshape(20, 40, 6))
    for k in keys:
        torch.testing.assert_close(Ry[k], R[k])
    for t in range(3):
        torch.testing.assert_close(Ry[t], R[3])
    for t in range(16, 20):
        torch.testing.assert_close(Ry[t], R[15])


def test_slerp_midpoint_is_the_half_angle_rotation():
    aa0 = random_axis_angle(40, seed=8, max_angle=1.0)
    delta = random_axis_angle(40, seed=9, max_angle=2.5)  # relative rotation, angle < π
    R0 = axis_angle_to_matrix(aa0)
    R1 = R0 @ axis_angle_to_matrix(delta)
    x = torch.stack((matrix_to_rot6d(R0), torch.zeros(40, 6, dtype=torch.float64), matrix_to_rot6d(R1)))
    y = slerp_keyframes(x.reshape(3, 240), [0, 2], "rot6d")
    expected = R0 @ axis_angle_to_matrix(delta / 2)  # closed form: half the relative angle
    torch.testing.assert_close(rot6d_to_matrix(y[1].reshape(40, 6)), expected)


@pytest.mark.parametrize("alpha_frame", [1, 2, 3])
def test_slerp_interpolates_xyz_layouts_linearly(alpha_frame):
    lay = get_layout("xyz_template")
    g = torch.Generator().manual_seed(10)
    x = torch.randn(5, lay.dim, generator=g, dtype=torch.float64)
    y = slerp_keyframes(x, [0, 4], lay)
    torch.testing.assert_close(y[alpha_frame], x[0] + alpha_frame / 4 * (x[4] - x[0]))


def test_slerp_numpy_wrapper_matches_torch():
    x = random_features("rot6d", 6, seed=11).float()
    np.testing.assert_allclose(slerp_keyframes_np(x.numpy(), [0, 5], "rot6d"),
                               slerp_keyframes(x, [0, 5], "rot6d").numpy(), atol=1e-6)


@pytest.mark.parametrize("keys, message", [([], "no keyframes"), ([0, 10], "outside the 10 frames"),
                                           ([-1, 3], "outside")])
def test_slerp_rejects_missing_or_out_of_range_keyframes(keys, message):
    with pytest.raises(SignlibError, match=message):
        slerp_keyframes(random_features("rot6d", 10), keys, "rot6d")
