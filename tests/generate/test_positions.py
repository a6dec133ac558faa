"""The joint-position loss: zero for the data itself, metric-shaped (hands wrist-relative), finite
on padding, and it reaches the network through the kinematics."""

import pytest
import torch

from signlib.generate.positions import metric_points, position_loss, positions
from signlib.pose.layout import get_layout, xyz_layout_for
from signlib.pose.normalize import orthonormalize_rot6d
from signlib.pose.skeleton import forward_kinematics

from .conftest import smooth_clip


def _clip(T=12, seed=0):
    return torch.from_numpy(orthonormalize_rot6d(smooth_clip(T, seed=seed), "rot6d"))[None]   # (1, T, 240)


def test_the_data_scores_zero_and_padding_stays_finite():
    x = torch.cat([_clip(), torch.zeros(1, 12, 240)], 1)            # 12 real frames, 12 zero-padded
    mask = torch.arange(24)[None] < 12
    assert position_loss(x, x, mask, "rot6d") == 0
    other = torch.cat([_clip(seed=3), torch.zeros(1, 12, 240)], 1)
    value = position_loss(other, x, mask, "rot6d")
    assert torch.isfinite(value) and value > 0


def test_hand_points_are_wrist_relative_and_body_points_are_not():
    xyz = forward_kinematics(_clip(), "rot6d")
    lay = xyz_layout_for(get_layout("rot6d"))
    shifted = xyz.clone()
    shifted[..., lay.joint_slice("right_hand"), :] += 0.1          # move a whole hand: wrist-relative points stay
    a, b = metric_points(xyz, "rot6d"), metric_points(shifted, "rot6d")
    body = lay.joint_slice("body")
    torch.testing.assert_close(a, b)
    shifted[..., body, :] += 0.1
    assert (metric_points(shifted, "rot6d")[..., body, :] - a[..., body, :]).abs().max() > 0.05


def test_xyz_features_are_their_own_positions():
    lay = get_layout("xyz_template")
    x = torch.randn(2, 5, lay.dim)
    torch.testing.assert_close(positions(x, "xyz_template"), x.reshape(2, 5, lay.num_joints, 3))
    assert position_loss(x, x + 0.01, torch.ones(2, 5, dtype=torch.bool), "xyz_template") > 0


def test_the_loss_has_a_gradient_through_the_kinematics():
    x = _clip().requires_grad_(True)
    position_loss(x, _clip(seed=5), torch.ones(1, 12, dtype=torch.bool), "rot6d").backward()
    assert x.grad is not None and x.grad.abs().sum() > 0 and torch.isfinite(x.grad).all()


def test_make_loss_adds_the_position_term_only_when_weighted():
    import numpy as np

    from signlib.generate.configs import BatchConfig, FlowLossConfig
    from signlib.generate.data import GenClip, make_loss, make_sampler
    from signlib.generate.flow import part_weights
    from signlib.generate.model import SignSparK

    from .conftest import tiny_config

    x = smooth_clip(20, seed=1)
    clip = GenClip("c", x, np.ones_like(x, bool), np.array([0, 10, 19]), "tea", "ASL")
    torch.manual_seed(0)
    model = SignSparK(tiny_config())
    batch = make_sampler([clip], 2, BatchConfig(text_drop=0.0, key_drop=0.0))(0, np.random.default_rng(0))
    torch.manual_seed(0)
    plain, logs = make_loss(part_weights("rot6d"), FlowLossConfig())(model, batch)
    torch.manual_seed(0)
    weighted, wlogs = make_loss(part_weights("rot6d"), FlowLossConfig(position_weight=0.5))(model, batch)
    assert "position" not in logs and wlogs["position"] > 0
    assert float(weighted.detach()) == pytest.approx(float(plain.detach()) + 0.5 * wlogs["position"], rel=1e-5)
