"""Packed inference convolutions: equal to nn.Conv1d, one oneDNN weight per input shape, and a
weight cache that follows every change of the weights."""

import copy

import pytest
import torch
from torch import nn

from signlib.generate import packed
from signlib.generate.packed import PackedConv, cached, conv_weights


def _cl(x):
    return x.unsqueeze(2).contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize("grad", [False, True], ids=["onednn", "conv2d"])
@pytest.mark.parametrize("c_in,c_out,k,stride,padding", [(12, 20, 3, 1, 1), (16, 16, 4, 2, 1), (24, 8, 1, 1, 0)])
def test_packed_equals_conv1d(grad, c_in, c_out, k, stride, padding):
    torch.manual_seed(0)
    conv = nn.Conv1d(c_in, c_out, k, stride=stride, padding=padding)
    x = torch.randn(3, c_in, 33)
    with torch.set_grad_enabled(grad):
        out = PackedConv.of(conv)(_cl(x))
    assert out.shape == (3, c_out, 1, conv(x).shape[-1])
    assert out.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(out[:, :, 0], conv(x), rtol=1e-5, atol=1e-5)


def test_a_column_subset_without_bias_adds_up_to_the_whole_convolution():
    torch.manual_seed(0)
    conv = nn.Conv1d(10, 6, 3, padding=1)
    columns = torch.arange(10) < 4
    x = torch.randn(2, 10, 17)
    with torch.no_grad():
        parts = (PackedConv.of(conv, columns, bias=False)(_cl(x[:, columns]))
                 + PackedConv.of(conv, ~columns)(_cl(x[:, ~columns])))
        torch.testing.assert_close(parts[:, :, 0], conv(x), rtol=1e-5, atol=1e-5)


def test_one_oneDNN_weight_per_input_shape_and_only_the_last_few_kept():
    conv, pack = nn.Conv1d(8, 8, 3, padding=1), None
    pack = PackedConv.of(conv)
    with torch.no_grad():
        for T in range(10, 10 + PackedConv.SHAPES + 2):
            pack(_cl(torch.randn(1, 8, T)))
    assert len(pack._packed) == PackedConv.SHAPES
    assert (1, 8, 1, 10 + PackedConv.SHAPES + 1) in pack._packed


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="groups=2"):
        PackedConv.of(nn.Conv1d(4, 4, 3, groups=2))
    with pytest.raises(ValueError, match=r"\(B, C, 1, T\) input; got shape \(2, 4, 9\)"):
        PackedConv.of(nn.Conv1d(4, 4, 3))(torch.randn(2, 4, 9))


def test_cache_follows_the_weights():
    conv = nn.Conv1d(4, 4, 3)
    calls = []

    def build():
        calls.append(1)
        return PackedConv.of(conv)

    with torch.no_grad():
        first = cached(conv, "k", conv_weights(conv), build)
        assert cached(conv, "k", conv_weights(conv), build) is first and len(calls) == 1
        conv.weight.add_(1.0)                                    # an optimiser step is in-place
        assert cached(conv, "k", conv_weights(conv), build) is not first and len(calls) == 2
        conv.load_state_dict(nn.Conv1d(4, 4, 3).state_dict())
        cached(conv, "k", conv_weights(conv), build)
        assert len(calls) == 3
    cached(conv, "k", conv_weights(conv), build)                 # autograd on: never cached
    cached(conv, "k", conv_weights(conv), build)
    assert len(calls) == 5


def test_the_cache_stays_outside_the_module():
    # deepcopy (EMA copies) and state_dict must never meet oneDNN tensors.
    conv = nn.Conv1d(4, 4, 3, padding=1)
    with torch.no_grad():
        cached(conv, "k", conv_weights(conv), lambda: PackedConv.of(conv))(_cl(torch.randn(1, 4, 8)))
    assert conv in packed._CACHE
    twin = copy.deepcopy(conv)
    assert twin not in packed._CACHE and set(twin.state_dict()) == {"weight", "bias"}


def test_a_build_without_oneDNN_runs_the_plain_convolution(monkeypatch):
    monkeypatch.setattr(packed, "ONEDNN", False)
    torch.manual_seed(0)
    conv, x = nn.Conv1d(6, 5, 3, padding=1), torch.randn(2, 6, 11)
    pack = PackedConv.of(conv)
    with torch.no_grad():
        out = pack(_cl(x))
    assert not pack._packed
    torch.testing.assert_close(out[:, :, 0], conv(x), rtol=1e-5, atol=1e-5)
