"""The tri-frame sign dictionary: three keyframes (onset, midpoint, offset) per gloss and language.

Built from isolated citation forms: the segmenter finds the sign inside each citation clip (from
its first predicted onset to its last predicted offset: a citation clip holds one sign) and its
onset, mid and offset frames are kept. Retrieval text-to-pose and sign stitching look signs up
here and lay their keyframes out on one timeline (:func:`retrieval_keyframes`), which SignSparK
generates through and naive stitching fills with citation frames. Stored as one ``.npz`` (no pickles):

``languages`` (N,) str, ``glosses`` (N,) str, ``frames`` (N, 3, D) float32, ``spans`` (N, 2) int64
(the sign span found in the citation clip), ``found`` (N,) bool (False where the segmenter found
nothing and the middle third of the clip was used), ``layout`` () str.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError, file_error
from signlib.io import write_npz
from signlib.keyframes import Keyframes, segment_keyframes

#: Frames of padding before, between and after retrieved signs (the paper's fixed 8 frames).
RETRIEVAL_PADDING = 8


@dataclass(frozen=True)
class TriframeDictionary:
    """``frames[(language, gloss)]`` → ``(3, D)`` keyframe features."""

    layout: str
    frames: dict[tuple[str, str], np.ndarray]
    spans: dict[tuple[str, str], tuple[int, int]]
    found: dict[tuple[str, str], bool]

    def __len__(self) -> int:
        return len(self.frames)

    def lookup(self, language: str, gloss: str) -> np.ndarray:
        try:
            return self.frames[(language, gloss)]
        except KeyError:
            raise SignlibError(f"no dictionary entry for gloss {gloss!r} in {language}") from None

    def has(self, language: str, gloss: str) -> bool:
        return (language, gloss) in self.frames

    def languages(self) -> list[str]:
        return sorted({lang for lang, _ in self.frames})

    def save(self, path: str | os.PathLike) -> None:
        keys = sorted(self.frames)
        write_npz(path, {
            "languages": np.array([k[0] for k in keys], dtype=str),
            "glosses": np.array([k[1] for k in keys], dtype=str),
            "frames": np.stack([self.frames[k] for k in keys]).astype(np.float32),
            "spans": np.array([self.spans[k] for k in keys], dtype=np.int64).reshape(-1, 2),
            "found": np.array([self.found[k] for k in keys], dtype=bool),
            "layout": np.array(self.layout)})

    @staticmethod
    def load(path: str | os.PathLike) -> "TriframeDictionary":
        try:
            with np.load(path, allow_pickle=False) as z:
                keys = list(zip(z["languages"].tolist(), z["glosses"].tolist()))
                frames, spans, found, layout = z["frames"], z["spans"], z["found"], str(z["layout"])
        except FileNotFoundError:
            raise file_error(path, "tri-frame dictionary not found (run the `keyframes` stage)") from None
        except (OSError, KeyError, ValueError) as err:
            raise file_error(path, f"not a tri-frame dictionary ({type(err).__name__}: {err})") from None
        return TriframeDictionary(layout, {k: f for k, f in zip(keys, frames)},
                                  {k: (int(a), int(b)) for k, (a, b) in zip(keys, spans.tolist())},
                                  {k: bool(f) for k, f in zip(keys, found.tolist())})


def citation_span(predicted: list[tuple[int, int]], num_frames: int) -> tuple[tuple[int, int], bool]:
    """The sign span of a citation clip: from the first predicted onset to the last predicted
    offset (a citation clip holds exactly one sign, so several predicted pieces are one sign that
    the segmenter split, e.g. at a repetition or a final hold); else the middle third."""
    if predicted:
        return (min(s[0] for s in predicted), max(s[1] for s in predicted)), True
    third = max(1, num_frames // 3)
    return (third, min(num_frames, 2 * third)), False


def build_triframe(citations: list[Sequence], predicted: dict[str, list[tuple[int, int]]]) -> TriframeDictionary:
    """Tri-frame dictionary from citation clips (one gloss each) and their predicted segments."""
    if not citations:
        raise SignlibError("no citation clips to build a tri-frame dictionary from")
    layout = citations[0].layout
    frames, spans, found = {}, {}, {}
    for seq in citations:
        if len(seq.segments) != 1:
            raise SignlibError(f"{seq.id}: a citation clip must have exactly one gloss, has {len(seq.segments)}")
        key = (seq.language, seq.segments[0].gloss)
        span, ok = citation_span(predicted.get(seq.id, []), seq.num_frames)
        start, end = span
        # Always three rows (onset, mid, offset), repeated for signs shorter than three frames.
        frames[key] = seq.features[list(segment_keyframes(start, end))]
        spans[key], found[key] = span, ok
    return TriframeDictionary(layout, frames, spans, found)


def retrieval_keyframes(dictionary: TriframeDictionary, language: str, glosses,
                        padding: int = RETRIEVAL_PADDING) -> Keyframes:
    """Keyframes of ``glosses`` laid out on one timeline: ``padding`` frames, then each sign's
    onset/mid/offset spaced by its citation duration (at least 3 frames), ``padding`` frames between
    signs and at the end. Glosses missing from the dictionary are an error naming them."""
    glosses = list(glosses)
    if not glosses:
        raise SignlibError("no glosses to retrieve")
    if isinstance(padding, bool) or not isinstance(padding, int) or padding < 1:
        raise SignlibError(f"retrieval padding={padding!r} must be an integer >= 1")
    frames, feats, segments, t = [], [], [], padding
    for g in glosses:
        triple = dictionary.lookup(language, g)                      # (3, D)
        start, end = dictionary.spans[(language, g)]
        d = max(end - start, 3)
        frames += segment_keyframes(t, t + d)
        feats += list(triple)
        segments.append(Segment(t, t + d, g))
        t += d + padding
    return Keyframes(np.array(frames), np.stack(feats), t, tuple(segments))
