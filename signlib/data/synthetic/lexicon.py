"""Lexicons: every concept's sign in each language, drawn from phonological parameters.

A sign (:class:`SignSpec`) is a handshape (possibly changing inside the sign), a location, a
movement, a palm orientation and a hand arrangement (one-handed, two-handed symmetric, or a
dominant hand acting on a passive base hand). Each language draws its own lexicon from its own
random stream; BSL copies a minority of ASL's signs (:data:`BSL_SHARED_WITH_ASL`), as related
sign languages share some lexical items while most differ. Pronouns are pointing signs in every
language, as they are in real sign languages.

Positions are wrist targets in metres in the spine3 frame of a right-dominant signer (``x`` to the
signer's left, ``y`` up, ``z`` forward); left-dominant signers are mirrored later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signlib.data.synthetic import handshapes

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
