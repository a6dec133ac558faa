"""Scoring generated sequences against the truth: DTW-JPE rows per clip and system.

Systems are functions ``system(sequences, keyframes) -> generated sequences`` evaluated in
batches, so a generator samples many clips per network call.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch
from tqdm.auto import tqdm

from signlib.data.positions import sequence_positions
from signlib.data.sequence import Sequence
from signlib.evaluate.dtw import dtw_jpe, dtw_pa_jpe
from signlib.generate.model import SignSparK
from signlib.generate.modes import Keyframes, Request, generate_batch
from signlib.generate.sampling import SamplerConfig
from signlib.pose.rotation import slerp_keyframes

#: ``system(sequences, keyframes per sequence) -> generated sequences`` (same order).
System = Callable[[list[Sequence], list[np.ndarray]], list[Sequence]]


def slerp_system(sequences: list[Sequence], keyframes: list[np.ndarray]) -> list[Sequence]:
    """SLERP (rotations) or linear (positions) interpolation between the keyframes; frames
    before the first and after the last keyframe hold them."""
    return [seq.replace(features=slerp_keyframes(torch.from_numpy(seq.features), keys, seq.layout).numpy())
            for seq, keys in zip(sequences, keyframes)]


def kf2p_system(model: SignSparK, sampler: SamplerConfig = SamplerConfig(), with_text: bool = True,
                seed: int = 0) -> System:
    """SignSparK keyframe-to-pose (with the clip's text unless ``with_text`` is False)."""

    def run(sequences, keyframes):
        requests = [Request(s.language, s.text if with_text else None, Keyframes.from_sequence(s, k), seed=seed + i)
                    for i, (s, k) in enumerate(zip(sequences, keyframes))]
        return generate_batch(model, requests, sampler)

    return run


def score(pred: Sequence, truth: Sequence, procrustes: bool = True) -> dict[str, float]:
    """DTW-JPE (and DTW-PA-JPE) of ``pred`` against ``truth``: body and wrist-relative hands,
    accumulated path cost (``*_total``, metres) and per-step mean (``*_mean``)."""
    p, xyz = sequence_positions(pred)
    t, _ = sequence_positions(truth)
    row = dtw_jpe(p, t, xyz)
    if procrustes:
        row.update({f"pa_{k}": v for k, v in dtw_pa_jpe(p, t, xyz).items()})
    return row


def crop(seq: Sequence, start: int, stop: int) -> Sequence:
    """Frames ``[start, stop)`` of ``seq`` (labels and segments dropped)."""
    return seq.replace(features=seq.features[start:stop], valid=seq.valid_or_all()[start:stop], segments=(), bio=None)


def evaluate_systems(systems: dict[str, System], sequences: list[Sequence], keyframes: list[np.ndarray],
                     batch_size: int = 16, procrustes: bool = False, inner: bool = True,
                     progress: bool = True) -> list[dict]:
    """Per-clip score rows (``id``, ``language``, ``system`` + :func:`score` columns) of every system.

    With ``inner``, the same scores restricted to the keyframed span (first to last keyframe) are
    added as ``inner_*`` columns. Outside that span a keyframe method has to invent the approach
    from and the return to rest, which interpolation cannot do, so the whole-clip score alone
    would credit a generator for the ends of the clip.
    """
    rows = []
    for name, system in systems.items():
        for start in tqdm(range(0, len(sequences), batch_size), desc=name, disable=not progress, leave=False):
            seqs, keys = sequences[start:start + batch_size], keyframes[start:start + batch_size]
            for truth, pred, k in zip(seqs, system(seqs, keys), keys):
                row = {"id": truth.id, "language": truth.language, "system": name, **score(pred, truth, procrustes)}
                if inner and len(k):
                    a, b = int(np.min(k)), int(np.max(k)) + 1
                    row.update({f"inner_{key}": v for key, v in score(crop(pred, a, b), crop(truth, a, b), False).items()})
                rows.append(row)
    return rows


def summarize_rows(rows: list[dict], keys=("body_mean", "hand_mean", "inner_body_mean", "inner_hand_mean",
                                           "body_total", "hand_total")) -> list[dict]:
    """Per language (and ``all``) × system: mean and std of the score columns."""
    out = []
    for lang in sorted({r["language"] for r in rows}) + ["all"]:
        for system in dict.fromkeys(r["system"] for r in rows):
            sel = [r for r in rows if r["system"] == system and (lang == "all" or r["language"] == lang)]
            row = {"language": lang, "system": system, "clips": len(sel)}
            for key in keys:
                vals = np.array([r[key] for r in sel if key in r])
                if len(vals):
                    row[key], row[f"{key}_std"] = float(vals.mean()), float(vals.std())
            out.append(row)
    return out
