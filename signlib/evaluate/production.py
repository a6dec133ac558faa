"""Scoring generated sequences against the truth: one row of DTW metrics per clip and system.

Systems (:mod:`signlib.evaluate.systems`) are run in batches by :func:`run_systems`, so a generator
samples many clips per network call; :func:`score_outputs` then scores every output against its
truth, and :func:`summarize_rows` averages the rows per language and system (mean and std over
clips). :func:`evaluate_systems` does both.
"""

from __future__ import annotations

import multiprocessing

import numpy as np
from tqdm.auto import tqdm

from signlib.data.positions import position_valid, sequence_positions
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.evaluate.dtw import dtw_jpe, dtw_pa_jpe
from signlib.evaluate.pose_metrics import mpjpe, pa_mpjpe, pck
from signlib.evaluate.systems import System

#: PCK threshold of the score rows (metres): a joint within 5 cm of the truth is correct.
PCK_THRESHOLD = 0.05


def score(pred: Sequence, truth: Sequence, procrustes: bool = True, equal_length: bool = False) -> dict[str, float]:
    """DTW-JPE (and, with ``procrustes``, DTW-PA-JPE as ``pa_*``) of ``pred`` against ``truth``:
    body and wrist-relative hands, accumulated path cost (``*_total``, metres) and per-step mean
    (``*_mean``, metres). With ``equal_length`` (keyframe-to-pose keeps the truth's length) also
    MPJPE and PA-MPJPE per part (``mpjpe_*``, ``pa_mpjpe_*``, metres) and the share of joints
    within :data:`PCK_THRESHOLD` of the truth (``pck_*``).

    Both sides' masks (:func:`~signlib.data.positions.position_valid`) take part: a joint the
    truth did not observe is never compared with whatever value fills it, and the DTW metrics
    follow the missing-data rule of :mod:`signlib.evaluate.dtw` (NaN when a side never shows a
    part; dropped frames and penalised pairs counted in the row)."""
    p, xyz = sequence_positions(pred)
    return score_positions(p, sequence_positions(truth)[0], xyz, procrustes, equal_length, truth.id,
                           valid_pred=position_valid(pred), valid_truth=position_valid(truth))


def score_positions(p: np.ndarray, t: np.ndarray, xyz, procrustes: bool = True, equal_length: bool = False,
                    what: str = "truth", valid_pred: np.ndarray | None = None,
                    valid_truth: np.ndarray | None = None) -> dict[str, float]:
    """:func:`score` on joint positions ``p (T1, J, 3)`` and ``t (T2, J, 3)`` of the xyz layout
    ``xyz`` (:func:`~signlib.data.positions.sequence_positions`) with their optional ``(T, J)``
    masks, so a truth scored against many outputs, or a clip scored whole and cropped, runs
    forward kinematics once; ``what`` names the truth in errors."""
    row = dtw_jpe(p, t, xyz, valid_pred, valid_truth)
    if procrustes:
        row.update({f"pa_{k}": v for k, v in dtw_pa_jpe(p, t, xyz, valid_pred, valid_truth).items()})
    if equal_length:
        if len(p) != len(t):
            raise SignlibError(f"{what}: MPJPE needs equal lengths, got {len(p)} generated vs {len(t)} true frames")
        row.update({f"mpjpe_{k}": v for k, v in mpjpe(p, t, xyz, valid_pred, valid_truth).items()})
        row.update({f"pa_mpjpe_{k}": v for k, v in pa_mpjpe(p, t, xyz, valid_pred, valid_truth).items()})
        row.update({f"pck_{k}": v for k, v in pck(p, t, xyz, PCK_THRESHOLD, valid_pred, valid_truth).items()})
    return row


def crop(seq: Sequence, start: int, stop: int) -> Sequence:
    """Frames ``[start, stop)`` of ``seq`` (labels and segments dropped)."""
    return seq.replace(features=seq.features[start:stop], valid=seq.valid_or_all()[start:stop], segments=(), bio=None)


def run_systems(systems: dict[str, System], truths: list[Sequence], keyframes: list[np.ndarray],
                batch_size: int = 16, progress: bool = True) -> dict[str, list[Sequence]]:
    """``{system name: generated sequences}``, one per truth, each system run in batches."""
    if len(truths) != len(keyframes):
        raise SignlibError(f"run_systems: {len(truths)} sequences but {len(keyframes)} keyframe lists")
    outputs = {}
    for name, system in systems.items():
        out: list[Sequence] = []
        for start in tqdm(range(0, len(truths), batch_size), desc=name, disable=not progress, leave=False):
            batch = system(truths[start:start + batch_size], keyframes[start:start + batch_size])
            if len(batch) != len(truths[start:start + batch_size]):
                raise SignlibError(f"system {name!r} returned {len(batch)} sequences for a batch of "
                                   f"{len(truths[start:start + batch_size])}")
            out.extend(batch)
        outputs[name] = out
    return outputs


#: Fewer rows than this per worker are scored in this process: a spawned worker pays about 4 s to
#: import torch and signlib, the price of some 100 rows of DTW-JPE on a 2-core machine.
MIN_TASKS_PER_WORKER = 64


def _score_task(task) -> dict:
    name, truth, (truth_xyz, truth_valid), pred, k, procrustes, inner, equal_length = task
    p, xyz = sequence_positions(pred)
    valid = position_valid(pred)
    row = {"id": truth.id, "language": truth.language, "system": name,
           **score_positions(p, truth_xyz, xyz, procrustes, equal_length, truth.id, valid, truth_valid)}
    if inner and len(k):
        # Forward kinematics is per frame, so the positions of a crop are the crop of the positions.
        a, b = int(np.min(k)), int(np.max(k)) + 1
        row.update({f"inner_{key}": v for key, v in score_positions(
            p[a:b], truth_xyz[a:b], xyz, False, valid_pred=valid[a:b], valid_truth=truth_valid[a:b]).items()})
    return row


def score_outputs(outputs: dict[str, list[Sequence]], truths: list[Sequence], keyframes: list[np.ndarray],
                  procrustes: bool = False, inner: bool = False, equal_length: bool = False,
                  progress: bool = True, workers: int = 1) -> list[dict]:
    """Per-clip score rows (``id``, ``language``, ``system`` + :func:`score` columns), in the order
    of ``outputs`` and then of ``truths``.

    With ``inner``, the same DTW-JPE restricted to the keyframed span (first to last keyframe) is
    added as ``inner_*`` columns. Outside that span a keyframe method has to invent the approach
    from and the return to rest, which interpolation cannot do, so the whole-clip score alone
    would credit a generator for the ends of the clip.

    ``workers`` > 1 scores in that many worker processes (DTW is numpy on one core, and the
    all-pairs Procrustes of DTW-PA-JPE dominates evaluation time) when there are at least
    :data:`MIN_TASKS_PER_WORKER` rows per worker; the rows are the same.
    """
    for name, generated in outputs.items():
        if len(generated) != len(truths) or len(keyframes) != len(truths):
            raise SignlibError(f"score_outputs: system {name!r} has {len(generated)} outputs for {len(truths)} "
                               f"truths and {len(keyframes)} keyframe lists")
    truth_xyz = [(sequence_positions(t)[0], position_valid(t)) for t in truths]  # once per truth
    tasks = [(name, truth, t_xyz, pred, k, procrustes, inner, equal_length)
             for name, generated in outputs.items() for truth, t_xyz, pred, k in zip(truths, truth_xyz, generated, keyframes)]
    bar = dict(total=len(tasks), desc="score", disable=not progress, leave=False)
    if workers <= 1 or len(tasks) < MIN_TASKS_PER_WORKER * workers:
        return [_score_task(t) for t in tqdm(tasks, **bar)]
    # spawn, not fork: a child forked after torch started its OpenMP thread pool deadlocks in its
    # first parallel region (forward kinematics runs torch ops), as seen in the notebook kernel.
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        return list(tqdm(pool.imap(_score_task, tasks, chunksize=8), **bar))


def evaluate_systems(systems: dict[str, System], truths: list[Sequence], keyframes: list[np.ndarray],
                     batch_size: int = 16, procrustes: bool = False, inner: bool = True,
                     progress: bool = True) -> list[dict]:
    """:func:`run_systems` then :func:`score_outputs`: the score rows of every system."""
    outputs = run_systems(systems, truths, keyframes, batch_size, progress)
    return score_outputs(outputs, truths, keyframes, procrustes, inner, progress=progress)


def summarize_rows(rows: list[dict], keys=("body_mean", "hand_mean", "inner_body_mean", "inner_hand_mean",
                                           "body_total", "hand_total"), by_language: bool = True) -> list[dict]:
    """Per language (and ``all``) × system: ``clips`` and the mean and std (``<key>_std``) over
    clips of each score column; NaN scores (e.g. MPJPE of a clip without shared joints) are left out."""
    langs = (sorted({r["language"] for r in rows}) if by_language else []) + ["all"]
    out = []
    for lang in langs:
        for system in dict.fromkeys(r["system"] for r in rows):
            sel = [r for r in rows if r["system"] == system and (lang == "all" or r["language"] == lang)]
            row = {"language": lang, "system": system, "clips": len(sel)}
            for key in keys:
                vals = np.array([r[key] for r in sel if key in r], np.float64)
                if not np.isfinite(vals).all():  # say how many clips had nothing comparable
                    row[f"{key}_excluded"] = int((~np.isfinite(vals)).sum())
                vals = vals[np.isfinite(vals)]
                if len(vals):
                    row[key], row[f"{key}_std"] = float(vals.mean()), float(vals.std())
            out.append(row)
    return out
