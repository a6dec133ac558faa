"""How hard is a corpus? Reference DTW-JPE scores every generator must be read against.

For each test clip (DESIGN §3, issue "embedded default"):

- ``mean sequence``: the per-language mean of the training clips (joint positions, each clip
  resampled to the median training length). What a regression model that ignores its input
  converges to: the regression-to-the-mean floor.
- ``SLERP keyframes``: SLERP between the true onset/mid/offset keyframes of every sign (rotations
  for rot6d, positions for xyz), the keyframe-to-pose baseline. If this were near zero, learnt
  in-betweening would have nothing to add.
- ``ground truth``: the clip against itself, which must be exactly zero.

Scores are DTW-JPE on body joints and on wrist-relative hand points, both as the accumulated
path cost (metres, as published tables report) and as the per-step mean.
"""

from __future__ import annotations

import numpy as np
import torch
from tqdm.auto import tqdm

from signlib.data.corpus import Corpus
from signlib.data.positions import sequence_positions
from signlib.data.sequence import Sequence
from signlib.evaluate.dtw import dtw_jpe
from signlib.keyframes import onset_mid_offset
from signlib.pose.rotation import slerp_keyframes


def resample(x: np.ndarray, length: int) -> np.ndarray:
    """``(T, ...)`` → ``(length, ...)`` by linear interpolation in time."""
    src = np.linspace(0, len(x) - 1, length)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, len(x) - 1)
    w = (src - lo).reshape(-1, *[1] * (x.ndim - 1))
    return x[lo] * (1 - w) + x[hi] * w


def mean_sequence(clips: list[np.ndarray]) -> np.ndarray:
    """Mean of ``(T_i, J, 3)`` clips after resampling each to their median length."""
    length = int(np.median([len(c) for c in clips]))
    return np.mean([resample(c, length) for c in clips], axis=0)


def slerp_baseline(seq: Sequence) -> np.ndarray:
    """``(T, D)`` features filled from the true onset/mid/offset keyframes of every sign."""
    keys = onset_mid_offset([(s.start, s.end) for s in seq.segments], seq.num_frames)
    return slerp_keyframes(torch.from_numpy(seq.features), keys, seq.layout).numpy()


def hardness(corpus: Corpus, split: str = "test", progress: bool = True) -> tuple[list[dict], list[dict]]:
    """Reference scores per test clip and their per-language mean ± std.

    Returns:
        ``(per-clip rows, table rows)``; table rows have ``language``, ``reference`` and the
        mean and std of ``body_total``, ``hand_total``, ``body_mean``, ``hand_mean``.
    """
    means = {}
    for lang in corpus.languages():
        train = [sequence_positions(corpus.load(c.id))[0] for c in corpus.select("train", lang)]
        means[lang] = mean_sequence(train)
    rows = []
    for info in tqdm(corpus.select(split), desc="hardness", disable=not progress, leave=False):
        seq = corpus.load(info.id)
        truth, xyz = sequence_positions(seq)
        slerp = sequence_positions(seq.replace(features=slerp_baseline(seq)))[0]
        for name, pred in (("mean sequence", means[seq.language]), ("SLERP keyframes", slerp), ("ground truth", truth)):
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
            row = {"language": lang, "reference": ref, "clips": len(sel)}
            for key in ("body_total", "hand_total", "body_mean", "hand_mean"):
                vals = np.array([r[key] for r in sel])
                row[key] = float(vals.mean())
                row[f"{key}_std"] = float(vals.std())
            out.append(row)
    return out
