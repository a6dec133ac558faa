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
from dataclasses import dataclass

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
    """``(B, c_in, T) → (B, c_out, T)``: two kernel-3 convolutions, the first norm modulated by the
    block's slice of the FiLM output (scale and shift), the output gated per channel (zero at init,
    so every block starts as the identity). :attr:`film` maps the condition vector to that slice;
    :class:`UNet1D` applies the FiLMs of all blocks as one matrix product per call."""

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


def _attention_bias(keep: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
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
        return k, v, _attention_bias(text_mask, k.dtype)

    def forward(self, x: torch.Tensor, mask: torch.Tensor, bias: torch.Tensor,
                text_keys: tuple[torch.Tensor, ...]) -> torch.Tensor:
        """``x (B, C, T)``, ``mask (B, 1, T)``, ``bias`` its :func:`_attention_bias`, ``text_keys``
        from :meth:`text_keys`."""
        h = x.transpose(1, 2)                                              # (B, T, C)
        B, T, C = h.shape
        q, k, v = (self._heads(z) for z in self.qkv(self.norm_self(h)).chunk(3, -1))
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        h = h + self.out_self(a.transpose(1, 2).reshape(B, T, C))
        k, v, tbias = text_keys
        a = F.scaled_dot_product_attention(self._heads(self.q(self.norm_cross(h))), k, v, attn_mask=tbias)
        h = h + self.out_cross(a.transpose(1, 2).reshape(B, T, C))
        return h.transpose(1, 2) * mask


@dataclass(frozen=True)
class UNetContext:
    """What stays fixed while a sampler integrates one batch (:meth:`UNet1D.prepare`), so each
    step pays only for what changes (the control and the condition vector).

    ``length (B, T')`` the length mask padded to the stride; ``masks`` ``(B, 1, ·)`` per level;
    ``control_weight (ch0, P·D, 3)`` the input kernel's columns that read the control and
    ``fixed (B, ch0, T'/P)`` the input convolution of every other channel (keyframe mask, length
    mask, extra track) with its bias; ``bias (B, 1, 1, ·)`` the bottleneck's self-attention mask;
    ``text_keys`` the cross-attention keys, values and mask; ``film_weight (Σ, cond_dim)`` every
    block's FiLM stacked and ``film_fixed (B or 1, Σ)`` their output for the fixed part of the
    condition vector, biases included (the FiLMs are linear, so the part that changes per call
    adds ``film_weight`` times itself)."""

    length: torch.Tensor
    masks: tuple[torch.Tensor, ...]
    control_weight: torch.Tensor
    fixed: torch.Tensor
    bias: torch.Tensor
    text_keys: tuple[torch.Tensor, ...]
    film_weight: torch.Tensor
    film_fixed: torch.Tensor


class UNet1D(nn.Module):
    """``forward(control (B, T, D), key_mask (B, T), length_mask (B, T), cond (B, cond_dim),
    text (B, L, text_dim), text_mask (B, L), extra (B, T, E) or None) -> (B, T, D)``.

    ``T`` may be any length: the network pads to a multiple of :attr:`UNetConfig.stride` and crops
    back. Padded frames of the output are zero. ``forward`` is the one-pass network that training
    runs; samplers call :meth:`prepare` once per batch and :meth:`run` once per step, which equals
    ``forward`` to float round-off.
    """

    def __init__(self, dim: int, text_dim: int, config: UNetConfig = UNetConfig(), extra: int = 0):
        super().__init__()
        self.config, self.dim, self.extra = config, dim, extra
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
        # Input channels per frame are [control (D), extra (E), key mask, length mask], repeated for
        # the P frames of a position; the control's columns of the input kernel are these.
        width = dim + extra + 2
        control = torch.zeros(width * config.patch, dtype=torch.bool)
        for p in range(config.patch):
            control[p * width:p * width + dim] = True
        self.register_buffer("_control_columns", control, persistent=False)

    def _blocks(self) -> list[ResBlock]:
        """Every residual block in the order :meth:`run` calls them."""
        return [*(b for level in self.down for b in level), self.mid1, self.mid2, *(b for level in self.up for b in level)]

    def _fold(self, x: torch.Tensor, pad: int) -> torch.Tensor:
        """``(B, T, C)`` → ``(B, P·C, T'/P)``: pad to the stride and fold P frames into one position."""
        B, T, C = x.shape
        x = F.pad(x, (0, 0, 0, pad))
        return x.reshape(B, (T + pad) // self.config.patch, self.config.patch * C).transpose(1, 2)

    def _check_extra(self, extra) -> None:
        if (extra is None) != (self.extra == 0):
            raise ValueError(f"UNet1D was built for {self.extra} extra channels; got "
                             f"{'none' if extra is None else extra.shape[-1]}")

    def _masks(self, length_mask: torch.Tensor, pad: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """The length mask padded to the stride ``(B, T')`` and the frame mask of every level ``(B, 1, ·)``."""
        B = length_mask.shape[0]
        lm = F.pad(length_mask.to(self.inp.weight.dtype), (0, pad))
        masks = [lm.view(B, 1, -1, self.config.patch).amax(-1)]                              # (B, 1, T'/P)
        for _ in self.downsample:
            masks.append(F.max_pool1d(masks[-1], 2))  # a coarse frame is real if either half is
        return lm, masks

    def prepare(self, key_mask, length_mask, text, text_mask, extra=None, cond=None) -> UNetContext:
        """The per-batch constants of :class:`UNetContext` for ``key_mask``, ``length_mask``
        ``(B, T)``, ``text (B, L, text_dim)``, ``text_mask (B, L)``, ``extra (B, T, E)`` and
        ``cond (B, cond_dim)``, the part of the condition vector that is fixed for the batch (the
        pooled text; None: all of it changes per call)."""
        self._check_extra(extra)
        dtype = self.inp.weight.dtype
        pad = (-length_mask.shape[1]) % self.config.stride
        real = length_mask[..., None].to(dtype)
        # Whatever the caller left in padded frames (noise, stray keyframe flags) is zeroed here.
        rest = [key_mask[..., None].to(dtype) * real, real] if extra is None else [extra * real, key_mask[..., None].to(dtype) * real, real]
        weight = self.inp.weight[:, ~self._control_columns]
        fixed = F.conv1d(self._fold(torch.cat(rest, -1), pad), weight, self.inp.bias, padding=1)
        lm, masks = self._masks(length_mask, pad)
        blocks = self._blocks()
        film_weight, film_bias = torch.cat([b.film.weight for b in blocks]), torch.cat([b.film.bias for b in blocks])
        film_fixed = film_bias[None] if cond is None else F.linear(cond, film_weight, film_bias)
        return UNetContext(lm, tuple(masks), self.inp.weight[:, self._control_columns], fixed * masks[0],
                           _attention_bias(masks[-1][:, 0].bool(), dtype), self.attn.text_keys(text, text_mask),
                           film_weight, film_fixed)

    def run(self, control: torch.Tensor, cond: torch.Tensor, ctx: UNetContext) -> torch.Tensor:
        """``control (B, T, D)`` and ``cond (B or 1, cond_dim)``, the part of the condition vector
        not fixed by :meth:`prepare` (one row when all rows share it, e.g. the flow time of a
        sampler step) → ``(B, T, D)``."""
        T = control.shape[1]
        real = ctx.length[:, :T, None]
        h = F.conv1d(self._fold(control * real, ctx.length.shape[1] - T), ctx.control_weight, padding=1)
        films = (F.linear(cond, ctx.film_weight) + ctx.film_fixed).split([b.film.out_features for b in self._blocks()], 1)
        return self._levels(h * ctx.masks[0] + ctx.fixed, films, ctx.length, ctx.masks, ctx.bias, ctx.text_keys, T)

    def forward(self, control, key_mask, length_mask, cond, text, text_mask, extra=None):
        """One pass, as training runs it: the input convolution over every channel at once and each
        block's FiLM of the whole ``cond``. Equals :meth:`run` on :meth:`prepare` to float
        round-off (tested); kept as its own path so the sampler's split sums never change training."""
        self._check_extra(extra)
        B, T, D = control.shape
        pad = (-T) % self.config.stride
        lm, masks = self._masks(length_mask, pad)
        real = length_mask[..., None].to(control.dtype)
        inputs = control if extra is None else torch.cat([control, extra], -1)
        # Whatever the caller left in padded frames (noise, stray keyframe flags) is zeroed here.
        x = self._fold(torch.cat([inputs * real, key_mask[..., None].to(control.dtype) * real, real], -1), pad)
        films = [block.film(cond) for block in self._blocks()]
        return self._levels(self.inp(x) * masks[0], films, lm, masks, _attention_bias(masks[-1][:, 0].bool(), x.dtype),
                            self.attn.text_keys(text, text_mask), T)

    def _levels(self, h, films, length, masks, bias, text_keys, T: int) -> torch.Tensor:
        """Everything after the input convolution: ``h (B, ch0, T'/P)``, one FiLM output per block
        (:meth:`_blocks` order), the masks of :meth:`_masks` → ``(B, T, D)``."""
        films, masks, skips = iter(films), list(masks), []
        level = [masks.pop(0)]
        for k, level_blocks in enumerate(self.down):
            for block in level_blocks:
                h = block(h, next(films), level[-1])
                skips.append(h)
            if k < len(self.downsample):
                level.append(masks.pop(0))
                h = self.downsample[k](h) * level[-1]
        h = self.mid1(h, next(films), level[-1])
        h = self.attn(h, level[-1], bias, text_keys)
        h = self.mid2(h, next(films), level[-1])
        for k, level_blocks in enumerate(self.up):
            for block in level_blocks:
                h = block(torch.cat([h, skips.pop()], 1), next(films), level[-1])
            if k < len(self.upsample):
                level.pop()
                h = self.upsample[k](F.interpolate(h, scale_factor=2, mode="nearest")) * level[-1]
        h = self.out(F.silu(self.out_norm(h)) * level[-1])                                # (B, P·D, T'/P)
        h = h.transpose(1, 2).reshape(h.shape[0], -1, self.dim) * length[..., None]
        return h[:, :T]
