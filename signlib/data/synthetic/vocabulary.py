"""The concept vocabulary of the synthetic corpus (``vocabulary.tsv``, DESIGN §3).

Each row is one meaning: a key, a part of speech and its surface forms in English, German and
Chinese (``|``-separated synonyms, the first one canonical). :mod:`signlib.data.synthetic.grammar`
re-exports this module's public names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources

from signlib.errors import file_error

POS = frozenset("noun verb adj time num name place pron question neg".split())
_HEADER = ["key", "pos", "en", "de", "zh"]
_KEY = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class Concept:
    """One meaning: its key, part of speech and surface forms per spoken language (first = canonical)."""

    key: str
    pos: str
    words: Mapping[str, tuple[str, ...]] = field(compare=False, repr=False)  # "en"/"de"/"zh" -> forms


def parse_vocabulary(text: str, source: str = "vocabulary.tsv") -> tuple[Concept, ...]:
    """Concepts from the TSV text; a malformed row raises a one-line ``SignlibError`` naming ``source:line``."""
    lines = text.splitlines()
    if not lines or lines[0].split("\t") != _HEADER:
        raise file_error(f"{source}:1", f"header must be {' '.join(_HEADER)} (tab-separated)")
    concepts, seen = [], set()
    for n, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        where = f"{source}:{n}"
        if len(cells) != len(_HEADER):
            raise file_error(where, f"expected {len(_HEADER)} tab-separated columns, found {len(cells)}")
        key, pos, *forms = cells
        if not _KEY.match(key) or key in seen:
            raise file_error(where, f"key {key!r} is not a new lowercase ASCII identifier")
        if pos not in POS:
            raise file_error(where, f"unknown part of speech {pos!r}; known: {', '.join(sorted(POS))}")
        words = {lang: tuple(w.strip() for w in cell.split("|")) for lang, cell in zip(_HEADER[2:], forms)}
        if any(not w for ws in words.values() for w in ws):
            raise file_error(where, "empty surface form")
        seen.add(key)
        concepts.append(Concept(key, pos, words))
    return tuple(concepts)


@functools.lru_cache(maxsize=1)
def load_vocabulary() -> tuple[Concept, ...]:
    """The packaged vocabulary (read once)."""
    path = resources.files("signlib.data.synthetic").joinpath("vocabulary.tsv")
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise file_error(str(path), f"cannot read the vocabulary ({err.strerror or err})") from None
    return parse_vocabulary(text, str(path))


@functools.lru_cache(maxsize=1)
def lexicon() -> dict[str, Concept]:
    """The packaged vocabulary by concept key."""
    return {c.key: c for c in load_vocabulary()}
