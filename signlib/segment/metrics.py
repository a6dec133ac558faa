"""Segmentation metrics: frame macro-F1, inside IoU, segment ratio, boundary F1 (DESIGN.md §7).

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
  With no gold segment: 1.0 when nothing is predicted either, else ``#predicted`` (as if the
  clip had one gold segment), so over-segmenting an empty clip is penalised and the per-video
  mean stays finite.
- :func:`boundary_f1`: a segment ``(s, e)`` has a start boundary ``s`` and an end boundary ``e``.
  Starts match only starts and ends only ends (touching gold signs share a frame as one's end
  and the next one's start; pooling would let one predicted boundary stand for both). Matching
  is one-to-one within ``|p - g| <= tolerance`` frames with the largest number of matches
  (:func:`match_boundaries`). ``F1 = 2 M / (N_pred + N_gold)`` with ``M`` the matches of starts
  plus ends and ``N`` the boundary counts (twice the segment counts); both empty → 1.0.

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
    """``#predicted / #gold`` segments of one video; no gold: 1.0 if none predicted else ``#predicted``."""
    n_pred = len(_check_segments(pred_segments, "pred_segments"))
    n_true = len(_check_segments(true_segments, "true_segments"))
    if n_true == 0:
        return 1.0 if n_pred == 0 else float(n_pred)
    return n_pred / n_true


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


def boundary_f1(pred_segments, true_segments, tolerance: int = 2) -> float:
    """Boundary F1 of one video's segments, starts and ends matched separately; both empty → 1.0."""
    pred = _check_segments(pred_segments, "pred_segments")
    true = _check_segments(true_segments, "true_segments")
    if not pred and not true:
        return 1.0
    matches = (match_boundaries([s for s, _ in pred], [s for s, _ in true], tolerance)
               + match_boundaries([e for _, e in pred], [e for _, e in true], tolerance))
    return 2 * matches / (2 * len(pred) + 2 * len(true))


def segmentation_scores(pred_labels_list, true_labels_list, tolerance: int = 2,
                        convention: str = "signspark", masks=None, min_length: int = 1) -> dict:
    """All segmentation metrics over a list of videos, each averaged per video.

    ``pred_labels_list`` / ``true_labels_list``: sequences of labels ``(T_i,)``. ``masks``: None or
    one mask per video (int length or bool ``(T_i,)``). Predicted segments use ``convention`` and
    ``min_length``; gold segments use ``"b_splits"`` and keep every length. A video without scored
    frames is left out of every average (counted in ``num_skipped_videos``).

    Returns ``frame_f1, inside_iou, segment_ratio, boundary_f1`` (per-video means; NaN when no
    video is scored), ``num_videos`` (scored), ``num_skipped_videos``, ``num_frames`` (scored),
    ``num_pred_segments``, ``num_true_segments`` (totals over scored videos).
    """
    check_convention(convention)
    pred_list, true_list = list(pred_labels_list), list(true_labels_list)
    if len(pred_list) != len(true_list):
        raise SignlibError(f"{len(pred_list)} predicted videos but {len(true_list)} true ones")
    mask_list = [None] * len(true_list) if masks is None else list(masks)
    if len(mask_list) != len(true_list):
        raise SignlibError(f"{len(mask_list)} masks for {len(true_list)} videos")

    per_video = {"frame_f1": [], "inside_iou": [], "segment_ratio": [], "boundary_f1": []}
    skipped = frames = n_pred = n_true = 0
    for k, (pred, true, mask) in enumerate(zip(pred_list, true_list, mask_list)):
        try:
            pred, true, keep = scored_frames(pred, true, mask)
        except SignlibError as err:
            raise SignlibError(f"video {k}: {err}") from None
        if not keep.any():
            skipped += 1
            continue
        per_video["frame_f1"].append(frame_f1(pred, true, keep))
        per_video["inside_iou"].append(inside_iou(pred, true, keep))
        # Unscored frames become O so they neither create nor extend a segment on either side.
        pred_segments = labels_to_segments(np.where(keep, pred, O), convention, min_length)
        true_segments = labels_to_segments(np.where(keep, true, O), "b_splits")
        per_video["segment_ratio"].append(segment_ratio(pred_segments, true_segments))
        per_video["boundary_f1"].append(boundary_f1(pred_segments, true_segments, tolerance))
        frames += int(keep.sum())
        n_pred += len(pred_segments)
        n_true += len(true_segments)

    scores = {name: float(np.mean(v)) if v else float("nan") for name, v in per_video.items()}
    scores.update(num_videos=len(per_video["frame_f1"]), num_skipped_videos=skipped,
                  num_frames=frames, num_pred_segments=n_pred, num_true_segments=n_true)
    return scores
