"""A 1D temporal UNet for pose sequences, conditioned on flow time and text (SignSparK §3.2).

Input channels per frame: the control signal ``C`` (``D`` features: the noisy sequence with the
keyframes written in), the keyframe mask and the length mask. ``patch`` consecutive frames are
folded into one position first (and unfolded by the output layer): signing at 25 fps is smooth
enough that two frames share one feature vector, and it halves the cost, which on two CPU cores
decides how many training steps fit in the pipeline. Then three levels (1/2, 1/4 and 1/8 of the
frame rate with ``patch = 2``) of residual blocks whose normalisations are modulated by the condition vector
(flow time + pooled text, "AdaLN"); a bottleneck at 1/4 rate with self-attention over time and
cross-attention to the text tokens.

Every normalisation is a LayerNorm over channels *per frame*, and activations are re-masked after
every block, so padded frames never influence real ones: a sequence generated alone equals the same
sequence generated in a padded batch (GroupNorm over time would mix the padding into the statistics).
Body and hand channels share the network; the loss weights the three parts equally
(:mod:`signlib.generate.flow`), so the 180 hand channels do not drown the 60 body channels.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from signlib.generate.configs import UNetConfig


def time_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """``(B,)`` flow times in [0, 1] → ``(B, dim)`` sinusoids (times scaled by 1000, as in DDPM)."""
    half = dim // 2
    freq = torch.exp(-math.log(10000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angle = 1000.0 * t.float()[:, None] * freq[None]
    return torch.cat([angle.sin(), angle.cos()], -1)


class ChannelNorm(nn.Module):
    """LayerNorm over channels of ``(B, C, T)`` without affine (AdaLN supplies scale and shift)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x.transpose(1, 2), x.shape[1:2]).transpose(1, 2)


class ResBlock(nn.Module):
    """``(B, c_in, T) → (B, c_out, T)``: two kernel-3 convolutions, the first norm modulated by
    ``cond (B, cond_dim)`` (scale and shift), the output gated per channel (zero at init, so every
    block starts as the identity)."""

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

    def forward(self, x: torch.Tensor, cond: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        c_in = x.shape[1]
        scale, shift, gate = self.film(cond)[..., None].split([c_in, c_in, self.conv2.out_channels], 1)
        h = self.norm1(x) * (1 + scale) + shift
        h = self.conv1(F.silu(h) * mask)
        h = self.conv2(self.drop(F.silu(self.norm2(h))) * mask)
        return (self.skip(x) + (1 + gate) * h) * mask


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

    def forward(self, x: torch.Tensor, mask: torch.Tensor, text: torch.Tensor, text_mask: torch.Tensor) -> torch.Tensor:
        h = x.transpose(1, 2)                                              # (B, T, C)
        B, T, C = h.shape
        q, k, v = (self._heads(z) for z in self.qkv(self.norm_self(h)).chunk(3, -1))
        keep = mask[:, 0].bool()                                           # (B, T)
        bias = torch.zeros(B, 1, 1, T, dtype=h.dtype, device=h.device).masked_fill(~keep[:, None, None], -math.inf)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        h = h + self.out_self(a.transpose(1, 2).reshape(B, T, C))
        q = self._heads(self.q(self.norm_cross(h)))
        k, v = (self._heads(z) for z in self.kv(text).chunk(2, -1))
        tbias = torch.zeros(B, 1, 1, text.shape[1], dtype=h.dtype, device=h.device).masked_fill(
            ~text_mask[:, None, None], -math.inf)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=tbias)
        h = h + self.out_cross(a.transpose(1, 2).reshape(B, T, C))
        return h.transpose(1, 2) * mask


class UNet1D(nn.Module):
    """``forward(control (B, T, D), key_mask (B, T), length_mask (B, T), cond (B, cond_dim),
    text (B, L, text_dim), text_mask (B, L), extra (B, T, E) or None) -> (B, T, D)``.

    ``T`` may be any length: the network pads to a multiple of :attr:`UNetConfig.stride` and crops
    back. Padded frames of the output are zero.
    """

    def __init__(self, dim: int, text_dim: int, config: UNetConfig = UNetConfig(), extra: int = 0):
        super().__init__()
        self.config = config
        ch, cd = config.channels, config.cond_dim
        self.inp = nn.Conv1d((dim + extra + 2) * config.patch, ch[0], 3, padding=1)
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        for k, c in enumerate(ch):
            c_prev = ch[max(k - 1, 0)]
            self.down.append(nn.ModuleList(ResBlock(c_prev if b == 0 else c, c, cd, config.dropout)
                                           for b in range(config.blocks)))
            if k < len(ch) - 1:
                self.downsample.append(nn.Conv1d(c, c, 4, stride=2, padding=1))
        self.mid1 = ResBlock(ch[-1], ch[-1], cd, config.dropout)
        self.attn = AttentionBlock(ch[-1], text_dim, config.heads)
        self.mid2 = ResBlock(ch[-1], ch[-1], cd, config.dropout)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for k in reversed(range(len(ch))):
            # Each block takes the running features and one skip connection, both ch[k] wide.
            self.up.append(nn.ModuleList(ResBlock(2 * ch[k], ch[k], cd, config.dropout) for _ in range(config.blocks)))
            if k > 0:
                self.upsample.append(nn.Conv1d(ch[k], ch[k - 1], 3, padding=1))
        self.out_norm = ChannelNorm()
        self.out = nn.Conv1d(ch[0], dim * config.patch, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, control, key_mask, length_mask, cond, text, text_mask, extra=None):
        if extra is not None:  # more per-frame input channels (B, T, E), e.g. a dense keyframe track
            control_in = torch.cat([control, extra], -1)
        B, T, D = control.shape
        P = self.config.patch
        pad = (-T) % self.config.stride
        lm = F.pad(length_mask.to(control.dtype), (0, pad))                               # (B, T')
        real = length_mask[..., None].to(control.dtype)
        # Whatever the caller left in padded frames (noise, stray keyframe flags) is zeroed here.
        inputs = control if extra is None else control_in
        x = F.pad(torch.cat([inputs * real, key_mask[..., None].to(control.dtype) * real, real], -1),
                  (0, 0, 0, pad))                                                         # (B, T', C_in)
        Tp = (T + pad) // P
        x = x.reshape(B, Tp, P * x.shape[-1]).transpose(1, 2)                             # (B, P·C_in, T'/P)
        m = lm.view(B, 1, Tp, P).amax(-1)                                                 # (B, 1, T'/P)
        h = self.inp(x) * m
        masks, skips = [m], []
        for k, blocks in enumerate(self.down):
            for block in blocks:
                h = block(h, cond, masks[-1])
                skips.append(h)
            if k < len(self.downsample):
                masks.append(F.max_pool1d(masks[-1], 2))  # a coarse frame is real if either half is
                h = self.downsample[k](h) * masks[-1]
        h = self.mid1(h, cond, masks[-1])
        h = self.attn(h, masks[-1], text, text_mask)
        h = self.mid2(h, cond, masks[-1])
        for k, blocks in enumerate(self.up):
            for block in blocks:
                h = block(torch.cat([h, skips.pop()], 1), cond, masks[-1])
            if k < len(self.upsample):
                masks.pop()
                h = self.upsample[k](F.interpolate(h, scale_factor=2, mode="nearest")) * masks[-1]
        h = self.out(F.silu(self.out_norm(h)) * masks[-1])                               # (B, P·D, T'/P)
        h = h.transpose(1, 2).reshape(B, Tp * P, D) * lm[..., None]
        return h[:, :T]
