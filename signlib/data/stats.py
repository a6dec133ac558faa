"""Corpus statistics from the index alone (no clip is loaded)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import numpy as np

from signlib.data.corpus import Corpus


def language_stats(corpus: Corpus, dictionary: Corpus | None = None) -> list[dict]:
    """One row per language (and a total): clips, signers, frames, minutes, signs, vocabulary,
    mean signs per clip, clips per split and, with a ``dictionary`` corpus, its entries."""
    rows = []
    for lang in corpus.languages() + ["all"]:
        clips = corpus.clips if lang == "all" else corpus.select(language=lang)
        frames = sum(c.num_frames for c in clips)
        glosses = [g for c in clips for g in c.glosses]
        rows.append({
            "language": lang, "clips": len(clips), "signers": len({c.signer for c in clips}),
            "frames": frames, "minutes": frames / corpus.fps / 60, "signs": len(glosses),
            "vocabulary": len(set(glosses)), "signs_per_clip": len(glosses) / max(1, len(clips)),
            **{f"{s}_clips": sum(c.split == s for c in clips) for s in ("train", "val", "test")},
        })
        if dictionary is not None:
            rows[-1]["dictionary"] = len(dictionary.clips if lang == "all" else dictionary.select(language=lang))
    return rows


def sign_frequency(clips: Iterable) -> list[dict]:
    """How often the signs of the test split were seen in training, per language (and ``all``).

    A production model can only reproduce a sign from training examples, and a real corpus is
    Zipfian: most sign tokens belong to signs seen many times, some to rare or unseen ones. Each
    test token is counted against its own language's training split.

    Args:
        clips: anything with ``language``, ``split`` (``train``/``val``/``test``) and ``glosses``
            (e.g. :class:`~signlib.data.corpus.ClipInfo`).
    Returns:
        one row per language (sorted) and ``all``: ``tokens`` and ``types`` (every split),
        ``train_tokens``, ``test_tokens``, ``test_median_seen`` (median training count of the test
        tokens; NaN without test tokens), ``test_rare_pct`` (% of test tokens seen fewer than 3
        times in training, unseen ones included) and ``test_unseen_pct`` (% never seen).
    """
    clips = list(clips)
    train: dict[str, Counter] = {}
    for c in clips:
        if c.split == "train":
            train.setdefault(c.language, Counter()).update(c.glosses)
    rows = []
    for lang in sorted({c.language for c in clips}) + ["all"]:
        sel = [c for c in clips if lang == "all" or c.language == lang]
        tokens = [(c.language, g) for c in sel for g in c.glosses]
        seen = np.array([train.get(c.language, Counter())[g] for c in sel if c.split == "test" for g in c.glosses])
        n = len(seen)
        rows.append({
            "language": lang, "tokens": len(tokens), "types": len(set(tokens)),
            "train_tokens": sum(len(c.glosses) for c in sel if c.split == "train"), "test_tokens": n,
            "test_median_seen": float(np.median(seen)) if n else float("nan"),
            "test_rare_pct": 100.0 * float(np.mean(seen < 3)) if n else float("nan"),
            "test_unseen_pct": 100.0 * float(np.mean(seen == 0)) if n else float("nan"),
        })
    return rows
