"""The flow-matching path and objective: closed forms under a fixed seed."""

import pytest
import torch

from signlib.generate.flow import FlowLossConfig, estimate_clean, flow_loss, part_weights, probability_path


def _batch(B=3, T=10, D=240, seed=0):
    g = torch.Generator().manual_seed(seed)
    x1, x0 = torch.randn(B, T, D, generator=g), torch.randn(B, T, D, generator=g)
    t = torch.rand(B, generator=g)
    keys = torch.zeros(B, T, dtype=torch.bool)
    keys[:, [0, 4, 9]] = True
    return x1, x0, t, keys


def test_part_weights_give_every_part_the_same_total():
    w = part_weights("rot6d")
    assert w.shape == (240,) and torch.isclose(w.sum(), torch.tensor(1.0))
    assert torch.isclose(w[:60].sum(), w[60:150].sum()) and torch.isclose(w[60:150].sum(), w[150:].sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_control_signal_holds_clean_keyframes_and_noisy_path_elsewhere(seed):
    x1, x0, t, keys = _batch(seed=seed)
    control, target = probability_path(x1, x0, t, keys)
    assert torch.equal(control[keys], x1[keys])
    xt = t[:, None, None] * x1 + (1 - t[:, None, None]) * x0
    torch.testing.assert_close(control[~keys], xt[~keys])
    assert torch.all(target[keys] == 0)
    torch.testing.assert_close(target[~keys], (x1 - x0)[~keys])
    # u = (x1 − C) / (1 − t): the straight-line velocity from the control signal to the data.
    torch.testing.assert_close(target, (x1 - control) / (1 - t[:, None, None]), rtol=1e-4, atol=1e-4)


def test_exact_velocity_reconstructs_the_data_and_zeroes_every_loss():
    x1, x0, t, keys = _batch()
    control, target = probability_path(x1, x0, t, keys)
    torch.testing.assert_close(estimate_clean(control, target, t, keys), x1, rtol=1e-5, atol=1e-5)
    lengths = torch.ones(3, 10, dtype=torch.bool)
    loss, logs = flow_loss(target, x1, control, target, t, keys, lengths, None, part_weights("rot6d"),
                           FlowLossConfig(acceleration_weight=1.0))
    assert float(loss) < 1e-10 and set(logs) == {"cfm", "recon", "vel", "acc"}


def test_loss_ignores_padding_and_missing_joints():
    x1, x0, t, keys = _batch()
    control, target = probability_path(x1, x0, t, keys)
    lengths = torch.ones(3, 10, dtype=torch.bool)
    lengths[0, 7:] = False
    valid = torch.ones(3, 10, 240, dtype=torch.bool)
    valid[1, 2, 60:150] = False
    w = part_weights("rot6d")
    v = target.clone()
    v[0, 8] += 100.0          # a padded frame
    v[1, 2, 60:150] += 100.0  # a missing left hand
    loss, _ = flow_loss(v, x1, control, target, t, keys, lengths, valid, w)
    assert float(loss) < 1e-8
    v[2, 5] += 1.0            # a real, observed frame does count
    assert float(flow_loss(v, x1, control, target, t, keys, lengths, valid, w)[0]) > 1e-3


def test_cfm_term_is_the_weighted_mean_squared_velocity_error():
    x1, x0, t, keys = _batch()
    control, target = probability_path(x1, x0, t, keys)
    v = target + 0.5
    lengths = torch.ones(3, 10, dtype=torch.bool)
    _, logs = flow_loss(v, x1, control, target, t, keys, lengths, None, part_weights("rot6d"))
    assert logs["cfm"] == pytest.approx(0.25, rel=1e-5)      # every free frame is off by 0.5 in every channel
    assert logs["vel"] > 0 and logs["recon"] > 0


def test_negative_loss_weight_is_refused():
    with pytest.raises(ValueError, match="FlowLossConfig: cfm_weight=-1.0 must be a number"):
        FlowLossConfig(cfm_weight=-1.0)


def test_a_scale_measures_every_error_in_other_units():
    # With the prior's std as scale the loss is that of x = mean + std·z: each term's errors are
    # multiplied by the scale, so a constant scale c multiplies every term by c².
    x1, x0, t, keys = _batch(seed=4)
    control, target = probability_path(x1, x0, t, keys)
    v = target + 0.3 * torch.randn_like(target)
    lengths = torch.ones(3, 10, dtype=torch.bool)
    cfg = FlowLossConfig(acceleration_weight=1.0)
    _, plain = flow_loss(v, x1, control, target, t, keys, lengths, None, part_weights("rot6d"), cfg)
    _, scaled = flow_loss(v, x1, control, target, t, keys, lengths, None, part_weights("rot6d"), cfg,
                          torch.full_like(x1, 0.5))
    for term in ("cfm", "recon", "vel", "acc"):
        assert scaled[term] == pytest.approx(0.25 * plain[term], rel=1e-5), term
    # A scale that differs between frames weights them: zero on frames 5-9 ignores their errors.
    half = torch.ones_like(x1)
    half[:, 5:] = 0
    _, early = flow_loss(v, x1, control, target, t, keys, lengths, None, part_weights("rot6d"), cfg, half)
    err = (estimate_clean(control, v, t, keys) - x1)[:, :5] ** 2
    assert early["recon"] == pytest.approx(float((err * part_weights("rot6d")).sum() / 30), rel=1e-5)


def test_the_loss_space_must_be_known():
    from signlib.validate import InvalidValue
    with pytest.raises(InvalidValue, match="space"):
        FlowLossConfig(space="positions")
    assert FlowLossConfig(space="features").space == "features"
