"""Words of the synthetic corpus: vocabulary, gloss labels and (text, gloss) sentences (DESIGN §3).

Four sign languages share one vocabulary of concepts (``vocabulary.tsv``); ASL and BSL are glossed
from English, DGS from German, CSL from Chinese. A sentence is first drawn as a language-independent
:class:`~signlib.data.synthetic.templates.Frame` (so one rng state gives the same meaning in every
language, and the same English text for ASL and BSL), then said in the spoken language (function
words get no sign, synonyms map to one gloss) and signed in the sign language's own order:

- ASL ``T L POSS S NEG V O NUM D A``: time first; the object is topicalised (fronted) in about a
  third of sentences;
- BSL ``T L S POSS O NUM D V A NEG``: topic–comment with SOV, negation last; topicalised like ASL;
- DGS ``T L POSS S O NUM D V A NEG``: verb final, negation after the verb;
- CSL ``T POSS S L V NUM O D A NEG``: time first, SVO, negation last.

Letters are the roles of ``Frame.roles`` (time, location, possessor, subject, negation, verb,
object, number, destination, adjective). Every language puts the wh-word last. Yes/no questions
are marked non-manually, so they add no gloss (Chinese 吗 included): their gloss sequence is that of
the statement.

The vocabulary is parsed in :mod:`~signlib.data.synthetic.vocabulary`, word-class tables and
:class:`~signlib.data.synthetic.templates.Frame` live in :mod:`~signlib.data.synthetic.templates`,
and the English, German and Chinese realisers in :mod:`~signlib.data.synthetic.realise`.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from signlib.data.synthetic import templates as tpl
from signlib.data.synthetic.realise import REALISERS
from signlib.data.synthetic.templates import Frame
# Re-exported: callers import the vocabulary API from here.
from signlib.data.synthetic.vocabulary import POS, Concept, load_vocabulary, parse_vocabulary
from signlib.data.synthetic.vocabulary import lexicon as _lexicon
from signlib.errors import SignlibError

__all__ = ["POS", "SPOKEN", "Concept", "Frame", "Sentence", "build_frame", "gloss_label", "load_vocabulary",
           "make_sentence", "parse_vocabulary", "sign_order", "text_to_content_words", "word_to_concept"]

SPOKEN = {"ASL": "en", "BSL": "en", "DGS": "de", "CSL": "zh"}
_TOKEN = re.compile(r"[^\W\d_]+(?:[-'][^\W\d_]+)*")  # words, with E-Mail and New York's parts kept whole
_ORDER = {"ASL": "T L POSS S NEG V O NUM D A", "BSL": "T L S POSS O NUM D V A NEG",
          "DGS": "T L POSS S O NUM D V A NEG", "CSL": "T POSS S L V NUM O D A NEG"}
_TOPICALISING = frozenset({"ASL", "BSL"})


@dataclass(frozen=True)
class Sentence:
    """A generated sentence: spoken text and its glosses in sign order."""

    text: str
    glosses: tuple[str, ...]   # gloss labels, in sign order
    concepts: tuple[str, ...]  # concept keys, in sign order (same length as glosses)
    words: tuple[str, ...]     # content words as they appear in the text, in text order


def _spoken(language: str) -> str:
    try:
        return SPOKEN[language]
    except KeyError:
        raise SignlibError(f"unknown sign language {language!r}; known: {', '.join(SPOKEN)}") from None


@functools.lru_cache(maxsize=None)
def _labels(language: str) -> dict[str, str]:
    spoken, labels, used = _spoken(language), {}, set()
    for c in load_vocabulary():
        word = c.words[spoken][0]
        base = word if spoken == "zh" else "-".join(word.upper().split())
        label, n = base, 1
        while label in used:  # two concepts with one canonical word: the later one is suffixed 2, 3, ...
            n += 1
            label = f"{base}{n}"
        used.add(label)
        labels[c.key] = label
    return labels


def gloss_label(concept: Concept | str, language: str) -> str:
    """Gloss of a concept's sign: ``HOUSE`` (ASL, BSL), ``HAUS`` (DGS), ``房子`` (CSL); unique per language."""
    key = concept if isinstance(concept, str) else concept.key
    try:
        return _labels(language)[key]
    except KeyError:
        raise SignlibError(f"concept {key!r} is not in the vocabulary") from None


@functools.lru_cache(maxsize=None)
def _index(spoken: str) -> tuple[dict[str, str], int]:
    """Every producible surface form (case-folded for en/de) → concept key, and the longest form's length."""
    index: dict[str, str] = {}
    for c in load_vocabulary():
        for form in tpl.inflections(c.key, c.pos, c.words[spoken], spoken):
            norm = form if spoken == "zh" else " ".join(form.casefold().split())
            if index.setdefault(norm, c.key) != c.key:
                # An ambiguous word would make text -> gloss unlearnable from the word alone.
                raise SignlibError(f"vocabulary.tsv: {spoken} word {form!r} belongs to {index[norm]!r} and {c.key!r}")
    longest = max(len(f) if spoken == "zh" else len(f.split()) for f in index)
    return index, longest


def word_to_concept(word: str, language: str) -> str | None:
    """Concept key of a content word as written in a text (synonyms, inflections; en/de ignore case)."""
    spoken = _spoken(language)
    index, _ = _index(spoken)
    return index.get(word if spoken == "zh" else " ".join(word.casefold().split()))


def text_to_content_words(text: str, language: str) -> list[str]:
    """The content words of a text, in order, as written (greedy longest match; Chinese by characters)."""
    spoken = _spoken(language)
    index, longest = _index(spoken)
    if spoken == "zh":
        units, starts, ends = list(text), range(len(text)), range(1, len(text) + 1)
    else:
        matches = list(_TOKEN.finditer(text))
        units = [m.group().casefold() for m in matches]
        starts, ends = [m.start() for m in matches], [m.end() for m in matches]
    sep = "" if spoken == "zh" else " "
    words, i = [], 0
    while i < len(units):
        for n in range(min(longest, len(units) - i), 0, -1):
            if sep.join(units[i:i + n]) in index:
                words.append(text[starts[i]:ends[i + n - 1]])
                i += n
                break
        else:  # a function word
            i += 1
    return words


# --- choosing what to say ------------------------------------------------------------------------------
_KIND_WEIGHT = {"trans": 5, "intrans": 2, "motion": 2, "adj": 2, "have": 1, "count": 1, "poss": 1}
_MOOD_WEIGHT = {"statement": 4, "neg": 2, "ynq": 1.5, "wh": 2.5}
_WH = {"trans": "what who where when why how", "intrans": "who where when why how",
       "motion": "who where when why how", "adj": "who why", "have": "what who why", "count": "", "poss": "why"}


@functools.lru_cache(maxsize=64)
def _pools(avail: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Candidate keys per role, restricted to the available concepts (cached per concept set)."""
    lex = _lexicon()
    keys = [c.key for c in load_vocabulary() if c.key in avail]
    p = {cls: tuple(k for k in words.split() if k in avail) for cls, words in tpl.CLASSES.items()}
    p["city"] = tuple(k for k in keys if lex[k].pos == "place" and lex[k].words["en"][0][0].isupper())
    p["site"] = tuple(k for k in keys if lex[k].pos == "place" and k not in p["city"])
    p["place"] = p["city"] + p["site"]
    p["agent"] = tuple(k for k in tpl.SUBJECT_PRONOUNS if k in avail) + tuple(
        k for k in keys if lex[k].pos == "name") + p["person"]
    for pos in ("time", "num", "question"):
        p[pos] = tuple(k for k in keys if lex[k].pos == pos)
    p["possessor"] = tuple(k for k in tpl.POSSESSIVES if k in avail)
    p["countable"] = tuple(k for k in tpl.COUNTABLE if k in avail) if {"have"} <= avail and p["num"] else ()

    def expand(spec: str) -> tuple[str, ...]:  # classes and single keys -> available keys
        return tuple(dict.fromkeys(k for item in spec.split() for k in p.get(item, (item,)) if k in avail))

    def usable(kind: str, table: dict[str, str], spec_of=lambda s: s) -> None:
        p[kind] = ()
        for word, spec in table.items():
            if word in avail and (fill := expand(spec_of(spec))):
                p[f"{kind}:{word}"], p[kind] = fill, p[kind] + (word,)

    usable("trans", tpl.TRANSITIVE)
    usable("intrans", tpl.INTRANSITIVE)
    usable("motion", tpl.MOTION)
    usable("adj", tpl.ADJECTIVES)
    usable("have", {"have": tpl.HAVE_OBJECTS})
    # Possessed subjects are nouns ("my mother", "my dog"), never pronouns or names.
    usable("poss", tpl.ADJECTIVES, lambda s: " ".join(c for c in s.replace("agent", "person").split()
                                                    if c in tpl.POSSESSABLE))
    if not p["possessor"]:
        p["poss"] = ()
    if not p["agent"]:
        for kind in ("trans", "motion", "have", "countable"):
            p[kind] = ()
    return p


def _picker(rng: np.random.Generator, weights: Mapping[str, float] | None):
    """``pick(items)``: uniform, or ∝ ``weights[item]`` within the pool (Zipf-like frequencies)."""
    if weights is None:
        return lambda items: items[int(rng.integers(len(items)))]

    def pick(items: Sequence[str]) -> str:
        w = np.array([weights[k] for k in items], dtype=float)
        return items[int(rng.choice(len(items), p=w / w.sum()))]
    return pick


def _weighted(rng: np.random.Generator, weights: dict[str, float]) -> str:
    names = list(weights)
    w = np.array([weights[n] for n in names], dtype=float)
    return names[int(rng.choice(len(names), p=w / w.sum()))]


def _roles(kind: str, rng: np.random.Generator, p: dict, pick) -> dict | None:
    """Concepts for one template kind (drawn by ``pick``); ``None`` when this draw cannot be filled."""
    place = (lambda: pick(p["place"]) if p["place"] and rng.random() < 0.3 else None)
    if kind in ("trans", "have"):
        verb = pick(p[kind])
        obj = pick(p[f"{kind}:{verb}"])
        agents = [a for a in p["agent"] if a != obj]
        loc = place() if kind == "trans" and verb not in tpl.STATIVE else None
        return agents and dict(subject=pick(agents), verb=verb, obj=obj, loc=loc)
    if kind == "intrans":
        verb = pick(p["intrans"])
        return dict(subject=pick(p[f"intrans:{verb}"]), verb=verb, loc=place())
    if kind == "motion":
        verb = pick(p["motion"])
        return dict(subject=pick(p["agent"]), verb=verb, dest=pick(p[f"motion:{verb}"]))
    if kind == "count":
        obj = pick(p["countable"])
        agents = [a for a in p["agent"] if a != obj]
        return agents and dict(subject=pick(agents), verb="have", number=pick(p["num"]), obj=obj)
    adj = pick(p[kind])
    subject = pick(p[f"{kind}:{adj}"])
    return dict(subject=subject, adj=adj, possessor=pick(p["possessor"]) if kind == "poss" else None)


def build_frame(rng: np.random.Generator, concepts: frozenset[str],
                weights: Mapping[str, float] | None = None) -> Frame:
    """Draw a frame (template, concepts, mood) from the available concept keys; 3 to 8 signs long.
    Each role is drawn from its pool uniformly, or with probability ∝ ``weights[key]``."""
    p, pick = _pools(concepts), _picker(rng, weights)
    kinds = {k: w for k, w in _KIND_WEIGHT.items() if p["countable" if k == "count" else k]}
    if not kinds:
        raise SignlibError(f"no sentence template can be filled from these {len(concepts)} concepts")
    for _ in range(64):
        kind = _weighted(rng, kinds)
        roles = _roles(kind, rng, p, pick)
        if not roles:
            continue
        if p["time"] and rng.random() < 0.5:
            roles["time"] = pick(p["time"])
        whs = [w for w in _WH[kind].split() if w in concepts and not (
            w == "who" and kind == "adj" and roles["subject"] not in p["agent"])]
        neg = "no" if kind == "have" else "not"
        moods = {m: w for m, w in _MOOD_WEIGHT.items()
                 if (m != "neg" or (neg in concepts and kind != "count")) and (m != "wh" or whs)}
        mood = _weighted(rng, moods)
        if mood == "neg":
            roles["neg"] = neg
        if mood == "wh":
            roles["wh"] = wh = pick(whs)
            slot = {"what": "obj", "who": "subject", "when": "time",
                    "where": "dest" if kind == "motion" else "loc"}.get(wh)
            if slot:
                roles[slot] = None
        frame = Frame(kind, mood, **roles, topic=bool(rng.random() < 0.35), definite=bool(rng.random() < 0.5),
                      front=bool(rng.random() < 0.5))
        if frame.size < 3 and frame.time is None and frame.wh != "when" and p["time"]:
            frame = dataclasses.replace(frame, time=pick(p["time"]))
        if 3 <= frame.size <= 8:
            return frame
    raise SignlibError(f"could not fill a sentence of 3 to 8 signs from these {len(concepts)} concepts")


# --- saying and signing it -----------------------------------------------------------------------------
def sign_order(frame: Frame, language: str) -> tuple[str, ...]:
    """Concept keys of a frame in the sign language's order (see the module docstring)."""
    roles, order = frame.roles(), _ORDER[language].split()
    if language in _TOPICALISING and frame.topic and "O" in roles:
        order = ["T", "O", "NUM"] + [r for r in order if r not in ("T", "O", "NUM")]
    return tuple([roles[r] for r in order if r in roles] + ([frame.wh] if frame.wh else []))


def _render(pieces: list[tpl.Piece], spoken: str) -> tuple[str, tuple[str, ...]]:
    """Text and its content words from realiser pieces: capitalised, spaced (not Chinese), punctuated."""
    first, key = pieces[0]
    pieces = [(first[:1].upper() + first[1:], key)] + pieces[1:]
    text = ""
    for surface, _ in pieces:
        text += surface if spoken == "zh" or not text or surface in ",.?" else " " + surface
    return text, tuple(surface for surface, key in pieces if key is not None)


def make_sentence(rng: np.random.Generator, language: str, concepts: Sequence[Concept | str] | None = None,
                  weights: Mapping[str, float] | None = None) -> Sentence:
    """One random sentence of ``language`` using only ``concepts`` (default: the whole vocabulary),
    each role drawn with probability ∝ ``weights`` within its pool (default: uniformly)."""
    spoken = _spoken(language)
    if not isinstance(rng, np.random.Generator):
        raise SignlibError(f"make_sentence needs a numpy.random.Generator, got {type(rng).__name__}")
    lex = _lexicon()
    keys = frozenset(lex) if concepts is None else frozenset(c if isinstance(c, str) else c.key for c in concepts)
    if unknown := sorted(keys - lex.keys()):
        raise SignlibError(f"concept {unknown[0]!r} is not in the vocabulary")
    if weights is not None and (missing := sorted(keys - weights.keys())):
        raise SignlibError(f"make_sentence: no frequency weight for concept {missing[0]!r}")
    frame = build_frame(rng, keys, weights)
    text, words = _render(REALISERS[spoken](frame, lex, rng), spoken)
    order = sign_order(frame, language)
    return Sentence(text, tuple(gloss_label(k, language) for k in order), order, words)
