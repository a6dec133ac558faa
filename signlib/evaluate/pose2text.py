"""The pose-to-text network of back-translation: its config, the model, and feature statistics.

Poses go through a strided Conv1d front end (``downsample`` frames per encoder position), a
transformer encoder, and a word-level decoder (:mod:`signlib.evaluate.textvocab`) that starts
from the sign-language token. Optionally the encoder also recognises the glosses with a CTC head
(joint sign recognition and translation, Camgoz et al. 2020): the corpus has one sentence per
clip but every sign many times, and naming each sign is what carries over to unseen sentences
(training and saving: :mod:`signlib.evaluate.backtranslation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from signlib.errors import SignlibError
from signlib.evaluate.textvocab import TextVocab
from signlib.generate.text2gloss import GlossVocab
from signlib.layers import DecoderStack, TransformerStack, sinusoid
from signlib.pose.layout import get_layout


@dataclass(frozen=True)
class BackTranslationConfig:
    """Size of a :class:`PoseToText` model; the feature dim comes from ``layout``."""

    layout: str = "rot6d"
    max_frames: int = 512        # longest pose sequence accepted
    d_model: int = 128
    encoder_layers: int = 2
    decoder_layers: int = 2
    heads: int = 4
    ff: int = 256
    dropout: float = 0.1
    downsample: int = 8          # frames per encoder position (stride of the Conv1d front end); 8 beat 4
                                 # on the default corpus at equal training time (a sign spans ~10-20 frames)
    max_tokens: int = 32         # longest text in tokens, EOS included (the language token comes on top)
    tie_embeddings: bool = True  # output projection = input embedding (fewer free vectors per word)
    ctc_weight: float = 1.0      # weight of the auxiliary gloss CTC loss; needs gloss segments in the
                                 # training clips (0 = off, for a corpus without them)

    def __post_init__(self):
        try:
            get_layout(self.layout)
        except SignlibError as err:
            raise SignlibError(f"BackTranslationConfig: {err}") from None
        for key in ("max_frames", "d_model", "encoder_layers", "decoder_layers", "heads", "ff", "downsample",
                    "max_tokens"):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise SignlibError(f"BackTranslationConfig: {key}={value!r} must be a positive integer")
        if self.d_model % self.heads:
            raise SignlibError(f"BackTranslationConfig: d_model={self.d_model} is not divisible by heads={self.heads}")
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            raise SignlibError(f"BackTranslationConfig: dropout={self.dropout!r} is out of [0, 1)")
        if not isinstance(self.tie_embeddings, bool):
            raise SignlibError(f"BackTranslationConfig: tie_embeddings={self.tie_embeddings!r} must be True or False")
        if isinstance(self.ctc_weight, bool) or not (isinstance(self.ctc_weight, (int, float)) and self.ctc_weight >= 0):
            raise SignlibError(f"BackTranslationConfig: ctc_weight={self.ctc_weight!r} must be a number >= 0")

    @property
    def dim(self) -> int:
        return get_layout(self.layout).dim


def pose_statistics(sequences) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std ``(D,)`` over the observed frames of ``sequences``."""
    x = np.concatenate([s.features for s in sequences]).astype(np.float64)                      # (ΣT, D)
    w = np.concatenate([np.repeat(s.valid_or_all(), s.get_layout().channels, 1) for s in sequences])
    n = np.maximum(w.sum(0), 1.0)
    mean = (x * w).sum(0) / n
    return mean.astype(np.float32), np.sqrt(((x - mean) ** 2 * w).sum(0) / n).astype(np.float32)


class PoseToText(nn.Module):
    """``forward(features (B, T, D), mask (B, T) bool, tokens_in (B, L) int64) -> logits (B, L, V)``.

    ``mask`` is True on real frames (right padding); ``tokens_in`` is the language token + the
    words so far (:meth:`TextVocab.encode`), PAD-padded; logit ``t`` predicts token ``t + 1``. With
    ``with_glosses=True`` it returns ``(logits, gloss log-probabilities (B, S, G), memory_mask
    (B, S))`` for the CTC loss (``G = len(glosses)``, blank = PAD). The output for a sequence does
    not depend on the padding around it (padded frames are zeroed before the convolutions and
    masked in attention). ``glosses`` is required when ``config.ctc_weight > 0``, ignored otherwise.
    """

    def __init__(self, config: BackTranslationConfig, vocab: TextVocab, glosses: GlossVocab | None = None):
        super().__init__()
        c, d, s, V = config, config.d_model, config.downsample, len(vocab)
        if c.ctc_weight > 0 and glosses is None:
            raise SignlibError("PoseToText: ctc_weight > 0 needs a gloss vocabulary")
        self.config, self.vocab = config, vocab
        self.glosses = glosses if c.ctc_weight > 0 else None
        # Patches of s frames (kernel = stride = s), then a kernel-3 conv that lets neighbouring
        # patches overlap. Overlapping strided kernels (2s) cost twice as much on the D-channel input,
        # which is most of the front end's time on a CPU.
        self.front = nn.Conv1d(config.dim, d, s, stride=s)
        self.mix = nn.Conv1d(d, d, 3, padding=1)
        self.encoder = TransformerStack(d, c.heads, c.ff, c.encoder_layers, c.dropout)
        self.gloss_head = None if self.glosses is None else nn.Linear(d, len(self.glosses))
        self.embed = nn.Embedding(V, d)
        nn.init.normal_(self.embed.weight, std=d ** -0.5)  # tied output: initial logits near unit scale
        self.decoder = DecoderStack(d, c.heads, c.ff, c.decoder_layers, c.dropout)
        self.out = None if c.tie_embeddings else nn.Linear(d, V, bias=False)
        self.bias = nn.Parameter(torch.zeros(V))
        self.register_buffer("mean", torch.zeros(config.dim))   # persistent: saved with the weights
        self.register_buffer("std", torch.ones(config.dim))
        self.register_buffer("frame_pos", sinusoid(-(-c.max_frames // s), d), persistent=False)
        self.register_buffer("token_pos", sinusoid(c.max_tokens, d), persistent=False)

    def set_statistics(self, mean, std) -> None:
        """Per-channel training statistics. ``std`` is floored at a tenth of the median channel's:
        channels that barely move in training (locked finger joints) would otherwise blow a
        generator's small deviation there up into a huge input."""
        std = torch.as_tensor(std, dtype=torch.float32)
        self.mean.copy_(torch.as_tensor(mean, dtype=torch.float32))
        self.std.copy_(std.clamp_min(max(0.1 * float(std.median()), 1e-6)))

    def encode(self, features: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(memory (B, S, d), memory_mask (B, S))``, ``S = ceil(T / downsample)``."""
        B, T, _ = features.shape
        s = self.config.downsample
        if T > self.config.max_frames:
            raise SignlibError(f"PoseToText: {T} frames, over max_frames={self.config.max_frames}")
        # Padding (batch padding, and the tail that fills the last patch) is zero after
        # normalisation, and positions past a clip's last patch are zeroed before the kernel-3 conv:
        # that is what makes a clip's output independent of the padding around it.
        S = -(-T // s)
        x = ((features - self.mean) / self.std) * mask[..., None]                  # (B, T, D)
        x = F.pad(x, (0, 0, 0, S * s - T))                                          # (B, S·s, D)
        keep = torch.arange(S, device=mask.device) < -(-mask.sum(1, keepdim=True) // s)   # (B, S)
        h = F.gelu(self.front(x.transpose(1, 2))) * keep[:, None]                 # (B, d, S)
        h = F.gelu(self.mix(h)).transpose(1, 2)                                   # (B, S, d)
        return self.encoder(h + self.frame_pos[:S], keep), keep

    def decode(self, memory: torch.Tensor, memory_mask: torch.Tensor, tokens_in: torch.Tensor) -> torch.Tensor:
        """``(B, L, V)`` next-token logits from the memory and the tokens so far."""
        L, d = tokens_in.shape[1], self.config.d_model
        if L > len(self.token_pos):
            raise SignlibError(f"PoseToText: {L} decoder inputs, over max_tokens={self.config.max_tokens}")
        h = self.decoder(self.embed(tokens_in) * d ** 0.5 + self.token_pos[:L], memory, memory_mask)
        weight = self.embed.weight if self.out is None else self.out.weight
        return h @ weight.T + self.bias

    def forward(self, features: torch.Tensor, mask: torch.Tensor, tokens_in: torch.Tensor,
                with_glosses: bool = False):
        memory, memory_mask = self.encode(features, mask)
        logits = self.decode(memory, memory_mask, tokens_in)
        if not with_glosses:
            return logits
        if self.gloss_head is None:
            raise SignlibError("PoseToText: this model has no gloss head (config.ctc_weight = 0)")
        return logits, self.gloss_head(memory).log_softmax(-1), memory_mask
