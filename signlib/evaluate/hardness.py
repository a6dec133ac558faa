"""How hard is a corpus? Reference DTW-JPE scores every generator must be read against.

For each test clip (DESIGN §3, issue "embedded default"):

- ``mean sequence``: the per-language mean of the training clips (joint positions, each clip
  resampled to the median training length). What a regression model that ignores its input
  converges to: the regression-to-the-mean floor.
- ``SLERP keyframes``: SLERP between the true onset/mid/offset keyframes of every sign (rotations
  for rot6d, positions for xyz), the keyframe-to-pose baseline. If this were near zero, learnt
  in-betweening would have nothing to add. Clips without gold segments have no true keyframes and
  no row here.
- ``naive stitching`` (only with an isolated-sign ``dictionary``): every gloss's citation form cut
  at its annotated span and laid end to end with SLERP transitions
  (:func:`signlib.baselines.stitching.naive_stitch`), what a dictionary-lookup system produces. It
  uses the dictionary's gold spans (the evaluate stage uses the spans FAST finds), so it is the
  best case of naive stitching. How far it lands from the truth says how much in-context forms
  differ from citation forms; clips with a gloss the dictionary lacks have no row here.
- ``ground truth``: the clip against itself, which must be exactly zero.

Scores are DTW-JPE on body joints and on wrist-relative hand points, both as the accumulated
path cost (metres, as published tables report) and as the per-step mean.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from signlib.baselines.slerp import slerp_sequence
from signlib.baselines.stitching import load_citations, naive_stitch
from signlib.data.corpus import Corpus
from signlib.data.positions import sequence_positions
from signlib.evaluate.dtw import dtw_jpe
from signlib.keyframes import true_keyframes
from signlib.pose.normalize import resample_time
from signlib.triframe import TriframeDictionary, build_triframe


def mean_sequence(clips: list[np.ndarray]) -> np.ndarray:
    """Mean of ``(T_i, J, 3)`` clips after resampling each to their median length."""
    length = int(np.median([len(c) for c in clips]))
    return np.mean([resample_time(c, length) for c in clips], axis=0)


def gold_stitcher(dictionary: Corpus):
    """``stitch(glosses, language)``: naive stitching from an isolated-sign ``dictionary`` corpus
    (one gloss per clip) at its annotated sign spans; ``None`` for a gloss it lacks."""
    citations = load_citations(dictionary)
    spans = {seq.id: [(s.start, s.end) for s in seq.segments] for seq in citations.values()}
    triframe: TriframeDictionary = build_triframe(list(citations.values()), spans)

    def stitch(glosses, language: str):
        if not glosses or not all(triframe.has(language, g) for g in glosses):
            return None
        return naive_stitch(citations, triframe, glosses, language)

    return stitch


def hardness(corpus: Corpus, split: str = "test", progress: bool = True,
             dictionary: Corpus | None = None) -> tuple[list[dict], list[dict]]:
    """Reference scores per test clip and their per-language mean ± std.

    Args:
        corpus: a curated corpus with ``train`` and ``split`` clips.
        split: the clips to score.
        progress: show a progress bar.
        dictionary: its isolated-sign dictionary (citation forms), for the naive-stitching row.
    Returns:
        ``(per-clip rows, table rows)``; table rows have ``language``, ``reference`` and the
        mean and std of ``body_total``, ``hand_total``, ``body_mean``, ``hand_mean``.
    """
    means = {}
    for lang in corpus.languages():
        train = [sequence_positions(corpus.load(c.id))[0] for c in corpus.select("train", lang)]
        means[lang] = mean_sequence(train)
    stitch = gold_stitcher(dictionary) if dictionary is not None and len(dictionary) else None
    rows = []
    for info in tqdm(corpus.select(split), desc="hardness", disable=not progress, leave=False):
        seq = corpus.load(info.id)
        truth, xyz = sequence_positions(seq)
        references = {"mean sequence": means[seq.language]}
        keys = true_keyframes(seq)
        if len(keys):
            references["SLERP keyframes"] = sequence_positions(slerp_sequence(seq, keys))[0]
        stitched = stitch(seq.glosses, seq.language) if stitch is not None else None
        if stitched is not None:
            references["naive stitching"] = sequence_positions(stitched)[0]
        references["ground truth"] = truth
        for name, pred in references.items():
            rows.append({"id": seq.id, "language": seq.language, "reference": name, **dtw_jpe(pred, truth, xyz)})
    return rows, summarize(rows)


def summarize(rows: list[dict]) -> list[dict]:
    """Per language (and ``all``) × reference: mean and std of the DTW-JPE columns."""
    out = []
    langs = sorted({r["language"] for r in rows}) + ["all"]
    refs = list(dict.fromkeys(r["reference"] for r in rows))
    for lang in langs:
        for ref in refs:
            sel = [r for r in rows if r["reference"] == ref and (lang == "all" or r["language"] == lang)]
            if not sel:
                continue
            row = {"language": lang, "reference": ref, "clips": len(sel)}
            for key in ("body_total", "hand_total", "body_mean", "hand_mean"):
                vals = np.array([r[key] for r in sel])
                row[key] = float(vals.mean())
                row[f"{key}_std"] = float(vals.std())
            out.append(row)
    return out
