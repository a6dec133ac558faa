"""The SOKE-style tokenised text-to-pose baseline of Table 2 (Zuo et al., "Signs as Tokens"),
re-implemented from the paper: model folders, dictionary retrieval and generation.

Two model folders make one system: the decoupled VQ-VAE tokenizer (kind ``soke_tokenizer``,
:class:`SokeTokenizer`) and a multi-head text-to-token generator trained on its codes (kind
``soke_generator``, :class:`~signlib.baselines.token_generator.MultiHeadTokenGenerator`), plain or
retrieval-enhanced. The generator's card holds a fingerprint of its tokenizer's codebooks, so a
generator is never decoded with codes it was not trained on.

The tokenizer works in standardised feature units, one scale per channel
(:class:`~signlib.layers.Standardised`): unlike the generators' one scale per part, this
reconstructs joint positions better (see :mod:`signlib.baselines.soke_training` for the
measurement). Generation is greedy and row-independent: a text gives the same sequence alone or
in any batch.

Retrieval (SOKE's retrieval-enhanced variant): each gloss of a text (the gold glosses in
training, the text-to-gloss model's at test time) that the isolated-sign dictionary has is cut
out of its citation clip over the sign span the tri-frame dictionary found (the span naive
stitching copies) and tokenised; the tokens of at most ``max_retrieved`` signs, in gloss order,
are what the generator attends to beside the text. The spans travel in the generator's card, so
evaluation only needs the citation clips.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
import torch
from tqdm.auto import tqdm

from signlib.baselines.configs import SokeConfig
from signlib.baselines.token_generator import PARTS, MultiHeadTokenGenerator
from signlib.baselines.tokenizer import DecoupledTokenizer
from signlib.checkpoint import bad_card, card_field, load_model, save_card
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.layers import Standardised
from signlib.text.counts import count
from signlib.text.tokens import text_requests

TOKENIZER_KIND, GENERATOR_KIND = "soke_tokenizer", "soke_generator"
#: ``(language, gloss)`` → ``(start, end)`` frames of the sign inside its citation clip.
Spans = Mapping[tuple[str, str], tuple[int, int]]


class SokeTokenizer(Standardised, DecoupledTokenizer):
    """The decoupled tokenizer of a :class:`SokeConfig`, with the training features' statistics.

    ``forward`` / ``encode`` / ``decode`` work in normalised units (as :class:`DecoupledTokenizer`);
    :meth:`tokenize` and :meth:`detokenize` take and give raw features."""

    def __init__(self, config: SokeConfig):
        DecoupledTokenizer.__init__(self, config.layout, width=config.tokenizer_width, code_dim=config.code_dim)
        self.config = config
        # One scale per channel: measured better than one per part in cm (soke_training docstring).
        self.init_statistics(self.layout.dim)

    def prepare(self, x: torch.Tensor, valid: torch.Tensor | None = None) -> torch.Tensor:
        """Raw ``(B, T, D)`` → normalised; unobserved channels (``valid`` ``(B, T, D)`` False) are
        set to the training mean (0), not to the fill value the corpus stores there."""
        x = self.normalise(x)
        return x if valid is None else x * valid.to(x.dtype)

    @torch.no_grad()
    def tokenize(self, x: torch.Tensor, valid: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """Raw features ``(B, T, D)`` → ``{part: (B, ceil(T / 4))}`` codes."""
        return self.encode(self.prepare(x, valid))

    @torch.no_grad()
    def detokenize(self, tokens: dict[str, torch.Tensor]) -> torch.Tensor:
        """``{part: (B, T')}`` codes → raw features ``(B, 4 T', D)``."""
        return self.denormalise(self.decode(tokens))


def build_generator(config: SokeConfig, sizes: Mapping[str, int]) -> MultiHeadTokenGenerator:
    """The text-to-token generator of ``config`` over codebooks of ``sizes``; retrieval caps the
    retrieved tokens per text at ``max_tokens`` (as many as one generated clip holds)."""
    return MultiHeadTokenGenerator(dict(sizes), config.text, config.d_model, config.layers, config.heads, config.ff,
                                   config.max_tokens, config.lam, retrieval=config.retrieval,
                                   max_retrieved=config.max_tokens)


def fingerprint(tokenizer: DecoupledTokenizer) -> str:
    """A short hash of the codebooks: what a generator's codes mean."""
    h = hashlib.sha256()
    for part in PARTS:
        h.update(tokenizer.parts[part].quantizer.codebook.detach().cpu().float().numpy().tobytes())
    return h.hexdigest()[:16]


# --------------------------------------------------------------------------- retrieval

def sign_tokens(tokenizer: SokeTokenizer, citation: Sequence, span: tuple[int, int] | None = None
                ) -> dict[str, torch.Tensor]:
    """``{part: (ceil(n / 4),)}`` codes of the sign span ``[start, end)`` of a citation clip
    (the whole clip without a span)."""
    start, end = span if span is not None else (0, citation.num_frames)
    if not 0 <= start < end <= citation.num_frames:
        raise SignlibError(f"sign span {(start, end)} lies outside the {citation.num_frames}-frame citation clip "
                           f"{citation.id!r}")
    x = torch.from_numpy(citation.features[start:end])[None]
    valid = torch.from_numpy(np.repeat(citation.valid_or_all()[start:end], citation.get_layout().channels, 1))[None]
    return {p: t[0] for p, t in tokenizer.tokenize(x, valid).items()}


class SignBank:
    """The tokens of dictionary signs, tokenised on first use: ``citations`` (``(language, gloss)``
    → citation clip) cut to ``spans``. A gloss is found when both know it."""

    def __init__(self, tokenizer: SokeTokenizer, citations: Mapping[tuple[str, str], Sequence], spans: Spans):
        self.tokenizer, self.citations, self.spans = tokenizer, citations, spans
        self._tokens: dict[tuple[str, str], dict[str, torch.Tensor]] = {}

    def has(self, language: str, gloss: str) -> bool:
        return (language, gloss) in self.citations and (language, gloss) in self.spans

    def tokens(self, language: str, gloss: str) -> dict[str, torch.Tensor]:
        key = (language, gloss)
        if key not in self._tokens:
            self._tokens[key] = sign_tokens(self.tokenizer, self.citations[key], self.spans[key])
        return self._tokens[key]

    def retrieve(self, glosses, language: str, max_signs: int, max_tokens: int) -> tuple[dict[str, torch.Tensor], int]:
        """``({part: (R,)}, signs)``: the tokens of the first ``max_signs`` found ``glosses``,
        concatenated in order and cut at ``max_tokens`` (``R = 0`` when none is found)."""
        found = [g for g in glosses if self.has(language, g)][:max_signs]
        if not found:
            return {p: torch.zeros(0, dtype=torch.long) for p in PARTS}, 0
        pieces = [self.tokens(language, g) for g in found]
        return {p: torch.cat([t[p] for t in pieces])[:max_tokens] for p in PARTS}, len(found)


# --------------------------------------------------------------------------- model folders

def save_tokenizer_card(folder: str | os.PathLike, tokenizer: SokeTokenizer, **extra) -> None:
    """Write the tokenizer's card (config, codebook sizes, fingerprint, ``extra`` such as the
    reconstruction errors) beside the weights :func:`signlib.train.train` wrote."""
    save_card(folder, TOKENIZER_KIND, tokenizer.config.to_dict(), sizes=tokenizer.sizes,
              fingerprint=fingerprint(tokenizer), **extra)


def save_generator_card(folder: str | os.PathLike, generator: MultiHeadTokenGenerator, config: SokeConfig,
                        tokenizer: SokeTokenizer, spans: Spans | None = None, **extra) -> None:
    """Write the generator's card: its config, its tokenizer's fingerprint and, for retrieval,
    the sign spans it was trained with (``[language, gloss, start, end]`` rows)."""
    if config.retrieval != generator.retrieval:
        raise SignlibError(f"config: retrieval={config.retrieval} but the generator has "
                           f"retrieval={generator.retrieval}")
    if config.retrieval and spans is None:
        raise SignlibError("spans: a retrieval generator's card needs the sign spans it was trained with")
    rows = [[lang, gloss, int(a), int(b)] for (lang, gloss), (a, b) in sorted((spans or {}).items())]
    save_card(folder, GENERATOR_KIND, config.to_dict(), sizes=generator.sizes, tokenizer=fingerprint(tokenizer),
              spans=rows, **extra)


def _card_sizes(card: dict, folder) -> dict[str, int]:
    """The card's ``sizes``: every part's codebook size (an integer >= 1), else a bad card."""
    sizes = card_field(card, folder, "sizes", dict)
    if set(sizes) != set(PARTS) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 1
                                           for n in sizes.values()):
        raise bad_card(folder, f"field 'sizes' must map {', '.join(PARTS)} to codebook sizes >= 1, got {sizes!r:.80}")
    return {p: sizes[p] for p in PARTS}


def _card_part_numbers(card: dict, folder, key: str) -> dict:
    """An optional ``{part: number or null}`` field of a tokenizer card (``codes_used``, ``reconstruction``)."""
    values = card_field(card, folder, key, dict, default={})
    for p in PARTS:
        v = values.get(p)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))):
            raise bad_card(folder, f"field {key!r} must map parts to numbers, got {p}={v!r:.40}")
    return values


def _card_spans(card: dict, folder) -> dict[tuple[str, str], tuple[int, int]]:
    """The generator card's sign spans (``[language, gloss, start, end]`` rows), checked row by row."""
    spans = {}
    for row in card_field(card, folder, "spans", list, default=[]):
        ok = (isinstance(row, list) and len(row) == 4 and all(isinstance(x, str) for x in row[:2])
              and all(isinstance(x, int) and not isinstance(x, bool) for x in row[2:]) and 0 <= row[2] < row[3])
        if not ok:
            raise bad_card(folder, f"field 'spans' must hold [language, gloss, start, end] rows with "
                                   f"0 <= start < end, got {row!r:.60}")
        spans[(row[0], row[1])] = (row[2], row[3])
    return spans


def tokenizer_report(card: dict, folder: str | os.PathLike | None = None) -> list[dict]:
    """Per part: codebook size, codes used on the training clips and the validation
    reconstruction error (with its unit), from a tokenizer card. ``folder`` (where the card was
    read) is named when a field is missing or of the wrong type."""
    if not isinstance(card, dict):
        raise bad_card(folder, f"expected a JSON object, got {type(card).__name__}")
    sizes = _card_sizes(card, folder)
    usage, errors = _card_part_numbers(card, folder, "codes_used"), _card_part_numbers(card, folder, "reconstruction")
    unit = card_field(card, folder, "reconstruction_unit", str, default="")
    return [{"part": p, "codebook": sizes[p], "codes_used": usage.get(p),
             "usage": None if usage.get(p) is None else usage[p] / sizes[p],
             "reconstruction": errors.get(p), "unit": unit} for p in PARTS]


@dataclass(frozen=True)
class SokeSystem:
    """A tokenizer and a generator trained on its codes (in eval mode), their config (the
    generator's) and, for retrieval, the sign spans of its dictionary."""

    tokenizer: SokeTokenizer
    generator: MultiHeadTokenGenerator
    config: SokeConfig
    spans: dict[tuple[str, str], tuple[int, int]]


def load_soke(tokenizer_folder: str | os.PathLike, generator_folder: str | os.PathLike) -> SokeSystem:
    """The system of a tokenizer folder and a generator folder trained on it (CPU, eval mode).

    Every card field read here (config, codebook sizes, tokenizer fingerprint, sign spans) is
    checked inside the build step, so a missing or mistyped one is an error naming its card."""
    tokenizer = load_model(tokenizer_folder, TOKENIZER_KIND, lambda c: SokeTokenizer(SokeConfig.from_dict(c["config"])))
    read: dict = {}

    def build(card: dict) -> MultiHeadTokenGenerator:
        read["config"] = SokeConfig.from_dict(card["config"])
        read["tokenizer"] = card_field(card, generator_folder, "tokenizer", str)
        read["spans"] = _card_spans(card, generator_folder)
        return build_generator(read["config"], _card_sizes(card, generator_folder))

    generator = load_model(generator_folder, GENERATOR_KIND, build)
    if read["tokenizer"] != fingerprint(tokenizer) or generator.sizes != tokenizer.sizes:
        raise SignlibError(f"{generator_folder}: this generator was trained on another tokenizer than "
                           f"{tokenizer_folder} (retrain it, or load its own tokenizer)")
    return SokeSystem(tokenizer.eval(), generator.eval(), read["config"], read["spans"])


# --------------------------------------------------------------------------- generation

def _retrieval(system: SokeSystem, texts, languages, glosses, translate, citations) -> list[tuple[dict, int]] | None:
    """Retrieved tokens and sign counts per text (None for a plain generator), with the checks."""
    if not system.config.retrieval:
        for name, value in (("glosses", glosses), ("translate", translate), ("citations", citations)):
            if value is not None:
                raise SignlibError(f"generate_soke: {name}: this generator was trained without retrieval; pass None")
        return None
    if citations is None:
        raise SignlibError("generate_soke: citations: the retrieval generator needs the citation clips "
                           "((language, gloss) -> Sequence, stitching.load_citations)")
    if (glosses is None) == (translate is None):
        raise SignlibError("generate_soke: glosses, translate: pass exactly one (gold gloss lists, or the "
                           "text-to-gloss callable)")
    if glosses is None:
        glosses = translate(list(texts), list(languages))
    if isinstance(glosses, str) or len(glosses) != len(texts) or any(isinstance(g, str) for g in glosses):
        got = "a string" if isinstance(glosses, str) else f"{len(glosses)} entries"
        raise SignlibError(f"generate_soke: glosses: need one gloss list per text ({len(texts)}), got {got}")
    bank = SignBank(system.tokenizer, citations, system.spans)
    c = system.config
    return [bank.retrieve(g, lang, c.max_retrieved, c.max_tokens) for g, lang in zip(glosses, languages)]


def generate_soke(system: SokeSystem, texts, languages, glosses=None, translate: Callable | None = None,
                  citations: Mapping[tuple[str, str], Sequence] | None = None, batch_size: int = 16,
                  progress: bool = False) -> list[Sequence]:
    """Greedy generation of one sequence per text: tokens, decoded by the tokenizer to raw features.

    A retrieval system also takes ``citations`` and either ``glosses`` (one list per text) or
    ``translate(texts, languages) -> [[gloss, ...]]``; a plain one takes none of them. Each
    sequence has ``4 × tokens`` frames (at least one token, at most ``ceil(max_frames / 4)``);
    ``meta``: ``tokens``, ``stopped_by`` (``"eos"`` or ``"max_tokens"``), ``retrieved`` (signs).
    """
    texts, languages = text_requests("generate_soke", texts, languages)
    batch_size = count(batch_size, "generate_soke: batch_size")
    retrieval = _retrieval(system, texts, languages, glosses, translate, citations)
    limit = system.config.max_tokens - 1           # ceil(max_frames / 4): the EOS needs no frames
    out, modes = [], (system.tokenizer.training, system.generator.training)
    system.tokenizer.eval(), system.generator.eval()
    try:
        for start in tqdm(range(0, len(texts), batch_size), desc="soke", disable=not progress):
            out.extend(_generate_chunk(system, texts, languages, retrieval, start, batch_size, limit))
    finally:
        system.tokenizer.train(modes[0]), system.generator.train(modes[1])
    return out


def _generate_chunk(system: SokeSystem, texts, languages, retrieval, start: int, batch_size: int, limit: int
                    ) -> list[Sequence]:
    chunk, out = slice(start, start + batch_size), []
    layout, fps = system.config.layout, system.config.fps
    retrieved = None if retrieval is None else [r for r, _ in retrieval[chunk]]
    # min_len=1: an EOS first would leave a sequence of no frames.
    tokens = system.generator.generate(texts[chunk], languages[chunk], max_len=limit, retrieved=retrieved, min_len=1)
    for b, seq_tokens in enumerate(tokens):
        i, n = start + b, len(seq_tokens["body"])
        # One sequence at a time: padding a batch would reach into the last frames through the convolutions.
        feats = system.tokenizer.detokenize({p: t[None] for p, t in seq_tokens.items()})[0].cpu().numpy()
        meta = {"tokens": n, "stopped_by": "eos" if n < limit else "max_tokens",
                "retrieved": 0 if retrieval is None else retrieval[i][1]}
        out.append(Sequence(feats, layout, fps, text=texts[i], language=languages[i], id=f"generated_{i}", meta=meta))
    return out

