"""Best proper rotation and scale of a weighted similarity Procrustes, for a batch of point-set pairs.

Given the cross-covariance ``cov = Σ w b0 a0ᵀ`` ``(..., 3, 3)`` of two centred point sets and
``var_a = Σ w |a0|²`` ``(...)``, the similarity ``b ≈ s R a + t`` that minimises
``Σ w |s R a0 - b0|²`` over proper rotations (``det R = +1``, reflections not allowed) has
``R = argmax tr(Rᵀ cov)`` and ``s = max tr(Rᵀ cov) / var_a`` (Umeyama 1991).

Two solvers give the same answer:

- :func:`rotation_scale_svd`, the reference: Umeyama's SVD ``cov = U D Vᵀ``,
  ``R = U diag(1, 1, ±1) Vᵀ`` (the weakest axis flipped when ``U Vᵀ`` would be a reflection) and
  ``s = (d1 + d2 ± d3) / var_a``. Exact, but numpy's batched SVD of 3×3 matrices pays a LAPACK
  call per matrix, which dominated the all-pairs PA frame costs.
- :func:`rotation_scale`, the fast path: a closed form written as ~60 vector operations over the
  whole batch, with the SVD as fallback for the pairs it cannot certify.

The closed form. Let ``M = cov / ‖cov‖_F`` and write its SVD with proper rotations,
``M = U diag(e1, e2, e3) Vᵀ`` with ``det U = det V = +1``: ``e = (d1, d2, σ d3)`` where
``d1 ≥ d2 ≥ d3 ≥ 0`` are the singular values and ``σ = sign det M`` (the reflection moved onto the
weakest axis). The reference's answer is then exactly ``R = U Vᵀ`` and
``max tr(Rᵀ M) = λ1 = e1 + e2 + e3``.

1. ``λ1`` (Horn 1987): it is the largest eigenvalue of Horn's symmetric 4×4 matrix of ``M``, whose
   eigenvalues are ``±e1 ± e2 ± e3`` with an even number of minus signs. Its characteristic
   polynomial, in invariants of ``M`` (``Σ e² = 1``, ``e1 e2 e3 = det M``,
   ``Σ_{i<j} e_i² e_j² = ‖cof M‖²_F``), is ``P(λ) = λ⁴ - 2λ² - 8 det(M) λ + 1 - 4‖cof M‖²_F``.
   Newton's method starts from ``λ0 = √(1 + 2√(3 ‖cof M‖²)) ≥ d1 + d2 + d3 ≥ λ1`` (Cauchy–Schwarz
   on ``(Σ d)² = 1 + 2 Σ_{i<j} d_i d_j``). ``P`` has only real roots, so the roots of ``P'`` and
   ``P''`` interlace them and lie below ``λ1``: on ``[λ1, ∞)`` ``P`` is increasing and convex and
   the iterates decrease monotonically to ``λ1`` (guaranteed convergence, quadratic when ``λ1`` is
   simple: 5 steps for nearly every pair of pose data, at most ~12 for random matrices).
2. ``R`` (a polar decomposition by Cayley–Hamilton): ``M``, ``cof M = U diag(e2e3, e1e3, e1e2) Vᵀ``
   and ``M Mᵀ M = U diag(e³) Vᵀ`` share ``U`` and ``V``. With ``s1 = λ1``,
   ``s2 = Σ_{i<j} e_i e_j = (λ1² - 1) / 2`` and ``s3 = det M``, every ``e_i`` is a root of
   ``(e - e1)(e - e2)(e - e3)(e + s1) = e⁴ + (s2 - s1²) e² + (s1 s2 - s3) e - s1 s3``, i.e.
   ``e_i³ + (s2 - s1²) e_i - s1 e_j e_k = s3 - s1 s2`` for each ``i``, hence
   ``R = U Vᵀ = (M Mᵀ M + (s2 - s1²) M - s1 cof M) / (s3 - s1 s2)``.

The denominator is ``s3 - s1 s2 = -(e1 + e2)(e1 + e3)(e2 + e3) = -P'(λ1) / 8``. It vanishes exactly
when the best rotation is not unique (collinear points: ``e2 = e3 = 0``; or a reflection whose two
weakest axes are equal: ``d2 = d3``) and sets the accuracy (see ``MIN_GAP``): pairs with
``P'(λ1) < MIN_GAP`` or whose Newton iteration did not converge, tiny or non-finite ``cov`` and
tiny batches go to the SVD; an exactly zero ``cov`` (no shared joint, or one point) gives the
identity and scale 0, as the SVD does.

References: B. K. P. Horn, "Closed-form solution of absolute orientation using unit quaternions",
JOSA A 4(4), 1987. S. Umeyama, "Least-squares estimation of transformation parameters between
two point patterns", IEEE TPAMI 13(4), 1991.
"""

from __future__ import annotations

import numpy as np

#: ``var_a`` at or below this is "no spread" (one point, or all points equal): scale 0.
MIN_VAR = 1e-24
#: Pairs with a normalised ``P'(λ1)`` below this use the SVD. Rounding leaves ``P`` uncertain by
#: ~1e-15 near its root, so ``λ1`` is off by ~1e-15 / P', and dividing by the denominator moves
#: ``R`` by ~1e-15 / P'² (measured on real pose data: at most 1.3e-15 / P'²). At 3e-2 that is
#: ≲ 1.5e-12, while the SVD's own error is ~1e-16 / P'. About 1 % of the frame pairs of real
#: signing fall below (nearly rank-one cross-covariances, median d2/d1 ≈ 0.002), 0.03 % of FK poses.
MIN_GAP = 3e-2
#: Newton steps at most; a simple root needs ~5 (≤ 12 for random matrices), a double one ~50.
MAX_NEWTON = 30
#: Newton stops after a step below ``STEP_REL · min(P', 1)``: with quadratic convergence (constant
#: ``P''/2P' ≤ 16/P'``) the last iterate is then within ``1.6e-15 min(P', 1)`` of ``λ1``, below the
#: rounding floor. Rounding noise in the steps (~1e-15 / P') stays below the threshold for every
#: certified ``P' ≥ MIN_GAP``, so those always converge.
STEP_REL = 1e-8
#: ``‖cov‖_F`` below this (but ``cov`` not 0) goes to the SVD: its squares underflow in the norm.
MIN_NORM = 1e-100
#: Batches smaller than this use the SVD: the closed form's fixed cost of ~60 vector operations
#: is larger than the SVD's for a few matrices (``procrustes`` on one pair, for instance).
MIN_BATCH = 64
#: The closed form runs on blocks of this many matrices so that its temporaries stay in cache
#: (blocks of 2-4k are ~2× faster per matrix than 25k at once).
BLOCK = 2048


def rotation_scale_svd(cov: np.ndarray, var_a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reference solver (Umeyama 1991): best rotation ``(..., 3, 3)`` and scale ``(...)``.

    Args:
        cov: ``(..., 3, 3)`` cross-covariance ``Σ w b0 a0ᵀ``.
        var_a: ``(...)`` weighted variance ``Σ w |a0|²`` of the source points.
    """
    u, d, vt = np.linalg.svd(cov)
    # Flip the weakest axis when the best orthogonal map is a reflection: reflections are not allowed.
    sign = np.sign(np.linalg.det(u) * np.linalg.det(vt))
    flip = np.ones(d.shape)
    flip[..., 2] = np.where(sign == 0, 1.0, sign)
    rotation = (u * flip[..., None, :]) @ vt
    return rotation, _scale((d * flip).sum(-1), var_a)


def _scale(trace: np.ndarray, var_a) -> np.ndarray:
    # No spread (one point, or all points equal): any scale gives the same aligned points; use 0.
    var_a = np.asarray(var_a, np.float64)
    return np.divide(trace, var_a, out=np.zeros_like(var_a), where=var_a > MIN_VAR)


def _largest_root(lam: np.ndarray, c1: np.ndarray, c0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest root ``(n,)`` of the real-rooted ``λ⁴ - 2λ² + c1 λ + c0`` by Newton from the upper
    bounds ``lam`` ``(n,)`` (updated in place), and ``(n,)`` bool: which roots converged.
    Each step only touches the roots that have not converged yet."""
    todo = np.arange(lam.size)
    for _ in range(MAX_NEWTON):
        x, a1, a0 = lam[todo], c1[todo], c0[todo]
        x2 = x * x
        p = (x2 - 2.0) * x2 + a1 * x + a0
        dp = 4.0 * x2 * x - 4.0 * x + a1
        # dp ≤ 0 only at λ1 itself (a multiple root, reached exactly): stop; it is not certified.
        step = np.divide(p, dp, out=np.zeros_like(p), where=dp > 0)
        lam[todo] = x - step
        todo = todo[np.abs(step) > STEP_REL * np.clip(dp, 0.0, 1.0)]
        if not todo.size:
            break
    converged = np.ones(lam.shape, bool)
    converged[todo] = False
    return lam, converged


def closed_form_rotation_trace(cov: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The closed form of the module docstring for ``(n, 3, 3)`` covariances of non-zero norm.

    Works on a ``(3, 3, n)`` copy, so that every operation is elementwise on contiguous
    length-``n`` vectors (numpy's batched small-matrix routines loop per matrix).
    Returns:
        ``rotation (n, 3, 3)``; ``trace (n,)`` = ``max tr(Rᵀ cov)`` over proper rotations; and
        ``certified (n,)`` bool, False where the result is not trusted and the SVD must be used.
    """
    norm = np.sqrt(np.einsum("nij,nij->n", cov, cov))
    m = np.ascontiguousarray(np.moveaxis(cov, 0, -1)) / norm                 # (3, 3, n), ‖m‖_F = 1
    nxt, nxt2 = m[[1, 2, 0]], m[[2, 0, 1]]                                   # rows shifted by 1 and 2
    # Cofactors: cof_ij = m_{i+1,j+1} m_{i+2,j+2} - m_{i+1,j+2} m_{i+2,j+1}, indices mod 3.
    cof = nxt[:, [1, 2, 0]] * nxt2[:, [2, 0, 1]] - nxt[:, [2, 0, 1]] * nxt2[:, [1, 2, 0]]
    det = m[0, 0] * cof[0, 0] + m[0, 1] * cof[0, 1] + m[0, 2] * cof[0, 2]
    e2 = np.einsum("ijn,ijn->n", cof, cof)                                   # Σ_{i<j} e_i² e_j²
    lam, converged = _largest_root(np.sqrt(1.0 + 2.0 * np.sqrt(3.0 * e2)) + 1e-12,   # + rounding slack
                                   -8.0 * det, 1.0 - 4.0 * e2)
    s2 = 0.5 * (lam * lam - 1.0)
    denominator = det - lam * s2                                             # -P'(λ1) / 8
    mmtm = np.einsum("ikn,kjn->ijn", np.einsum("ikn,jkn->ijn", m, m), m)      # M Mᵀ M
    rotation = (mmtm + (s2 - lam * lam) * m - lam * cof) / denominator
    certified = converged & (-8.0 * denominator >= MIN_GAP)
    return np.ascontiguousarray(np.moveaxis(rotation, -1, 0)), lam * norm, certified


def rotation_scale(cov: np.ndarray, var_a: np.ndarray,
                   min_batch: int = MIN_BATCH) -> tuple[np.ndarray, np.ndarray]:
    """Fast solver with the semantics of :func:`rotation_scale_svd` (closed form + SVD fallback).

    Args:
        cov: ``(..., 3, 3)`` cross-covariance ``Σ w b0 a0ᵀ``.
        var_a: ``(...)`` weighted variance ``Σ w |a0|²`` of the source points.
        min_batch: batches with fewer matrices than this use the SVD directly.
    Returns:
        ``rotation (..., 3, 3)`` (proper: det +1) and ``scale (...)``; identity and 0 for a zero ``cov``.
    """
    cov = np.asarray(cov, np.float64)
    shape = cov.shape[:-2]
    flat = cov.reshape(-1, 3, 3)
    n = flat.shape[0]
    if n < min_batch:
        return rotation_scale_svd(cov, var_a)
    rotation, trace, certified = np.empty((n, 3, 3)), np.empty(n), np.empty(n, bool)
    norm = np.sqrt(np.einsum("nij,nij->n", flat, flat))
    zero = ~flat.any(axis=(1, 2))
    # Zero, tiny or NaN norms give NaNs or garbage below; they are replaced afterwards.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for i in range(0, n, BLOCK):
            rotation[i:i + BLOCK], trace[i:i + BLOCK], certified[i:i + BLOCK] = \
                closed_form_rotation_trace(flat[i:i + BLOCK])
    rotation[zero], trace[zero] = np.eye(3), 0.0                            # what the SVD gives for 0
    exact = np.flatnonzero(~((certified & (norm >= MIN_NORM)) | zero))
    if exact.size:
        rotation[exact], trace[exact] = rotation_scale_svd(flat[exact], np.ones(exact.size))
    return rotation.reshape(*shape, 3, 3), _scale(trace.reshape(shape), var_a)
