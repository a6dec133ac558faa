"""Per-frame pose costs, body/hand parts, similarity Procrustes and (PA-)MPJPE (DESIGN.md §7).

All functions take joint positions ``(T, J, 3)`` in metres (numpy, anything ``np.asarray`` takes,
or a torch tensor, which is detached and copied to the CPU) and compute in float64.

Parts (:func:`split_parts`) of an ``xyz`` layout:

- ``body``: the layout's body joints, as they are;
- ``left_hand`` / ``right_hand``: the 21 points of one hand **translated to its wrist** (point 0 of
  the hand part), so a hand is judged by its shape, not by where the arm put it;
- ``hand``: both translated hands together, ``(T, 42, 3)``; the default hand part of the metrics.
  The wrist point itself is always at the origin after the translation and is kept (it is one of
  the 21 points the definition names), so it adds a zero term to the hand's mean.

Masks: ``valid`` ``(T, J)`` bool says which joints were detected. A joint takes part in a pair of
frames only when it is valid in both; a hand point also needs its wrist (without the wrist its
wrist-relative position is undefined). Positions under ``valid == False`` may be NaN; NaN anywhere
else is an error. :func:`frame_costs` gives a pair of frames with no joint in common a cost of 0;
the DTW metrics never use that 0 (:mod:`signlib.evaluate.dtw` drops frames that show nothing of a
part and penalises the remaining empty pairs), and :func:`mpjpe` leaves such frames out of its mean.

Every similarity Procrustes takes its rotation and scale from :mod:`signlib.evaluate.rigid`: a
closed form for large batches (all frame pairs of the PA costs), the SVD for a few pairs.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Callable, NamedTuple

import numpy as np

from signlib.errors import SignlibError
from signlib.evaluate.rigid import rotation_scale
from signlib.pose.layout import Layout, get_layout

HAND_PARTS = ("left_hand", "right_hand")
ALL_PARTS = ("body", "left_hand", "right_hand", "hand")
#: Joint pairs (frames × frames × joints) processed at once by the all-pairs costs: bounds memory
#: to a few hundred MB of float64 temporaries whatever the sequence lengths.
CHUNK_JOINT_PAIRS = 1 << 18


class Part(NamedTuple):
    """One part of a pose sequence: ``xyz`` ``(T, J_part, 3)`` and ``valid`` ``(T, J_part)`` bool."""

    xyz: np.ndarray
    valid: np.ndarray


def _numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):  # torch tensor; no torch import needed for numpy callers
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def as_positions(x, layout: Layout | str | None = None, valid=None,
                 what: str = "poses") -> tuple[np.ndarray, np.ndarray]:
    """Check and convert one sequence.

    Args:
        x: ``(T, J, 3)`` positions, or ``(T, D)`` flat features when ``layout`` is given.
        layout: an ``xyz`` layout with 3 channels; ``J`` must match it.
        valid: ``(T, J)`` bool, or None for all valid.
        what: name used in error messages.
    Returns:
        ``(T, J, 3)`` float64 positions with masked joints zeroed, and the ``(T, J)`` bool mask.
    """
    x = _numpy(x)
    lay = None if layout is None else get_layout(layout)
    if lay is not None:
        if lay.kind != "xyz" or lay.channels != 3:
            raise SignlibError(f"pose metrics need a 3D xyz layout, got {lay.kind} layout {lay.name!r} "
                               f"with {lay.channels} channels")
        if x.ndim == 2 and x.shape[-1] == lay.dim:
            x = x.reshape(x.shape[0], lay.num_joints, 3)
    if x.ndim != 3 or x.shape[-1] != 3:
        raise SignlibError(f"{what} must have shape (T, J, 3), got {tuple(x.shape)}")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise SignlibError(f"{what} are empty: shape {tuple(x.shape)}")
    if lay is not None and x.shape[1] != lay.num_joints:
        raise SignlibError(f"{what} have {x.shape[1]} joints but layout {lay.name!r} has {lay.num_joints}")
    if not np.issubdtype(x.dtype, np.number):
        raise SignlibError(f"{what} must be numeric, got dtype {x.dtype}")
    x = np.array(x, dtype=np.float64)  # a copy: masked joints are zeroed in place below
    ok = np.ones(x.shape[:2], bool) if valid is None else _numpy(valid).astype(bool)
    if ok.shape != x.shape[:2]:
        raise SignlibError(f"valid mask of {what} has shape {tuple(ok.shape)}, expected {x.shape[:2]}")
    if not np.isfinite(x[ok]).all():
        raise SignlibError(f"{what} contain NaN or inf at joints marked valid")
    x[~ok] = 0.0  # so masked NaNs cannot leak into sums that weight them by 0
    return x, ok


def split_parts(xyz, layout: Layout | str, valid=None) -> dict[str, Part]:
    """Split ``(T, J, 3)`` positions of an ``xyz`` layout into metric parts.

    Returns:
        ``{"body": Part((T, J_body, 3), ...), "left_hand": Part((T, 21, 3), ...),
        "right_hand": ..., "hand": Part((T, 42, 3), ...)}``; hands are translated to their wrist.
    """
    lay = get_layout(layout)
    x, ok = as_positions(xyz, lay, valid)
    body = lay.joint_slice("body")
    parts = {"body": Part(x[:, body], ok[:, body])}
    for side in HAND_PARTS:
        s = lay.joint_slice(side)
        hand, hand_ok = x[:, s], ok[:, s]
        wrist_ok = hand_ok[:, :1]
        parts[side] = Part(np.where(wrist_ok[..., None], hand - hand[:, :1], 0.0), hand_ok & wrist_ok)
    parts["hand"] = Part(np.concatenate([parts[s].xyz for s in HAND_PARTS], axis=1),
                         np.concatenate([parts[s].valid for s in HAND_PARTS], axis=1))
    return parts


def _weights(ok: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = ok.sum(-1)
    return ok / np.maximum(n, 1)[..., None], n


def _similarity(a: np.ndarray, b: np.ndarray, w: np.ndarray):
    """Weighted similarity Procrustes of ``a`` onto ``b``, one alignment per leading index.

    ``a``, ``b`` ``(..., J, 3)``; ``w`` ``(..., J)`` weights summing to 1 (or all 0).
    Returns ``scale (...)``, ``rotation (..., 3, 3)`` and the translation ``(..., 3)`` with
    aligned ``a = scale * a @ rotation^T + translation``.
    """
    mu_a = np.einsum("...j,...jk->...k", w, a)
    mu_b = np.einsum("...j,...jk->...k", w, b)
    a0 = a - mu_a[..., None, :]
    b0 = b - mu_b[..., None, :]
    cov = np.swapaxes(b0 * w[..., None], -1, -2) @ a0                   # (..., 3, 3)
    rotation, scale = rotation_scale(cov, np.einsum("...j,...jk,...jk->...", w, a0, a0))
    translation = mu_b - scale[..., None] * (rotation @ mu_a[..., None])[..., 0]
    return scale, rotation, translation


def procrustes(src, dst, valid=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Similarity transform mapping ``src`` onto ``dst`` in the least-squares sense.

    Args:
        src, dst: ``(..., J, 3)`` point sets (same shape).
        valid: ``(..., J)`` bool, points to use; None for all.
    Returns:
        ``scale (...)``, ``rotation (..., 3, 3)`` (a proper rotation, det +1) and
        ``translation (..., 3)`` with ``dst ≈ scale * src @ rotation^T + translation``.
    """
    a, b = np.asarray(src, np.float64), np.asarray(dst, np.float64)
    if a.shape != b.shape or a.ndim < 2 or a.shape[-1] != 3:
        raise SignlibError(f"procrustes needs two (..., J, 3) arrays of one shape, got {a.shape} and {b.shape}")
    ok = np.ones(a.shape[:-1], bool) if valid is None else np.asarray(valid, bool)
    # Unused points get weight 0; zero them too, so a NaN there cannot turn 0 · NaN into NaN.
    a, b = np.where(ok[..., None], a, 0.0), np.where(ok[..., None], b, 0.0)
    return _similarity(a, b, _weights(ok)[0])


def _paired_costs(a, va, b, vb, aligned: bool) -> np.ndarray:
    """Cost of frame ``t`` of ``a`` ``(T, J, 3)`` against frame ``t`` of ``b``: ``(T,)``."""
    w, _ = _weights(va & vb)
    if aligned:
        scale, rotation, translation = _similarity(a, b, w)
        a = scale[:, None, None] * (a @ np.swapaxes(rotation, -1, -2)) + translation[:, None]
    return (w * np.sqrt(((a - b) ** 2).sum(-1))).sum(-1)   # 0 where no joint is shared


def _centre(x: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """Each frame minus its valid-joint centroid: PA costs do not change, the moments below stay small."""
    w, _ = _weights(ok)
    return np.where(ok[..., None], x - np.einsum("tj,tjk->tk", w, x)[:, None], 0.0)


def _all_pairs_pa(a, va, b, vb, solver: Callable = rotation_scale) -> np.ndarray:
    """PA cost of every frame of ``a`` ``(c, J, 3)`` against every frame of ``b`` ``(T2, J, 3)``.

    Masked joints are zero, so weighted sums over the joints shared by frames ``i`` and ``j`` are
    plain matrix products; ``(c, T2, 3, J)`` temporaries only appear for the final distances.
    ``solver(cov (c, T2, 3, 3), var_a (c, T2))`` gives the rotations and scales
    (:mod:`signlib.evaluate.rigid`).
    """
    c, n_j = va.shape
    t2 = vb.shape[0]
    fa, fb = va.astype(np.float64), vb.astype(np.float64)
    inv = 1.0 / np.maximum(fa @ fb.T, 1.0)                                   # (c, T2) 1 / shared joints
    b_flat = b.transpose(1, 0, 2).reshape(n_j, t2 * 3)                       # (J, T2·3)
    mu_a = (fb[None] @ a) * inv[..., None]                                   # (c, T2, 3)
    mu_b = (fa @ b_flat).reshape(c, t2, 3) * inv[..., None]                  # (c, T2, 3)
    second = (b_flat.T @ a.transpose(1, 0, 2).reshape(n_j, c * 3))           # (T2·3, c·3)
    second = second.reshape(t2, 3, c, 3).transpose(2, 0, 1, 3)               # (c, T2, 3, 3) Σ b aᵀ
    cov = second * inv[..., None, None] - mu_b[..., :, None] * mu_a[..., None, :]
    var_a = (fb @ (a ** 2).sum(-1).T).T * inv - (mu_a ** 2).sum(-1)
    rotation, scale = solver(cov, var_a)
    sr = scale[..., None, None] * rotation                                   # (c, T2, 3, 3)
    shift = mu_b - np.einsum("abxy,aby->abx", sr, mu_a)                      # (c, T2, 3)
    # Map every frame of a by every pair's similarity in one batched product, (c, T2·3, 4) @
    # (c, 4, J): a row of ones appended to a carries the translation, so the (c, T2, 3, J)
    # temporary is written once and then only updated in place (it dominates the time).
    transform = np.concatenate([sr, shift[..., None]], -1).reshape(c, t2 * 3, 4)
    a_h = np.concatenate([a.transpose(0, 2, 1), np.ones((c, 1, n_j))], 1)   # (c, 4, J)
    diff = (transform @ a_h).reshape(c, t2, 3, n_j)
    diff -= b.transpose(0, 2, 1)
    dist = np.sqrt(np.einsum("abkj,abkj->abj", diff, diff))                  # (c, T2, J)
    return np.einsum("abj,aj,bj->ab", dist, fa, fb) * inv


def _all_pairs_plain(a, va, b, vb) -> np.ndarray:
    fa, fb = va.astype(np.float64), vb.astype(np.float64)
    diff = a[:, None] - b[None]                                              # (c, T2, J, 3)
    dist = np.sqrt(np.einsum("abjk,abjk->abj", diff, diff))
    return np.einsum("abj,aj,bj->ab", dist, fa, fb) / np.maximum(fa @ fb.T, 1.0)


def frame_costs(a, b, valid_a=None, valid_b=None, aligned: bool = False,
                chunk_joint_pairs: int = CHUNK_JOINT_PAIRS, *,
                solver: Callable = rotation_scale) -> np.ndarray:
    """Cost of every frame pair: mean over shared joints of the L2 distance.

    Args:
        a: ``(T1, J, 3)`` positions; b: ``(T2, J, 3)``.
        valid_a, valid_b: ``(T1, J)`` / ``(T2, J)`` bool masks, or None.
        aligned: first map frame ``i`` of ``a`` onto frame ``j`` of ``b`` with a similarity
            Procrustes fitted on the shared joints (PA cost), solved for all pairs at once.
        chunk_joint_pairs: rows of ``a`` are processed in chunks of about this many
            frame-pair × joint entries, to bound memory.
        solver: the rotation/scale solver of the PA cost: :func:`signlib.evaluate.rigid.rotation_scale`
            (a closed form, Horn 1987), or ``rigid.rotation_scale_svd``, the SVD reference (Umeyama
            1991) it is tested against.
    Returns:
        ``(T1, T2)`` costs in the unit of the positions; 0 for pairs with no shared joint.
    """
    a, va = as_positions(a, valid=valid_a, what="first sequence")
    b, vb = as_positions(b, valid=valid_b, what="second sequence")
    if a.shape[1] != b.shape[1]:
        raise SignlibError(f"sequences have {a.shape[1]} and {b.shape[1]} joints")
    if aligned:
        a, b = _centre(a, va), _centre(b, vb)
    pairs = partial(_all_pairs_pa, solver=solver) if aligned else _all_pairs_plain
    rows = max(1, chunk_joint_pairs // (b.shape[0] * b.shape[1]))
    out = np.empty((a.shape[0], b.shape[0]))
    for i in range(0, a.shape[0], rows):
        sl = slice(i, i + rows)
        out[sl] = pairs(a[sl], va[sl], b, vb)
    return out


def split_pair(pred, ref, layout, valid_pred, valid_ref, parts, same_length: bool):
    """Both sequences split into parts; errors for unknown parts and (optionally) unequal lengths."""
    unknown = [p for p in parts if p not in ALL_PARTS]
    if unknown or not parts:
        raise SignlibError(f"unknown metric parts {unknown or parts!r}; choose from {', '.join(ALL_PARTS)}")
    lay = get_layout(layout)
    p = split_parts(pred, lay, valid_pred)
    r = split_parts(ref, lay, valid_ref)
    if same_length and len(p["body"].xyz) != len(r["body"].xyz):
        raise SignlibError(f"prediction has {len(p['body'].xyz)} frames but reference has "
                           f"{len(r['body'].xyz)}; use dtw_jpe for sequences of different lengths")
    return p, r


def _mpjpe(pred, ref, layout, valid_pred, valid_ref, parts, aligned) -> dict[str, float]:
    p, r = split_pair(pred, ref, layout, valid_pred, valid_ref, parts, same_length=True)
    out = {}
    for part in parts:
        (a, va), (b, vb) = p[part], r[part]
        cost = _paired_costs(a, va, b, vb, aligned)                          # (T,)
        has = (va & vb).any(-1)
        out[part] = float(cost[has].mean()) if has.any() else float("nan")
    return out


def mpjpe(pred, ref, layout: Layout | str, valid_pred=None, valid_ref=None,
          parts: tuple[str, ...] = ("body", "hand")) -> dict[str, float]:
    """Mean per-joint position error of two equally long sequences, per part.

    Args:
        pred, ref: ``(T, J, 3)`` (or ``(T, D)``) positions of ``layout``.
        valid_pred, valid_ref: optional ``(T, J)`` masks.
        parts: any of ``body``, ``left_hand``, ``right_hand``, ``hand``.
    Returns:
        ``{part: error}``, the mean over frames of the per-frame cost; frames without a shared
        joint are left out (NaN when no frame has one).
    """
    return _mpjpe(pred, ref, layout, valid_pred, valid_ref, parts, aligned=False)


def pa_mpjpe(pred, ref, layout: Layout | str, valid_pred=None, valid_ref=None,
             parts: tuple[str, ...] = ("body", "hand")) -> dict[str, float]:
    """:func:`mpjpe` after a similarity Procrustes of each predicted frame onto its reference frame."""
    return _mpjpe(pred, ref, layout, valid_pred, valid_ref, parts, aligned=True)


def pck(pred, ref, layout: Layout | str, threshold: float = 0.05, valid_pred=None, valid_ref=None,
        parts: tuple[str, ...] = ("body", "hand")) -> dict[str, float]:
    """Percentage of correct keypoints of two equally long sequences, per part, as a share in [0, 1].

    A joint of a frame is correct when it lies within ``threshold`` (in the unit of the positions,
    metres by default: 0.05 = 5 cm) of the reference joint; hands are wrist-relative, as
    everywhere in this module. Only joints observed on both sides count (missing data): the share
    is over those, and NaN when there is none.

    Args:
        pred, ref: ``(T, J, 3)`` (or ``(T, D)``) positions of ``layout``.
        threshold: distance under which a joint counts as correct (> 0).
    Returns:
        ``{part: share of correct joints}``.
    """
    if not (isinstance(threshold, (int, float)) and not isinstance(threshold, bool) and 0 < threshold < math.inf):
        raise SignlibError(f"pck: threshold must be a positive distance, got {threshold!r}")
    p, r = split_pair(pred, ref, layout, valid_pred, valid_ref, parts, same_length=True)
    out = {}
    for part in parts:
        (a, va), (b, vb) = p[part], r[part]
        both = va & vb                                                         # (T, J)
        dist = np.linalg.norm(a - b, axis=-1)
        out[part] = float((dist[both] <= threshold).mean()) if both.any() else float("nan")
    return out
