"""The SOKE-style text-to-token generator with multi-head decoding (a re-implementation from the paper).

Text (with its sign-language token) is encoded by the project's text encoder; a causal decoder
(:class:`~signlib.layers.DecoderBlock`) predicts, at each step, three tokens at once, one per
part of the :class:`~signlib.baselines.tokenizer.DecoupledTokenizer` (body, left hand, right hand),
through three heads. The next step's input mixes the three tokens' embeddings as
``(1 − 2λ)·E_body + λ·E_left + λ·E_right`` (λ = 1/3 by default) plus a learned position. Each part's
vocabulary is its codebook plus ``BOS`` (= size) and ``EOS`` (= size + 1). Greedy decoding uses the
decoder's key-value cache and stops a sequence at the first ``EOS`` of any head.

Shapes: token sequences ``{part: (B, L)}`` int64; logits ``{part: (B, L, size + 2)}``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from signlib.baselines.tokenizer import CODEBOOK_SIZES
from signlib.errors import SignlibError
from signlib.generate.configs import TextEncoderConfig
from signlib.generate.text import build_text_encoder
from signlib.layers import DecoderBlock

PARTS = tuple(CODEBOOK_SIZES)


class MultiHeadTokenGenerator(nn.Module):
    """Text → ``{part: tokens}`` (module docstring)."""

    def __init__(self, sizes: dict[str, int] | None = None, text: TextEncoderConfig = TextEncoderConfig(),
                 d_model: int = 128, layers: int = 2, heads: int = 4, ff: int = 256, max_tokens: int = 128,
                 lam: float = 1 / 3):
        super().__init__()
        self.sizes = dict(CODEBOOK_SIZES if sizes is None else sizes)
        if set(self.sizes) != set(PARTS):
            raise SignlibError(f"sizes must name exactly {PARTS}, got {sorted(self.sizes)}")
        if not 0.0 <= lam <= 0.5:
            raise SignlibError(f"lam={lam}: the mixing weight must lie in [0, 0.5]")
        self.lam, self.max_tokens = lam, max_tokens
        self.text = build_text_encoder(text)
        self.memory = nn.Linear(text.d_model, d_model) if text.d_model != d_model else nn.Identity()
        self.embed = nn.ModuleDict({p: nn.Embedding(n + 2, d_model) for p, n in self.sizes.items()})
        self.position = nn.Embedding(max_tokens + 1, d_model)
        self.blocks = nn.ModuleList(DecoderBlock(d_model, heads, ff) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.heads = nn.ModuleDict({p: nn.Linear(d_model, n + 2) for p, n in self.sizes.items()})

    def bos(self, part: str) -> int:
        return self.sizes[part]

    def eos(self, part: str) -> int:
        return self.sizes[part] + 1

    def mix(self, tokens: dict[str, torch.Tensor], start: int = 0) -> torch.Tensor:
        """``{part: (B, L)}`` → ``(B, L, d)`` mixed embeddings at positions ``start …``."""
        weights = {"body": 1 - 2 * self.lam, "left_hand": self.lam, "right_hand": self.lam}
        x = sum(weights[p] * self.embed[p](tokens[p]) for p in PARTS)
        L = tokens["body"].shape[1]
        return x + self.position(torch.arange(start, start + L, device=x.device))[None]

    def encode(self, texts: list[str], languages: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        enc = self.text(texts, languages)
        return self.memory(enc.tokens), enc.mask

    def forward(self, texts: list[str], languages: list[str], inputs: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """Teacher forcing: ``inputs`` start with ``BOS``; returns each head's logits."""
        memory, mask = self.encode(texts, languages)
        x = self.mix(inputs)
        for block in self.blocks:
            x = block(x, memory, mask)
        x = self.norm(x)
        return {p: self.heads[p](x) for p in PARTS}

    def loss(self, texts, languages, tokens: dict[str, torch.Tensor], lengths: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the three heads on ``tokens`` ``{part: (B, L)}`` (right-padded; the real
        lengths ``(B,)``), with ``BOS`` prepended to the inputs and ``EOS`` appended to the targets."""
        B, L = tokens["body"].shape
        if L + 1 > self.max_tokens:
            raise SignlibError(f"{L} tokens + EOS exceed max_tokens={self.max_tokens}")
        valid = torch.arange(L + 1)[None] <= lengths[:, None]             # targets incl. the EOS
        inputs, targets = {}, {}
        for p in PARTS:
            t = tokens[p].masked_fill(torch.arange(L)[None] >= lengths[:, None], 0)
            inputs[p] = torch.cat([torch.full((B, 1), self.bos(p)), t], 1)
            tgt = torch.cat([t, torch.zeros(B, 1, dtype=torch.long)], 1)
            targets[p] = tgt.scatter(1, lengths[:, None], self.eos(p)).masked_fill(~valid, -100)
        logits = self(texts, languages, inputs)
        return sum(F.cross_entropy(logits[p].transpose(1, 2), targets[p], ignore_index=-100) for p in PARTS) / 3

    @torch.no_grad()
    def generate(self, texts: list[str], languages: list[str], max_len: int | None = None) -> list[dict[str, torch.Tensor]]:
        """Greedy multi-head decoding with the key-value cache; per text ``{part: (L_i,)}`` tokens
        (no BOS/EOS), stopped at the first EOS of any head or at ``max_len``."""
        max_len = min(max_len or self.max_tokens, self.max_tokens)
        memory, mask = self.encode(texts, languages)
        B = len(texts)
        caches = [block.start_cache(memory, mask, max_len) for block in self.blocks]
        step = {p: torch.full((B, 1), self.bos(p)) for p in PARTS}
        out = {p: [] for p in PARTS}
        done = torch.zeros(B, dtype=torch.bool)
        lengths = torch.full((B,), max_len)
        for t in range(max_len):
            x = self.mix(step, start=t)
            for block, cache in zip(self.blocks, caches):
                x = block.step(x, cache)
            x = self.norm(x)
            pred = {p: self.heads[p](x[:, -1]).argmax(-1) for p in PARTS}
            ended = torch.stack([pred[p] >= self.sizes[p] for p in PARTS]).any(0) & ~done  # EOS (or BOS) of any head
            lengths[ended] = t
            done |= ended
            if done.all():
                break
            for p in PARTS:
                out[p].append(pred[p].clamp(max=self.sizes[p] - 1))
                step[p] = pred[p].clamp(max=self.sizes[p] - 1)[:, None]
        stacked = {p: torch.stack(out[p], 1) if out[p] else torch.zeros(B, 0, dtype=torch.long) for p in PARTS}
        return [{p: stacked[p][b, :int(lengths[b])] for p in PARTS} for b in range(B)]
