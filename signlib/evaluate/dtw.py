"""Dynamic time warping and the DTW pose metrics DTW-JPE / DTW-PA-JPE (DESIGN.md §7).

DTW aligns two sequences of different lengths: it finds the monotone path from cell ``(0, 0)`` to
``(T1-1, T2-1)`` of a ``(T1, T2)`` cost matrix, with steps ``(1, 0)``, ``(0, 1)`` and ``(1, 1)``,
whose summed cost is smallest. Every cell on the path counts once, so the path has between
``max(T1, T2)`` and ``T1 + T2 - 1`` cells ("steps").

Two numbers are reported, and tables must say which:

- ``total``: the accumulated cost along the path, in metres; what published tables use. It grows
  with the sequence lengths.
- ``mean``: ``total / steps``, the average per-pair joint error along the path, also in metres.

**Missing data** (:func:`part_costs`, per metric part). A frame in which a side shows no joint
of the part (say a hand that left the picture) has nothing to be compared with: it is dropped
from that side before the alignment, and the number of dropped frames (both sides) is reported
as ``<part>_dropped_frames``. Without the rule such frames cost 0 against everything, so a
reference whose hands vanish for its last 14 frames let any prediction walk those cells for free
(a hand DTW-JPE of exactly 0 on a real pair). When either side shows the part in no frame at all,
the scores are NaN (``<part>_steps`` = 0): nothing is comparable, and tables leave NaN out of
their means. A remaining pair of frames that share no joint (only the left hand in one, only the
right in the other) costs the largest cost of the comparable pairs of the same matrix, so it is
never a shortcut; their number is ``<part>_penalised_cells``.

Ties between predecessors are broken in the order diagonal, ``(1, 0)``, ``(0, 1)``, so the path
(and its length) is deterministic.

The recursion ``D[i, j] = c[i, j] + min(D[i-1, j-1], D[i-1, j], D[i, j-1])`` only links a cell to
cells on the two previous anti-diagonals, so each anti-diagonal ``i + j = k`` is computed with a
handful of numpy vector operations: ``T1 + T2 - 1`` loop steps instead of ``T1 · T2``. The cost
matrix is first stored skewed (one row per anti-diagonal, indexed by ``i``) so that the
predecessors are plain shifted slices rather than gathers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signlib.errors import SignlibError
from signlib.evaluate.pose_metrics import frame_costs, split_pair
from signlib.pose.layout import Layout


@dataclass(frozen=True)
class DTWResult:
    """Outcome of :func:`dtw`.

    Attributes:
        total: accumulated cost along the optimal path.
        steps: number of cells on the path.
        mean: ``total / steps``.
        path: ``(steps, 2)`` int array of ``(i, j)`` cells from ``(0, 0)`` to ``(T1-1, T2-1)``,
            or None when not requested.
    """

    total: float
    steps: int
    mean: float
    path: np.ndarray | None = None


def _check_costs(cost, batched: bool) -> np.ndarray:
    c = np.asarray(cost, dtype=np.float64)
    want = 3 if batched else 2
    if c.ndim != want:
        raise SignlibError(f"DTW cost must have shape {'(B, T1, T2)' if batched else '(T1, T2)'}, "
                           f"got {c.shape}")
    if c.shape[-1] == 0 or c.shape[-2] == 0:
        raise SignlibError(f"DTW cost matrix is empty: shape {c.shape}")
    if not np.isfinite(c).all():
        raise SignlibError("DTW cost matrix contains NaN or inf")
    return c


def _skew(c: np.ndarray) -> np.ndarray:
    """``(B, T1, T2)`` → ``(T1 + T2 - 1, B, T1 + 1)``: row ``k`` holds anti-diagonal ``i + j = k``
    at column ``i + 1``; column 0 and cells with ``j`` outside the matrix are inf."""
    b, t1, t2 = c.shape
    out = np.full((t1 + t2 - 1, b, t1 + 1), np.inf)
    # Cell (i, j) of item n goes to out[i + j, n, i + 1]; as flat strides that is i·(B(T1+1)+1) +
    # j·B(T1+1) + n(T1+1) + 1, a strided view, so the copy needs no index arrays.
    row, item = out.strides[0], out.strides[1]
    view = np.lib.stride_tricks.as_strided(out[0, :, 1:], shape=(b, t1, t2),
                                           strides=(item, row + out.itemsize, row))
    view[...] = c
    return out


def _accumulate(c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Anti-diagonal DTW on ``(B, T1, T2)`` costs.

    Returns totals ``(B,)`` and the moves chosen per cell as two ``(T1 + T2 - 1, B, T1)`` bool
    masks in skewed layout (``[i + j, b, i]``): ``up`` = came by (1, 0), ``left`` = came by
    (0, 1); neither = diagonal.
    """
    b, t1, t2 = c.shape
    skewed = _skew(c)
    # Three anti-diagonals of accumulated cost in a ring, each padded with an inf column 0. On
    # diagonal k, cell (i, k - i) lives at column i + 1 and reaches back to (i-1, j-1) = column i
    # of diagonal k-2, (i-1, j) = column i of k-1 and (i, j-1) = column i + 1 of k-1: all three
    # are slices, built once, so each step is five ufunc calls with no copies or gathers.
    ring = np.full((3, b, t1 + 1), np.inf)
    ring[0] = skewed[0]
    heads = [r[:, :-1] for r in ring]      # column i: predecessors (i-1, ·)
    tails = [r[:, 1:] for r in ring]       # column i + 1: the cell itself / (i, j-1)
    up = np.zeros((t1 + t2 - 1, b, t1), bool)
    left = np.zeros((t1 + t2 - 1, b, t1), bool)
    best = np.empty((b, t1))
    less, minimum, add = np.less, np.minimum, np.add
    for k in range(1, t1 + t2 - 1):
        p1, p2, cur = (k - 1) % 3, (k - 2) % 3, k % 3
        # Strict "<" keeps the earlier move on ties: diagonal, then (1, 0), then (0, 1).
        less(heads[p1], heads[p2], out=up[k])
        minimum(heads[p2], heads[p1], out=best)
        less(tails[p1], best, out=left[k])
        minimum(best, tails[p1], out=best)
        add(skewed[k, :, 1:], best, out=tails[cur])
    return ring[(t1 + t2 - 2) % 3][:, t1].copy(), up, left


def _walk_back(up: np.ndarray, left: np.ndarray, item: int) -> np.ndarray:
    """Optimal path ``(steps, 2)`` of batch item ``item``, followed back from ``(T1-1, T2-1)``.

    Plain Python integers: one step per path cell (at most ``T1 + T2 - 1``), far cheaper than
    a numpy call per step.
    """
    up_k, left_k = up[:, item], left[:, item]
    i, j = up.shape[2] - 1, up.shape[0] - up.shape[2]
    path = [(i, j)]
    while i or j:
        if left_k[i + j, i]:
            j -= 1
        elif up_k[i + j, i]:
            i -= 1
        else:
            i, j = i - 1, j - 1
        path.append((i, j))
    return np.array(path[::-1], dtype=np.int64)


def _count_steps(up: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Path lengths ``(B,)``: all items walk back together, one numpy step per path cell."""
    diags, b, t1 = up.shape
    items = np.arange(b)
    i, j = np.full(b, t1 - 1), np.full(b, diags - t1)
    steps = np.ones(b, np.int64)
    active = (i > 0) | (j > 0)
    while active.any():
        go_left = left[i + j, items, i]
        go_up = up[i + j, items, i] & ~go_left
        i = i - (active & ~go_left)                      # diagonal and (1, 0) both step i back
        j = j - (active & ~go_up)                        # diagonal and (0, 1) both step j back
        steps += active
        active = (i > 0) | (j > 0)
    return steps


def dtw(cost, return_path: bool = False) -> DTWResult:
    """DTW over a ``(T1, T2)`` cost matrix (finite, non-empty).

    Args:
        cost: ``(T1, T2)`` pairwise costs.
        return_path: also return the optimal path (``(steps, 2)`` cells).
    """
    c = _check_costs(cost, batched=False)
    totals, up, left = _accumulate(c[None])
    path = _walk_back(up, left, 0)
    total = float(totals[0])
    return DTWResult(total, len(path), total / len(path), path if return_path else None)


def dtw_batch(costs) -> tuple[np.ndarray, np.ndarray]:
    """DTW over a batch of equally sized cost matrices ``(B, T1, T2)``.

    Returns:
        totals ``(B,)`` float and steps ``(B,)`` int; ``mean = totals / steps``.
    """
    c = _check_costs(costs, batched=True)
    totals, up, left = _accumulate(c)
    return totals, _count_steps(up, left)


def part_costs(pred_part, ref_part, aligned: bool) -> tuple[np.ndarray | None, dict[str, int]]:
    """The DTW cost matrix of one metric part under the missing-data rule (module docstring).

    ``pred_part`` / ``ref_part``: :class:`~signlib.evaluate.pose_metrics.Part` ``(T, J, 3)`` with
    their ``(T, J)`` masks. Returns the ``(T1', T2')`` costs over the frames that show the part
    (None when either side shows it in no frame) and the counts ``dropped_frames`` (frames of
    both sides left out) and ``penalised_cells`` (kept pairs with no joint in common).
    """
    keep_p, keep_r = pred_part.valid.any(1), ref_part.valid.any(1)
    counts = {"dropped_frames": int((~keep_p).sum() + (~keep_r).sum()), "penalised_cells": 0}
    if not keep_p.any() or not keep_r.any():
        return None, counts
    vp, vr = pred_part.valid[keep_p], ref_part.valid[keep_r]
    cost = frame_costs(pred_part.xyz[keep_p], ref_part.xyz[keep_r], vp, vr, aligned=aligned)
    empty = (vp.astype(np.float64) @ vr.T.astype(np.float64)) == 0
    if empty.any():
        counts["penalised_cells"] = int(empty.sum())
        # The worst comparable pair of the matrix: an empty cell is never a shortcut for the path.
        cost[empty] = cost[~empty].max() if (~empty).any() else 0.0
    return cost, counts


def _dtw_metric(pred, ref, layout, valid_pred, valid_ref, parts, aligned) -> dict[str, float]:
    p, r = split_pair(pred, ref, layout, valid_pred, valid_ref, parts, same_length=False)
    out: dict[str, float] = {}
    for part in parts:
        cost, counts = part_costs(p[part], r[part], aligned)
        if cost is None:  # nothing comparable: no score, rather than a perfect one
            out.update({f"{part}_total": float("nan"), f"{part}_mean": float("nan"), f"{part}_steps": 0})
        else:
            res = dtw(cost)
            out.update({f"{part}_total": res.total, f"{part}_mean": res.mean, f"{part}_steps": res.steps})
        out.update({f"{part}_{k}": v for k, v in counts.items()})
    return out


def dtw_jpe(pred, ref, layout: Layout | str, valid_pred=None, valid_ref=None,
            parts: tuple[str, ...] = ("body", "hand")) -> dict[str, float]:
    """DTW joint position error between a predicted and a reference sequence.

    Args:
        pred: ``(T1, J, 3)`` (or ``(T1, D)``) positions of the ``xyz`` ``layout``, metres.
        ref: ``(T2, J, 3)`` positions of the same layout; lengths may differ.
        valid_pred, valid_ref: optional ``(T, J)`` bool masks (see :mod:`pose_metrics`).
        parts: any of ``body``, ``left_hand``, ``right_hand``, ``hand`` (both hands); hands are
            translated to their wrists.
    Returns:
        ``{"<part>_total": accumulated path cost (metres), "<part>_mean": total / steps,
        "<part>_steps": path length, "<part>_dropped_frames", "<part>_penalised_cells"}`` for
        each part (the missing-data rule of the module docstring; NaN scores when either side
        never shows the part).
    """
    return _dtw_metric(pred, ref, layout, valid_pred, valid_ref, parts, aligned=False)


def dtw_pa_jpe(pred, ref, layout: Layout | str, valid_pred=None, valid_ref=None,
               parts: tuple[str, ...] = ("body", "hand")) -> dict[str, float]:
    """:func:`dtw_jpe` with a similarity Procrustes (rotation, uniform scale, translation; no
    reflection) of every predicted frame onto every reference frame before its cost is taken."""
    return _dtw_metric(pred, ref, layout, valid_pred, valid_ref, parts, aligned=True)
