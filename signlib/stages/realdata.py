"""The real-data check's inputs: the 32 DGS sentences of the real-data folder (tiny, out of domain).

Each sentence comes twice (see the folder's MANIFEST): ``original``, the real signing of its gloss
spans re-joined, and ``updated``, the same glosses replaced by their DGS-Types citation forms and
stitched: a real *naive dictionary stitching* of the sentence. Both are MediaPipe keypoints
(``xyz_mediapipe``) in image units; here every clip is normalised to the shoulders (centre at
the mid-shoulder point, mean shoulder width 1), so scores are in **shoulder widths**, not metres.

What the check asks, on the 16 ``test_*`` sentences: keyframe-to-pose from the onset/mid/offset
frames of the signs FAST finds (FAST was trained only on the corpus), by SLERP and by a SignSparK
trained on the 16 ``train_*`` sentences (stage ``train_realdata``); and how far the ``updated``
stitching is from the real sentence. Sentences in which FAST finds no sign have no keyframes; they
are left out of the KF2P comparison and counted. The folder is checked against the committed
``realdata.json`` first (:func:`signlib.data.realdata.checked_realdata_dir`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signlib.data.realdata import checked_realdata_dir, dgs_fluent_sentences
from signlib.data.sequence import Sequence
from signlib.generate.data import GenClip, to_genclip
from signlib.keyframes import onset_mid_offset
from signlib.pose.normalize import normalize_features
from signlib.segment.decode import DecodeConfig
from signlib.segment.evaluation import sequence_segments


@dataclass(frozen=True)
class RealSentence:
    """One real DGS sentence: the ``original`` signing, its naive ``stitched`` version, the split
    of the source data (``train``/``test``) and the FAST keyframes of the original."""

    original: Sequence
    stitched: Sequence
    split: str
    keyframes: np.ndarray


def _normalised(seq: Sequence) -> Sequence:
    return seq.replace(features=normalize_features(seq.features, seq.layout, seq.valid_or_all()))


def load_real_sentences(segmenter, decode: DecodeConfig) -> list[RealSentence]:
    """The real DGS sentences, normalised, with FAST keyframes; ``[]`` when the folder is absent."""
    root = checked_realdata_dir()
    if root is None:
        return []
    stitched = {ann.id: seq for seq, ann in dgs_fluent_sentences(root, "updated")}
    out = []
    for seq, ann in dgs_fluent_sentences(root, "original"):
        orig = _normalised(seq)
        keys = onset_mid_offset(sequence_segments(segmenter, orig, decode), orig.num_frames)
        out.append(RealSentence(orig, _normalised(stitched[ann.id]), "train" if seq.id.startswith("train") else "test",
                                keys))
    return out


def training_clips(sentences: list[RealSentence]) -> list[GenClip]:
    """Generator training clips from the ``train`` sentences that have FAST keyframes (text = the
    German translation)."""
    return [to_genclip(s.original, s.keyframes) for s in sentences if s.split == "train" and len(s.keyframes)]


def kf2p_sentences(sentences: list[RealSentence]) -> tuple[list[RealSentence], int]:
    """The ``test`` sentences with at least one FAST keyframe, and how many were left out."""
    test = [s for s in sentences if s.split == "test"]
    kept = [s for s in test if len(s.keyframes)]
    return kept, len(test) - len(kept)
