"""Project and rasterise 3D Gaussians on the CPU: EWA splatting, as in 3D Gaussian Splatting.

Each Gaussian (mean, rotation, scale, opacity, colour) is projected through the local affine
approximation of the pinhole camera (EWA): its covariance ``Σ = R S Sᵀ Rᵀ`` becomes the 2D covariance
``J W Σ Wᵀ Jᵀ + eps2d·I`` (``W`` the camera rotation, ``J`` the projection's Jacobian at the mean).
Each pixel is then composited front to back: ``colour = Σ cᵢ αᵢ Tᵢ + T_final · background`` with
``αᵢ = min(0.99, oᵢ exp(-σᵢ))``, ``σᵢ = ½ dᵀ Σ₂ᴰ⁻¹ d`` (``d`` the pixel centre minus the projected
mean) and ``Tᵢ = Π_{j<i} (1 - αⱼ)``. The conventions (pixel centres at ``+0.5``, the Jacobian's
frustum clamp, ``3.33 σ`` radii, the ``1/255`` cut-off, the ``1e-4`` early stop) are gsplat's, so
:mod:`signlib.render.gsplat_backend` renders the same scene on a GPU.

How it is fast without a Python loop: pixels are grouped in ``TILE x TILE`` tiles; one sort of
(tile, depth) keys lists, per tile, the Gaussians whose ``α >= 1/255`` ellipse meets it, front to
back. Every pixel of a tile is evaluated against each of them at once (a dense block, so the pairs
of a pixel are already in depth order), and transmittances are running sums of ``log(1 - α)`` in
float64. Everything is differentiable with respect to every Gaussian tensor; only the discrete
choices (culling, which tiles, the order) are made without gradients.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from signlib.errors import SignlibError
from signlib.render.camera import Camera

ALPHA_MAX = 0.99          # as the original 3DGS (gsplat clamps at 0.999); keeps log(1 - α) finite
ALPHA_MIN = 1.0 / 255.0   # pairs fainter than one 8-bit step are skipped
T_MIN = 1e-4              # a pixel stops before its transmittance would fall to this
EXTEND = 3.33             # radii, in standard deviations of the 2D covariance's diagonal
FAR_PLANE = 1e10
TILE = 4                  # side of the pixel tiles (4 beats 2 and 8 on 1–15 pixel footprints)
MAX_PAIRS = 6_000_000     # pixel–Gaussian pairs per chunk: ~150 bytes each, about 1 GB


@dataclass(frozen=True, eq=False)
class Projection:
    """``N`` Gaussians seen by a camera (for Gaussians culled by depth, only ``depths`` and ``radii``
    mean anything).

    Attributes:
        means2d: ``(N, 2)`` projected means, pixels (``u`` right, ``v`` down).
        depths: ``(N,)`` camera ``z`` of the means, metres.
        conics: ``(N, 3)`` ``(a, b, c)``: the inverse 2D covariance is ``[[a, b], [b, c]]``.
        cov2d: ``(N, 2, 2)`` 2D covariances, ``eps2d·I`` included, pixels².
        radii: ``(N, 2)`` int32 per-axis radii in pixels, ``0`` for a culled Gaussian.
    """

    means2d: torch.Tensor
    depths: torch.Tensor
    conics: torch.Tensor
    cov2d: torch.Tensor
    radii: torch.Tensor


@dataclass(frozen=True, eq=False)
class Splatted:
    """A rendered image.

    Attributes:
        image: ``(H, W, 3)``, in the inputs' dtype (float32 for float32 inputs); in ``[0, 1]`` when
            the colours and the background are (up to rounding).
        alpha: ``(H, W)`` accumulated opacity ``1 - T_final``, in ``[0, 1]``.
        pairs: pixel–Gaussian pairs evaluated (a cost measure; ``-1`` when unknown).
    """

    image: torch.Tensor
    alpha: torch.Tensor
    pairs: int


def quat_to_matrix(quats: torch.Tensor) -> torch.Tensor:
    """``(N, 4)`` quaternions ``(w, x, y, z)`` of any non-zero norm → ``(N, 3, 3)`` rotation matrices."""
    w, x, y, z = (quats / quats.norm(dim=-1, keepdim=True)).unbind(-1)
    rows = (1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
            2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
            2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y))
    return torch.stack(rows, dim=-1).reshape(*quats.shape[:-1], 3, 3)


def covariances(quats: torch.Tensor, scales: torch.Tensor) -> torch.Tensor:
    """``(N, 4)`` quaternions and ``(N, 3)`` per-axis standard deviations → ``(N, 3, 3)`` ``R S Sᵀ Rᵀ``."""
    M = quat_to_matrix(quats) * scales[..., None, :]
    return M @ M.transpose(-1, -2)


def project_gaussians(means: torch.Tensor, covars: torch.Tensor, camera: Camera, eps2d: float = 0.3,
                      near_plane: float = 0.01) -> Projection:
    """Project ``(N, 3)`` world means and ``(N, 3, 3)`` world covariances into ``camera`` (EWA).

    A Gaussian is culled (radii ``0``) when its 2D covariance is degenerate, its depth is outside
    ``(near_plane, 1e10)`` or its radius box misses the image.
    """
    n = means.shape[0] if means.dim() == 2 else -1
    if tuple(means.shape) != (n, 3) or tuple(covars.shape) != (n, 3, 3):
        raise SignlibError(f"project_gaussians needs means (N, 3) and covars (N, 3, 3), got "
                           f"{tuple(means.shape)} and {tuple(covars.shape)}")
    view, K = camera.viewmat.to(means), camera.K.to(means)
    R = view[:3, :3]
    cam = means @ R.T + view[:3, 3]
    tx, ty, tz = cam.unbind(-1)
    depth_ok = (tz > near_plane) & (tz < FAR_PLANE)
    z = torch.where(depth_ok, tz, torch.ones_like(tz))  # so that no inf or NaN reaches any gradient
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    W, H = camera.width, camera.height
    # Far off-axis the linearisation explodes: evaluate the Jacobian no further out than 30% of the
    # half field of view beyond the image border (gsplat's and 3DGS's clamp).
    x = z * torch.clamp(tx / z, -(cx / fx + 0.15 * W / fx), (W - cx) / fx + 0.15 * W / fx)
    y = z * torch.clamp(ty / z, -(cy / fy + 0.15 * H / fy), (H - cy) / fy + 0.15 * H / fy)
    zero = torch.zeros_like(z)
    J = torch.stack((fx / z, zero, -fx * x / (z * z), zero, fy / z, -fy * y / (z * z)), -1).reshape(-1, 2, 3)
    cov2d = J @ (R @ covars @ R.T) @ J.transpose(-1, -2) + eps2d * torch.eye(2, dtype=means.dtype)
    c00, c01, c10, c11 = cov2d[:, 0, 0], cov2d[:, 0, 1], cov2d[:, 1, 0], cov2d[:, 1, 1]
    det = c00 * c11 - c01 * c10
    safe_det = det.clamp(min=1e-10)
    conics = torch.stack((c11 / safe_det, -0.5 * (c01 + c10) / safe_det, c00 / safe_det), -1)
    means2d = (cam @ K[:2].T) / z[:, None]
    with torch.no_grad():
        radii = torch.ceil(EXTEND * torch.stack((c00, c11), -1).clamp(min=0).sqrt())
        u, v = means2d.unbind(-1)
        inside = (u + radii[:, 0] > 0) & (u - radii[:, 0] < W) & (v + radii[:, 1] > 0) & (v - radii[:, 1] < H)
        radii = torch.where((depth_ok & (det > 0) & inside)[:, None], radii, 0.0).to(torch.int32)
    return Projection(means2d, tz, conics, cov2d, radii)


def rasterize_gaussians(means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
                        colors: torch.Tensor, camera: Camera, background=(1.0, 1.0, 1.0), eps2d: float = 0.3,
                        *, max_pairs: int = MAX_PAIRS) -> Splatted:
    """Render ``N`` Gaussians: ``means (N, 3)``, ``quats (N, 4)`` (w, x, y, z), ``scales (N, 3)``
    (standard deviations), ``opacities (N,)`` and ``colors (N, 3)``, all of one float dtype, over
    ``background`` (3 numbers or a ``(3,)`` tensor).

    No Gaussians give the background and alpha 0. Differentiable w.r.t. the five tensors (and the
    background). Runs in the inputs' dtype, except transmittances and per-pixel sums (float64).
    ``pairs`` counts every pixel of every (tile, Gaussian) block; they are processed in bands of
    about ``max_pairs`` (at least one tile), which bounds memory when gradients are off.
    """
    n = check_gaussians(means, quats, scales, opacities, colors)
    dtype, H, W = means.dtype, camera.height, camera.width
    bg = torch.as_tensor(background, dtype=dtype)
    if tuple(bg.shape) != (3,) or not torch.isfinite(bg).all():
        raise SignlibError(f"background must be 3 finite numbers, got {background!r}")
    rows, cols = -(-H // TILE), -(-W // TILE)
    # Per tile and pixel of the tile: Σ cᵢ αᵢ Tᵢ (3 channels) and Σ αᵢ Tᵢ = 1 - T_final.
    sums = torch.zeros(rows * cols, TILE * TILE, 4, dtype=torch.float64)
    pairs = 0
    if n > 0:
        proj = project_gaussians(means, covariances(quats, scales), camera, eps2d)
        gauss, tile = _tile_entries(proj, opacities.detach(), W, H, cols)
        # One gather per entry rather than four. Opacities enter as logs, clamped so that a culled
        # zero-opacity Gaussian gets a zero gradient, not NaN.
        packed = torch.cat((proj.means2d, proj.conics, opacities.clamp(min=1e-30).log()[:, None], colors), 1)
        for e0, e1 in _chunks(tile, max(int(max_pairs) // (TILE * TILE), 1)):
            present, block = _composite(packed[gauss[e0:e1]], tile[e0:e1], cols)
            sums = sums.index_add(0, present, block)
            pairs += (e1 - e0) * TILE * TILE
    # (tile row, tile column, row in tile, column in tile) → image rows and columns; crop the padding.
    sums = sums.reshape(rows, cols, TILE, TILE, 4).permute(0, 2, 1, 3, 4).reshape(rows * TILE, cols * TILE, 4)
    sums = sums[:H, :W].to(dtype)
    alpha = sums[..., 3]  # below 1: the early stop keeps T_final >= 1e-4
    return Splatted(sums[..., :3] + (1 - alpha)[..., None] * bg, alpha, pairs)


def check_gaussians(means, quats, scales, opacities, colors) -> int:
    """``N``, after checking that the five tensors are finite, of one float dtype and of shapes
    ``(N, 3)``, ``(N, 4)``, ``(N, 3)``, ``(N,)``, ``(N, 3)``, with no zero quaternion."""
    n = means.shape[0] if isinstance(means, torch.Tensor) and means.dim() == 2 else None
    for name, t, shape in (("means", means, (n, 3)), ("quats", quats, (n, 4)), ("scales", scales, (n, 3)),
                           ("opacities", opacities, (n,)), ("colors", colors, (n, 3))):
        if not isinstance(t, torch.Tensor) or not t.is_floating_point() or tuple(t.shape) != shape:
            got = tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__
            raise SignlibError(f"{name} must be a float tensor of shape {'(N, 3)' if n is None else shape}, got {got}")
        if t.dtype != means.dtype:
            raise SignlibError(f"{name} is {t.dtype} but means is {means.dtype}; pass one dtype")
        if not torch.isfinite(t).all():
            raise SignlibError(f"{name} contains NaN or infinite values")
    if n and (quats.detach().norm(dim=-1) == 0).any():
        raise SignlibError("quats contains a zero quaternion")
    return n


@torch.no_grad()
def _tile_entries(proj: Projection, opacities: torch.Tensor, W: int, H: int, cols: int):
    """The (Gaussian, tile) entries to evaluate, as ``(E,)`` Gaussian and ``(E,)`` row-major tile
    indices sorted by tile then depth: those where the tile meets the ellipse ``σ <= ln(255 o)``
    outside which ``α < 1/255``."""
    order = ((proj.radii > 0).all(-1) & (opacities >= ALPHA_MIN)).nonzero()[:, 0]
    order = order[torch.sort(proj.depths[order], stable=True).indices]  # front to back
    f64 = torch.float64
    mean = proj.means2d[order].to(f64) - 0.5  # pixel j is centred on j + 0.5
    a, b, c = proj.conics[order].to(f64).unbind(-1)
    det = a * c - b * b
    # 2σ's bound, with a little slack so that float32 rounding in _composite meets no dropped pixel.
    s2 = 2 * torch.log(opacities[order].to(f64) / ALPHA_MIN) + 1e-4
    # The ellipse's pixel box, never wider than the radius box.
    half = (torch.stack((c, a), -1) * (s2 / det)[:, None]).sqrt()
    half = torch.minimum(half, EXTEND * torch.diagonal(proj.cov2d[order], dim1=-2, dim2=-1).to(f64).sqrt())
    lo = torch.ceil(mean - half).clamp(min=0).long()
    hi = torch.minimum(torch.floor(mean + half).long(), torch.tensor([W - 1, H - 1]))
    # Per tile row, only the columns the ellipse reaches within that band of pixel rows: at height
    # dy it spans -b dy / a ± sqrt(a s2 - det dy²) / a, concave in dy, so over the band its ends are
    # at the band's points nearest its rightmost and leftmost points, dy = ∓b sqrt(s2 / (c det)).
    first_row = lo[:, 1] // TILE
    g, k = _spread((hi[:, 1] // TILE - first_row + 1) * (hi >= lo).all(-1))
    ty = first_row[g] + k
    y0 = torch.maximum(ty * TILE, lo[g, 1]) - mean[g, 1]
    y1 = torch.minimum(ty * TILE + TILE - 1, hi[g, 1]) - mean[g, 1]
    ag, bg, dg, sg = a[g], b[g], det[g], s2[g]
    reach = -bg * torch.sqrt(sg / (c[g] * dg))
    dy_right, dy_left = torch.minimum(torch.maximum(reach, y0), y1), torch.minimum(torch.maximum(-reach, y0), y1)
    room_right, room_left = ag * sg - dg * dy_right ** 2, ag * sg - dg * dy_left ** 2
    right = mean[g, 0] + (room_right.clamp(min=0).sqrt() - bg * dy_right) / ag
    left = mean[g, 0] - (room_left.clamp(min=0).sqrt() + bg * dy_left) / ag
    col0 = torch.maximum(torch.ceil(left).long(), lo[g, 0]) // TILE
    col1 = torch.minimum(torch.floor(right).long(), hi[g, 0]) // TILE
    r, j = _spread((col1 - col0 + 1) * ((room_right >= 0) & (room_left >= 0) & (col1 >= col0)))
    tile, rank = ty[r] * cols + col0[r] + j, g[r]  # rank: the Gaussian's place front to back
    key = tile * max(len(order), 1) + rank  # one sort of unique keys: by tile, then front to back
    if key.numel() and int(key.max()) < 2 ** 31:
        key = key.int()  # sorting int32 is about twice as fast
    perm = torch.sort(key).indices
    return order[rank[perm]], tile[perm]


def _spread(count: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For ``(M,)`` counts: the owner ``(K,)`` of each of ``K = Σ count`` items, and its index in it."""
    owner = torch.repeat_interleave(count)
    return owner, torch.arange(owner.numel()) - (count.cumsum(0) - count)[owner]


def _chunks(tile: torch.Tensor, max_entries: int) -> list[tuple[int, int]]:
    """Ranges ``[e0, e1)`` of whole tiles of the ``(E,)`` tile-sorted entries, each at most
    ``max_entries`` plus one tile."""
    E = tile.numel()
    if E <= max_entries:
        return [(0, E)] if E else []
    starts = F.pad(tile[1:] != tile[:-1], (1, 0), value=True).nonzero()[:, 0]
    bucket = starts // max_entries
    edges = [0, *starts[1:][bucket[1:] != bucket[:-1]].tolist(), E]
    return list(zip(edges[:-1], edges[1:]))


def _composite(entries: torch.Tensor, tile: torch.Tensor, cols: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Composite ``E`` entries sorted by tile then depth; ``entries (E, 9)``: the Gaussian's mean (2),
    conic (3), log opacity (1) and colour (3). Returns the ``(P,)`` tiles present and their float64
    ``(P, TILE², 4)`` sums ``Σ cᵢ αᵢ Tᵢ`` (3 channels) and ``Σ αᵢ Tᵢ``."""
    dtype, E = entries.dtype, tile.numel()
    with torch.no_grad():
        present, counts = torch.unique_consecutive(tile, return_counts=True)
        ends = counts.cumsum(0)
        offset = torch.arange(TILE * TILE)
        ox, oy = (offset % TILE).to(dtype), (offset // TILE).to(dtype)
        basis = torch.stack((torch.ones_like(ox), ox, oy, 0.5 * ox * ox, ox * oy, 0.5 * oy * oy), -1)
        # F.threshold keeps x > t: the float just below 1/255 keeps gsplat's α >= 1/255.
        alpha_min = torch.nextafter(torch.tensor(ALPHA_MIN, dtype=dtype), torch.tensor(0.0, dtype=dtype)).item()
        origin_x = ((tile % cols) * TILE).to(dtype) + 0.5
        origin_y = ((tile // cols) * TILE).to(dtype) + 0.5
    mx, my, a, b, c, log_o = entries[:, :6].unbind(-1)
    # With d = (b_x + o_x, b_y + o_y), b the offset of the tile's first pixel centre and o a pixel's
    # place in the tile, log(o) - σ is a polynomial in o with six per-entry coefficients: one
    # (TILE², 6) @ (6, E) product gives every exponent, with no per-pair 2x2 algebra.
    bx, by = origin_x - mx, origin_y - my
    gx, gy = a * bx + b * by, b * bx + c * by
    coeffs = torch.stack((log_o - 0.5 * (gx * bx + gy * by), -gx, -gy, -a, -b, -c))
    # (TILE², E): a row per pixel of the tile, entries along it (running sums along rows are fast).
    # σ is a positive definite form, so σ >= 0 up to rounding; faint pairs get α = 0 (T unchanged).
    alpha = F.threshold(torch.exp(basis @ coeffs).clamp(max=ALPHA_MAX), alpha_min, 0.0)
    logs = torch.log1p(-alpha)
    # log T after each pair, in float64 (so T stays exact over hundreds of layers and Σ αᵢ Tᵢ < 1):
    # one running sum over all tiles, restarted per tile by subtracting, at each tile's first
    # entry, the previous tile's total.
    logs64 = logs.to(torch.float64)
    totals = logs64.cumsum(1)[:, ends - 1]
    totals = totals - F.pad(totals[:, :-1], (1, 0))
    after = logs64.index_add(1, ends[:-1], -totals[:, :-1]).cumsum(1)
    # gsplat's early stop: the pair that would bring T to <= 1e-4, and all behind it, get weight 0.
    weights = alpha * torch.exp(F.threshold(after, math.log(T_MIN), -math.inf).to(dtype) - logs)
    values = torch.cat((entries[:, 6:].T, torch.ones(1, E, dtype=dtype))).to(torch.float64)
    # copy_ transposes and widens in one pass, several times faster than .T.to(...).contiguous().
    weights = torch.empty(E, TILE * TILE, dtype=torch.float64).copy_(weights.T)
    return present, _TileSums.apply(values, weights, ends, torch.repeat_interleave(counts)).permute(1, 2, 0)


class _TileSums(torch.autograd.Function):
    """Per-tile sums ``Σₑ values[k, e] · weights[e, p]`` over each tile's run of entries: ``values
    (K, E)``, ``weights (E, TILE²)``, the runs' ``ends (P,)``, each entry's ``run (E,)`` → ``(K, P, TILE²)``.

    Forward is one sparse ``(K P, E) @ (E, TILE²)`` product; backward gathers per entry, linear in
    ``E`` (the sparse product's own backward builds a dense ``(K P, E)`` matrix).
    """

    @staticmethod
    def forward(ctx, values, weights, ends, run):
        K, E = values.shape
        crow = F.pad(torch.cat([ends + k * E for k in range(K)]), (1, 0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sparse CSR tensors are labelled beta
            member = torch.sparse_csr_tensor(crow, torch.arange(E).repeat(K), values.reshape(-1), (K * len(ends), E))
        ctx.save_for_backward(values, weights, run)
        return (member @ weights).reshape(K, len(ends), -1)

    @staticmethod
    def backward(ctx, grad):
        values, weights, run = ctx.saved_tensors
        grad_values, grad_weights = torch.empty_like(values), torch.zeros_like(weights)
        for k in range(len(values)):  # K = 4 channels; per channel the gathers stay small
            per_entry = grad[k].index_select(0, run)  # (E, TILE²): the gradient of each entry's tile
            grad_values[k] = (per_entry * weights).sum(-1)
            grad_weights += values[k, :, None] * per_entry
        return grad_values, grad_weights, None, None
