"""The pose-to-text network of back-translation: its config and the model.

Poses go through a strided Conv1d front end (``downsample`` frames per encoder position), a
transformer encoder, and a word-level decoder (:mod:`signlib.text.words`) that starts
from the sign-language token. Optionally the encoder also recognises the glosses with a CTC head
(joint sign recognition and translation, Camgoz et al. 2020): the corpus has one sentence per
clip but every sign many times, and naming each sign is what carries over to unseen sentences
(batches and loss: :mod:`signlib.backtranslation.training`; decoding and the model folder:
:mod:`signlib.backtranslation.translate`).
"""

from __future__ import annotations


import torch
import torch.nn.functional as F
from torch import nn

from signlib.backtranslation.configs import BackTranslationConfig
from signlib.errors import SignlibError
from signlib.layers import DecoderStack, Standardised, TransformerStack, sinusoid
from signlib.text.glosses import GlossVocab
from signlib.text.words import TextVocab


class PoseToText(Standardised, nn.Module):
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
        self.init_statistics(config.dim)  # persistent: saved with the weights
        self.register_buffer("frame_pos", sinusoid(-(-c.max_frames // s), d), persistent=False)
        self.register_buffer("token_pos", sinusoid(c.max_tokens, d), persistent=False)

    def set_statistics(self, mean, std, relative_floor: float = 0.1) -> None:
        """Per-channel training statistics. ``std`` is floored at a tenth of the median channel's:
        channels that barely move in training (locked finger joints) would otherwise blow a
        generator's small deviation there up into a huge input."""
        super().set_statistics(mean, std, relative_floor)

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
        x = self.normalise(features) * mask[..., None]                  # (B, T, D)
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
