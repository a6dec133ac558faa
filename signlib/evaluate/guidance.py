"""Classifier-free guidance scales picked on the validation split.

Guidance trades fidelity to the condition against sample quality, and the best scale depends on
the model and the corpus, so it is a hyper-parameter to choose on held-out signers, never on the
test set. :func:`pick_guidance` runs keyframe-to-pose over a grid of keyframe × text scales ×
sampling temperatures and text-to-pose over a grid of text scales on validation clips, and keeps
the settings with the lowest DTW-JPE (KF2P: the sum of body and hand per-step means over the whole
clip and over the keyframed span; T2P: body + hands over the whole clip). Scale 1 and temperature
1 (plain conditional sampling) are always in the grid, so a pick is never worse than them on
validation. A model trained with the keyframe prior has no keyframe guidance
(:mod:`signlib.generate.prior`), so its keyframe scales other than 1 are skipped.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from signlib.data.sequence import Sequence
from signlib.evaluate import systems as sy
from signlib.evaluate.production import run_systems, score_outputs
from signlib.generate.configs import GuidanceSearchConfig, SamplerConfig
from signlib.generate.model import SignSparK

KF2P_KEYS = ("body_mean", "hand_mean", "inner_body_mean", "inner_hand_mean")
T2P_KEYS = ("body_mean", "hand_mean")


@dataclass(frozen=True)
class GuidancePick:
    """The picked samplers and every grid point's validation score (``rows``: ``mode``,
    ``key_scale``, ``text_scale``, ``temperature``, ``score`` in cm per step, ``picked``)."""

    kf2p: SamplerConfig
    t2p: SamplerConfig
    rows: list[dict]


def validation_clips(clips: list[Sequence], keyframes: list[np.ndarray], per_language: int
                     ) -> tuple[list[Sequence], list[np.ndarray]]:
    """The first ``per_language`` clips of each language that have keyframes (deterministic)."""
    out, keys, taken = [], [], {}
    for seq, k in zip(clips, keyframes):
        if len(k) and taken.get(seq.language, 0) < per_language:
            taken[seq.language] = taken.get(seq.language, 0) + 1
            out.append(seq)
            keys.append(np.asarray(k))
    return out, keys


def _grid_score(rows: list[dict], keys: tuple[str, ...]) -> float:
    """Sum over ``keys`` of the mean over clips, in cm per step."""
    return float(sum(np.mean([r[k] for r in rows if k in r]) for k in keys) * 100.0)


def guidance_grid(model: SignSparK, sampler: SamplerConfig, search: GuidanceSearchConfig
                  ) -> list[tuple[str, SamplerConfig]]:
    """``(mode, sampler)`` for every grid point: KF2P over key × text scales × temperatures (key
    scales other than 1 only under the standard prior), then T2P over the text scales."""
    key_scales = [k for k in search.key_scales if model.config.prior == "standard" or k == 1.0]
    plans = [("KF2P", k, t, T) for k in key_scales for t in search.text_scales for T in search.temperatures] + \
            [("T2P", 1.0, t, sampler.temperature) for t in search.text_scales]
    return [(mode, dataclasses.replace(sampler, key_scale=float(k), text_scale=float(t), temperature=float(T)))
            for mode, k, t, T in plans]


def score_grid(model: SignSparK, plans: list[tuple[str, SamplerConfig]], truths: list[Sequence],
               keyframes: list[np.ndarray], batch_size: int = 16, progress: bool = False) -> list[dict]:
    """One row per plan (``mode``, ``key_scale``, ``text_scale``, ``temperature``, ``score``: the
    sum of the mode's DTW-JPE means in cm per step, see the module docstring) on ``truths``."""
    rows = []
    for mode, cfg in plans:
        system = sy.kf2p_system(model, cfg) if mode == "KF2P" else sy.t2p_system(model, cfg)
        out = run_systems({mode: system}, truths, keyframes, batch_size=batch_size, progress=progress)
        scored = score_outputs(out, truths, keyframes, inner=(mode == "KF2P"), progress=False)
        rows.append({"mode": mode, "key_scale": cfg.key_scale, "text_scale": cfg.text_scale,
                     "temperature": cfg.temperature, "score": _grid_score(scored, KF2P_KEYS if mode == "KF2P" else T2P_KEYS)})
    return rows


def pick_guidance(model: SignSparK, truths: list[Sequence], keyframes: list[np.ndarray], sampler: SamplerConfig,
                  search: GuidanceSearchConfig = GuidanceSearchConfig(), batch_size: int = 16,
                  progress: bool = False) -> GuidancePick:
    """Pick KF2P and T2P guidance scales on validation ``truths`` (module docstring).

    Args:
        model: the trained generator; sampler: the base sampler (steps, solver, temperature).
        truths, keyframes: validation clips and their keyframes (``(K,)`` frame indices each).
        search: the grids.
    """
    plans = guidance_grid(model, sampler, search)
    rows = score_grid(model, plans, truths, keyframes, batch_size, progress)
    best = {}
    for (mode, cfg), row in zip(plans, rows):
        if mode not in best or row["score"] < best[mode][0]:
            best[mode] = (row["score"], cfg)
    for r in rows:
        cfg = best[r["mode"]][1]
        r["picked"] = (r["key_scale"], r["text_scale"], r["temperature"]) == (cfg.key_scale, cfg.text_scale,
                                                                            cfg.temperature)
    return GuidancePick(best["KF2P"][1], best["T2P"][1], rows)
