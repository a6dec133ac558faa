"""Small building blocks shared by the workspace's networks (pure torch, no signlib imports).

:class:`TransformerBlock` is a pre-norm transformer encoder layer written for CPUs: attention
runs through ``scaled_dot_product_attention`` and dropout is applied only to the two residual
branches, not to the ``(B, heads, T, T)`` attention weights. On a 2-core CPU, drawing that
attention-dropout mask was half the training time of ``torch.nn.TransformerEncoderLayer``.
:class:`DecoderBlock` is its sequence-to-sequence counterpart (causal self-attention plus
cross-attention to an encoder's output), shared by text-to-gloss and back-translation. Its
:meth:`~DecoderBlock.step` decodes incrementally with a key/value cache (autoregressive inference
without re-running the prefix); it gives what :meth:`~DecoderBlock.forward` gives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from signlib import validate


@dataclass(frozen=True)
class EncoderDecoderSize:
    """Width and depth of a :class:`TransformerStack` encoder and a :class:`DecoderStack` decoder;
    the sequence-to-sequence models' configs (text-to-gloss, back-translation) extend it."""

    d_model: int = 128
    encoder_layers: int = 2
    decoder_layers: int = 2
    heads: int = 4
    ff: int = 256
    dropout: float = 0.1

    def check_size(self) -> None:
        """The checks of these six fields (call from the subclass's ``__post_init__``)."""
        validate.integers(self, ("d_model", "encoder_layers", "decoder_layers", "heads", "ff"))
        validate.require(self, "heads", self.d_model % self.heads == 0, f"must divide d_model={self.d_model}")
        validate.numbers(self, ("dropout",), 0.0, 1.0, high_open=True)


class TransformerBlock(nn.Module):
    """Pre-norm self-attention + GELU MLP, each a residual branch with dropout.

    ``forward(x (B, T, d), mask (B, T) bool, True on real frames) -> (B, T, d)``.
    """

    def __init__(self, d_model: int, heads: int, ff: int, dropout: float = 0.0):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model={d_model} is not divisible by heads={heads}")
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.out = nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, ff), nn.GELU(), nn.Linear(ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        B, T, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(B, T, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        # Padded keys get -inf; a fully padded row would be all -inf (NaN), so it keeps its keys open.
        bias = None
        if mask is not None:
            bias = torch.zeros(B, 1, 1, T, dtype=x.dtype, device=x.device).masked_fill(~mask[:, None, None, :], -math.inf)
            bias = bias.masked_fill(~mask.any(1)[:, None, None, None], 0.0)
        h = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)               # (B, heads, T, d_head)
        x = x + self.drop(self.out(h.transpose(1, 2).reshape(B, T, d)))
        return x + self.drop(self.mlp(self.norm2(x)))


class TransformerStack(nn.Module):
    """``layers`` :class:`TransformerBlock` s followed by a final LayerNorm."""

    def __init__(self, d_model: int, heads: int, ff: int, layers: int, dropout: float = 0.0):
        super().__init__()
        self.blocks = nn.ModuleList(TransformerBlock(d_model, heads, ff, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, mask)
        return self.norm(x)


def sinusoid(length: int, d: int) -> torch.Tensor:
    """``(length, d)`` sinusoidal position codes (Vaswani et al. 2017, eq. 5)."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-math.log(10000.0) / d))
    pe = torch.zeros(length, d)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * freq), torch.cos(pos * freq)
    return pe


def _key_padding_bias(mask: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    """``(B, 1, 1, S)`` additive attention bias: 0 on real keys, -inf on padding.

    A row whose keys are all padding would softmax over only -inf (NaN), so it keeps its keys
    open; whatever it then reads is garbage, but finite garbage that callers mask away.
    """
    bias = torch.zeros(mask.shape[0], 1, 1, mask.shape[1], dtype=dtype, device=mask.device)
    bias = bias.masked_fill(~mask[:, None, None, :], -math.inf)
    return bias.masked_fill(~mask.any(1)[:, None, None, None], 0.0)


class DecoderBlock(nn.Module):
    """Pre-norm causal self-attention, cross-attention to a memory, and a GELU MLP.

    Each of the three is a residual branch with dropout; as in :class:`TransformerBlock`, no
    dropout touches the attention weights. ``forward(x (B, T, d), memory (B, S, d),
    memory_mask (B, S) bool, True on real memory positions) -> (B, T, d)``.

    Position ``t`` of the output depends only on ``x[:, :t+1]`` and the real memory positions.
    There is no target padding mask: targets are right-padded, so causality already keeps padding
    out of every real position (what the padded positions compute is ignored by the loss).
    """

    def __init__(self, d_model: int, heads: int, ff: int, dropout: float = 0.0):
        super().__init__()
        if d_model % heads:
            raise ValueError(f"d_model={d_model} is not divisible by heads={heads}")
        self.heads = heads
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.self_out = nn.Linear(d_model, d_model)
        self.cross_q = nn.Linear(d_model, d_model)
        self.cross_kv = nn.Linear(d_model, 2 * d_model)
        self.cross_out = nn.Linear(d_model, d_model)
        self.mlp = nn.Sequential(nn.Linear(d_model, ff), nn.GELU(), nn.Linear(ff, d_model))
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        B, T, d = x.shape
        S, h = memory.shape[1], self.heads
        q, k, v = self.qkv(self.norm1(x)).view(B, T, 3, h, d // h).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v, is_causal=True)               # (B, heads, T, d_head)
        x = x + self.drop(self.self_out(a.transpose(1, 2).reshape(B, T, d)))
        # The memory is not normalised here: it comes out of a stack that ends in a LayerNorm.
        q = self.cross_q(self.norm2(x)).view(B, T, h, d // h).transpose(1, 2)
        k, v = self.cross_kv(memory).view(B, S, 2, h, d // h).permute(2, 0, 3, 1, 4)
        bias = None if memory_mask is None else _key_padding_bias(memory_mask, x.dtype)
        a = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)               # (B, heads, T, d_head)
        x = x + self.drop(self.cross_out(a.transpose(1, 2).reshape(B, T, d)))
        return x + self.drop(self.mlp(self.norm3(x)))

    def start_cache(self, memory: torch.Tensor, memory_mask: torch.Tensor | None, length: int) -> dict:
        """A cache for :meth:`step`: the memory's keys and values ``(B, heads, S, d_head)``, computed
        once, and room for ``length`` positions of self-attention keys and values."""
        B, S, d = memory.shape
        h = self.heads
        mk, mv = self.cross_kv(memory).view(B, S, 2, h, d // h).permute(2, 0, 3, 1, 4)
        # Preallocated rather than grown with torch.cat, which would copy the whole prefix every step.
        empty = memory.new_zeros(B, h, length, d // h)
        return {"k": empty, "v": empty.clone(), "len": 0, "mk": mk, "mv": mv,
                "bias": None if memory_mask is None else _key_padding_bias(memory_mask, memory.dtype)}

    def step(self, x: torch.Tensor, cache: dict) -> torch.Tensor:
        """``x (B, n, d)``, the next ``n`` positions after the ``cache["len"]`` already decoded →
        ``(B, n, d)``, what :meth:`forward` gives at those positions. Writes the cache in place, so
        it is for inference (no gradients through earlier steps)."""
        B, n, d = x.shape
        h, t = self.heads, cache["len"]
        if t + n > cache["k"].shape[2]:
            raise ValueError(f"DecoderBlock.step: {t} + {n} positions overflow a cache of {cache['k'].shape[2]}")
        q, k, v = self.qkv(self.norm1(x)).view(B, n, 3, h, d // h).permute(2, 0, 3, 1, 4)
        cache["k"][:, :, t:t + n], cache["v"][:, :, t:t + n] = k, v
        cache["len"] = t + n
        # New position t+i sees keys 0..t+i; a single new position sees every cached key.
        causal = None if n == 1 else torch.ones(n, t + n, dtype=torch.bool, device=x.device).tril(t)
        a = F.scaled_dot_product_attention(q, cache["k"][:, :, :t + n], cache["v"][:, :, :t + n], attn_mask=causal)
        x = x + self.drop(self.self_out(a.transpose(1, 2).reshape(B, n, d)))
        q = self.cross_q(self.norm2(x)).view(B, n, h, d // h).transpose(1, 2)
        a = F.scaled_dot_product_attention(q, cache["mk"], cache["mv"], attn_mask=cache["bias"])
        x = x + self.drop(self.cross_out(a.transpose(1, 2).reshape(B, n, d)))
        return x + self.drop(self.mlp(self.norm3(x)))


def select_cache(cache: list[dict], rows: torch.Tensor) -> list[dict]:
    """The cache of :meth:`DecoderStack.start_cache` restricted to batch ``rows`` (e.g. the
    sequences still being generated), so finished rows stop costing compute."""
    return [{k: v if k == "len" or v is None else v[rows] for k, v in c.items()} for c in cache]


class DecoderStack(nn.Module):
    """``layers`` :class:`DecoderBlock` s followed by a final LayerNorm.

    ``forward(x (B, T, d), memory (B, S, d), memory_mask (B, S) bool | None) -> (B, T, d)``.
    """

    def __init__(self, d_model: int, heads: int, ff: int, layers: int, dropout: float = 0.0):
        super().__init__()
        self.blocks = nn.ModuleList(DecoderBlock(d_model, heads, ff, dropout) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)

    def forward(self, x: torch.Tensor, memory: torch.Tensor, memory_mask: torch.Tensor | None = None) -> torch.Tensor:
        for block in self.blocks:
            x = block(x, memory, memory_mask)
        return self.norm(x)

    def start_cache(self, memory: torch.Tensor, memory_mask: torch.Tensor | None, length: int) -> list[dict]:
        """One :meth:`DecoderBlock.start_cache` per block, for up to ``length`` positions."""
        return [block.start_cache(memory, memory_mask, length) for block in self.blocks]

    def step(self, x: torch.Tensor, cache: list[dict]) -> torch.Tensor:
        """Incremental :meth:`forward`: ``x (B, n, d)`` next positions → ``(B, n, d)``."""
        for block, c in zip(self.blocks, cache):
            x = block.step(x, c)
        return self.norm(x)


class Standardised:
    """Mixin for an ``nn.Module`` that works in standardised feature units.

    ``init_statistics(D, groups)`` registers ``mean`` and ``std`` ``(D,)`` buffers (saved with the
    weights, so a checkpoint is self-contained); :meth:`set_statistics` fills them from the training
    features (:func:`signlib.pose.normalize.feature_statistics`), with ``std`` floored so channels
    that barely move (locked finger joints) do not blow a small deviation up into a huge input.

    With ``groups`` (a list of channel slices, e.g. body / left hand / right hand) every channel
    of a group gets one scale, the root mean square of the group's channel stds. Per-channel
    scaling makes a loss in these units count a channel that hardly moves (a head rotation
    component, a locked finger) as much as a shoulder that swings 30 cm, so a generator spends its
    capacity on the estimator jitter of the quiet channels: measured on the default corpus, it
    made SignSparK keyframe-to-pose worse than interpolation inside the keyframed span (README,
    "KF2P diagnostics"). One scale per part keeps each part's geometry, as positions would.
    """

    def init_statistics(self, dim: int, groups: list[slice] | None = None) -> None:
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self._std_groups = list(groups or [])

    def set_statistics(self, mean, std, relative_floor: float = 0.0) -> None:
        """Per-channel mean and std ``(D,)`` of the training features (pooled per group when the
        module has groups); ``std`` is floored at 1e-3 and at ``relative_floor`` times the median
        channel's std."""
        std = torch.as_tensor(std, dtype=torch.float32).clone()
        for group in getattr(self, "_std_groups", []):
            std[group] = std[group].pow(2).mean().sqrt()
        floor = max(1e-3, relative_floor * float(std.median())) if relative_floor > 0 else 1e-3
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.std.copy_(std.clamp_min(floor))

    def normalise(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.std + self.mean
