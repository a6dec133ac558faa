"""The decoupled tokenizer: SOKE's codebook sizes per part, 4× fewer tokens than frames, lengths
that are not multiples of 4, encode/decode agreeing with the forward pass, and learning to
reconstruct a few clips."""

import pytest
import torch

from signlib.baselines.tokenizer import DecoupledTokenizer
from signlib.errors import SignlibError

from ..generate.conftest import smooth_clip


def _batch(T=37, B=3):
    return torch.stack([torch.from_numpy(smooth_clip(T, 240, seed=k)) for k in range(B)])


def test_three_parts_with_soke_codebooks_and_a_token_per_four_frames():
    torch.manual_seed(0)
    tok = DecoupledTokenizer("rot6d", width=32, code_dim=16)
    assert {p: m.quantizer.size for p, m in tok.parts.items()} == {"body": 96, "left_hand": 192, "right_hand": 192}
    x = _batch(T=37)
    out = tok.eval()(x)
    assert out.reconstruction.shape == x.shape  # padded to 40 inside, cropped back to 37
    assert {p: tuple(t.shape) for p, t in out.tokens.items()} == {p: (3, 10) for p in tok.parts}
    codes = tok.encode(x)
    assert all(torch.equal(codes[p], out.tokens[p]) for p in tok.parts)
    torch.testing.assert_close(tok.decode(codes)[:, :37], out.reconstruction)


def test_a_short_training_run_learns_to_reconstruct():
    torch.manual_seed(1)
    tok = DecoupledTokenizer("rot6d", width=48, code_dim=16).train()
    x = _batch(T=32, B=4)
    opt = torch.optim.Adam(tok.parameters(), lr=2e-3)
    first = None
    for step in range(150):
        out = tok(x)
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        first = out.recon_loss.item() if first is None else first
    assert out.recon_loss.item() < 0.3 * first, (first, out.recon_loss.item())


def test_the_mask_leaves_padding_out_of_the_loss():
    torch.manual_seed(2)
    tok = DecoupledTokenizer("rot6d", width=32, code_dim=16).eval()
    x = _batch(T=16, B=2)
    mask = torch.ones(2, 16, dtype=torch.bool)
    mask[1, 8:] = False
    noisy = x.clone()
    noisy[1, 8:] += 100.0  # garbage where the mask is off changes the reconstruction there...
    a, b = tok(x, mask), tok(noisy, mask)
    assert torch.isfinite(a.loss) and abs(a.recon_loss - b.recon_loss) < 0.5 * a.recon_loss  # ...not the loss


@pytest.mark.parametrize("call, message", [
    (lambda t: t(torch.zeros(2, 8, 100)), "features must be \\(B, T, 240\\)"),
    (lambda t: t.decode({"body": torch.zeros(1, 2, dtype=torch.long)}), "tokens must name exactly"),
    (lambda t: DecoupledTokenizer(sizes={"body": 8}), "codebook sizes must name exactly"),
])
def test_bad_input_is_named(call, message):
    with pytest.raises(SignlibError, match=message):
        call(DecoupledTokenizer("rot6d", width=16, code_dim=8))
