"""FAST: a two-stream (left hand / right hand) transformer that tags every frame B, I or O.

Architecture (shapes for a batch of ``B`` clips of ``T`` frames, ``F`` features per hand):

1. per-hand stream encoder: ``Linear(F → d)`` + GELU, then (optionally) a depthwise temporal
   convolution of kernel 3 with a residual connection, then LayerNorm → ``(B, T, d)`` per hand;
2. two-stream mixer: concatenate both hands and project ``2d → d`` (the single-stream variant
   instead encodes the concatenated hands ``2F`` with one encoder);
3. optional 2× temporal downsampling (strided convolution) before, and upsampling (repeat +
   linear, with a skip from before the downsampling) after,
4. a pre-norm transformer encoder with sinusoidal positions, padded frames masked out;
5. a per-frame head → ``(B, T, 3)`` logits in FAST order (O, I, B), and a CTC head → ``(B, T', 2)``
   logits (blank, sign) trained to emit one "sign" per gloss, which teaches the tagger how many
   signs a clip holds.

:class:`BiLSTMTagger` is the baseline: the 2023 sign-language-segmentation style tagger, a
bidirectional LSTM over the concatenated hand streams with a per-frame B/I/O head.
"""

from __future__ import annotations


import torch
from torch import nn

from signlib.layers import TransformerStack, sinusoid
from signlib.segment.configs import BiLSTMConfig, FASTConfig


class _Stream(nn.Module):
    """``(B, T, F) → (B, T, d)``: per-frame projection, optional temporal convolution."""

    def __init__(self, in_features: int, d: int, temporal_conv: bool, dropout: float):
        super().__init__()
        self.proj = nn.Sequential(nn.Linear(in_features, d), nn.GELU(), nn.Dropout(dropout))
        self.conv = nn.Conv1d(d, d, 3, padding=1, groups=d) if temporal_conv else None
        self.norm = nn.LayerNorm(d)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        # Zeroing padded frames makes the convolution see exactly the zero padding it would see
        # at the end of an unpadded clip, so padding never changes a real frame's output.
        h = self.proj(x) * mask[..., None]
        if self.conv is not None:
            h = h + self.conv(h.transpose(1, 2)).transpose(1, 2)
        return self.norm(h)


class FAST(nn.Module):
    """Frame-level B/I/O tagger over two hand streams (see the module docstring)."""

    def __init__(self, config: FASTConfig = FASTConfig()):
        super().__init__()
        self.config = c = config
        if c.two_stream:
            self.left, self.right = (_Stream(c.in_features, c.d_model, c.temporal_conv, c.dropout) for _ in range(2))
            self.mix = nn.Linear(2 * c.d_model, c.d_model)
        else:
            self.both = _Stream(2 * c.in_features, c.d_model, c.temporal_conv, c.dropout)
        if c.downsample:
            self.down = nn.Conv1d(c.d_model, c.d_model, 3, stride=2, padding=1)
            self.up = nn.Linear(2 * c.d_model, c.d_model)
        self.encoder = TransformerStack(c.d_model, c.heads, c.ff, c.layers, c.dropout)
        self.head = nn.Linear(c.d_model, 3)
        self.ctc_head = nn.Linear(c.d_model, 2)
        self.register_buffer("pe", sinusoid(c.max_len, c.d_model), persistent=False)

    def forward(self, left: torch.Tensor, right: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        """
        Args:
            left, right: ``(B, T, F)`` hand streams; mask: ``(B, T)`` bool, True on real frames.
        Returns:
            ``logits`` ``(B, T, 3)`` (O, I, B), ``ctc_logits`` ``(B, T', 2)`` and ``ctc_mask``
            ``(B, T')`` (``T' = ceil(T / 2)`` when downsampling, else ``T``).
        """
        T = left.shape[1]
        if T > self.config.max_len:
            raise ValueError(f"FAST was built for at most {self.config.max_len} frames, got {T}")
        if self.config.two_stream:
            h = self.mix(torch.cat([self.left(left, mask), self.right(right, mask)], -1))
        else:
            h = self.both(torch.cat([left, right], -1), mask)
        skip, m = h, mask
        if self.config.downsample:
            h = self.down((h * mask[..., None]).transpose(1, 2)).transpose(1, 2)  # (B, ceil(T/2), d)
            m = mask[:, ::2]
        h = h + self.pe[: h.shape[1]]
        h = self.encoder(h, m)
        ctc_logits = self.ctc_head(h)
        if self.config.downsample:
            h = self.up(torch.cat([h.repeat_interleave(2, 1)[:, :T], skip], -1))
        return {"logits": self.head(h), "ctc_logits": ctc_logits, "ctc_mask": m}


class BiLSTMTagger(nn.Module):
    """Baseline: a bidirectional LSTM B/I/O tagger over both hands concatenated."""

    def __init__(self, config: BiLSTMConfig = BiLSTMConfig()):
        super().__init__()
        self.config = c = config
        self.lstm = nn.LSTM(2 * c.in_features, c.hidden, c.layers, batch_first=True, bidirectional=True,
                            dropout=c.dropout if c.layers > 1 else 0.0)
        self.head = nn.Linear(2 * c.hidden, 3)

    def forward(self, left: torch.Tensor, right: torch.Tensor, mask: torch.Tensor) -> dict[str, torch.Tensor]:
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(torch.cat([left, right], -1), lengths, batch_first=True,
                                                   enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=left.shape[1])
        return {"logits": self.head(out)}


#: model name → (config class, model class): how checkpoints are rebuilt from their config.json.
SEGMENTERS = {"fast": (FASTConfig, FAST), "bilstm": (BiLSTMConfig, BiLSTMTagger)}


def build_segmenter(spec: dict) -> nn.Module:
    """A segmenter from ``config.to_dict()`` (``{"model": name, **fields}``)."""
    spec = dict(spec)
    name = spec.pop("model", None)
    if name not in SEGMENTERS:
        raise KeyError(f"unknown segmenter {name!r}; known: {', '.join(SEGMENTERS)}")
    cfg_cls, model_cls = SEGMENTERS[name]
    return model_cls(cfg_cls(**spec))
