"""The procedural body, linear blend skinning and the Gaussian avatar."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from signlib.errors import SignlibError
from signlib.pose.layout import get_layout
from signlib.pose.rotation import axis_angle_to_rot6d
from signlib.pose.skeleton import forward_kinematics, global_transforms, rest_features
from signlib.render.avatar import build_avatar, pose_avatar
from signlib.render.body import BODY, LEFT_HAND, RIGHT_HAND, Identity, identity_skeleton, procedural_body
from signlib.render.skinning import matrix_to_quat, quat_multiply, skin_points, skin_rotations


def posed(joint: str, axis_angle, layout: str = "rot6d", frames: int = 1) -> torch.Tensor:
    """``(frames, D)`` rest features with one joint turned."""
    lay = get_layout(layout)
    x = rest_features(lay, frames).reshape(frames, lay.num_joints, 6)
    x[:, lay.joint_index(joint)] = axis_angle_to_rot6d(torch.tensor(axis_angle, dtype=torch.float32))
    return x.reshape(frames, -1)


def quat_to_matrix(q: torch.Tensor) -> torch.Tensor:
    w, x, y, z = q.unbind(-1)
    return torch.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
                        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
                        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1).reshape(*q.shape[:-1], 3, 3)


def test_global_transforms_agree_with_forward_kinematics_and_chain_rule():
    x = axis_angle_to_rot6d(0.6 * torch.randn(3, 40, 3, generator=torch.Generator().manual_seed(0))).reshape(3, -1)
    tf = global_transforms(x, "rot6d")
    points = forward_kinematics(x, "rot6d")
    assert torch.allclose(points[:, 0], tf.positions[:, tf.index("neck")], atol=1e-6)
    for j, p in enumerate(tf.parents):
        if p < 0:
            continue
        offset = tf.rest_positions[j] - tf.rest_positions[p]
        torch.testing.assert_close(tf.positions[:, j], tf.positions[:, p] + tf.rotations[:, p] @ offset, atol=1e-5,
                                   rtol=0)
    with pytest.raises(SignlibError, match="rot6d"):
        global_transforms(torch.zeros(2, 147), "xyz_template")


def test_body_is_symmetric_about_600_triangles_per_hand_and_weights_sum_to_one():
    mesh = procedural_body("rot6d")
    assert 4000 < len(mesh.faces) < 9000
    assert torch.allclose(mesh.weights.sum(1), torch.ones(len(mesh.weights)))
    assert (mesh.weights >= 0).all() and int(mesh.faces.max()) < len(mesh.vertices)
    left = mesh.vertices[mesh.part == LEFT_HAND]
    right = mesh.vertices[mesh.part == RIGHT_HAND]
    assert len(left) == len(right) > 0
    # the template is mirror-symmetric, and so is its body
    torch.testing.assert_close(torch.sort(left[:, 0]).values, torch.sort(-right[:, 0]).values, atol=1e-5, rtol=0)
    assert set(mesh.part.unique().tolist()) == {BODY, LEFT_HAND, RIGHT_HAND}


def test_rest_pose_skins_to_the_rest_mesh_and_a_bent_elbow_moves_only_the_arm_beyond_it():
    mesh = procedural_body("rot6d")
    rest = skin_points(mesh.vertices, mesh.joints, mesh.weights, global_transforms(rest_features("rot6d"), "rot6d"))
    torch.testing.assert_close(rest[0], mesh.vertices, atol=1e-6, rtol=0)
    bent = skin_points(mesh.vertices, mesh.joints, mesh.weights,
                       global_transforms(posed("left_elbow", [0.0, -1.5, 0.0]), "rot6d"))[0]
    moved = (bent - mesh.vertices).norm(dim=-1) > 1e-4
    tf = global_transforms(rest_features("rot6d"), "rot6d")
    elbow_x = float(tf.rest_positions[tf.index("left_elbow"), 0])
    assert moved[mesh.part == LEFT_HAND].all()                     # the whole left hand follows the forearm
    assert not moved[mesh.part == RIGHT_HAND].any()
    assert not moved[mesh.vertices[:, 0] < elbow_x - 0.1].any()    # nothing short of the upper arm moves
    # a bone's rigid part keeps its distance to the elbow joint
    elbow_now = global_transforms(posed("left_elbow", [0.0, -1.5, 0.0]), "rot6d").positions[0, tf.index("left_elbow")]
    hand = mesh.part == LEFT_HAND
    before = (mesh.vertices[hand] - tf.rest_positions[tf.index("left_elbow")]).norm(dim=-1)
    torch.testing.assert_close((bent[hand] - elbow_now).norm(dim=-1), before, atol=1e-5, rtol=0)


def test_identities_differ_by_seed_and_their_skeleton_scales_the_arms():
    assert Identity.from_seed(0) == Identity()
    a, b = Identity.from_seed(3), Identity.from_seed(3)
    assert a == b and a != Identity.from_seed(4)
    long_arms = Identity(arm_scale=1.1)
    x = rest_features("rot6d")
    wrist = forward_kinematics(x, "rot6d", identity_skeleton(long_arms))[0, 8, 0]
    assert math.isclose(float(wrist), 1.1 * float(forward_kinematics(x, "rot6d")[0, 8, 0]), rel_tol=1e-5)


def test_matrix_to_quat_round_trips_including_half_turns():
    R = global_transforms(axis_angle_to_rot6d(torch.randn(50, 40, 3)).reshape(50, -1), "rot6d").rotations
    half = torch.diag(torch.tensor([1.0, -1.0, -1.0]))  # 180° about x: w = 0
    R = torch.cat([R.reshape(-1, 3, 3), half[None]])
    q = matrix_to_quat(R)
    torch.testing.assert_close(q.norm(dim=-1), torch.ones(len(q)), atol=1e-6, rtol=0)
    torch.testing.assert_close(quat_to_matrix(q), R, atol=2e-5, rtol=0)


def test_skinned_rotations_of_rigidly_bound_points_follow_their_node():
    tf = global_transforms(posed("right_elbow", [0.3, 1.0, 0.2], frames=2), "rot6d")
    node = tf.index("right_elbow")
    rest = matrix_to_quat(torch.linalg.matrix_exp(torch.tensor([[0.0, -0.4, 0.1], [0.4, 0.0, -0.2], [-0.1, 0.2, 0.0]])))
    joints = torch.tensor([[node, node]])
    out = skin_rotations(rest[None], joints, torch.tensor([[1.0, 0.0]]), tf)
    expect = quat_multiply(matrix_to_quat(tf.rotations[:, node]), rest[None].expand(2, 4))
    assert torch.allclose(out[:, 0], expect, atol=1e-6) or torch.allclose(out[:, 0], -expect, atol=1e-6)


def test_avatar_samples_gaussians_on_the_body_with_half_on_the_hands():
    mesh = procedural_body("rot6d")
    avatar = build_avatar(mesh, count=2000, seed=1)
    assert avatar.count == 2000
    assert int((avatar.part == LEFT_HAND).sum()) == int((avatar.part == RIGHT_HAND).sum()) == 500
    # means on the surface: near a dense barycentric grid of points on every face
    k = 8
    grid = torch.tensor([(i / k, j / k, 1 - (i + j) / k) for i in range(k + 1) for j in range(k + 1 - i)])
    surface = torch.einsum("gk,fkc->fgc", grid, mesh.vertices[mesh.faces]).reshape(-1, 3)
    d = torch.cdist(avatar.means[::7], surface).min(1).values
    assert float(d.max()) < 0.012
    assert (avatar.scales > 0).all() and (avatar.scales[:, 2] < avatar.scales[:, 0]).all()
    assert ((avatar.colors >= 0) & (avatar.colors <= 1)).all()
    again = build_avatar(mesh, count=2000, seed=1)
    assert torch.equal(again.means, avatar.means)
    with pytest.raises(SignlibError, match="count"):
        build_avatar(mesh, count=3)


def test_posed_avatar_moves_with_the_mesh():
    mesh = procedural_body("rot6d")
    avatar = build_avatar(mesh, count=1000)
    tf = global_transforms(torch.cat([rest_features("rot6d"), posed("left_shoulder", [0.0, 0.0, 1.2])]), "rot6d")
    means, quats = pose_avatar(avatar, tf)
    torch.testing.assert_close(means[0], avatar.means, atol=1e-6, rtol=0)
    torch.testing.assert_close(quats[0].abs(), avatar.quats.abs(), atol=1e-5, rtol=0)
    left = avatar.part == LEFT_HAND
    assert float(means[1][left, 1].mean()) > float(avatar.means[left, 1].mean()) + 0.2  # the arm went up
    assert torch.allclose(means[1][avatar.part == RIGHT_HAND], avatar.means[avatar.part == RIGHT_HAND], atol=1e-6)
    assert np.isfinite(quats.numpy()).all()
