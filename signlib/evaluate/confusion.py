"""Which sign language a generated sentence looks like: the ASL/BSL confusion of Fig 5a.

ASL and BSL both take English text, so a generator without the language token cannot tell from
the text which of the two lexicons to sign in. To see whether it mixes them up, each generated
sentence is compared with the sentence's gold glosses signed in each candidate language: the
citation forms of those glosses from that language's dictionary, stitched naively
(:func:`signlib.baselines.stitching.naive_stitch`). The sentence counts as signed in the language
whose rendering is nearer in DTW-JPE (body + hands per step; DTW absorbs the difference in
timing). This is a sentence-level judgement: signs the two lexicons share (BSL copies a minority
of ASL's) pull both distances alike, and a sentence is assigned to whichever lexicon its signs
match more of.
"""

from __future__ import annotations

import numpy as np

from signlib.baselines.stitching import Citations, naive_stitch
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.evaluate.production import score
from signlib.triframe import TriframeDictionary


def renderings(truth: Sequence, citations: Citations, dictionary: TriframeDictionary,
               languages: tuple[str, ...]) -> dict[str, Sequence] | None:
    """The truth's gold glosses stitched from each language's citation forms; None when a gloss
    has no citation form in one of ``languages`` (that sentence cannot be judged)."""
    try:
        return {lang: naive_stitch(citations, dictionary, truth.glosses, lang) for lang in languages}
    except SignlibError:
        return None


def nearest_language(generated: list[Sequence], truths: list[Sequence], citations: Citations,
                     dictionary: TriframeDictionary, languages: tuple[str, ...] = ("ASL", "BSL")) -> list[dict]:
    """One row per judged sentence: ``id``, ``language`` (the truth's), ``dist_<lang>`` (cm per
    step, body + hands) for each candidate, ``nearest`` and ``margin`` (distance to the nearest
    other language minus distance to the own one, cm; positive = nearer its own lexicon)."""
    rows = []
    for pred, truth in zip(generated, truths):
        if truth.language not in languages:
            raise SignlibError(f"{truth.id}: language {truth.language} is not among {languages}")
        refs = renderings(truth, citations, dictionary, languages)
        if refs is None:
            continue
        dist = {}
        for lang, ref in refs.items():
            s = score(pred, ref, procrustes=False)
            dist[lang] = 100.0 * (s["body_mean"] + s["hand_mean"])
        nearest = min(dist, key=dist.get)
        other = min(d for lang, d in dist.items() if lang != truth.language)
        rows.append({"id": truth.id, "language": truth.language, **{f"dist_{k}": v for k, v in dist.items()},
                     "nearest": nearest, "margin": other - dist[truth.language]})
    return rows


def confusion_matrix(rows: list[dict], languages: tuple[str, ...] = ("ASL", "BSL")) -> np.ndarray:
    """``(L, L)`` shares: row = the sentence's language, column = the lexicon it is nearest to
    (each row sums to 1; NaN for a language without judged sentences)."""
    m = np.zeros((len(languages), len(languages)))
    for r in rows:
        m[languages.index(r["language"]), languages.index(r["nearest"])] += 1
    with np.errstate(invalid="ignore"):
        return m / m.sum(1, keepdims=True)


def confusion_rate(rows: list[dict]) -> float:
    """Share of judged sentences nearer another language's lexicon than their own (NaN if none)."""
    return float(np.mean([r["nearest"] != r["language"] for r in rows])) if rows else float("nan")
