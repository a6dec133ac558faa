"""Curation: from raw clips to model-ready ones (gap filling, normalisation, length limits).

Each step reports what it did as plain dict rows, so the ``corpus`` stage can show a quality
table of exactly what changed in the data.
"""

from __future__ import annotations

import numpy as np

from signlib.data.sequence import Sequence
from signlib.pose.layout import get_layout
from signlib.pose.normalize import normalize_features, orthonormalize_rot6d


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, end), ...]`` of the True runs of a 1-D bool array (end exclusive)."""
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def fill_gaps(features: np.ndarray, valid: np.ndarray, layout, max_gap: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Interpolate short runs of missing joints; hold the nearest value elsewhere.

    Interior gaps of at most ``max_gap`` frames are filled linearly between the frames around the
    gap (rot6d results are re-orthonormalised, which makes the linear blend a valid rotation) and
    become valid. Longer and edge gaps stay invalid but get the nearest observed value instead of
    the reader's zero fill, because a zero 6D vector is not a rotation.

    Args:
        features: ``(T, D)``; valid: ``(T, J)`` bool.
    Returns:
        ``(features (T, D), valid (T, J), number of joint-frames filled)``.
    """
    lay = get_layout(layout)
    T = len(features)
    x = features.reshape(T, lay.num_joints, lay.channels).copy()
    valid = valid.copy()
    filled = 0
    for j in range(lay.num_joints):
        if valid[:, j].all() or not valid[:, j].any():
            continue
        observed = np.flatnonzero(valid[:, j])
        for start, end in _runs(~valid[:, j]):
            interior = start > 0 and end < T
            if interior and end - start <= max_gap:
                a, b = x[start - 1, j], x[end, j]
                w = (np.arange(start, end) - (start - 1)) / (end - start + 1)
                x[start:end, j] = a + w[:, None] * (b - a)
                valid[start:end, j] = True
                filled += end - start
            else:
                nearest = observed[np.abs(observed[None, :] - np.arange(start, end)[:, None]).argmin(1)]
                x[start:end, j] = x[nearest, j]
    out = x.reshape(T, lay.dim)
    if lay.kind == "rot6d":
        out = orthonormalize_rot6d(out, lay)
    return out.astype(np.float32), valid, filled


def curate(seq: Sequence, max_gap: int, max_frames: int) -> tuple[Sequence | None, dict]:
    """Fill gaps and normalise one clip; drop it (``None``) when it is longer than ``max_frames``.

    Returns the curated clip and a report row: id, language, frames, missing share before and
    after, joint-frames filled, and the reason when dropped.
    """
    valid = seq.valid_or_all()
    row = {"id": seq.id, "language": seq.language, "signer": seq.signer, "frames": seq.num_frames,
           "missing_before": float(1 - valid.mean()), "filled": 0, "missing_after": float(1 - valid.mean()),
           "dropped": ""}
    if seq.num_frames > max_frames:
        row["dropped"] = f"longer than {max_frames} frames"
        return None, row
    feats, valid, filled = fill_gaps(seq.features, valid, seq.layout, max_gap)
    feats = normalize_features(feats, seq.layout, valid)
    row.update(filled=filled, missing_after=float(1 - valid.mean()))
    return seq.replace(features=feats, valid=valid), row


def curate_all(sequences, max_gap: int, max_frames: int) -> tuple[list[Sequence], list[dict]]:
    """:func:`curate` every clip; return the kept clips and one report row per input clip."""
    kept, rows = [], []
    for seq in sequences:
        out, row = curate(seq, max_gap, max_frames)
        rows.append(row)
        if out is not None:
            kept.append(out)
    return kept, rows


def quality_table(report: list[dict]) -> list[dict]:
    """Per-language (and ``all``) summary of :func:`curate_all` report rows: clips, dropped,
    frame-weighted missing share before and after gap filling (%), joint-frames filled."""
    out = []
    for lang in sorted({r["language"] for r in report}) + ["all"]:
        rows = [r for r in report if lang == "all" or r["language"] == lang]
        frames = max(1, sum(r["frames"] for r in rows))
        out.append({
            "language": lang, "clips": len(rows), "dropped": sum(bool(r["dropped"]) for r in rows),
            "missing_before_pct": 100 * sum(r["missing_before"] * r["frames"] for r in rows) / frames,
            "missing_after_pct": 100 * sum(r["missing_after"] * r["frames"] for r in rows) / frames,
            "joint_frames_filled": sum(r["filled"] for r in rows)})
    return out
