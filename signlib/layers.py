"""Small building blocks shared by the workspace's networks (pure torch, no signlib imports).

:class:`TransformerBlock` is a pre-norm transformer encoder layer written for CPUs: attention
runs through ``scaled_dot_product_attention`` and dropout is applied only to the two residual
branches, not to the ``(B, heads, T, T)`` attention weights. On a 2-core CPU, drawing that
attention-dropout mask was half the training time of ``torch.nn.TransformerEncoderLayer``.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


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
