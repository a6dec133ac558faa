"""Decoder blocks: shapes, causality, invariance to padded memory positions, and incremental decoding."""

import pytest
import torch

from signlib.layers import DecoderBlock, DecoderStack, TransformerStack, select_cache


def _stack(dropout=0.0):
    torch.manual_seed(0)
    return DecoderStack(d_model=16, heads=4, ff=32, layers=2, dropout=dropout).eval()


def test_shapes_and_divisibility():
    dec = _stack()
    out = dec(torch.randn(3, 5, 16), torch.randn(3, 7, 16), torch.ones(3, 7, dtype=torch.bool))
    assert out.shape == (3, 5, 16)
    assert dec(torch.randn(2, 1, 16), torch.randn(2, 4, 16)).shape == (2, 1, 16)  # no mask
    with pytest.raises(ValueError, match="divisible"):
        DecoderBlock(d_model=10, heads=4, ff=8)


def test_causal_later_tokens_do_not_change_earlier_outputs():
    dec = _stack()
    x, memory = torch.randn(2, 6, 16), torch.randn(2, 4, 16)
    changed = x.clone()
    changed[:, 3:] = torch.randn(2, 3, 16)
    a, b = dec(x, memory), dec(changed, memory)
    torch.testing.assert_close(a[:, :3], b[:, :3])
    assert not torch.allclose(a[:, 3:], b[:, 3:])
    # A prefix alone gives the same outputs as inside the longer sequence (greedy decoding relies on it).
    torch.testing.assert_close(dec(x[:, :3], memory), a[:, :3])


def test_padded_memory_positions_do_not_matter():
    dec = _stack()
    x = torch.randn(2, 5, 16)
    memory = torch.randn(2, 6, 16)
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    out = dec(x, memory, mask)
    noisy = memory.clone()
    noisy[1, 3:] = 100 * torch.randn(3, 16)
    torch.testing.assert_close(dec(x, noisy, mask), out)
    # Row 1 equals the same row decoded against its unpadded memory.
    torch.testing.assert_close(dec(x[1:], memory[1:, :3]), out[1:], atol=1e-5, rtol=1e-5)
    # And the memory really is read: changing a real position changes the output.
    noisy[1, 0] += 1.0
    assert not torch.allclose(dec(x, noisy, mask)[1], out[1])


def test_fully_padded_memory_is_finite_and_gradients_flow():
    dec = _stack(dropout=0.1).train()
    x = torch.randn(2, 4, 16, requires_grad=True)
    memory = torch.randn(2, 3, 16, requires_grad=True)
    mask = torch.tensor([[True, True, False], [False, False, False]])
    out = dec(x, memory, mask)
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert torch.isfinite(x.grad).all() and torch.isfinite(memory.grad).all()


def test_encoder_decoder_compose():
    torch.manual_seed(0)
    enc = TransformerStack(16, 4, 32, 1)
    dec = DecoderStack(16, 4, 32, 1)
    src, mask = torch.randn(2, 7, 16), torch.tensor([[True] * 7, [True] * 4 + [False] * 3])
    assert dec(torch.randn(2, 3, 16), enc(src, mask), mask).shape == (2, 3, 16)


@pytest.mark.parametrize("chunks", [[1] * 6, [2, 1, 3], [6]])
def test_cached_steps_equal_the_full_pass(chunks):
    dec = _stack()
    x, memory = torch.randn(3, 6, 16), torch.randn(3, 5, 16)
    mask = torch.tensor([[True] * 5, [True] * 2 + [False] * 3, [True] * 4 + [False]])
    full = dec(x, memory, mask)
    with torch.no_grad():
        cache, outs, t = dec.start_cache(memory, mask, length=6), [], 0
        for n in chunks:  # one position at a time, or several at once (causal inside the chunk)
            outs.append(dec.step(x[:, t:t + n], cache))
            t += n
    torch.testing.assert_close(torch.cat(outs, 1), full)
    with pytest.raises(ValueError, match="overflow"):
        dec.step(x[:, :1], cache)


def test_selected_cache_rows_decode_like_the_rows_alone():
    dec = _stack()
    x, memory = torch.randn(3, 4, 16), torch.randn(3, 5, 16)
    mask = torch.tensor([[True] * 5, [True] * 2 + [False] * 3, [True] * 4 + [False]])
    with torch.no_grad():
        cache = dec.start_cache(memory, mask, length=4)
        dec.step(x[:, :2], cache)
        kept = select_cache(cache, torch.tensor([True, False, True]))
        out = dec.step(x[[0, 2], 2:], kept)
    torch.testing.assert_close(out, dec(x, memory, mask)[[0, 2], 2:])
