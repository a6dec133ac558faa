"""Gloss vocabularies: gloss strings ↔ ids, shared by every model that reads or writes glosses.

The text-to-gloss transformer decodes into it; back-translation's CTC head recognises glosses with
it (the blank is PAD). Ids ``0..3`` are PAD, BOS, EOS and UNK; the glosses follow, most frequent
first when built from a corpus.
"""

from __future__ import annotations

from collections import Counter

from signlib.errors import SignlibError
from signlib.text.tokens import encodable


class GlossVocab:
    """Gloss ↔ id. Ids 0..3 are PAD, BOS, EOS, UNK; the glosses follow in the order given."""

    PAD, BOS, EOS, UNK = 0, 1, 2, 3
    SPECIALS = ("<pad>", "<bos>", "<eos>", "<unk>")

    def __init__(self, glosses):
        self.glosses = tuple(glosses)
        if (not all(isinstance(g, str) and g.strip() and g not in self.SPECIALS for g in self.glosses)
                or len(set(self.glosses)) != len(self.glosses)):
            raise SignlibError(f"GlossVocab: glosses must be unique non-empty strings, none of {self.SPECIALS}")
        bad = next((g for g in self.glosses if not encodable(g)), None)
        if bad is not None:  # a JSON card can spell a lone surrogate ("\\ud800"); models spell glosses in UTF-8
            raise SignlibError(f"GlossVocab: gloss {bad!r} cannot be encoded as UTF-8 (a lone surrogate)")
        self.tokens = self.SPECIALS + self.glosses
        self._ids = {g: i for i, g in enumerate(self.tokens)}

    @classmethod
    def build(cls, gloss_lists, min_count: int = 1) -> "GlossVocab":
        """The glosses seen at least ``min_count`` times, most frequent first (ties alphabetical)."""
        counts = Counter(g for glosses in gloss_lists for g in glosses)
        return cls(sorted((g for g, n in counts.items() if n >= min_count), key=lambda g: (-counts[g], g)))

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, gloss: str) -> bool:
        return self._ids.get(gloss, 0) >= len(self.SPECIALS)

    def encode(self, glosses, bos: bool = False, eos: bool = False) -> list[int]:
        """Ids of a gloss sequence; unknown glosses become UNK."""
        return [self.BOS] * bos + [self._ids.get(g, self.UNK) for g in glosses] + [self.EOS] * eos

    def decode(self, ids) -> list[str]:
        """Glosses of an id sequence: stops at the first EOS, skips PAD and BOS, UNK reads ``<unk>``."""
        ids = [int(i) for i in ids]
        ids = ids[:ids.index(self.EOS)] if self.EOS in ids else ids
        return [self.tokens[i] if 0 <= i < len(self) else "<unk>" for i in ids if i not in (self.PAD, self.BOS)]

    def to_dict(self) -> dict:
        return {"glosses": list(self.glosses)}

    @classmethod
    def from_dict(cls, d: dict) -> "GlossVocab":
        if not isinstance(d, dict) or not isinstance(d.get("glosses"), list):
            raise SignlibError("GlossVocab.from_dict: expected {'glosses': [...]}")
        return cls(d["glosses"])
