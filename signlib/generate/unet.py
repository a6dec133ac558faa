"""A 1D temporal UNet for pose sequences, conditioned on flow time and text (SignSparK §3.2).

Input channels per frame: the control signal ``C`` (``D`` features: the noisy sequence with the
keyframes written in), the keyframe mask and the length mask. ``patch`` consecutive frames are
folded into one position first (and unfolded by the output layer): signing at 25 fps is smooth
enough that two frames share one feature vector, and it halves the cost, which on two CPU cores
decides how many training steps fit in the pipeline. Then three levels (1/2, 1/4 and 1/8 of the
frame rate with ``patch = 2``) of residual blocks whose normalisations are modulated by the condition vector
(flow time + pooled text, "AdaLN"); a bottleneck at the coarsest level with self-attention over
time and cross-attention to the text tokens. The blocks are in :mod:`signlib.generate.blocks`.

Every normalisation is a LayerNorm over channels *per frame*, and activations are re-masked after
every block, so padded frames never influence real ones: a sequence generated alone equals the same
sequence generated in a padded batch, to float round-off (GroupNorm over time would mix the padding
into the statistics).

Training runs :meth:`UNet1D.forward`. Samplers run the same function another way
(:meth:`UNet1D.prepare` once per batch, :meth:`UNet1D.run` per step): what is fixed over the steps
is computed once, activations stay channels-last and the convolutions are packed for oneDNN
(:mod:`signlib.generate.packed`). On two CPU cores that took the guided 10-step generation of a
10 s sentence from about 0.2 s to under 0.1 s (``benchmarks/generate.py``).
Body and hand channels share the network; the loss weights the three parts equally
(:mod:`signlib.generate.flow`), so the 180 hand channels do not drown the 60 body channels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

import torch
import torch.nn.functional as F
from torch import nn

from signlib.generate.blocks import (
    AttentionBlock,
    ChannelNorm,
    ResBlock,
    attention_bias,
)
from signlib.generate.configs import UNetConfig
from signlib.generate.packed import PackedConv, cached, conv_weights


def _conv(convs: dict | None, conv: nn.Conv1d, x: torch.Tensor) -> torch.Tensor:
    """``conv(x)`` on ``(B, C, T)``, or, on the sampler's channels-last ``(B, C, 1, T)`` path, the
    conv's :class:`~signlib.generate.packed.PackedConv` in ``convs``."""
    return conv(x) if convs is None else convs[conv](x)


@dataclass(frozen=True)
class UNetContext:
    """What stays fixed while a sampler integrates one batch (:meth:`UNet1D.prepare`), so each
    step pays only for what changes (the control and the condition vector).

    Activations on this path are channels-last ``(B, C, 1, T)`` and convolutions are packed
    (:mod:`signlib.generate.packed`). ``length (B, T')`` the length mask padded to the stride;
    ``masks`` ``(B, 1, 1, ·)`` per level; ``control`` the input convolution restricted to the
    kernel's columns that read the control (no bias) and ``fixed (B, ch0, 1, T'/P)`` the input
    convolution of every other channel (keyframe mask, length mask, extra track) with its bias;
    ``convs`` every other convolution's pack, by module; ``bias (B, 1, 1, ·)`` the bottleneck's
    self-attention mask; ``text_keys`` the cross-attention keys, values and mask;
    ``film_weight (cond_dim, Σ)`` every block's FiLM weight stacked and transposed (a row-major
    vector-matrix product streams it twice as fast as ``F.linear``'s layout) and
    ``film_fixed (B or 1, Σ)`` their output for the fixed part of the condition vector, biases
    included, plus 1 on every scale and gate (:meth:`ResBlock.step`). The FiLMs are linear, so
    the part that changes per call adds its product with ``film_weight``; ``step_films`` holds
    that product ``(1, Σ)`` for the per-step conditions known in advance (by key, e.g. the flow
    time), all computed in one matrix product."""

    length: torch.Tensor
    masks: tuple[torch.Tensor, ...]
    control: PackedConv
    fixed: torch.Tensor
    convs: dict
    bias: torch.Tensor
    text_keys: tuple[torch.Tensor, ...]
    film_weight: torch.Tensor
    film_fixed: torch.Tensor
    step_films: dict = field(default_factory=dict)


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

    def _films(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Every block's FiLM stacked for :class:`UNetContext`: the weight ``(cond_dim, Σ)``
        (transposed, contiguous) and the bias ``(Σ,)`` plus 1 on every scale and gate."""
        blocks = self._blocks()
        one = [torch.cat([torch.ones(c), torch.zeros(c), torch.ones(b.film.out_features - 2 * c)])
               for b in blocks for c in [b.conv1.in_channels]]
        bias = torch.cat([b.film.bias for b in blocks]) + torch.cat(one).to(self.inp.weight)
        return torch.cat([b.film.weight for b in blocks]).t().contiguous(), bias

    def prepare(self, key_mask, length_mask, text, text_mask, extra=None, cond=None, step_conds=None) -> UNetContext:
        """The per-batch constants of :class:`UNetContext` for ``key_mask``, ``length_mask``
        ``(B, T)``, ``text (B, L, text_dim)``, ``text_mask (B, L)``, ``extra (B, T, E)`` and
        ``cond (B, cond_dim)``, the part of the condition vector that is fixed for the batch (the
        pooled text; None: all of it changes per call). ``step_conds`` ``(keys, (S, cond_dim))``:
        the parts that change per call, when they are known in advance (the time embedding at each
        of a sampler's times); :meth:`run` takes their keys. What depends on the weights alone (packed
        convolutions, stacked FiLMs) is computed once per model and reused while the weights
        are unchanged (:func:`~signlib.generate.packed.cached`)."""
        self._check_extra(extra)
        dtype = self.inp.weight.dtype
        pad = (-length_mask.shape[1]) % self.config.stride
        real = length_mask[..., None].to(dtype)
        # Whatever the caller left in padded frames (noise, stray keyframe flags) is zeroed here.
        rest = [key_mask[..., None].to(dtype) * real, real]
        rest = rest if extra is None else [extra * real, *rest]
        lm, masks = self._masks(length_mask, pad)
        masks4 = tuple(m.unsqueeze(2) for m in masks)
        blocks = self._blocks()
        film_weight, film_bias = cached(self, "films", [p for b in blocks for p in b.film.parameters()], self._films)
        film_fixed = film_bias[None] if cond is None else torch.addmm(film_bias, cond, film_weight)
        convs = {m: cached(self, m, conv_weights(m), partial(PackedConv.of, m))
                 for m in self.modules() if isinstance(m, nn.Conv1d) and m is not self.inp}
        control, other = (cached(self, key, conv_weights(self.inp), partial(PackedConv.of, self.inp, columns, bias))
                          for key, columns, bias in (("control", self._control_columns, False),
                                                     ("fixed", ~self._control_columns, True)))
        fixed = other(self._fold(torch.cat(rest, -1), pad).unsqueeze(2)) * masks4[0]
        step_films = {}
        if step_conds is not None:
            keys, conds = step_conds
            step_films = dict(zip(keys, torch.mm(conds, film_weight).split(1)))
        return UNetContext(lm, masks4, control, fixed, convs, attention_bias(masks[-1][:, 0].bool(), dtype),
                           self.attn.text_keys(text, text_mask), film_weight, film_fixed, step_films)

    def run(self, control: torch.Tensor, cond: torch.Tensor | None, ctx: UNetContext, step=None) -> torch.Tensor:
        """``control (B, T, D)`` and ``cond (B or 1, cond_dim)``, the part of the condition vector
        not fixed by :meth:`prepare` (one row when all rows share it, e.g. the flow time of a
        sampler step) → ``(B, T, D)``. With ``step``, a key of :meth:`prepare`'s ``step_conds``,
        that condition's precomputed FiLM is used and ``cond`` is not read."""
        T = control.shape[1]
        real = ctx.length[:, :T, None]
        h = ctx.control(self._fold(control * real, ctx.length.shape[1] - T).unsqueeze(2))  # a channels-last view
        film = ctx.step_films[step] if step is not None else torch.mm(cond, ctx.film_weight)
        films = (film + ctx.film_fixed).split([b.film.out_features for b in self._blocks()], 1)
        return self._levels(h * ctx.masks[0] + ctx.fixed, films, ctx.length, ctx.masks, ctx.bias, ctx.text_keys, T,
                            ctx.convs)

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
        return self._levels(self.inp(x) * masks[0], films, lm, masks, attention_bias(masks[-1][:, 0].bool(), x.dtype),
                            self.attn.text_keys(text, text_mask), T)

    def _levels(self, h, films, length, masks, bias, text_keys, T: int, convs: dict | None = None) -> torch.Tensor:
        """Everything after the input convolution: ``h (B, ch0, T'/P)``, one FiLM output per block
        (:meth:`_blocks` order), the masks of :meth:`_masks` → ``(B, T, D)``. With ``convs``
        (:meth:`run`), ``h`` and the masks are channels-last ``(B, ·, 1, ·)`` and the blocks run
        :meth:`ResBlock.step`."""
        films, masks, skips = iter(films), list(masks), []
        level = [masks.pop(0)]

        def block(b: ResBlock, x: torch.Tensor) -> torch.Tensor:
            return b(x, next(films), level[-1]) if convs is None else b.step(x, next(films), level[-1], convs)

        for k, level_blocks in enumerate(self.down):
            for b in level_blocks:
                h = block(b, h)
                skips.append(h)
            if k < len(self.downsample):
                level.append(masks.pop(0))
                h = _conv(convs, self.downsample[k], h) * level[-1]
        h = block(self.mid2, self.attn(block(self.mid1, h), level[-1], bias, text_keys))
        for k, level_blocks in enumerate(self.up):
            for b in level_blocks:
                h = block(b, torch.cat([h, skips.pop()], 1))
            if k < len(self.upsample):
                level.pop()
                h = F.interpolate(h, scale_factor=2 if convs is None else (1, 2), mode="nearest")
                h = _conv(convs, self.upsample[k], h) * level[-1]
        h = _conv(convs, self.out, F.silu(self.out_norm(h)) * level[-1])                # (B, P·D, [1,] T'/P)
        h = h.flatten(2).transpose(1, 2).reshape(h.shape[0], -1, self.dim) * length[..., None]
        return h[:, :T]
