"""Segmentation metrics: frame macro-F1, inside IoU, segment ratio, boundary precision / recall /
F1 at tolerances in frames or seconds, over- and under-segmentation rates (DESIGN.md §7).

Every metric is computed per video; :func:`segmentation_scores` averages the per-video values
with equal weight per video (a short clip counts as much as a long one).

Labels are FAST-convention ``(T,)`` integers (``O=0, I=1, B=2``, :mod:`signlib.data.bio`).
**Scored frames**: a frame is scored when the optional ``mask`` keeps it (``mask`` is a bool
``(T,)`` array, or an int ``n`` meaning the first ``n`` frames, as with padded batches), the true
label is not ``-100`` (ignore) or ``-1`` (UNK: nothing to compare against), and the predicted label
is not ``-100``. On scored frames the prediction must be ``O``, ``I`` or ``B``.

- :func:`frame_f1`: per class ``c`` in ``O, I, B``, ``F1_c = 2 TP / (2 TP + FP + FN)`` over the
  scored frames; the macro average is over the classes present in the prediction or the truth
  of that video. A class absent from both is skipped rather than counted as 0 (it would punish
  a correct prediction) or 1 (it would reward any prediction of a signless clip). No scored
  frames → NaN.
- :func:`inside_iou`: IoU of the "inside a sign" masks (``I`` or ``B``) on the scored frames;
  both masks empty → 1.0 (nothing to find, nothing found).
- :func:`segment_ratio`: ``#predicted / #gold`` segments; 1 is ideal, > 1 over-segmentation.
  With no gold segment the ratio is undefined: NaN for that video, which averages leave out and
  count (``num_videos_without_gold``), while the segments predicted there are counted as
  ``false_segments_without_gold``. (The old rule scored one false segment on a signless clip as
  1.0, the same as a perfect result.)
- :func:`boundary_scores`: a segment ``(s, e)`` has a start boundary ``s`` and an end boundary
  ``e``. Starts match only starts and ends only ends (touching gold signs share a frame as one's
  end and the next one's start; pooling would let one predicted boundary stand for both).
  Matching is one-to-one within ``|p - g| <= tolerance`` frames with the largest number of
  matches (:func:`match_boundaries`). With ``M`` matches of starts plus ends and ``N`` the boundary
  counts (twice the segment counts): precision ``M / N_pred``, recall ``M / N_gold``,
  ``F1 = 2 M / (N_pred + N_gold)``. Missing data: both empty → all three 1.0; no prediction →
  precision NaN (undefined, left out of the mean), recall and F1 0; no gold → recall NaN,
  precision and F1 0. :func:`boundary_f1` is the F1 alone.
- Tolerances in **seconds** (``tolerances_s`` of :func:`segmentation_scores`) are turned into
  frames per video, ``round(seconds × fps)``, so a result does not depend on the frame rate:
  0.08 s is 2 frames at 25 fps and 4 at 50 fps. Keys read ``boundary_f1@0.08s``.
- :func:`over_under_segmentation`: a predicted segment *hits* a gold sign when they overlap by
  at least half of the shorter of the two (a one-frame touch at a boundary is not a hit).
  Over-segmentation rate = share of gold signs hit by two or more predicted segments (split
  signs); under-segmentation rate = share of predicted segments that hit two or more gold signs
  (merged signs). NaN when there is no gold sign / no predicted segment respectively.

Segments for the segment-level metrics come from :func:`signlib.segment.decode.labels_to_segments`:
the prediction with the chosen convention (``"signspark"`` by default), the truth always with
``"b_splits"`` since gold signs can touch. Unscored frames are set to ``O`` on both sides first;
for padding at the end (the usual case) that is exactly truncation to the valid length.
"""

from __future__ import annotations

import numpy as np

from signlib.data.bio import B, I, O, UNK
from signlib.errors import SignlibError
from signlib.segment.decode import IGNORE, check_convention, check_labels, labels_to_segments

CLASSES = (O, I, B)


def scored_frames(pred_labels, true_labels, mask=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate one video's labels → ``(pred (T,), true (T,), scored (T,) bool)``.

    ``mask``: None (all frames), an int ``n`` (the first ``n`` frames) or a bool ``(T,)`` array.
    """
    pred = check_labels(pred_labels, "pred_labels")
    true = check_labels(true_labels, "true_labels")
    if pred.shape != true.shape:
        raise SignlibError(f"pred_labels {pred.shape} and true_labels {true.shape} differ in length")
    keep = np.ones(len(true), dtype=bool)
    if mask is not None:
        m = np.asarray(mask)
        if m.ndim == 0 and np.issubdtype(m.dtype, np.integer):
            if not 0 <= int(m) <= len(true):
                raise SignlibError(f"mask length {int(m)} is outside a video of {len(true)} frames")
            keep[int(m):] = False
        elif m.dtype == bool and m.shape == true.shape:
            keep &= m
        else:
            raise SignlibError(f"mask must be an int length or a bool array of shape {true.shape}; "
                               f"got {m.dtype} {m.shape}")
    keep &= (true != IGNORE) & (true != UNK) & (pred != IGNORE)
    if np.isin(pred[keep], CLASSES, invert=True).any():
        raise SignlibError("pred_labels must be O=0, I=1 or B=2 on scored frames (UNK=-1 is not a prediction)")
    return pred, true, keep


def frame_f1(pred_labels, true_labels, mask=None) -> float:
    """Macro F1 over O/I/B of one video's labels ``(T,)``; classes absent from both are skipped."""
    pred, true, keep = scored_frames(pred_labels, true_labels, mask)
    pred, true = pred[keep], true[keep]
    scores = []
    for c in CLASSES:
        p, t = pred == c, true == c
        tp, fp, fn = int((p & t).sum()), int((p & ~t).sum()), int((~p & t).sum())
        if tp + fp + fn:  # the class occurs in the prediction or the truth
            scores.append(2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores)) if scores else float("nan")


def inside_iou(pred_labels, true_labels, mask=None) -> float:
    """IoU of the inside-a-sign masks (I or B) of one video's labels ``(T,)``; both empty → 1.0."""
    pred, true, keep = scored_frames(pred_labels, true_labels, mask)
    p = np.isin(pred[keep], (I, B))
    t = np.isin(true[keep], (I, B))
    union = int((p | t).sum())
    return int((p & t).sum()) / union if union else 1.0


def _check_segments(segments, name: str) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` (extra items such as a gloss are ignored) → list of int pairs."""
    out = []
    for seg in segments:
        try:
            start, end = int(seg[0]), int(seg[1])
        except (TypeError, ValueError, IndexError):
            raise SignlibError(f"{name} must be (start, end) pairs; got {seg!r}") from None
        if not 0 <= start < end:
            raise SignlibError(f"{name} has an empty or negative segment ({start}, {end})")
        out.append((start, end))
    return out


def segment_ratio(pred_segments, true_segments) -> float:
    """``#predicted / #gold`` segments of one video; NaN without gold segments (undefined)."""
    n_pred = len(_check_segments(pred_segments, "pred_segments"))
    n_true = len(_check_segments(true_segments, "true_segments"))
    return n_pred / n_true if n_true else float("nan")


def match_boundaries(pred_points, true_points, tolerance: int = 2) -> int:
    """Largest number of one-to-one pairs ``(p, g)`` with ``|p - g| <= tolerance``.

    Each predicted point can take the gold points of an interval ``[p - tol, p + tol]``, and these
    intervals are ordered like the points, so a sweep over both sorted lists that pairs each
    predicted point with the earliest still-free gold point in its window is optimal (a gold
    point left of the window is out of reach of every later predicted point too). A
    greedy-by-distance matching is not: with gold ``[1, 3]``, predicted ``[2, 4]`` and
    tolerance 1 it may pair 2 with 3 and find 1 match instead of 2.
    """
    if tolerance < 0:
        raise SignlibError(f"tolerance must be >= 0 frames; got {tolerance}")
    pred = sorted(int(p) for p in pred_points)
    true = sorted(int(g) for g in true_points)
    i = j = matches = 0
    while i < len(pred) and j < len(true):
        if true[j] < pred[i] - tolerance:
            j += 1  # unreachable for pred[i] and for every later (larger) predicted point
        elif true[j] > pred[i] + tolerance:
            i += 1  # no free gold point left in this predicted point's window
        else:
            matches += 1
            i += 1
            j += 1
    return matches


def boundary_scores(pred_segments, true_segments, tolerance: int = 2) -> dict[str, float]:
    """Boundary ``precision``, ``recall`` and ``f1`` of one video's segments at ``tolerance``
    frames, starts and ends matched separately (missing-data rules in the module docstring)."""
    pred = _check_segments(pred_segments, "pred_segments")
    true = _check_segments(true_segments, "true_segments")
    if not pred and not true:
        return {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    matches = (match_boundaries([s for s, _ in pred], [s for s, _ in true], tolerance)
               + match_boundaries([e for _, e in pred], [e for _, e in true], tolerance))
    n_pred, n_true = 2 * len(pred), 2 * len(true)
    return {"precision": matches / n_pred if n_pred else float("nan"),
            "recall": matches / n_true if n_true else float("nan"),
            "f1": 2 * matches / (n_pred + n_true)}


def boundary_f1(pred_segments, true_segments, tolerance: int = 2) -> float:
    """Boundary F1 of one video's segments, starts and ends matched separately; both empty → 1.0."""
    return boundary_scores(pred_segments, true_segments, tolerance)["f1"]


def over_under_segmentation(pred_segments, true_segments, min_overlap: float = 0.5) -> dict[str, float]:
    """``{"over": share of gold signs split, "under": share of predicted segments merging signs}``.

    A predicted segment hits a gold sign when their overlap is at least ``min_overlap`` of the
    shorter of the two; see the module docstring. NaN where the denominator is empty.
    """
    pred = np.array(_check_segments(pred_segments, "pred_segments"), np.int64).reshape(-1, 2)
    true = np.array(_check_segments(true_segments, "true_segments"), np.int64).reshape(-1, 2)
    overlap = np.clip(np.minimum(pred[:, None, 1], true[None, :, 1])
                      - np.maximum(pred[:, None, 0], true[None, :, 0]), 0, None)       # (P, G) frames
    shorter = np.minimum((pred[:, 1] - pred[:, 0])[:, None], (true[:, 1] - true[:, 0])[None, :])
    hits = overlap >= min_overlap * shorter
    return {"over": float((hits.sum(0) >= 2).mean()) if len(true) else float("nan"),
            "under": float((hits.sum(1) >= 2).mean()) if len(pred) else float("nan")}


def tolerance_key(seconds: float) -> str:
    """``0.08`` → ``"0.08s"``: the suffix of the per-tolerance keys (``boundary_f1@0.08s``)."""
    return f"{seconds:g}s"


def _per_video(values, n: int, name: str) -> list:
    """``values`` (a scalar or one per video) as a list of ``n``."""
    if np.ndim(values) == 0:
        return [values] * n
    out = list(values)
    if len(out) != n:
        raise SignlibError(f"{len(out)} {name} for {n} videos")
    return out


def _mean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def segmentation_scores(pred_labels_list, true_labels_list, tolerance: int = 2,
                        convention: str = "signspark", masks=None, min_length: int = 1,
                        fps=None, tolerances_s=()) -> dict:
    """All segmentation metrics over a list of videos, each averaged per video.

    ``pred_labels_list`` / ``true_labels_list``: sequences of labels ``(T_i,)``. ``masks``: None or
    one mask per video (int length or bool ``(T_i,)``). Predicted segments use ``convention`` and
    ``min_length``; gold segments use ``"b_splits"`` and keep every length. A video without scored
    frames is left out of every average (counted in ``num_skipped_videos``). ``tolerances_s``:
    boundary tolerances in seconds, turned into frames with ``fps`` (one number, or one per video).

    Returns per-video means (NaN values left out; NaN when no video has a value): ``frame_f1,
    inside_iou, segment_ratio, boundary_precision, boundary_recall, boundary_f1`` (at ``tolerance``
    frames), ``over_segmentation, under_segmentation``, and ``boundary_{precision,recall,f1}@<t>s``
    per tolerance in seconds; counts ``num_videos`` (scored), ``num_skipped_videos``,
    ``num_frames`` (scored), ``num_pred_segments``, ``num_true_segments`` (totals over scored
    videos), ``num_videos_without_gold`` and ``false_segments_without_gold``.
    """
    check_convention(convention)
    pred_list, true_list = list(pred_labels_list), list(true_labels_list)
    if len(pred_list) != len(true_list):
        raise SignlibError(f"{len(pred_list)} predicted videos but {len(true_list)} true ones")
    mask_list = [None] * len(true_list) if masks is None else _per_video(masks, len(true_list), "masks")
    tolerances_s = tuple(float(t) for t in tolerances_s)
    if any(not np.isfinite(t) or t < 0 for t in tolerances_s):
        raise SignlibError(f"tolerances_s must be finite seconds >= 0; got {tolerances_s}")
    if tolerances_s and fps is None:
        raise SignlibError("segmentation_scores: tolerances_s (seconds) need fps")
    fps_list = _per_video(fps, len(true_list), "fps values") if tolerances_s else [None] * len(true_list)

    per_video: dict[str, list[float]] = {}
    skipped = frames = n_pred = n_true = no_gold = false_segments = 0
    for k, (pred, true, mask, rate) in enumerate(zip(pred_list, true_list, mask_list, fps_list)):
        try:
            pred, true, keep = scored_frames(pred, true, mask)
        except SignlibError as err:
            raise SignlibError(f"video {k}: {err}") from None
        if not keep.any():
            skipped += 1
            continue
        # Unscored frames become O so they neither create nor extend a segment on either side.
        pred_segments = labels_to_segments(np.where(keep, pred, O), convention, min_length)
        true_segments = labels_to_segments(np.where(keep, true, O), "b_splits")
        values = {"frame_f1": frame_f1(pred, true, keep), "inside_iou": inside_iou(pred, true, keep),
                  "segment_ratio": segment_ratio(pred_segments, true_segments)}
        values.update({f"boundary_{m}": v for m, v in boundary_scores(pred_segments, true_segments, tolerance).items()})
        values.update({f"{m}_segmentation": v for m, v in over_under_segmentation(pred_segments, true_segments).items()})
        for t in tolerances_s:
            if not (isinstance(rate, (int, float, np.number)) and np.isfinite(rate) and rate > 0):
                raise SignlibError(f"video {k}: fps must be a positive number; got {rate!r}")
            frames_t = int(round(t * float(rate)))
            values.update({f"boundary_{m}@{tolerance_key(t)}": v
                           for m, v in boundary_scores(pred_segments, true_segments, frames_t).items()})
        for name, value in values.items():
            per_video.setdefault(name, []).append(value)
        frames += int(keep.sum())
        n_pred += len(pred_segments)
        n_true += len(true_segments)
        if not true_segments:
            no_gold += 1
            false_segments += len(pred_segments)

    names = ["frame_f1", "inside_iou", "segment_ratio", "boundary_precision", "boundary_recall", "boundary_f1",
             "over_segmentation", "under_segmentation"]
    names += [f"boundary_{m}@{tolerance_key(t)}" for t in tolerances_s for m in ("precision", "recall", "f1")]
    scores = {name: _mean(per_video.get(name, [])) for name in names}
    scores.update(num_videos=len(per_video.get("frame_f1", [])), num_skipped_videos=skipped,
                  num_frames=frames, num_pred_segments=n_pred, num_true_segments=n_true,
                  num_videos_without_gold=no_gold, false_segments_without_gold=false_segments)
    return scores
