"""Text-to-gloss: the small seq2seq transformer in front of retrieval text-to-pose (SR-T2P).

A byte-level encoder (:mod:`signlib.text.tokens`, sign-language token in front, so one model
serves English, German and Chinese text) and a gloss-level decoder. Glosses are not a monotonic
rewrite of the text (signs reorder, function words drop, words map to synonyms), so this is
translation, not tagging. :func:`make_sampler` and :func:`make_loss` feed :func:`signlib.train.train`;
:func:`translate` decodes greedily; a trained model is a :mod:`signlib.checkpoint` folder of kind
``text2gloss`` (its card holds the config and the gloss vocabulary).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from signlib.checkpoint import card_field, load_model, save_card
from signlib.errors import SignlibError
from signlib.generate.configs import Text2GlossConfig
from signlib.layers import DecoderStack, TransformerStack, sinusoid
from signlib.text import tokens
from signlib.text.counts import count
from signlib.text.glosses import GlossVocab

KIND = "text2gloss"


def ngram_keys(ids: torch.Tensor) -> torch.Tensor:
    """``(N, S, 3)`` exact int64 keys of the byte 1-, 2-, 3-grams ending at each position of ``ids (N, S)``.

    ASCII is lower-cased (the gloss MILK matches "Milk"); non-byte tokens (language, padding) and
    the start read as spaces, so a text's first word starts a word like any other.
    """
    x = torch.where((ids >= 65) & (ids <= 90), ids + 32, ids).masked_fill(ids > 255, 32)
    h, out = torch.zeros_like(x), []
    for n in range(3):  # base 256 covers every byte, so keys are unique (hashing comes later, if at all)
        h = h * 256 + F.pad(x, (n, 0), value=32)[:, :x.shape[1]]
        out.append(h * 3 + n)
    return torch.stack(out, -1)


def _spelling(gloss: str) -> str:
    """How a gloss is written in text: HEUTE-ABEND as " heute abend". Spaced scripts get a leading
    space, so OUR does not match inside "four"; CJK text has no spaces to match."""
    text = gloss.lower().replace("-", " ")
    return text if "\u2e80" <= text[0] <= "\u9fff" or "\uac00" <= text[0] else " " + text


class Text2Gloss(nn.Module):
    """Byte-level text encoder + causal gloss decoder with a spelling-copy pointer.

    ``forward(ids (B, L) int64, id_mask (B, L) bool, gloss_in (B, G) int64) -> logits (B, G, V)``:
    ``ids``/``id_mask`` from :func:`tokens.encode_texts`; ``gloss_in`` is BOS + glosses, right-padded
    with PAD; logit ``t`` predicts gloss ``t + 1``.

    Most glosses are spelled in their text (MILK in "the milk", 照片 in "寄照片"), but a small corpus
    shows each gloss a handful of times, and a seq2seq with a free vector per gloss learns sentences
    by heart (default corpus: train exact match 100%, held-out 0%). So a gloss has no free vector:
    its tied input/output embedding is the mean of its spelling's hashed n-gram embeddings, shared
    with the text encoder's input; and a pointer over the text adds ``gate · Σ_i p(i) · match(i, g)``,
    ``match`` being the share of gloss ``g``'s n-grams that end at byte ``i``. Where to point is
    learnt from every gloss at once; only PAD/BOS/EOS/UNK have vectors of their own.
    """

    def __init__(self, config: Text2GlossConfig, vocab: GlossVocab):
        super().__init__()
        if not vocab.glosses:
            raise SignlibError("Text2Gloss: the gloss vocabulary is empty")
        c, V, d, n_special = config, len(vocab), config.d_model, len(vocab.SPECIALS)
        self.config, self.vocab_size = config, V
        self.text_embed = nn.Embedding(tokens.VOCAB_SIZE, d, padding_idx=tokens.PAD)
        self.ngram = nn.Embedding(c.ngram_buckets, d)
        nn.init.normal_(self.ngram.weight, std=d ** -0.5)  # tied output: initial logits near unit scale
        self.special = nn.Parameter(torch.randn(n_special, d) * d ** -0.5)
        self.encoder = TransformerStack(d, c.heads, c.ff, c.encoder_layers, c.dropout)
        self.decoder = DecoderStack(d, c.heads, c.ff, c.decoder_layers, c.dropout)
        self.bias = nn.Parameter(torch.zeros(V))
        self.repeat = nn.Parameter(torch.tensor(1.0))  # softplus(repeat) per earlier use of a gloss
        self.point_q, self.point_k, self.copy_gate = nn.Linear(d, d), nn.Linear(d, d), nn.Linear(d, 1)
        # Buffers follow from config and vocab: not persistent, so checkpoints hold only weights.
        self.register_buffer("text_pos", sinusoid(c.max_bytes + 1, d), persistent=False)
        self.register_buffer("gloss_pos", sinusoid(c.max_glosses + 1, d), persistent=False)
        spell = [list(_spelling(g).encode("utf-8")) for g in vocab.glosses]
        S = max(map(len, spell))
        keys = ngram_keys(torch.tensor([r + [tokens.PAD] * (S - len(r)) for r in spell]))     # (Vg, S, 3)
        lens, j, n = torch.tensor([len(r) for r in spell]), torch.arange(S)[None, :, None], torch.arange(3)
        inside = (j >= n) & (j < lens[:, None, None])                  # n-grams wholly inside the spelling
        counts = torch.cat([torch.zeros(n_special, dtype=torch.long), inside.sum((1, 2))])
        self.register_buffer("spell_ids", self._bucket(keys[inside]), persistent=False)
        self.register_buffer("spell_offsets", torch.cumsum(counts, 0) - counts, persistent=False)
        # Copying matches exact keys of each gloss's longest n-grams (3, or its length if shorter).
        top = inside & (n == (lens.clamp(1, 3) - 1)[:, None, None])
        gloss = torch.arange(len(spell))[:, None, None].expand_as(keys)[top]
        uniq, row = torch.unique(keys[top], return_inverse=True)
        match = torch.zeros(len(uniq) + 1, V)                              # last row: no match
        match.index_put_((row, gloss + n_special), 1.0 / top.sum((1, 2))[gloss], accumulate=True)
        self.register_buffer("match_keys", torch.cat([uniq, torch.tensor([2 ** 62])]), persistent=False)
        self.register_buffer("match_rows", match, persistent=False)

    def _bucket(self, keys: torch.Tensor) -> torch.Tensor:
        return keys * 2654435761 % self.config.ngram_buckets  # a fixed multiplicative hash

    def gloss_table(self) -> torch.Tensor:
        """``(V, d)`` gloss embeddings: the specials' own vectors, then each gloss's mean spelling n-gram."""
        spell = F.embedding_bag(self.spell_ids, self.ngram.weight, self.spell_offsets, mode="mean")
        return torch.cat([self.special, spell[len(self.special):]])

    def copy_matrix(self, ids: torch.Tensor) -> torch.Tensor:
        """``(B, L, V)``: share of each gloss's spelling n-grams that end at each text byte."""
        keys, last = ngram_keys(ids), len(self.match_keys) - 1
        k = torch.searchsorted(self.match_keys, keys).clamp(max=last)
        k = torch.where(self.match_keys[k] == keys, k, last)
        return self.match_rows[k[..., 0]] + self.match_rows[k[..., 1]] + self.match_rows[k[..., 2]]

    def encode(self, ids: torch.Tensor, id_mask: torch.Tensor) -> torch.Tensor:
        """``(B, L, d)`` memory of the text."""
        if ids.shape[1] > len(self.text_pos):
            raise SignlibError(f"Text2Gloss: {ids.shape[1]} text tokens, over max_bytes + 1 = {len(self.text_pos)}")
        grams = self.ngram(self._bucket(ngram_keys(ids))).sum(2) * self.config.d_model ** 0.5
        return self.encoder(self.text_embed(ids) + grams + self.text_pos[:ids.shape[1]], id_mask)

    def decode(self, memory: torch.Tensor, id_mask: torch.Tensor, copy: torch.Tensor, gloss_in: torch.Tensor,
               table: torch.Tensor | None = None) -> torch.Tensor:
        """``(B, G, V)`` next-gloss logits from memory, :meth:`copy_matrix` and the glosses so far."""
        G, d = gloss_in.shape[1], self.config.d_model
        if G > len(self.gloss_pos):
            raise SignlibError(f"Text2Gloss: {G} gloss inputs, over max_glosses + 1 = {len(self.gloss_pos)}")
        table = self.gloss_table() if table is None else table
        h = self.decoder(F.embedding(gloss_in, table) * d ** 0.5 + self.gloss_pos[:G], memory, id_mask)
        point = (self.point_q(h) @ self.point_k(memory).transpose(1, 2) / d ** 0.5)          # (B, G, L)
        point = point.masked_fill(~id_mask[:, None], -torch.inf).softmax(-1)
        # A pointer happily copies the same word again; each earlier use of a gloss costs logit.
        seen = F.one_hot(gloss_in, self.vocab_size).cumsum(1)                                  # (B, G, V)
        return (h @ table.T + self.bias + F.softplus(self.copy_gate(h)) * (point @ copy)
                - F.softplus(self.repeat) * seen)

    def forward(self, ids: torch.Tensor, id_mask: torch.Tensor, gloss_in: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(ids, id_mask), id_mask, self.copy_matrix(ids), gloss_in)


def make_sampler(pairs, vocab: GlossVocab, batch_size: int, max_bytes: int = 256, max_glosses: int = 24):
    """``sample_batch(step, rng) -> dict``: ``ids``, ``id_mask`` ``(B, L)``; ``gloss_in`` (BOS +
    glosses) and ``gloss_out`` (glosses + EOS) ``(B, G)``, PAD-padded; ``B = batch_size`` pairs
    drawn with replacement from ``pairs``, ``(text, language, glosses)`` triples. Every text is
    encoded here, once, so a bad text or language fails now, naming it."""
    pairs = list(pairs)
    if not pairs:
        raise SignlibError("text2gloss.make_sampler: no (text, language, glosses) pairs")
    for text, _, glosses in pairs:
        if len(glosses) > max_glosses:
            raise SignlibError(f"text2gloss: {text!r} has {len(glosses)} glosses, over max_glosses={max_glosses}")
    ids, id_mask = (t.numpy() for t in tokens.encode_texts([p[0] for p in pairs], [p[1] for p in pairs],
                                                           max_bytes=max_bytes))
    rows = [vocab.encode(p[2], bos=True, eos=True) for p in pairs]
    seqs = np.full((len(rows), max(map(len, rows))), GlossVocab.PAD, np.int64)
    for i, r in enumerate(rows):
        seqs[i, :len(r)] = r
    text_len, gloss_len = id_mask.sum(1), np.array([len(r) for r in rows])

    def sample_batch(step: int, rng: np.random.Generator) -> dict:
        picks = rng.integers(len(pairs), size=batch_size)
        L, G = int(text_len[picks].max()), int(gloss_len[picks].max())   # trim to the batch's longest
        s = torch.from_numpy(seqs[picks, :G])
        return {"ids": torch.from_numpy(ids[picks, :L]), "id_mask": torch.from_numpy(id_mask[picks, :L]),
                "gloss_in": s[:, :-1], "gloss_out": s[:, 1:]}

    return sample_batch


def make_loss(label_smoothing: float = 0.1):
    """``loss_fn(model, batch) -> (loss, logs)``: teacher-forced cross-entropy over non-PAD targets;
    logs ``ce`` (unsmoothed) and ``acc`` (next-gloss accuracy under teacher forcing)."""

    def loss_fn(model, batch):
        logits = model(batch["ids"], batch["id_mask"], batch["gloss_in"]).transpose(1, 2)   # (B, V, G)
        target = batch["gloss_out"]
        loss = F.cross_entropy(logits, target, ignore_index=GlossVocab.PAD, label_smoothing=label_smoothing)
        with torch.no_grad():
            ce = F.cross_entropy(logits, target, ignore_index=GlossVocab.PAD)
            acc = (logits.argmax(1) == target)[target != GlossVocab.PAD].float().mean()
        return loss, {"ce": float(ce), "acc": float(acc)}

    return loss_fn


@torch.no_grad()
def translate(model: Text2Gloss, vocab: GlossVocab, texts, languages, max_glosses: int | None = None,
              batch_size: int = 64, repeats: bool = False) -> list[list[str]]:
    """Greedy gloss sequences of ``texts`` (one sign-language code each), in eval mode.

    Stops at EOS or after ``max_glosses`` (default: the model's). PAD, BOS and UNK are never
    emitted: a gloss no sign can be retrieved for is worth less than the best known one. Unless
    ``repeats``, no gloss is emitted twice (no sentence of the default corpus repeats one, while
    an undertrained pointer often copies the same word again).
    """
    if isinstance(texts, (str, bytes)) or isinstance(languages, (str, bytes)):
        raise SignlibError("translate: texts and languages must be lists (one entry per text), not strings")
    texts, languages = list(texts), list(languages)
    if len(texts) != len(languages):
        raise SignlibError(f"translate: {len(texts)} texts but {len(languages)} languages")
    if texts:  # no texts, no glosses; otherwise every entry is checked before the model runs
        tokens.text_requests("translate", texts, languages)
    limit = count(model.config.max_glosses if max_glosses is None else max_glosses, "translate: max_glosses",
                  1, model.config.max_glosses)
    batch_size = count(batch_size, "translate: batch_size")
    device, was_training, out = next(model.parameters()).device, model.training, []
    model.eval()
    try:
        for start in range(0, len(texts), batch_size):
            ids, mask = (t.to(device) for t in tokens.encode_texts(
                texts[start:start + batch_size], languages[start:start + batch_size], max_bytes=model.config.max_bytes))
            memory, copy, table = model.encode(ids, mask), model.copy_matrix(ids), model.gloss_table()
            seq = torch.full((len(ids), 1), GlossVocab.BOS, dtype=torch.long, device=device)
            done = torch.zeros(len(ids), dtype=torch.bool, device=device)
            banned = torch.zeros(len(ids), model.vocab_size, dtype=torch.bool, device=device)
            banned[:, [GlossVocab.PAD, GlossVocab.BOS, GlossVocab.UNK]] = True
            for _ in range(limit):  # re-decoding the prefix is quadratic, but prefixes are short
                logits = model.decode(memory, mask, copy, seq, table)[:, -1].masked_fill(banned, -torch.inf)
                nxt = logits.argmax(-1).masked_fill(done, GlossVocab.PAD)
                if not repeats:
                    banned[torch.arange(len(ids), device=device), nxt] = True
                seq, done = torch.cat([seq, nxt[:, None]], 1), done | (nxt == GlossVocab.EOS)
                if done.all():
                    break
            out.extend(vocab.decode(row) for row in seq.cpu().tolist())
        return out
    finally:
        model.train(was_training)


@dataclass(frozen=True)
class Translator:
    """A trained model as the ``translate(texts, languages) -> [[gloss, ...]]`` callable that
    retrieval text-to-pose (:func:`signlib.generate.modes.sr_t2p`) takes."""

    model: Text2Gloss
    vocab: GlossVocab

    def __call__(self, texts, languages) -> list[list[str]]:
        return translate(self.model, self.vocab, list(texts), list(languages))


def save_text2gloss_card(folder: str | os.PathLike, model: Text2Gloss, vocab: GlossVocab) -> None:
    """Write the card (config and vocabulary) beside the weights :func:`signlib.train.train` wrote."""
    if len(vocab) != model.vocab_size:
        raise SignlibError("save_text2gloss_card: the vocabulary differs from the model's")
    save_card(folder, KIND, dataclasses.asdict(model.config), vocab=vocab.to_dict())


def load_text2gloss(folder: str | os.PathLike) -> tuple[Text2Gloss, GlossVocab]:
    """``(model in eval mode, vocab)`` from a text-to-gloss model folder."""
    vocab: list[GlossVocab] = []

    def build(card: dict) -> Text2Gloss:
        vocab.append(GlossVocab.from_dict(card_field(card, folder, "vocab", dict)))
        return Text2Gloss(Text2GlossConfig(**card["config"]), vocab[0])

    model = load_model(folder, KIND, build)
    return model, vocab[0]
