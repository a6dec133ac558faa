"""Keyframe-to-pose by how often a sign was seen in training.

A learnt in-betweener can only know the inside of a sign (a circle, a repeated tap, a wiggle)
from training examples of that sign; interpolation knows nothing of any sign. So the gain of
SignSparK over SLERP should grow with the sign's training frequency, and a Zipfian corpus makes
most tokens frequent. This module scores both inside the gold span of every test sign and groups
the signs into frequency bins (seen ≥ 10, 3–9 and < 3 times in the language's training split).

Each sign is scored with the same DTW-JPE as the tables (body and wrist-relative hands, per-step
mean in metres), on the frames ``[start, end)`` of its gold segment in the truth and in the
generated sequence, which keyframe-to-pose keeps frame-aligned with the truth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np
from tqdm.auto import tqdm

from signlib.data.sequence import Sequence
from signlib.evaluate.production import crop, score
from signlib.errors import SignlibError

#: ``(label, metrics key, lowest count, highest count)`` of each bin, most frequent first.
BINS = (("seen >= 10", "seen_10_plus", 10, None), ("seen 3-9", "seen_3_to_9", 3, 9),
        ("seen < 3", "seen_under_3", 0, 2))
#: Gold segments shorter than this many frames are left out (DTW over 1-2 frames says nothing).
MIN_FRAMES = 3


def training_counts(clips: Iterable) -> Counter:
    """``{(language, gloss): occurrences}`` over the training clips (anything with ``split``,
    ``language`` and ``glosses``, e.g. :class:`~signlib.data.corpus.ClipInfo`)."""
    out: Counter = Counter()
    for c in clips:
        if c.split == "train":
            out.update((c.language, g) for g in c.glosses)
    return out


def frequency_bin(count: int) -> str:
    """The :data:`BINS` label of a sign seen ``count`` times."""
    for label, _, low, high in BINS:
        if count >= low and (high is None or count <= high):
            return label
    raise SignlibError(f"frequency_bin: a count must be >= 0, got {count}")


def sign_rows(outputs: dict[str, list[Sequence]], truths: list[Sequence], counts: Counter,
              progress: bool = False) -> list[dict]:
    """One row per (system, gold test sign): ``system``, ``language``, ``gloss``, ``seen``, ``bin``,
    ``body_mean``, ``hand_mean`` (DTW-JPE per step inside the sign's span, metres).

    Args:
        outputs: ``{system: sequences}``, each frame-aligned with ``truths`` (same lengths).
        truths: test sequences with gold ``segments``.
        counts: :func:`training_counts`.
    """
    rows = []
    for name, generated in outputs.items():
        if len(generated) != len(truths):
            raise SignlibError(f"sign_rows: system {name!r} has {len(generated)} outputs for {len(truths)} truths")
        for truth, pred in tqdm(list(zip(truths, generated)), desc=name, disable=not progress, leave=False):
            if pred.num_frames != truth.num_frames:
                raise SignlibError(f"{truth.id}: system {name!r} changed the length ({pred.num_frames} vs "
                                   f"{truth.num_frames} frames); per-sign spans need frame-aligned outputs")
            for seg in truth.segments:
                if seg.end - seg.start < MIN_FRAMES:
                    continue
                seen = counts[(truth.language, seg.gloss)]
                s = score(crop(pred, seg.start, seg.end), crop(truth, seg.start, seg.end), procrustes=False)
                rows.append({"system": name, "language": truth.language, "gloss": seg.gloss, "seen": seen,
                             "bin": frequency_bin(seen), "body_mean": s["body_mean"], "hand_mean": s["hand_mean"]})
    return rows


def bin_summary(rows: list[dict]) -> list[dict]:
    """Per bin × system: ``bin``, ``key`` (its metrics key), ``signs`` and the mean ``body_mean`` /
    ``hand_mean`` (metres), bins in :data:`BINS` order; empty bins are left out."""
    out = []
    for label, key, _, _ in BINS:
        for system in dict.fromkeys(r["system"] for r in rows):
            sel = [r for r in rows if r["bin"] == label and r["system"] == system]
            if sel:
                out.append({"bin": label, "key": key, "system": system, "signs": len(sel),
                            "body_mean": float(np.mean([r["body_mean"] for r in sel])),
                            "hand_mean": float(np.mean([r["hand_mean"] for r in sel]))})
    return out
