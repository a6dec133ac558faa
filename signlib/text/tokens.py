"""Byte-level text tokens with sign-language tokens in front.

Every model that reads spoken text (the generator's text encoder, the text-to-gloss transformer,
the back-translation decoder) uses these ids, so Chinese, German and English need no vocabulary:
ids ``0..255`` are UTF-8 bytes, then come padding, one token per sign language (``<ASL>``,
``<BSL>``, ``<DGS>``, ``<CSL>``; the paper prepends them so one model serves four languages) and
a "no text" token used when the text condition is dropped (classifier-free guidance).
"""

from __future__ import annotations

import numpy as np
import torch

from signlib.errors import SignlibError

SIGN_LANGUAGES = ("ASL", "BSL", "DGS", "CSL")
PAD = 256
LANGUAGE_IDS = {lang: 257 + k for k, lang in enumerate(SIGN_LANGUAGES)}
NULL = 257 + len(SIGN_LANGUAGES)    # the dropped / absent text
VOCAB_SIZE = NULL + 1


def check_language(language: str) -> str:
    """``language`` if it is one of :data:`SIGN_LANGUAGES`, else a clear error."""
    if language not in LANGUAGE_IDS:
        raise SignlibError(f"unknown sign language {language!r}; known: {', '.join(SIGN_LANGUAGES)}")
    return language


def text_requests(name: str, texts, languages) -> tuple[list, list]:
    """``(texts, languages)`` as lists, one known sign language per text and at least one text;
    a bare string for either (a text, not a list of them) is refused. Errors start with ``name``,
    the function the caller was asked to run."""
    if isinstance(texts, str) or isinstance(languages, str):
        raise SignlibError(f"{name}: texts and languages must be lists (one entry per text), not strings")
    texts, languages = list(texts), list(languages)
    if len(texts) != len(languages) or not texts:
        raise SignlibError(f"{name}: need as many texts as languages (>= 1), got {len(texts)} and {len(languages)}")
    for i, lang in enumerate(languages):
        if lang not in LANGUAGE_IDS:
            raise SignlibError(f"{name}: languages[{i}]: unknown sign language {lang!r}; known: "
                               f"{', '.join(SIGN_LANGUAGES)}")
    return texts, languages


def text_ids(text: str, language: str | None, language_token: bool = True, max_bytes: int = 256) -> list[int]:
    """Ids of one text: ``[<LANG>] + utf-8 bytes``.

    ``language`` is required when ``language_token`` is on. Empty (or whitespace-only) text and
    text over ``max_bytes`` bytes are errors naming the text.
    """
    if not isinstance(text, str) or not text.strip():
        raise SignlibError(f"text is empty: {text!r}; give a sentence (or use the text-free modes)")
    data = text.strip().encode("utf-8")
    if len(data) > max_bytes:
        raise SignlibError(f"text {text[:40]!r}... is {len(data)} UTF-8 bytes, over max_bytes={max_bytes}")
    ids = list(data)
    if language_token:
        if language is None:
            raise SignlibError("language is required when language tokens are on")
        ids = [LANGUAGE_IDS[check_language(language)]] + ids
    elif language is not None:
        check_language(language)  # still reject typos, even though the token is not used
    return ids


def encode_texts(texts, languages=None, language_token: bool = True, max_bytes: int = 256
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad a batch of texts.

    Args:
        texts: ``B`` strings; ``None`` entries become the single :data:`NULL` token (no text).
        languages: ``B`` sign-language codes (or None when ``language_token`` is off).
    Returns:
        ``ids (B, L)`` int64 padded with :data:`PAD`, ``mask (B, L)`` bool, True on real tokens.
    """
    texts = list(texts)
    if not texts:
        raise SignlibError("encode_texts: empty batch")
    languages = [None] * len(texts) if languages is None else list(languages)
    if len(languages) != len(texts):
        raise SignlibError(f"encode_texts: {len(texts)} texts but {len(languages)} languages")
    rows = [[NULL] if t is None else text_ids(t, l, language_token, max_bytes) for t, l in zip(texts, languages)]
    L = max(len(r) for r in rows)
    ids = np.full((len(rows), L), PAD, np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
    ids = torch.from_numpy(ids)
    return ids, ids != PAD


def decode_bytes(ids) -> str:
    """Text back from ids (language, pad and null tokens are skipped; bad UTF-8 is replaced)."""
    return bytes(int(i) for i in ids if 0 <= int(i) < 256).decode("utf-8", errors="replace")
