"""The building blocks of :class:`~signlib.generate.unet.UNet1D`: the flow-time embedding, the
per-frame channel norm, the FiLM-modulated residual block and the bottleneck attention.

Each block has the one-pass ``forward`` that training runs on ``(B, C, T)`` activations. The
residual block also has :meth:`ResBlock.step`, the sampler's version on channels-last
``(B, C, 1, T)`` activations with packed convolutions (:mod:`signlib.generate.packed`); the norm and
the attention read either layout.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """``(B,)`` flow times in [0, 1] → ``(B, dim)`` sinusoids (times scaled by 1000, as in DDPM)."""
    half = dim // 2
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angle = 1000.0 * t.float()[:, None] * freq[None]
    return torch.cat([angle.sin(), angle.cos()], -1)


class ChannelNorm(nn.Module):
    """LayerNorm over channels of ``(B, C, T)`` or ``(B, C, 1, T)`` without affine (AdaLN supplies
    scale and shift). On channels-last input the moved view is already contiguous: no copy."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x.movedim(1, -1), x.shape[1:2]).movedim(-1, 1)


class ResBlock(nn.Module):
    """``(B, c_in, T) → (B, c_out, T)``: two kernel-3 convolutions, the first norm modulated by the
    block's slice of the FiLM output (scale and shift), the output gated per channel (zero at init,
    so every block starts as the identity). :attr:`film` maps the condition vector to that slice;
    :class:`~signlib.generate.unet.UNet1D` applies the FiLMs of all blocks as one matrix product per call."""

    def __init__(self, c_in: int, c_out: int, cond_dim: int, dropout: float = 0.0):
        super().__init__()
        self.norm1, self.norm2 = ChannelNorm(), ChannelNorm()
        self.conv1 = nn.Conv1d(c_in, c_out, 3, padding=1)
        self.conv2 = nn.Conv1d(c_out, c_out, 3, padding=1)
        self.film = nn.Linear(cond_dim, 2 * c_in + c_out)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        self.skip = nn.Conv1d(c_in, c_out, 1) if c_in != c_out else nn.Identity()
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, film: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``film (B, 2·c_in + c_out)``: this block's ``self.film(cond)``; ``mask (B, 1, T)``."""
        c_in = x.shape[1]
        scale, shift, gate = film[..., None].split([c_in, c_in, self.conv2.out_channels], 1)
        h = self.norm1(x) * (1 + scale) + shift
        h = self.conv1(F.silu(h) * mask)
        h = self.conv2(self.drop(F.silu(self.norm2(h))) * mask)
        return (self.skip(x) + (1 + gate) * h) * mask

    def step(self, x: torch.Tensor, film: torch.Tensor, mask: torch.Tensor, convs: dict) -> torch.Tensor:
        """:meth:`forward` on the sampler's path (:meth:`UNet1D.run`): ``x (B, c_in, 1, T)`` and
        ``mask (B, 1, 1, T)`` channels-last, ``film`` with 1 already added to the scale and the gate
        (:meth:`UNet1D.prepare`), ``convs`` the packed convolutions. Multiply-adds are fused, which
        changes the rounding, not the function."""
        c_in = x.shape[1]
        scale, shift, gate = film[..., None, None].split([c_in, c_in, self.conv2.out_channels], 1)
        h = convs[self.conv1](F.silu(torch.addcmul(shift, self.norm1(x), scale)) * mask)
        h = convs[self.conv2](self.drop(F.silu(self.norm2(h))) * mask)
        skip = x if isinstance(self.skip, nn.Identity) else convs[self.skip](x)
        return torch.addcmul(skip, gate, h) * mask


def attention_bias(keep: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``keep (B, L)`` bool → ``(B, 1, 1, L)`` additive bias: 0 where kept, −inf elsewhere."""
    return torch.zeros(keep.shape[0], 1, 1, keep.shape[1], dtype=dtype, device=keep.device).masked_fill(
        ~keep[:, None, None], -math.inf)


class AttentionBlock(nn.Module):
    """Pre-norm self-attention over time, then cross-attention to text tokens; ``(B, C, T)`` in and out."""

    def __init__(self, channels: int, text_dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm_self, self.norm_cross = nn.LayerNorm(channels), nn.LayerNorm(channels)
        self.qkv = nn.Linear(channels, 3 * channels)
        self.q = nn.Linear(channels, channels)
        self.kv = nn.Linear(text_dim, 2 * channels)
        self.out_self, self.out_cross = nn.Linear(channels, channels), nn.Linear(channels, channels)
        for out in (self.out_self, self.out_cross):  # residual branches start closed
            nn.init.zeros_(out.weight)
            nn.init.zeros_(out.bias)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        B, L, C = x.shape
        return x.view(B, L, self.heads, C // self.heads).transpose(1, 2)

    def text_keys(self, text: torch.Tensor, text_mask: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """``text (B, L, text_dim)``, ``text_mask (B, L)`` → cross-attention keys and values
        ``(B, heads, L, C/heads)`` and their bias ``(B, 1, 1, L)``: fixed for a whole sampling run."""
        k, v = (self._heads(z) for z in self.kv(text).chunk(2, -1))
        return k, v, attention_bias(text_mask, k.dtype)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, bias: torch.Tensor,
                text_keys: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """``x (B, C, T)`` or channels-last ``(B, C, 1, T)``, ``mask`` of the same rank, ``bias``
        its :func:`attention_bias`, ``text_keys`` from :meth:`text_keys`."""
        h = x.flatten(2).transpose(1, 2)                                   # (B, T, C)
        B, T, C = h.shape
        q, k, v = (self._heads(z) for z in self.qkv(self.norm_self(h)).chunk(3, -1))
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        h = h + self.out_self(a.transpose(1, 2).reshape(B, T, C))
        k, v, tbias = text_keys
        a = F.scaled_dot_product_attention(self._heads(self.q(self.norm_cross(h))), k, v, attn_mask=tbias)
        h = h + self.out_cross(a.transpose(1, 2).reshape(B, T, C))
        return h.transpose(1, 2).reshape(x.shape) * mask
