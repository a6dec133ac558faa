"""Corpus statistics from the index alone (no clip is loaded)."""

from __future__ import annotations

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
