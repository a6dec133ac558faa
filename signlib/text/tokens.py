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
    if not isinstance(language, str) or language not in LANGUAGE_IDS:  # a list would be unhashable
        raise SignlibError(f"unknown sign language {language!r:.40}; known: {', '.join(SIGN_LANGUAGES)}")
    return language


def encodable(text: str) -> bool:
    """Whether UTF-8 can hold ``text`` (a lone surrogate it cannot)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(text, where: str = "text") -> str:
    """``text`` if it is a ``str`` with something besides whitespace that UTF-8 can encode.

    Otherwise a one-line error that starts with ``where`` (the argument, e.g. ``"t2p: texts[2]"``):
    ``bytes`` must be decoded first (their ``repr`` is not the sentence), and a lone surrogate such
    as ``"\\ud800"`` (what a bad decode with ``surrogateescape`` leaves) has no UTF-8 bytes, so the
    byte tokenizer could not read it; the error gives its position."""
    if not isinstance(text, str):
        hint = " (decode it first: text.decode('utf-8'))" if isinstance(text, (bytes, bytearray)) else ""
        raise SignlibError(f"{where}: must be str, got {type(text).__name__}{hint}")
    if not text.strip():
        raise SignlibError(f"{where}: text is empty: {text!r:.40}; give a sentence (or use the text-free modes)")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        raise SignlibError(f"{where}: character {text[err.start]!r} at position {err.start} cannot be encoded as "
                           "UTF-8 (a lone surrogate); fix the text's decoding") from None
    return text


def text_requests(name: str, texts, languages) -> tuple[list, list]:
    """``(texts, languages)`` as lists, one known sign language per text and at least one text;
    a bare string (or bytes) for either (a text, not a list of them) is refused, and so is any
    text :func:`check_text` refuses. Errors start with ``name``, the function the caller was asked
    to run, and name the entry (``texts[2]``, ``languages[0]``)."""
    if isinstance(texts, (str, bytes)) or isinstance(languages, (str, bytes)):
        raise SignlibError(f"{name}: texts and languages must be lists (one entry per text), not strings")
    try:
        texts, languages = list(texts), list(languages)
    except TypeError:  # not iterable: a number, None
        raise SignlibError(f"{name}: texts and languages must be lists (one entry per text), got "
                           f"{type(texts).__name__} and {type(languages).__name__}") from None
    if len(texts) != len(languages) or not texts:
        raise SignlibError(f"{name}: need as many texts as languages (>= 1), got {len(texts)} and {len(languages)}")
    for i, (text, lang) in enumerate(zip(texts, languages)):
        check_text(text, f"{name}: texts[{i}]")
        if not isinstance(lang, str) or lang not in LANGUAGE_IDS:
            raise SignlibError(f"{name}: languages[{i}]: unknown sign language {lang!r:.40}; known: "
                               f"{', '.join(SIGN_LANGUAGES)}")
    return texts, languages


def text_ids(text: str, language: str | None, language_token: bool = True, max_bytes: int = 256,
             where: str = "text") -> list[int]:
    """Ids of one text: ``[<LANG>] + utf-8 bytes``.

    ``language`` is required when ``language_token`` is on. A text :func:`check_text` refuses and
    text over ``max_bytes`` bytes are errors naming ``where`` (the argument it came from).
    """
    data = check_text(text, where).strip().encode("utf-8")
    if len(data) > max_bytes:
        raise SignlibError(f"{where}: text {text[:40]!r}... is {len(data)} UTF-8 bytes, over max_bytes={max_bytes}")
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
    if isinstance(texts, (str, bytes)) or isinstance(languages, (str, bytes)):
        raise SignlibError("encode_texts: texts and languages must be lists (one entry per text), not strings")
    texts = list(texts)
    if not texts:
        raise SignlibError("encode_texts: empty batch")
    languages = [None] * len(texts) if languages is None else list(languages)
    if len(languages) != len(texts):
        raise SignlibError(f"encode_texts: {len(texts)} texts but {len(languages)} languages")
    rows = [[NULL] if t is None else text_ids(t, l, language_token, max_bytes, f"texts[{i}]")
            for i, (t, l) in enumerate(zip(texts, languages))]
    L = max(len(r) for r in rows)
    ids = np.full((len(rows), L), PAD, np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
    ids = torch.from_numpy(ids)
    return ids, ids != PAD


def decode_bytes(ids) -> str:
    """Text back from ids (language, pad and null tokens are skipped; bad UTF-8 is replaced)."""
    return bytes(int(i) for i in ids if 0 <= int(i) < 256).decode("utf-8", errors="replace")
