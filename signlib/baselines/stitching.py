"""Naive sign stitching: the dictionary's citation forms laid end to end, joined by interpolation.

This is the baseline of SignSparK's stitching task (Table 1b) and what a dictionary-lookup
production system does: look every gloss up in an isolated-sign dictionary, cut the sign out of its
citation clip, and join consecutive signs with interpolated transitions (SLERP of the joint
rotations for ``rot6d``, straight lines for ``xyz``). The real-data ``*_updated.pose`` files of
``../shared/realdata`` were made the same way.

The timeline is the one :func:`signlib.triframe.retrieval_keyframes` lays out for SignSparK
stitching (``padding`` frames before, between and after the signs; each sign as long as its
citation span, at least 3 frames), so both systems produce sequences of the same length and pass
through the same onset/mid/offset keyframes. What differs is everything in between: the naive
system copies the citation frames verbatim and interpolates the transitions; SignSparK generates
both. The first ``padding`` frames travel from the first citation clip's opening (rest) pose to the
first sign, and the last ones from the last sign back to the last clip's closing pose.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch

from signlib.data.corpus import Corpus
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.pose.rotation import slerp_keyframes
from signlib.triframe import RETRIEVAL_PADDING, TriframeDictionary, retrieval_keyframes

#: ``(language, gloss)`` → the citation clip of that sign.
Citations = Mapping[tuple[str, str], Sequence]


def load_citations(dictionary: Corpus) -> dict[tuple[str, str], Sequence]:
    """Every citation clip of an isolated-sign dictionary corpus, keyed by ``(language, gloss)``.

    A clip must hold exactly one gloss; two clips for the same sign are an error (which one
    stitching used would be arbitrary)."""
    out: dict[tuple[str, str], Sequence] = {}
    for info in dictionary.select():
        if len(info.glosses) != 1:
            raise SignlibError(f"{dictionary.root}: citation clip {info.id!r} has {len(info.glosses)} glosses, "
                               "expected exactly one")
        key = (info.language, info.glosses[0])
        if key in out:
            raise SignlibError(f"{dictionary.root}: two citation clips for {key[1]!r} in {key[0]} "
                               f"({out[key].id!r} and {info.id!r})")
        out[key] = dictionary.load(info.id)
    return out


def naive_stitch(citations: Citations, dictionary: TriframeDictionary, glosses, language: str,
                 padding: int = RETRIEVAL_PADDING, text: str = "") -> Sequence:
    """Stitch the citation forms of ``glosses`` into one sequence.

    Args:
        citations: ``(language, gloss)`` → citation clip (:func:`load_citations`).
        dictionary: the tri-frame dictionary: where the segmenter found each sign inside its
            citation clip (``spans``), and the timeline (:func:`~signlib.triframe.retrieval_keyframes`).
        glosses: the signs in order; a gloss without a citation clip or dictionary entry is an error.
        language: sign language of the glosses.
        padding: frames of transition before, between and after the signs (>= 1).
        text: stored on the result.
    Returns:
        A sequence of ``padding + Σ (d_i + padding)`` frames (``d_i`` = the sign's span length, at
        least 3) in the citations' layout, with one segment per sign.
    """
    glosses = list(glosses)
    if not glosses:
        raise SignlibError("naive_stitch: no glosses to stitch")
    for g in glosses:
        if (language, g) not in citations or not dictionary.has(language, g):
            raise SignlibError(f"naive_stitch: no citation form of gloss {g!r} in {language}")
    timeline = retrieval_keyframes(dictionary, language, glosses, padding)
    layouts = {citations[(language, g)].layout for g in glosses}
    if len(layouts) != 1:
        raise SignlibError(f"naive_stitch: citation clips mix layouts {sorted(layouts)}")
    first, last = citations[(language, glosses[0])], citations[(language, glosses[-1])]
    T = timeline.num_frames
    out = np.zeros((T, first.features.shape[1]), np.float32)
    known = [0, T - 1]
    out[0], out[T - 1] = first.features[0], last.features[-1]
    for segment in timeline.segments:
        clip = citations[(language, segment.gloss)]
        start, end = dictionary.spans[(language, segment.gloss)]
        if not 0 <= start < end <= clip.num_frames:
            raise SignlibError(f"naive_stitch: span {(start, end)} of {segment.gloss!r} ({language}) lies outside "
                               f"its {clip.num_frames}-frame citation clip {clip.id!r}")
        piece = clip.features[start:end]
        if len(piece) < segment.end - segment.start:  # the timeline gives every sign at least 3 frames
            piece = np.concatenate([piece, np.repeat(piece[-1:], segment.end - segment.start - len(piece), axis=0)])
        out[segment.start:segment.end] = piece
        known.extend(range(segment.start, segment.end))
    # Every frame that is not copied from a citation is interpolated between its copied neighbours.
    filled = slerp_keyframes(torch.from_numpy(out), known, first.layout).numpy()
    filled[known] = out[known]  # copied frames stay bit-exact (SLERP re-orthonormalises them)
    return Sequence(filled, first.layout, first.fps, segments=timeline.segments, text=text, language=language,
                    id="naive_stitch", meta={"keyframes": []})
