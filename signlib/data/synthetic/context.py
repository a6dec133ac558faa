"""Signs in running signing: how an in-context form differs from its citation form (DESIGN §3).

A dictionary shows a sign in its citation form: full movement, every repetition, a final hold, at
its own location. In a sentence the same sign is reduced and coarticulated, as phonetic studies of
sign languages document:

- **Shorter.** Wilbur & Nolen (1986, *The duration of syllables in American Sign Language*,
  Language and Speech 29) found signs in sentence context shorter than the same signs in isolation.
- **Holds mostly dropped.** Liddell & Johnson (1989, *American Sign Language: the phonological
  base*, Sign Language Studies 64) describe the deletion of a citation form's holds in running
  signing; only a minority of in-context signs keep a final hold here.
- **Smaller movements, fewer cycles.** Mauk (2003, PhD thesis, *Undershoot in two modalities:
  evidence from fast speech and fast signing*, UT Austin) found movement and location undershoot
  in ASL that grows with signing rate. Repeated movements lose cycles (a 3-cycle repetition is
  usually made with 2, sometimes 1) as part of the same reduction; the cycle counts are our
  choice, not measured values.
- **Location undershoot, assimilation and lowering.** Tyrone & Mauk (2010, *Sign lowering and
  phonetic reduction in American Sign Language*, J. Phonetics 38) found forehead-located signs
  lowered, more so at faster rates. Grosvald & Corina (2012, Sign Language & Linguistics 15) measured
  location-to-location coarticulation in ASL, and Ormel, Crasborn & van der Kooij (2013,
  *Coarticulation of hand height in Sign Language of the Netherlands is affected by contact type*,
  J. Phonetics 41) found a sign's height pulled toward its neighbours', less for signs that contact
  the body. Here a sign's location moves toward the locations of the previous **and** the next
  sign, half as far for body-contact locations, and high locations drop.
- **Handshape anticipation.** Cheek (2001, PhD thesis, *The phonetics and phonology of handshape
  in American Sign Language*, UT Austin) found handshape coarticulation between neighbouring signs;
  here the hand moves part of the way toward the next sign's handshape over the sign's last part.

The degree of reduction ``r`` in ``[0, 1]`` varies per signer (``Style.reduction``), grows with the
signing rate, and varies a little from sign to sign. The effects are moderate on purpose: a
citation form copied into a sentence must stay a meaningful (if imperfect) approximation, as it is
for real dictionaries. Citation forms (the dictionary) are never passed through here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from signlib.data.synthetic.lexicon import LOCATIONS, SignSpec

#: Locations whose signs touch or nearly touch the body: half the assimilation (Ormel et al. 2013).
CONTACT = frozenset({"forehead", "eyes", "nose", "mouth", "chin", "cheek", "temple", "neck", "chest",
                     "shoulder_other", "shoulder", "stomach", "base_hand"})
_CYCLIC = frozenset({"circle", "repeated", "twist", "wiggle"})


@dataclass(frozen=True)
class InContext:
    """How one sign is performed in a sentence (all relative to its citation form)."""

    spec: SignSpec            # the sign with its in-context cycles and (smaller) movement size
    duration: float           # multiplies the sign's frames (before the signer's speed)
    shift: tuple[float, float, float]  # displacement of the sign's location, metres
    extent: float             # scales wrist-twist and finger-wiggle angles (1 = citation)
    next_handshape: str | None  # the following sign's first handshape (None: last sign)
    anticipation: float       # share of the way to ``next_handshape`` reached by the sign's end
    hold: int                 # frames of final hold (0: the hold is dropped)


def reduction_degree(reduction: float, rate: float, rng: np.random.Generator) -> float:
    """``r`` in ``[0, 1]`` for one sign: the signer's ``reduction`` scaled by the signing ``rate``
    (1 = average; faster signing reduces more, Mauk 2003) and a ±20% per-sign variation."""
    return float(np.clip(reduction * rate ** 1.5 * rng.uniform(0.8, 1.2), 0.0, 1.0))


def cycles(repeats: int, r: float, rng: np.random.Generator) -> int:
    """In-context cycles of a ``repeats``-cycle movement: one fewer usually, two fewer sometimes."""
    if repeats < 2:
        return repeats
    k = repeats - int(rng.random() < 0.25 + 0.7 * r)
    if k >= 2 and k < repeats and rng.random() < 0.3 * r:
        k -= 1
    return max(k, 1)


def location_shift(spec: SignSpec, prev: SignSpec | None, nxt: SignSpec | None, r: float) -> np.ndarray:
    """``(3,)`` metres: undershoot toward the neighbours' locations plus lowering of high signs."""
    here = np.array(LOCATIONS[spec.location])
    pulls = [np.array(LOCATIONS[s.location]) - here for s in (prev, nxt) if s is not None]
    toward = np.mean(pulls, axis=0) if pulls else np.zeros(3)
    share = 0.3 * r * (0.5 if spec.location in CONTACT else 1.0)
    shift = share * toward
    shift[1] -= 0.1 * r * max(0.0, here[1] - 0.1)  # forehead signs drop most (Tyrone & Mauk 2010)
    norm = np.linalg.norm(shift)
    return shift * min(1.0, 0.08 / norm) if norm > 0 else shift  # never leave the location's region


def in_context(spec: SignSpec, prev: SignSpec | None, nxt: SignSpec | None, r: float,
               rng: np.random.Generator) -> InContext:
    """The in-context form of ``spec`` between ``prev`` and ``nxt`` (None at the sentence's edges)
    at reduction degree ``r`` (:func:`reduction_degree`)."""
    k = cycles(spec.repeats, r, rng) if spec.movement in _CYCLIC else spec.repeats
    reduced = dataclasses.replace(spec, repeats=k, size=spec.size * (1.0 - 0.35 * r))
    # Shorter in context (Wilbur & Nolen 1986), shorter still at higher reduction, minus the time of
    # dropped cycles; a sign that is only a hold (pointing) shortens most: its hold is what goes.
    duration = rng.uniform(0.78, 0.92) * (1.0 - 0.2 * r) * (0.5 + 0.5 * k / max(spec.repeats, 1))
    if spec.movement == "hold":
        duration *= 1.0 - 0.3 * r
    hold = int(rng.integers(2, 5)) if rng.random() < 0.15 * (1.0 - r) else 0
    nxt_shape = None if nxt is None else nxt.handshape
    anticipation = 0.0 if nxt_shape in (None, spec.handshape_end) else 0.2 + 0.4 * r
    shift = location_shift(spec, prev, nxt, r)
    return InContext(reduced, float(duration), tuple(float(v) for v in shift), 1.0 - 0.3 * r, nxt_shape,
                     float(anticipation), hold)
