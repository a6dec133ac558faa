"""The conditional 1D UNet: shapes, any length, padding that never leaks into real frames."""

import pytest
import torch

from signlib.generate.unet import UNet1D, UNetConfig

CFG = UNetConfig(channels=(16, 24, 32), heads=2, cond_dim=16, patch=2)


def _net():
    torch.manual_seed(0)
    net = UNet1D(12, 8, CFG)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))  # the zero-initialised output would hide everything
    return net.eval()


def _inputs(B, T, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(B, T, 12, generator=g), torch.rand(B, T, generator=g) < 0.2,
            torch.ones(B, T, dtype=torch.bool), torch.randn(B, 16, generator=g),
            torch.randn(B, 5, 8, generator=g), torch.ones(B, 5, dtype=torch.bool))


@pytest.mark.parametrize("T", [1, 7, 8, 13, 40])
def test_output_has_the_input_shape_for_any_length(T):
    out = _net()(*_inputs(2, T))
    assert out.shape == (2, T, 12) and torch.isfinite(out).all()


def test_fresh_network_outputs_zero_velocity():
    net = UNet1D(12, 8, CFG)
    assert torch.count_nonzero(net(*_inputs(2, 10))) == 0


def test_a_sequence_alone_equals_the_same_sequence_padded_in_a_batch():
    # Padded frames hold noise and stray keyframe flags on purpose: the network must ignore them.
    net = _net()
    x, keys, lengths, cond, text, text_mask = _inputs(2, 37)
    lengths[1, 21:] = False
    batched = net(x, keys, lengths, cond, text, text_mask)
    alone = net(x[1:, :21], keys[1:, :21], lengths[1:, :21], cond[1:], text[1:], text_mask[1:])
    torch.testing.assert_close(batched[1, :21], alone[0], rtol=1e-4, atol=1e-5)
    assert torch.all(batched[1, 21:] == 0)


def test_padded_text_tokens_do_not_change_the_output():
    net = _net()
    x, keys, lengths, cond, text, text_mask = _inputs(1, 16)
    longer = torch.cat([text, torch.randn(1, 3, 8)], 1)
    mask = torch.cat([text_mask, torch.zeros(1, 3, dtype=torch.bool)], 1)
    torch.testing.assert_close(net(x, keys, lengths, cond, text, text_mask), net(x, keys, lengths, cond, longer, mask))


def test_condition_and_keyframe_mask_change_the_output():
    net = _net()
    x, keys, lengths, cond, text, text_mask = _inputs(1, 16)
    base = net(x, keys, lengths, cond, text, text_mask)
    assert not torch.allclose(base, net(x, keys, lengths, cond + 1, text, text_mask))
    assert not torch.allclose(base, net(x, ~keys, lengths, cond, text, text_mask))


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="heads"):
        UNetConfig(channels=(16, 30), heads=4)
    with pytest.raises(ValueError, match=r"UNetConfig: channels=\(\) must be a non-empty list"):
        UNetConfig(channels=())


@pytest.mark.parametrize("grad", [False, True], ids=["packed", "autograd"])
def test_a_prepared_context_gives_forward_at_every_step(grad):
    # Samplers prepare the fixed inputs once and run every step on them; each step must equal a
    # fresh forward pass (to float noise: the input convolution is split in two sums, and the
    # packed convolutions and fused multiply-adds round differently). Without autograd the
    # convolutions are oneDNN's packed kernels; with it, plain channels-last conv2d.
    torch.set_grad_enabled(grad)
    try:
        _check_prepared_context()
    finally:
        torch.set_grad_enabled(True)


def _check_prepared_context():
    torch.manual_seed(0)
    net = UNet1D(12, 8, CFG, extra=12)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    x, keys, lengths, cond, text, text_mask = _inputs(2, 21)
    lengths[1, 15:] = False
    track = torch.randn(2, 21, 12)
    fixed_cond = torch.randn(2, 16)
    ctx = net.prepare(keys, lengths, text, text_mask, track, fixed_cond)
    for step in range(3):
        control, time_part = x + step, torch.randn(1, 16)  # one row of the per-step part, shared by all rows
        direct = net(control, keys, lengths, fixed_cond + time_part, text, text_mask, track)
        torch.testing.assert_close(net.run(control, time_part, ctx), direct, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="12 extra channels; got none"):
        net.prepare(keys, lengths, text, text_mask)


def test_run_after_a_weight_update_uses_the_new_weights():
    # prepare() reuses packed weights across batches; an optimiser step must invalidate them.
    net, args = _net(), _inputs(2, 16)
    x, keys, lengths, cond, text, text_mask = args
    with torch.no_grad():
        before = net.run(x, cond, net.prepare(keys, lengths, text, text_mask))
        for p in net.parameters():
            p.mul_(1.1)
        after = net.run(x, cond, net.prepare(keys, lengths, text, text_mask))
        torch.testing.assert_close(after, net(*args), rtol=1e-5, atol=1e-6)
    assert not torch.allclose(before, after)


def test_sampling_gradients_reach_the_weights():
    # Under autograd the run path is differentiable (plain conv2d), e.g. for guidance distillation.
    net, (x, keys, lengths, cond, text, text_mask) = _net(), _inputs(2, 16)
    net.run(x, cond, net.prepare(keys, lengths, text, text_mask)).square().sum().backward()
    assert net.down[0][0].conv1.weight.grad is not None and net.down[0][0].conv1.weight.grad.abs().sum() > 0
