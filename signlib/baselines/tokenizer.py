"""The SOKE-style decoupled motion tokenizer: one VQ-VAE per body part (body, left hand, right hand).

Each part's features ``(B, T, D_part)`` (the layout's slices) go through a 1-D convolutional
encoder that halves the frame rate twice (4× temporal downsampling), an :class:`~signlib.baselines.vq.EMAQuantizer`
(96 codes for the body, 192 per hand, as SOKE), and a mirror decoder that upsamples back. The loss
is smooth-L1 reconstruction over the valid frames plus each quantiser's commitment term; the
codebooks follow their EMA updates. A sequence whose length is not a multiple of 4 is padded by
repeating its last frame and cropped back after decoding.

Shapes: features ``(B, T, D)``; tokens ``{part: (B, ceil(T / 4))}`` int64; reconstructions ``(B, T, D)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from signlib.baselines.vq import EMAQuantizer
from signlib.errors import SignlibError
from signlib.pose.layout import PARTS, get_layout

#: SOKE's codebook sizes per part.
CODEBOOK_SIZES = {"body": 96, "left_hand": 192, "right_hand": 192}
DOWNSAMPLE = 4


class _Residual(nn.Module):
    def __init__(self, width: int):
        super().__init__()
        self.conv = nn.Sequential(nn.ReLU(), nn.Conv1d(width, width, 3, padding=1), nn.ReLU(),
                                  nn.Conv1d(width, width, 1))

    def forward(self, x):
        return x + self.conv(x)


class PartVQVAE(nn.Module):
    """Encoder (``(B, T, D) → (B, T/4, C)``), quantiser and decoder of one body part."""

    def __init__(self, dim: int, codes: int, width: int = 128, code_dim: int = 64):
        super().__init__()
        down = [nn.Conv1d(dim, width, 3, padding=1)]
        for _ in range(2):  # two stride-2 stages: 4× fewer positions
            down += [nn.Conv1d(width, width, 4, stride=2, padding=1), _Residual(width)]
        self.encoder = nn.Sequential(*down, nn.Conv1d(width, code_dim, 1))
        self.quantizer = EMAQuantizer(codes, code_dim)
        up = [nn.Conv1d(code_dim, width, 3, padding=1)]
        for _ in range(2):
            up += [_Residual(width), nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv1d(width, width, 3, padding=1)]
        self.decoder = nn.Sequential(*up, nn.ReLU(), nn.Conv1d(width, dim, 3, padding=1))

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.transpose(1, 2)).transpose(1, 2)

    def decode_codes(self, q: torch.Tensor) -> torch.Tensor:
        return self.decoder(q.transpose(1, 2)).transpose(1, 2)


@dataclass(frozen=True)
class TokenizerOutput:
    """``reconstruction`` ``(B, T, D)``, ``tokens`` ``{part: (B, T')}``, ``loss`` (scalar),
    ``recon_loss`` and ``commitment`` (scalars), ``perplexity`` ``{part: scalar}``."""

    reconstruction: torch.Tensor
    tokens: dict[str, torch.Tensor]
    loss: torch.Tensor
    recon_loss: torch.Tensor
    commitment: torch.Tensor
    perplexity: dict[str, torch.Tensor]


class DecoupledTokenizer(nn.Module):
    """Three :class:`PartVQVAE` over the ``layout``'s body, left-hand and right-hand features."""

    def __init__(self, layout: str = "rot6d", sizes: dict[str, int] | None = None, width: int = 128,
                 code_dim: int = 64):
        super().__init__()
        self.layout = get_layout(layout)
        self.sizes = dict(CODEBOOK_SIZES if sizes is None else sizes)
        if set(self.sizes) != set(PARTS):
            raise SignlibError(f"codebook sizes must name exactly {PARTS}, got {sorted(self.sizes)}")
        self.slices = {p: self.layout.feature_slice(p) for p in PARTS}
        self.parts = nn.ModuleDict({p: PartVQVAE(s.stop - s.start, self.sizes[p], width, code_dim)
                                    for p, s in self.slices.items()})

    def _pad(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3 or x.shape[-1] != self.layout.dim:
            raise SignlibError(f"features must be (B, T, {self.layout.dim}) for layout {self.layout.name!r}, "
                               f"got {tuple(x.shape)}")
        extra = -x.shape[1] % DOWNSAMPLE
        return torch.cat([x, x[:, -1:].expand(-1, extra, -1)], 1) if extra else x

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> TokenizerOutput:
        """Encode, quantise and decode ``x`` ``(B, T, D)``; ``mask`` ``(B, T)`` marks valid frames."""
        T = x.shape[1] if x.ndim == 3 else 0
        padded = self._pad(x)
        recon, tokens, commit, perplexity = [], {}, x.new_zeros(()), {}
        for part, net in self.parts.items():
            q = net.quantizer(net.encode(padded[..., self.slices[part]]))
            recon.append(net.decode_codes(q.codes)[:, :T])
            tokens[part], perplexity[part] = q.indices, q.perplexity
            commit = commit + q.commitment
        out = torch.cat(recon, -1)
        err = F.smooth_l1_loss(out, x, reduction="none").mean(-1)
        valid = torch.ones_like(err) if mask is None else mask.to(err.dtype)
        recon_loss = (err * valid).sum() / valid.sum().clamp(min=1)
        return TokenizerOutput(out, tokens, recon_loss + commit, recon_loss, commit, perplexity)

    @torch.no_grad()
    def encode(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """``(B, T, D)`` → ``{part: (B, ceil(T / 4))}`` token indices."""
        padded = self._pad(x)
        return {p: net.quantizer.nearest(net.encode(padded[..., self.slices[p]]).reshape(-1, net.quantizer.dim))
                .view(len(x), -1) for p, net in self.parts.items()}

    @torch.no_grad()
    def decode(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        """``{part: (B, T')}`` → ``(B, 4 T', D)`` features."""
        if set(tokens) != set(self.parts):
            raise SignlibError(f"tokens must name exactly {tuple(self.parts)}, got {sorted(tokens)}")
        lengths = {tuple(t.shape) for t in tokens.values()}
        if len(lengths) != 1:
            raise SignlibError(f"every part needs the same (B, T') tokens, got {sorted(lengths)}")
        return torch.cat([net.decode_codes(net.quantizer.lookup(tokens[p])) for p, net in self.parts.items()], -1)
