"""Lexicons: every concept's sign in each language, drawn from phonological parameters.

A sign (:class:`SignSpec`) is a handshape (possibly changing inside the sign), a location, a
movement, a palm orientation and a hand arrangement (one-handed, two-handed symmetric, or a
dominant hand acting on a passive base hand). Each language draws its own lexicon from its own
random stream; BSL copies a minority of ASL's signs (:data:`BSL_SHARED_WITH_ASL`), as related
sign languages share some lexical items while most differ. Pronouns are pointing signs in every
language, as they are in real sign languages.

Positions are wrist targets in metres in the spine3 frame of a right-dominant signer (``x`` to the
signer's left, ``y`` up, ``z`` forward); left-dominant signers are mirrored later.

**Frequencies.** Corpus studies of sign languages find what word counts of spoken languages find:
a handful of sign types make up a large share of all tokens while most types are rare, a Zipfian
distribution. Johnston (2012, *Lexical frequency in sign languages*, J. Deaf Stud. Deaf Educ. 17)
showed it on the Auslan Corpus, Fenlon, Schembri, Rentelis, Vinson & Cormier (2014, *Using
conversational data to determine lexical frequency in British Sign Language*, Lingua 143) on the
BSL Corpus, and Börstell, Hörberg & Östling (2016, *Distribution and duration of signs and parts of
speech in Swedish Sign Language*, Sign Language & Linguistics 19) on the Swedish Sign Language
Corpus. In the Auslan and BSL counts pointing signs (pronouns) are among the most frequent signs of
all, so they rank first here. :func:`frequency_ranks` gives every concept a seeded rank per
language (1 = most frequent; a shared score plus the language's own noise, so ranks correlate across
languages, as frequent meanings tend to be frequent in every community, but differ), and the
sentence generator draws each role from its template pool (the subjects, the verbs, the objects of
one verb, the times, ...) with weight ``1 / rank ** s`` (:func:`zipf_weights`).

The exponent: Zipf's law for word frequencies has a rank-frequency slope near 1 (Zipf 1949;
Piantadosi 2014, Psychon. Bull. Rev. 21, reviews fits across languages); the sign-language studies
above report the Zipfian shape and we take no exponent from them. Drawing within pools flattens the
distribution (every pool's best-ranked member is used often), so a draw exponent ``s = 2``
(:data:`DEFAULT_ZIPF`, every profile) gives sentences whose sign tokens have a rank-frequency slope
near 1 (0.86-0.99 per language over the 50 most frequent types of the default corpus, seed 0).
There, with 180 training sentences per language, the median test token is a sign seen 16 to 18
times in training, while 10-18% of test tokens are signs seen fewer than 3 times and 2-6% were never
seen (uniform draws gave a median of 3 or 4, 41-46% and 12-17%).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from signlib.data.synthetic import handshapes
from signlib.errors import SignlibError

#: Wrist targets of the dominant (right) hand at each location: contact points on the body sit
#: a hand's length above and behind these.
LOCATIONS: dict[str, tuple[float, float, float]] = {
    "forehead": (-0.06, 0.33, 0.17), "eyes": (-0.06, 0.29, 0.18), "nose": (-0.05, 0.26, 0.19),
    "mouth": (-0.05, 0.22, 0.20), "chin": (-0.05, 0.18, 0.20), "cheek": (-0.11, 0.25, 0.17),
    "temple": (-0.14, 0.29, 0.13), "neck": (-0.06, 0.10, 0.19), "chest": (-0.05, 0.0, 0.20),
    "shoulder_other": (0.05, 0.07, 0.20), "shoulder": (-0.15, 0.05, 0.21), "stomach": (-0.05, -0.17, 0.20),
    "neutral": (-0.08, -0.04, 0.32), "neutral_high": (-0.08, 0.14, 0.33), "neutral_low": (-0.08, -0.11, 0.27),
    "side": (-0.25, -0.05, 0.22), "base_hand": (-0.01, 0.0, 0.30),
}
_FACE = ("forehead", "eyes", "nose", "mouth", "chin", "cheek", "temple")
#: Where the passive base hand waits, and where a symmetric sign's other hand mirrors to.
BASE_HAND = (0.07, -0.08, 0.28)

#: Palm orientations: (finger direction, palm normal) of the dominant right hand.
ORIENTATIONS: dict[str, tuple[tuple[float, float, float], tuple[float, float, float]]] = {
    "down_forward": ((0.0, 0.0, 1.0), (0.0, -1.0, 0.0)),
    "up_forward": ((0.0, 0.1, 1.0), (0.0, 1.0, 0.0)),
    "in_forward": ((0.0, 0.0, 1.0), (1.0, 0.0, 0.0)),
    "body_up": ((0.0, 1.0, 0.2), (0.0, 0.0, -1.0)),
    "away_up": ((0.0, 1.0, 0.0), (0.0, 0.0, 1.0)),
    "in_up": ((0.0, 1.0, 0.3), (1.0, 0.0, 0.0)),
    "body_across": ((1.0, 0.2, 0.3), (0.0, 0.0, -1.0)),
    "down_across": ((1.0, 0.0, 0.6), (0.0, -1.0, 0.0)),
}
_FACE_ORIENTATIONS = ("body_up", "in_up", "body_across", "away_up")

MOVEMENTS = ("hold", "straight", "arc", "circle", "zigzag", "repeated", "twist", "wiggle")
_MOVEMENT_P = np.array([0.12, 0.2, 0.14, 0.12, 0.08, 0.16, 0.09, 0.09])
#: Movement directions (unit vectors after normalisation).
DIRECTIONS = ((0, 1, 0), (0, -1, 0), (0, 0, 1), (1, 0, 0), (-1, 0, 0), (1, 1, 0), (-1, 1, 0), (0, 1, 1), (1, 0, 1))
HANDS = ("one", "sym", "base")
_HANDS_P = np.array([0.55, 0.27, 0.18])
#: Share of BSL signs that are ASL's sign for the same concept.
BSL_SHARED_WITH_ASL = 0.25
#: The concept-draw exponent ``s`` of every profile (see the module docstring).
DEFAULT_ZIPF = 2.0
#: Spread of a language's own rank noise relative to the shared score (0: one order for all).
_RANK_SPREAD = 0.6


@dataclass(frozen=True)
class SignSpec:
    """The phonological form of one sign (right-dominant)."""

    key: str                 # concept key
    gloss: str               # gloss label in its language
    hands: str               # one | sym | base
    handshape: str           # dominant handshape at the start
    handshape_end: str       # ... and at the end (a handshape change when different)
    base_handshape: str      # the passive hand's handshape (``base`` signs)
    location: str
    movement: str
    orientation: str
    direction: tuple[float, float, float]
    size: float              # movement extent, metres
    repeats: int             # cycles of circle / repeated / twist / wiggle
    alternating: bool        # ``sym`` signs: the hands move half a cycle apart
    duration: int            # citation-form frames at 25 fps (the sign proper)


def _pronoun(key: str, gloss: str, rng: np.random.Generator) -> SignSpec:
    # First person points at the chest, second forward, third to the side; plurals sweep an arc.
    plural = key in ("we", "they", "you_pl")
    loc, direction = {"i": ("chest", (0, 0, 1)), "me": ("chest", (0, 0, 1)), "we": ("chest", (1, 0, 0)),
                      "you": ("neutral", (0, 0, 1))}.get(key, ("side", (-1, 0, 0)))
    return SignSpec(key, gloss, "one", "1", "1", "B", loc, "arc" if plural else "hold",
                    "in_forward", direction, 0.12 if plural else 0.0, 1, False, int(rng.integers(10, 15)))


def draw_sign(key: str, gloss: str, pos: str, rng: np.random.Generator) -> SignSpec:
    """Draw one sign's parameters."""
    if pos == "pron":
        return _pronoun(key, gloss, rng)
    hands = HANDS[rng.choice(3, p=_HANDS_P)]
    names = handshapes.NAMES
    shape = names[rng.choice(len(names), p=handshapes.FREQUENCY)]
    end = names[rng.choice(len(names), p=handshapes.FREQUENCY)] if rng.random() < 0.18 else shape
    if hands == "base":
        location = "base_hand"
    elif hands == "sym":
        location = str(rng.choice(["neutral", "neutral_high", "neutral_low", "chest", "side", "shoulder"]))
    else:
        location = str(rng.choice([loc for loc in LOCATIONS if loc != "base_hand"]))
    movement = MOVEMENTS[rng.choice(len(MOVEMENTS), p=_MOVEMENT_P)]
    orient_pool = _FACE_ORIENTATIONS if location in _FACE else tuple(ORIENTATIONS)
    direction = DIRECTIONS[rng.integers(len(DIRECTIONS))]
    size = float(rng.uniform(0.05, 0.1) if location in _FACE else rng.uniform(0.07, 0.18))
    repeats = int(rng.integers(1, 3)) if movement == "circle" else int(rng.integers(2, 4))
    base_duration = {"hold": (10, 15), "repeated": (18, 26), "wiggle": (16, 24), "circle": (16, 24)}
    lo, hi = base_duration.get(movement, (13, 21))
    return SignSpec(key, gloss, hands, shape, end, str(rng.choice(["B", "S", "5", "C", "1"])), location, movement,
                    str(rng.choice(orient_pool)), tuple(float(v) for v in direction), size, repeats,
                    bool(hands == "sym" and rng.random() < 0.4), int(rng.integers(lo, hi)))


def build_lexicons(concepts, labels: dict[str, dict[str, str]], languages, seed: int) -> dict[str, dict[str, SignSpec]]:
    """``{language: {concept key: SignSpec}}``.

    Args:
        concepts: the concepts to sign, each with ``key`` and ``pos``.
        labels: ``{language: {concept key: gloss label}}``.
        languages: sign languages, e.g. ``("ASL", "BSL", "DGS", "CSL")``.
        seed: the corpus seed; each language draws from its own stream of it.
    """
    out: dict[str, dict[str, SignSpec]] = {}
    for lang in sorted(languages, key=lambda x: x != "ASL"):  # ASL first: BSL borrows from it
        rng = np.random.default_rng([seed, sum(map(ord, lang)), 17])
        lex = {}
        for c in concepts:
            spec = draw_sign(c.key, labels[lang][c.key], c.pos, rng)
            borrow = rng.random() < BSL_SHARED_WITH_ASL
            if lang == "BSL" and "ASL" in out and borrow and c.key in out["ASL"]:
                spec = SignSpec(**{**out["ASL"][c.key].__dict__, "gloss": labels[lang][c.key]})
            lex[c.key] = spec
        out[lang] = lex
    return out


def frequency_ranks(concepts: Iterable, language: str, seed: int) -> dict[str, int]:
    """``{concept key: rank}``, a permutation of ``1..N`` (1 = most frequent) for one language.

    Args:
        concepts: concepts with ``key`` and ``pos``, in a fixed order (e.g. the vocabulary's).
        language: the sign language; its ranks differ from (but correlate with) the others'.
        seed: the corpus seed.
    """
    concepts = list(concepts)
    shared = np.random.default_rng([seed, 23]).normal(size=len(concepts))
    own = np.random.default_rng([seed, sum(map(ord, language)), 23]).normal(size=len(concepts))
    score = shared + _RANK_SPREAD * own
    # Pointing signs first (see the module docstring), then every other concept by its score.
    order = sorted(range(len(concepts)), key=lambda i: (concepts[i].pos != "pron", -score[i]))
    return {concepts[i].key: rank for rank, i in enumerate(order, start=1)}


def zipf_weights(ranks: Mapping[str, int], exponent: float) -> dict[str, float]:
    """``{concept key: rank ** -exponent}``, unnormalised (each template pool normalises what it
    holds); ``exponent = 0`` gives every concept the same weight, the uniform draw."""
    if not exponent >= 0:
        raise SignlibError(f"Zipf exponent {exponent!r} must be >= 0")
    return {k: float(r) ** -exponent for k, r in ranks.items()}
