"""Corpus statistics from the index alone (no clip is loaded)."""

from __future__ import annotations

from signlib.data.corpus import Corpus


def language_stats(corpus: Corpus) -> list[dict]:
    """One row per language (and a total): clips, signers, frames, minutes, signs, vocabulary,
    clips per split."""
    rows = []
    for lang in corpus.languages() + ["all"]:
        clips = corpus.clips if lang == "all" else corpus.select(language=lang)
        frames = sum(c.num_frames for c in clips)
        glosses = [g for c in clips for g in c.glosses]
        rows.append({
            "language": lang, "clips": len(clips), "signers": len({c.signer for c in clips}),
            "frames": frames, "minutes": frames / corpus.fps / 60, "signs": len(glosses),
            "vocabulary": len(set(glosses)),
            **{f"{s}_clips": sum(c.split == s for c in clips) for s in ("train", "val", "test")},
        })
    return rows
