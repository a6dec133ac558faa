"""The SOKE-style text-to-token generators (a re-implementation from the paper).

Text (with its sign-language token) is encoded by the project's text encoder; a causal decoder
(:class:`~signlib.layers.DecoderBlock`) predicts, at each step, three tokens at once, one per
part of the :class:`~signlib.baselines.tokenizer.DecoupledTokenizer` (body, left hand, right hand),
through three heads. The next step's input mixes the three tokens' embeddings as
``(1 − 2λ)·E_body + λ·E_left + λ·E_right`` (λ = 1/3 by default) plus a learned position. Each part's
vocabulary is its codebook plus ``BOS`` (= size) and ``EOS`` (= size + 1). Greedy decoding uses the
decoder's key-value cache and stops a sequence at the first ``EOS`` of any head.

Retrieval (``retrieval=True``, SOKE's retrieval-enhanced variant): the tokens of dictionary signs
retrieved for a text are appended to the memory the decoder attends to, as their mixed embeddings
plus a learned "retrieved" type vector and their own positions. Every call then takes
``retrieved``: per text ``{part: (R_i,)}`` tokens (``R_i = 0`` when nothing was found).

:class:`SingleHeadTokenGenerator` is the sequential alternative multi-head decoding is measured
against: one head over the union of the three vocabularies, predicting body, left-hand and
right-hand tokens one after another (three decoder steps per frame token).

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
#: One text's retrieved sign tokens: ``{part: (R,)}`` int64 (``{}`` or empty tensors for none).
Retrieved = dict[str, torch.Tensor]


def _check_sizes(sizes: dict[str, int] | None) -> dict[str, int]:
    sizes = dict(CODEBOOK_SIZES if sizes is None else sizes)
    if set(sizes) != set(PARTS):
        raise SignlibError(f"sizes must name exactly {PARTS}, got {sorted(sizes)}")
    return sizes


class MultiHeadTokenGenerator(nn.Module):
    """Text (and, with ``retrieval``, retrieved sign tokens) → ``{part: tokens}`` (module docstring).

    ``max_retrieved`` bounds ``R_i`` (retrieved tokens per text; default ``max_tokens``)."""

    def __init__(self, sizes: dict[str, int] | None = None, text: TextEncoderConfig = TextEncoderConfig(),
                 d_model: int = 128, layers: int = 2, heads: int = 4, ff: int = 256, max_tokens: int = 128,
                 lam: float = 1 / 3, retrieval: bool = False, max_retrieved: int | None = None):
        super().__init__()
        self.sizes = _check_sizes(sizes)
        if not 0.0 <= lam <= 0.5:
            raise SignlibError(f"lam={lam}: the mixing weight must lie in [0, 0.5]")
        self.lam, self.max_tokens, self.retrieval = lam, max_tokens, bool(retrieval)
        self.max_retrieved = max_tokens if max_retrieved is None else max_retrieved
        self.text = build_text_encoder(text)
        self.memory = nn.Linear(text.d_model, d_model) if text.d_model != d_model else nn.Identity()
        self.embed = nn.ModuleDict({p: nn.Embedding(n + 2, d_model) for p, n in self.sizes.items()})
        self.position = nn.Embedding(max_tokens + 1, d_model)
        if self.retrieval:  # only then: a plain generator's weights stay as they were
            self.retrieved_type = nn.Parameter(0.02 * torch.randn(d_model))
            self.retrieved_position = nn.Embedding(self.max_retrieved, d_model)
            # Text memory leaves a LayerNorm; the retrieved part gets one too, so neither dominates.
            self.retrieved_norm = nn.LayerNorm(d_model)
        self.blocks = nn.ModuleList(DecoderBlock(d_model, heads, ff) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.heads = nn.ModuleDict({p: nn.Linear(d_model, n + 2) for p, n in self.sizes.items()})

    def bos(self, part: str) -> int:
        return self.sizes[part]

    def eos(self, part: str) -> int:
        return self.sizes[part] + 1

    def _mixed(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        weights = {"body": 1 - 2 * self.lam, "left_hand": self.lam, "right_hand": self.lam}
        return sum(weights[p] * self.embed[p](tokens[p]) for p in PARTS)

    def mix(self, tokens: dict[str, torch.Tensor], start: int = 0) -> torch.Tensor:
        """``{part: (B, L)}`` → ``(B, L, d)`` mixed embeddings at positions ``start …``."""
        x = self._mixed(tokens)
        L = tokens["body"].shape[1]
        return x + self.position(torch.arange(start, start + L, device=x.device))[None]

    def _retrieved_batch(self, retrieved, B: int) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        """Check ``retrieved`` and pad it: ``({part: (B, R)}, lengths (B,))``."""
        if not self.retrieval:
            if retrieved is not None:
                raise SignlibError("retrieved: this generator was built without retrieval (retrieval=False); "
                                   "pass retrieved=None")
            return {}, torch.zeros(B, dtype=torch.long)
        if retrieved is None or isinstance(retrieved, dict) or len(retrieved) != B:
            got = "None" if retrieved is None else type(retrieved).__name__ if isinstance(retrieved, dict) \
                else f"{len(retrieved)} entries"
            raise SignlibError(f"retrieved: a retrieval generator needs one {{part: tokens}} per text "
                               f"({B}, {{}} where nothing was retrieved), got {got}")
        rows = []
        for i, r in enumerate(retrieved):
            if not isinstance(r, dict) or (r and set(r) != set(PARTS)):
                raise SignlibError(f"retrieved[{i}]: must map exactly {PARTS} to 1-D token tensors (or be {{}})")
            r = {p: torch.as_tensor(r.get(p, torch.zeros(0)), dtype=torch.long).reshape(-1) for p in PARTS}
            n = {len(t) for t in r.values()}
            if len(n) != 1:
                raise SignlibError(f"retrieved[{i}]: the parts hold different numbers of tokens {sorted(n)}")
            if n.pop() > self.max_retrieved:
                raise SignlibError(f"retrieved[{i}]: {len(r['body'])} tokens, over max_retrieved={self.max_retrieved}")
            for p, t in r.items():
                if len(t) and (t.min() < 0 or t.max() >= self.sizes[p]):
                    raise SignlibError(f"retrieved[{i}][{p!r}]: codes must lie in [0, {self.sizes[p]})")
            rows.append(r)
        lengths = torch.tensor([len(r["body"]) for r in rows])
        R = int(lengths.max()) if B else 0
        padded = {p: torch.stack([F.pad(r[p], (0, R - len(r[p]))) for r in rows]) for p in PARTS}
        return padded, lengths

    def encode(self, texts: list[str], languages: list[str], retrieved: list[Retrieved] | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(memory (B, S, d), mask (B, S) bool)``: the text tokens, then (retrieval) the
        retrieved sign tokens, their padding masked."""
        tokens, lengths = self._retrieved_batch(retrieved, len(texts))
        enc = self.text(texts, languages)
        memory, mask = self.memory(enc.tokens), enc.mask
        R = tokens["body"].shape[1] if tokens else 0
        if R == 0:  # no retrieval, or nothing retrieved for any text of the batch
            return memory, mask
        device = memory.device
        tokens = {p: t.to(device) for p, t in tokens.items()}
        r = self._mixed(tokens) + self.retrieved_type + self.retrieved_position(torch.arange(R, device=device))[None]
        r_mask = torch.arange(R, device=device)[None] < lengths.to(device)[:, None]
        return torch.cat([memory, self.retrieved_norm(r)], 1), torch.cat([mask, r_mask], 1)

    def forward(self, texts: list[str], languages: list[str], inputs: dict[str, torch.Tensor],
                retrieved: list[Retrieved] | None = None) -> dict[str, torch.Tensor]:
        """Teacher forcing: ``inputs`` start with ``BOS``; returns each head's logits."""
        memory, mask = self.encode(texts, languages, retrieved)
        x = self.mix(inputs)
        for block in self.blocks:
            x = block(x, memory, mask)
        x = self.norm(x)
        return {p: self.heads[p](x) for p in PARTS}

    def teacher_batch(self, tokens: dict[str, torch.Tensor], lengths: torch.Tensor
                      ) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """``(inputs, targets)`` of right-padded ``tokens`` ``{part: (B, L)}`` with real
        ``lengths`` ``(B,)``: ``BOS`` prepended to the inputs, ``EOS`` appended to the targets,
        -100 (ignored) past it."""
        B, L = tokens["body"].shape
        if L + 1 > self.max_tokens:
            raise SignlibError(f"{L} tokens + EOS exceed max_tokens={self.max_tokens}")
        device = tokens["body"].device
        steps = torch.arange(L + 1, device=device)[None]
        valid = steps <= lengths[:, None]                                  # targets incl. the EOS
        inputs, targets = {}, {}
        for p in PARTS:
            t = tokens[p].masked_fill(steps[:, :L] >= lengths[:, None], 0)
            inputs[p] = torch.cat([torch.full((B, 1), self.bos(p), device=device), t], 1)
            tgt = torch.cat([t, torch.zeros(B, 1, dtype=torch.long, device=device)], 1)
            targets[p] = tgt.scatter(1, lengths[:, None], self.eos(p)).masked_fill(~valid, -100)
        return inputs, targets

    @staticmethod
    def cross_entropy(logits: dict[str, torch.Tensor], targets: dict[str, torch.Tensor]) -> torch.Tensor:
        """Mean over the three heads of the cross-entropy on the non-ignored targets."""
        return sum(F.cross_entropy(logits[p].transpose(1, 2), targets[p], ignore_index=-100) for p in PARTS) / 3

    def loss(self, texts, languages, tokens: dict[str, torch.Tensor], lengths: torch.Tensor,
             retrieved: list[Retrieved] | None = None) -> torch.Tensor:
        """Cross-entropy of the three heads on ``tokens`` ``{part: (B, L)}`` (right-padded; the real
        lengths ``(B,)``), with ``BOS`` prepended to the inputs and ``EOS`` appended to the targets."""
        inputs, targets = self.teacher_batch(tokens, lengths)
        return self.cross_entropy(self(texts, languages, inputs, retrieved), targets)

    @torch.no_grad()
    def generate(self, texts: list[str], languages: list[str], max_len: int | None = None,
                 retrieved: list[Retrieved] | None = None, min_len: int = 0) -> list[dict[str, torch.Tensor]]:
        """Greedy multi-head decoding with the key-value cache; per text ``{part: (L_i,)}`` tokens
        (no BOS/EOS), stopped at the first EOS of any head or at ``max_len``. Before ``min_len``
        tokens the heads may only pick codes (``min_len = max_len`` decodes exactly that many)."""
        max_len = min(max_len or self.max_tokens, self.max_tokens)
        if isinstance(min_len, bool) or not isinstance(min_len, int) or not 0 <= min_len <= max_len:
            raise SignlibError(f"min_len={min_len!r} must be an integer in [0, max_len={max_len}]")
        memory, mask = self.encode(texts, languages, retrieved)
        B, device = len(texts), memory.device
        caches = [block.start_cache(memory, mask, max_len) for block in self.blocks]
        step = {p: torch.full((B, 1), self.bos(p), device=device) for p in PARTS}
        out = {p: [] for p in PARTS}
        done = torch.zeros(B, dtype=torch.bool, device=device)
        lengths = torch.full((B,), max_len, device=device)
        for t in range(max_len):
            x = self.mix(step, start=t)
            for block, cache in zip(self.blocks, caches):
                x = block.step(x, cache)
            x = self.norm(x)
            logits = {p: self.heads[p](x[:, -1]) for p in PARTS}
            if t < min_len:  # BOS and EOS are out of reach until min_len tokens exist
                for p in PARTS:
                    logits[p][:, self.sizes[p]:] = -torch.inf
            pred = {p: logits[p].argmax(-1) for p in PARTS}
            ended = torch.stack([pred[p] >= self.sizes[p] for p in PARTS]).any(0) & ~done  # EOS (or BOS) of any head
            lengths[ended] = t
            done |= ended
            if done.all():
                break
            for p in PARTS:
                out[p].append(pred[p].clamp(max=self.sizes[p] - 1))
                step[p] = pred[p].clamp(max=self.sizes[p] - 1)[:, None]
        stacked = {p: torch.stack(out[p], 1) if out[p] else torch.zeros(B, 0, dtype=torch.long, device=device)
                   for p in PARTS}
        return [{p: stacked[p][b, :int(lengths[b])] for p in PARTS} for b in range(B)]


class SingleHeadTokenGenerator(nn.Module):
    """The sequential baseline of multi-head decoding: one head over the union vocabulary.

    The union vocabulary lays the codebooks end to end (body codes first, then left-hand, then
    right-hand codes), then ``BOS`` and ``EOS``; a clip of ``L`` frame tokens is the ``3L``-step
    sequence ``b_1 l_1 r_1 b_2 …`` then ``EOS``. Same encoder and decoder sizes as
    :class:`MultiHeadTokenGenerator`; decoding is grammar-constrained (step ``t`` may only pick a code
    of part ``t mod 3``, ``EOS`` only between frames), so its outputs always decode.
    """

    def __init__(self, sizes: dict[str, int] | None = None, text: TextEncoderConfig = TextEncoderConfig(),
                 d_model: int = 128, layers: int = 2, heads: int = 4, ff: int = 256, max_tokens: int = 128):
        super().__init__()
        self.sizes = _check_sizes(sizes)
        self.max_tokens = max_tokens
        starts = torch.tensor([0] + [self.sizes[p] for p in PARTS]).cumsum(0)
        self.offsets = {p: int(starts[k]) for k, p in enumerate(PARTS)}
        self.bos, self.eos = int(starts[-1]), int(starts[-1]) + 1
        self.text = build_text_encoder(text)
        self.memory = nn.Linear(text.d_model, d_model) if text.d_model != d_model else nn.Identity()
        self.embed = nn.Embedding(self.eos + 1, d_model)
        self.position = nn.Embedding(3 * max_tokens + 1, d_model)
        self.blocks = nn.ModuleList(DecoderBlock(d_model, heads, ff) for _ in range(layers))
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, self.eos + 1)

    def encode(self, texts: list[str], languages: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        enc = self.text(texts, languages)
        return self.memory(enc.tokens), enc.mask

    def flatten(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        """``{part: (B, L)}`` → ``(B, 3L)`` union-vocabulary ids, frame by frame."""
        return torch.stack([tokens[p] + self.offsets[p] for p in PARTS], -1).flatten(1)

    def _decode(self, x: torch.Tensor, memory, mask) -> torch.Tensor:
        x = self.embed(x) + self.position(torch.arange(x.shape[1], device=x.device))[None]
        for block in self.blocks:
            x = block(x, memory, mask)
        return self.head(self.norm(x))

    def loss(self, texts, languages, tokens: dict[str, torch.Tensor], lengths: torch.Tensor) -> torch.Tensor:
        """Cross-entropy of the next id over the ``3 L_i + 1`` real steps of each clip."""
        B, L = tokens["body"].shape
        if L + 1 > self.max_tokens:
            raise SignlibError(f"{L} tokens + EOS exceed max_tokens={self.max_tokens}")
        flat = self.flatten(tokens)
        steps = torch.arange(3 * L + 1, device=flat.device)[None]
        flat = flat.masked_fill(steps[:, :-1] >= 3 * lengths[:, None], 0)
        inputs = torch.cat([torch.full((B, 1), self.bos, device=flat.device), flat], 1)
        targets = torch.cat([flat, torch.zeros(B, 1, dtype=torch.long, device=flat.device)], 1)
        targets = targets.scatter(1, 3 * lengths[:, None], self.eos).masked_fill(steps > 3 * lengths[:, None], -100)
        logits = self._decode(inputs, *self.encode(texts, languages))
        return F.cross_entropy(logits.transpose(1, 2), targets, ignore_index=-100)

    @torch.no_grad()
    def generate(self, texts: list[str], languages: list[str], max_len: int | None = None,
                 ignore_eos: bool = False) -> list[dict[str, torch.Tensor]]:
        """Greedy sequential decoding with the key-value cache: per text ``{part: (L_i,)}``, three
        decoder steps per frame token; ``ignore_eos`` never stops early (exactly ``3 max_len`` steps)."""
        max_len = min(max_len or self.max_tokens - 1, self.max_tokens - 1)
        memory, mask = self.encode(texts, languages)
        B, device = len(texts), memory.device
        caches = [block.start_cache(memory, mask, 3 * max_len) for block in self.blocks]
        allowed = torch.full((3, self.eos + 1), -torch.inf, device=device)   # grammar: part t mod 3
        for k, p in enumerate(PARTS):
            allowed[k, self.offsets[p]:self.offsets[p] + self.sizes[p]] = 0.0
        if not ignore_eos:
            allowed[0, self.eos] = 0.0                                       # EOS only between frames
        step = torch.full((B, 1), self.bos, device=device)
        out, done = [], torch.zeros(B, dtype=torch.bool, device=device)
        frames = torch.full((B,), max_len, device=device)
        for t in range(3 * max_len):
            x = self.embed(step) + self.position.weight[t]
            for block, cache in zip(self.blocks, caches):
                x = block.step(x, cache)
            pred = (self.head(self.norm(x))[:, -1] + allowed[t % 3]).argmax(-1)
            ended = (pred == self.eos) & ~done
            frames[ended] = t // 3
            done |= ended
            if done.all():
                break
            out.append(pred)
            step = pred[:, None]
        n = len(out) // 3
        ids = torch.stack(out[:3 * n], 1).view(B, n, 3) if n else torch.zeros(B, 0, 3, dtype=torch.long, device=device)
        return [{p: (ids[b, :int(frames[b]), k] - self.offsets[p]) for k, p in enumerate(PARTS)} for b in range(B)]
