"""Word-level spoken-text vocabulary of the back-translation decoder.

Text is split into tokens the way BLEU later counts them, so the decoder spends its capacity on
units the metric rewards:

- Chinese (any CJK character or CJK punctuation mark) one token per character;
- every other script: lower-cased words (hyphens and apostrophes inside a word keep it whole:
  "E-Mail", "don't") and each punctuation mark on its own.

Ids ``0..3`` are PAD, BOS, EOS, UNK; then comes one start token per sign language (``<ASL>``,
``<BSL>``, ``<DGS>``, ``<CSL>``, from :data:`signlib.text.tokens.SIGN_LANGUAGES`), which the
decoder reads first: ASL and BSL are both translated into English, so only this token says which
sign language the poses are in, and for CSL it says "write Chinese". The words follow, most
frequent first.

Lower-casing halves the vocabulary of a small corpus, but sacreBLEU is case-sensitive, so
:meth:`TextVocab.decode` restores case: each word gets its most frequent spelling away from the
start of a training sentence ("Peter", German nouns such as "Ei"), and a sentence's first word is
capitalised.
"""

from __future__ import annotations

import re
from collections import Counter

from signlib.errors import SignlibError
from signlib.text.tokens import SIGN_LANGUAGES, check_language, encodable

_CJK = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"   # CJK radicals … ideographs, compatibility, full-width forms
_WORD = rf"[^\W{_CJK}]+"                             # letters/digits/_ outside CJK
_TOKEN = re.compile(rf"[{_CJK}]|{_WORD}(?:['’-]{_WORD})*|[^\w\s]")
_IS_CJK = re.compile(rf"[{_CJK}]")
_NO_SPACE_BEFORE = set(".,;:!?%)]}…")
_NO_SPACE_AFTER = set("([{")


def split_text(text: str) -> list[str]:
    """Tokens of ``text`` in their written case (see the module docstring for the rules).

    ``text`` must be a ``str``: the ``repr`` of ``bytes`` would be tokenised as words. Any
    character, even a lone surrogate, is a token like any other here (no UTF-8 is involved)."""
    if not isinstance(text, str):
        raise SignlibError(f"text: must be str, got {type(text).__name__}")
    return _TOKEN.findall(text)


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens of ``text``: what the vocabulary holds."""
    return [t.lower() for t in split_text(text)]


def join_tokens(tokens: list[str]) -> str:
    """A readable sentence from tokens: words separated by spaces, CJK characters (and anything
    next to one) joined directly, no space before closing or after opening punctuation."""
    out = ""
    for tok in tokens:
        prev = out[-1:] if out else ""
        glued = (not out or tok[0] in _NO_SPACE_BEFORE or prev in _NO_SPACE_AFTER
                 or bool(_IS_CJK.match(tok[0])) or bool(_IS_CJK.match(prev)))
        out += tok if glued else " " + tok
    return out


class TextVocab:
    """Token ↔ id for the decoder; see the module docstring for the id layout.

    ``cased`` maps a lower-cased word to the spelling :meth:`decode` writes, for words whose usual
    spelling is not all lower case.
    """

    PAD, BOS, EOS, UNK = 0, 1, 2, 3
    SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")
    LANGUAGE_TOKENS = tuple(f"<{lang}>" for lang in SIGN_LANGUAGES)

    def __init__(self, words, cased: dict[str, str] | None = None):
        self.words = tuple(words)
        reserved = set(self.SPECIALS) | set(self.LANGUAGE_TOKENS)
        if (not all(isinstance(w, str) and w and not w.isspace() and w not in reserved for w in self.words)
                or len(set(self.words)) != len(self.words)):
            raise SignlibError("TextVocab: words must be unique non-empty strings, none of the special "
                               "or language tokens")
        bad = next((w for w in self.words if not encodable(w)), None)
        if bad is not None:  # a JSON card can spell a lone surrogate; the card could not be written back
            raise SignlibError(f"TextVocab: word {bad!r} cannot be encoded as UTF-8 (a lone surrogate)")
        self.cased = dict(cased or {})
        if not all(isinstance(k, str) and isinstance(v, str) and v.lower() == k for k, v in self.cased.items()):
            raise SignlibError("TextVocab: cased must map lower-case words to spellings of the same word")
        self.tokens = self.SPECIALS + self.LANGUAGE_TOKENS + self.words
        self._ids = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, texts, min_count: int = 1) -> "TextVocab":
        """The tokens of ``texts`` seen at least ``min_count`` times, most frequent first (ties in
        code-point order), with each word's usual spelling (from its non-initial occurrences)."""
        counts, spellings = Counter(), {}
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise SignlibError(f"TextVocab.build: texts must be strings, got {type(text).__name__}")
            try:  # a lone surrogate would become a word that the model card cannot store
                text.encode("utf-8")
            except UnicodeEncodeError as err:
                raise SignlibError(f"TextVocab.build: texts[{i}]: character {text[err.start]!r} at position "
                                   f"{err.start} cannot be encoded as UTF-8 (a lone surrogate)") from None
            for k, surface in enumerate(split_text(text)):
                counts[surface.lower()] += 1
                if k > 0:  # the first word is capitalised by position, not by spelling
                    spellings.setdefault(surface.lower(), Counter())[surface] += 1
        words = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        cased = {}
        for w in words:
            if w in spellings:
                best = max(spellings[w].items(), key=lambda kv: (kv[1], kv[0] == w))[0]
                if best != w:
                    cased[w] = best
        return cls(words, cased)

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, word: str) -> bool:
        return self._ids.get(word, 0) >= len(self.SPECIALS) + len(self.LANGUAGE_TOKENS)

    def language_id(self, language: str) -> int:
        """Id of the start token of sign language ``language``."""
        return self._ids[f"<{check_language(language)}>"]

    @property
    def first_word_id(self) -> int:
        """Ids from here on are words (below: specials and language tokens)."""
        return len(self.SPECIALS) + len(self.LANGUAGE_TOKENS)

    def encode(self, text: str, language: str | None = None, eos: bool = False) -> list[int]:
        """Ids of ``text``: the start token (``<LANG>``, or BOS without a language), the tokens
        (unknown ones UNK) and optionally EOS."""
        start = self.BOS if language is None else self.language_id(language)
        return [start] + [self._ids.get(t, self.UNK) for t in tokenize(text)] + [self.EOS] * eos

    def decode_tokens(self, ids) -> list[str]:
        """Lower-cased tokens of an id sequence: stops at the first EOS, skips PAD, BOS and
        language tokens; UNK (and ids out of range) read ``<unk>``."""
        ids = [int(i) for i in ids]
        ids = ids[:ids.index(self.EOS)] if self.EOS in ids else ids
        skip = {self.PAD, self.BOS, *range(len(self.SPECIALS), self.first_word_id)}
        return [self.tokens[i] if self.first_word_id <= i < len(self) else "<unk>" for i in ids if i not in skip]

    def decode(self, ids) -> str:
        """A readable, truecased sentence from an id sequence (see :func:`join_tokens`)."""
        words = [self.cased.get(t, t) for t in self.decode_tokens(ids)]
        if words and words[0][:1].isalpha():
            words[0] = words[0][0].upper() + words[0][1:]
        return join_tokens(words)

    def to_dict(self) -> dict:
        return {"words": list(self.words), "cased": dict(self.cased)}

    @classmethod
    def from_dict(cls, d: dict) -> "TextVocab":
        if not isinstance(d, dict) or not isinstance(d.get("words"), list) or not isinstance(d.get("cased", {}), dict):
            raise SignlibError("TextVocab.from_dict: expected {'words': [...], 'cased': {...}}")
        return cls(d["words"], d.get("cased", {}))
