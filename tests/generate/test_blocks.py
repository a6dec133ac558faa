"""The UNet's blocks: the sampler's channels-last versions equal the training ones."""

import pytest
import torch
from torch import nn

from signlib.generate.blocks import (
    AttentionBlock,
    ChannelNorm,
    ResBlock,
    attention_bias,
    time_embedding,
)
from signlib.generate.packed import PackedConv


def _cl(x):
    return x.unsqueeze(2).contiguous(memory_format=torch.channels_last)


def _perturbed(module):
    torch.manual_seed(0)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.2 * torch.randn_like(p))  # zero-initialised gates and outputs would hide everything
    return module.eval()


def test_channel_norm_reads_both_layouts():
    x = torch.randn(2, 6, 9)
    out = ChannelNorm()(x)
    torch.testing.assert_close(out.mean(1), torch.zeros(2, 9), atol=1e-6, rtol=0)
    torch.testing.assert_close(ChannelNorm()(_cl(x))[:, :, 0], out)


@pytest.mark.parametrize("c_in,c_out", [(8, 8), (8, 12)], ids=["identity-skip", "conv-skip"])
def test_residual_step_equals_forward(c_in, c_out):
    block = _perturbed(ResBlock(c_in, c_out, cond_dim=5))
    x, cond = torch.randn(3, c_in, 10), torch.randn(3, 5)
    mask = torch.ones(3, 1, 10)
    mask[1, :, 7:] = 0
    film = block.film(cond)
    ones = torch.cat([torch.ones(c_in), torch.zeros(c_in), torch.ones(c_out)])   # what prepare() adds
    convs = {m: PackedConv.of(m) for m in block.modules() if isinstance(m, nn.Conv1d)}
    with torch.no_grad():
        expected = block(x, film, mask)
        step = block.step(_cl(x), film + ones, mask.unsqueeze(2), convs)
    assert step.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(step[:, :, 0], expected, rtol=1e-5, atol=1e-5)
    assert (step[1, :, 0, 7:] == 0).all()


def test_attention_reads_both_layouts():
    attn = _perturbed(AttentionBlock(8, text_dim=4, heads=2))
    x, mask = torch.randn(2, 8, 6), torch.ones(2, 1, 6)
    keys = attn.text_keys(torch.randn(2, 3, 4), torch.tensor([[True, True, False], [True, True, True]]))
    bias = attention_bias(mask[:, 0].bool(), x.dtype)
    with torch.no_grad():
        torch.testing.assert_close(attn(_cl(x), mask.unsqueeze(2), bias, keys)[:, :, 0], attn(x, mask, bias, keys))


def test_time_embedding_is_sinusoids_of_the_scaled_time():
    emb = time_embedding(torch.tensor([0.0, 0.5]), 8)
    assert emb.shape == (2, 8)
    torch.testing.assert_close(emb[0], torch.tensor([0.0] * 4 + [1.0] * 4))
