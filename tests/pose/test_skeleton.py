import math

import numpy as np
import pytest
import torch

from signlib.errors import SignlibError
from signlib.pose.layout import HAND21, get_layout, xyz_layout_for
from signlib.pose.rotation import axis_angle_to_rot6d, mirror_rot6d
from signlib.pose.skeleton import (DEFAULT_SKELETON, fk_point_names, forward_kinematics,
                                   forward_kinematics_np, rest_features)

LAYOUTS = ["rot6d", "rot6d_spine3"]


def random_features(layout, *shape, seed=0, max_angle=1.5):
    lay = get_layout(layout)
    g = torch.Generator().manual_seed(seed)
    axis = torch.nn.functional.normalize(torch.randn(*shape, lay.num_joints, 3, generator=g, dtype=torch.float64), dim=-1)
    angle = torch.rand(*shape, lay.num_joints, 1, generator=g, dtype=torch.float64) * max_angle
    return axis_angle_to_rot6d(axis * angle).reshape(*shape, lay.dim)


def swap_sides(name):
    for a, b in (("left", "right"), ("right", "left")):
        if name.startswith(a + "_"):
            return b + name[len(a):]
    return name


@pytest.mark.parametrize("name", LAYOUTS)
def test_rest_pose_bone_lengths_equal_the_template(name):
    xyz = xyz_layout_for(get_layout(name))
    p = forward_kinematics(rest_features(name).double(), name)[0]
    names = fk_point_names(name)
    checked = 0
    for i, parent in enumerate(xyz.parents):
        if parent >= 0 and names[i] != names[parent]:
            expected = np.linalg.norm(DEFAULT_SKELETON.offset(names[i]))
            assert torch.linalg.norm(p[i] - p[parent]).item() == pytest.approx(expected, abs=1e-9)
            checked += 1
    assert checked >= 2 * 20 + 6


@pytest.mark.parametrize("name", LAYOUTS)
def test_rest_pose_is_a_t_pose_symmetric_under_x_mirroring(name):
    xyz = xyz_layout_for(get_layout(name))
    p = forward_kinematics(rest_features(name).double(), name)[0]
    mirror = torch.tensor([-1.0, 1.0, 1.0], dtype=torch.float64)
    index = {n: i for i, n in enumerate(xyz.joints[:xyz.joint_slice("left_hand").start])}
    for side in ("left", "right"):
        for k, point in enumerate(HAND21):
            index[f"{side}_hand_{point}"] = xyz.joint_slice(f"{side}_hand").start + k
    for n, i in index.items():
        torch.testing.assert_close(p[i], p[index[swap_sides(n)]] * mirror)
    # Arms horizontal: the left arm along +x, the right along -x.
    lw, rw = p[index["left_wrist"]], p[index["right_wrist"]]
    assert lw[0] > 0.6 and rw[0] < -0.6
    assert lw[1].item() == pytest.approx(p[index["left_shoulder"]][1].item())


@pytest.mark.parametrize("name", LAYOUTS)
def test_hands_have_21_points_in_mediapipe_order_with_fingertips_beyond_the_knuckles(name):
    xyz = xyz_layout_for(get_layout(name))
    p = forward_kinematics(rest_features(name), name)[0]
    for side in ("left", "right"):
        hand = p[xyz.joint_slice(f"{side}_hand")]
        assert hand.shape == (21, 3)
        torch.testing.assert_close(hand[0], p[xyz.joint_index(f"{side}_wrist")])
        names = fk_point_names(name)[xyz.joint_slice(f"{side}_hand")]
        assert names[:5] == (f"{side}_wrist", f"{side}_thumb1", f"{side}_thumb2", f"{side}_thumb3",
                             f"{side}_thumb_tip")
        assert names[5:9] == tuple(f"{side}_index{k}" for k in (1, 2, 3)) + (f"{side}_index_tip",)
        dist = torch.linalg.norm(hand - hand[0], dim=-1)
        for finger in range(5):
            base, tip = 1 + 4 * finger, 4 + 4 * finger
            assert dist[tip] > dist[base + (finger > 0)]  # tip beyond the MCP (the thumb's is point 2)
        # Thumb forward (+z) of the index, index forward of the pinky; palm ~ 9 cm.
        assert hand[4, 2] > hand[8, 2] > hand[20, 2]
        assert 0.08 < dist[9] < 0.10


def test_fk_of_the_mirrored_pose_is_the_x_mirror():
    lay = get_layout("rot6d_spine3")
    xyz = xyz_layout_for(lay)
    x = random_features(lay, 3, seed=1).reshape(3, lay.num_joints, 6)
    body, left, right = (lay.joint_slice(p) for p in ("body", "left_hand", "right_hand"))
    mirrored = torch.empty_like(x)
    for j, n in enumerate(lay.joints[body]):
        mirrored[:, j] = mirror_rot6d(x[:, lay.joint_index(swap_sides(n))])
    # Stored hands are both right-handed: mirroring the world pose just swaps them.
    mirrored[:, left], mirrored[:, right] = x[:, right], x[:, left]
    p = forward_kinematics(x.reshape(3, -1), lay)
    q = forward_kinematics(mirrored.reshape(3, -1), lay)
    order = [xyz.joint_index(swap_sides(n)) for n in xyz.joints[xyz.joint_slice("body")]]
    order += list(range(*xyz.joint_slice("right_hand").indices(xyz.num_joints)))
    order += list(range(*xyz.joint_slice("left_hand").indices(xyz.num_joints)))
    torch.testing.assert_close(q, p[:, order] * torch.tensor([-1.0, 1.0, 1.0], dtype=p.dtype))


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("batch", [(), (2,), (2, 3)])
def test_batched_shapes(name, batch):
    x = random_features(name, *batch, 5, seed=2).float()
    p = forward_kinematics(x, name)
    assert p.shape == (*batch, 5, xyz_layout_for(get_layout(name)).num_joints, 3)
    # Each sequence's frames are computed independently of the batch.
    torch.testing.assert_close(p.reshape(-1, *p.shape[-2:]),
                               forward_kinematics(x.reshape(-1, x.shape[-1]), name))


def test_gradients_flow_to_every_feature_and_are_finite():
    x = random_features("rot6d", 2, 4, seed=3).float().requires_grad_()
    forward_kinematics(x, "rot6d").square().sum().backward()
    assert torch.isfinite(x.grad).all()
    per_joint = x.grad.reshape(2, 4, 40, 6).abs().sum(dim=(0, 1, 3))
    # The head is a leaf with no end point, so its rotation moves nothing; every other joint does.
    head = get_layout("rot6d").joint_index("head")
    assert per_joint[head] == 0
    assert (per_joint[torch.arange(40) != head] > 0).all()


def test_elbow_rotation_moves_only_the_forearm_and_hand():
    lay = get_layout("rot6d")
    xyz = xyz_layout_for(lay)
    rest = rest_features(lay).double()
    bent = rest.clone().reshape(1, 40, 6)
    bent[0, lay.joint_index("left_elbow")] = axis_angle_to_rot6d(torch.tensor([0.0, -1.2, 0.3], dtype=torch.float64))
    p, q = forward_kinematics(rest, lay)[0], forward_kinematics(bent.reshape(1, -1), lay)[0]
    moved = torch.linalg.norm(q - p, dim=-1) > 1e-9
    expected = torch.zeros(xyz.num_joints, dtype=torch.bool)
    expected[xyz.joint_index("left_wrist")] = True
    expected[xyz.joint_slice("left_hand")] = True
    assert torch.equal(moved, expected)


def test_shoulder_rotation_about_z_raises_the_arm_by_the_upper_arm_length():
    lay = get_layout("rot6d")
    x = rest_features(lay).double().reshape(1, 40, 6)
    x[0, lay.joint_index("left_shoulder")] = axis_angle_to_rot6d(torch.tensor([0.0, 0.0, math.pi / 2], dtype=torch.float64))
    p = forward_kinematics(x.reshape(1, -1), lay)[0]
    xyz = xyz_layout_for(lay)
    up = p[xyz.joint_index("left_elbow")] - p[xyz.joint_index("left_shoulder")]
    torch.testing.assert_close(up, torch.tensor([0.0, 0.27, 0.0], dtype=torch.float64))


def test_left_hand_is_mirrored_back_before_fk():
    """The same stored rotation on both hands gives mirror-image hands (relative to the wrists)."""
    lay = get_layout("rot6d")
    x = rest_features(lay).double().reshape(1, 40, 6)
    hand = random_features("rot6d", 1, seed=4).reshape(40, 6)[25:]
    x[0, lay.joint_slice("left_hand")] = hand
    x[0, lay.joint_slice("right_hand")] = hand
    p = forward_kinematics(x.reshape(1, -1), lay)[0]
    xyz = xyz_layout_for(lay)
    left, right = p[xyz.joint_slice("left_hand")], p[xyz.joint_slice("right_hand")]
    torch.testing.assert_close(left - left[0], (right - right[0]) * torch.tensor([-1.0, 1.0, 1.0], dtype=p.dtype))


def test_numpy_wrapper_matches_torch():
    x = random_features("rot6d", 3, seed=5).float()
    np.testing.assert_allclose(forward_kinematics_np(x.numpy(), "rot6d"),
                               forward_kinematics(x, "rot6d").numpy(), atol=1e-6)


def test_xyz_layouts_and_wrong_widths_are_rejected():
    with pytest.raises(SignlibError, match="rot6d layout"):
        forward_kinematics(torch.zeros(2, get_layout("xyz_template").dim), "xyz_template")
    with pytest.raises(SignlibError, match="layout 'rot6d' has 240"):
        forward_kinematics(torch.zeros(2, 246), "rot6d")
