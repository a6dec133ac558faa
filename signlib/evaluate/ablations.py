"""Scoring the generator ablations: variants × seeds, sampling-step sweeps, seed spread.

Every variant is trained once per seed (:mod:`signlib.stages.train_ablation`), so every number of
the ablation figures is a mean over seeds of a per-seed mean over test clips, with the seed
*spread* (max − min over seeds) beside it. Two variants whose means differ by no more than the
larger of their spreads show **no difference** (:func:`compare`): with two seeds a smaller gap is
within what retraining alone moves.

The score of a keyframe-to-pose run (:data:`SCORE_KEYS`) is DTW-JPE per step over the whole clip
and over the keyframed span, MPJPE and PA-MPJPE (the output keeps the truth's length), for the
body and the wrist-relative hands, in metres (tables show cm).
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass

import numpy as np

from signlib.data.sequence import Sequence
from signlib.evaluate.production import run_systems, score_outputs
from signlib.evaluate.systems import System, kf2p_system
from signlib.generate.configs import SamplerConfig
from signlib.generate.model import SignSparK

SCORE_KEYS = ("body_mean", "hand_mean", "inner_body_mean", "inner_hand_mean", "mpjpe_body", "mpjpe_hand",
              "pa_mpjpe_body", "pa_mpjpe_hand")


@dataclass(frozen=True)
class Spread:
    """A score over seeds: their ``mean``, ``spread`` (max − min) and the per-seed ``values``."""

    mean: float
    spread: float
    values: tuple[float, ...]

    @staticmethod
    def of(values) -> "Spread":
        v = np.asarray([x for x in values if np.isfinite(x)], np.float64)
        if not len(v):
            return Spread(float("nan"), float("nan"), ())
        return Spread(float(v.mean()), float(v.max() - v.min()), tuple(float(x) for x in v))


def clip_means(rows: list[dict], keys=SCORE_KEYS) -> dict[str, float]:
    """Mean over clip rows of each score column (NaN scores left out; NaN when none is left)."""
    out = {}
    for key in keys:
        v = np.array([r[key] for r in rows if key in r], np.float64)
        v = v[np.isfinite(v)]
        out[key] = float(v.mean()) if len(v) else float("nan")
    return out


def combined(scores: dict[str, float], span: str = "") -> float:
    """Body + hands DTW-JPE per step in cm over the whole clip (``span=""``) or the keyframed span
    (``span="inner_"``): the one number the claims compare."""
    return 100.0 * (scores[f"{span}body_mean"] + scores[f"{span}hand_mean"])


def run_and_score(systems: dict[str, System], truths: list[Sequence], keyframes: list[np.ndarray],
                  batch_size: int = 16, progress=None) -> tuple[list[dict], dict[str, float]]:
    """Run every system on ``truths``, then score all outputs in this process (a spawned worker
    pool took five times longer than one process on these few dozen clips). Returns the clip rows
    (``system`` = the dict key, the :data:`SCORE_KEYS` columns) and each system's generation time
    in seconds per sequence."""
    outputs, seconds = {}, {}
    for name in (progress(list(systems)) if progress else systems):
        start = time.perf_counter()
        outputs.update(run_systems({name: systems[name]}, truths, keyframes, batch_size=batch_size, progress=False))
        seconds[name] = (time.perf_counter() - start) / max(1, len(truths))
    rows = score_outputs(outputs, truths, keyframes, inner=True, equal_length=True, progress=False)
    return rows, seconds


def step_sweep(models: dict[str, list[SignSparK]], truths: list[Sequence], keyframes: list[np.ndarray],
               long_truths: list[Sequence], long_keyframes: list[np.ndarray], steps: list[int],
               sampler: SamplerConfig, batch_size: int = 16, progress=None) -> list[dict]:
    """Fig 4b: every generator (``{name: [model per seed]}``) sampled with each of ``steps``.

    Step counts up to 100 run on ``truths`` (subset ``test``); every step count also runs on the
    smaller ``long_truths`` (subset ``long``), so the counts above 100 are compared with the small
    ones on the same clips. Rows: ``generator``, ``seed`` (index), ``steps``, ``subset``,
    ``clips``, ``seconds_per_sequence`` and the :data:`SCORE_KEYS` means."""
    rows = []
    for subset, clips, keys in (("test", truths, keyframes), ("long", long_truths, long_keyframes)):
        plans = {(name, seed, n): model for name, per_seed in models.items() for seed, model in enumerate(per_seed)
                 for n in steps if subset == "long" or n <= 100}
        systems = {f"{name}|{seed}|{n}": kf2p_system(model, dataclasses.replace(sampler, steps=n))
                   for (name, seed, n), model in plans.items()}
        clip_rows, seconds = run_and_score(systems, clips, keys, batch_size, progress)
        for name, seed, n in plans:
            key = f"{name}|{seed}|{n}"
            rows.append({"generator": name, "seed": seed, "steps": n, "subset": subset, "clips": len(clips),
                         "seconds_per_sequence": seconds[key],
                         **clip_means([r for r in clip_rows if r["system"] == key])})
    return rows


def over_seeds(rows: list[dict], by: tuple[str, ...], keys=SCORE_KEYS) -> list[dict]:
    """Rows grouped by the ``by`` columns (first-seen order), each score as its mean over the
    group's seeds with ``<key>_spread`` (max − min), plus ``seeds``."""
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault(tuple(r[b] for b in by), []).append(r)
    out = []
    for group, members in groups.items():
        row = dict(zip(by, group), seeds=len(members))
        for key in keys:
            s = Spread.of([m[key] for m in members if key in m])
            row[key], row[f"{key}_spread"] = s.mean, s.spread
        out.append(row)
    return out


def compare(a: Spread, b: Spread) -> str:
    """``"lower"`` when ``a`` is below ``b`` by more than the larger seed spread, ``"higher"`` when
    above by more, else ``"no difference"`` (module docstring)."""
    if not (np.isfinite(a.mean) and np.isfinite(b.mean)):
        return "no difference"
    gap = a.mean - b.mean
    if abs(gap) <= max(a.spread, b.spread):
        return "no difference"
    return "lower" if gap < 0 else "higher"


def step_ratio(rows: list[dict], generator: str, few: int, many: int, subset: str, span: str = "") -> Spread:
    """Per seed, the combined error at ``few`` steps over that at ``many`` steps (1 = no loss from
    sampling with fewer steps), as a :class:`Spread` over seeds."""
    def at(n):
        return {r["seed"]: combined(r, span) for r in rows
                if r["generator"] == generator and r["steps"] == n and r["subset"] == subset}
    lo, hi = at(few), at(many)
    return Spread.of([lo[s] / hi[s] for s in sorted(lo) if s in hi])
