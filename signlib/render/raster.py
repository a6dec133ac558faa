"""A z-buffer triangle rasteriser with Lambert shading, in plain vectorised torch.

The whole frame is rendered at once, with no Python loop over triangles or pixels:

1. Vertices are projected with a :class:`~signlib.render.camera.Camera`. Faces are dropped when a
   vertex is at or behind the near plane, when ``face_mask`` hides them (that is how missing body
   parts disappear) or when they have no screen area. Both sides of a face are drawn.
2. Each face is expanded into one item per image row of its bounding box, each row into the
   pixels between the face's left and right edges there (widened by a rounding slack), and a
   pixel-face pair is kept when the pixel centre passes the face's three edge functions. An
   edge's function is always evaluated from its endpoints in one canonical order (lower vertex
   index first) and a face only flips its sign (an exact operation), so two faces sharing an edge
   see bit-identical values of opposite sign: every pixel centre along the edge is covered by at
   least one of them, and a closed mesh shows no cracks.
3. Camera depth is interpolated perspective-correctly (``1/z`` is linear in screen space), and the
   z-buffer is a ``scatter_reduce('amin')`` over an int64 key made of the depth's float bits
   (monotonic for positive floats) above the face index: the nearest face wins and exact ties go to
   the lowest face index, whatever the order of evaluation.
4. Only the winning face of each pixel is shaded: ``colour * (ambient + (1 - ambient) * max(0, n.l))``
   with the camera's key light, ``n`` the perspective-correct interpolation of the vertex normals
   (or the face normal), turned towards the camera so that open meshes look alike from both sides.

Rendering is not differentiable (it runs under ``torch.no_grad``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from signlib.errors import SignlibError
from signlib.render.camera import Camera

NEAR = 0.01
# Work per chunk, to bound temporaries to a few hundred MB: candidate pixel-face pairs take about
# 150 bytes each at peak, face rows about 400 and shaded pixels about 500.
_CHUNK_PAIRS = 1 << 21
_CHUNK_ROWS = 1 << 19
_CHUNK_PIXELS = 1 << 19
_EMPTY = torch.iinfo(torch.int64).max
# Faces with less screen area than this (in square pixels, times two) cover no pixel reliably.
_MIN_AREA2 = 1e-9


@dataclass(frozen=True, eq=False)
class Rendered:
    """A rendered frame.

    Attributes:
        image: ``(H, W, 3)`` float32 in ``[0, 1]``.
        depth: ``(H, W)`` float32 camera ``z`` of the visible surface, ``+inf`` where empty.
        face_index: ``(H, W)`` int64 index of the visible face, ``-1`` where empty.
        mask: ``(H, W)`` bool, True where a face is visible.
    """

    image: torch.Tensor
    depth: torch.Tensor
    face_index: torch.Tensor
    mask: torch.Tensor


def _tensor(x, name: str) -> torch.Tensor:
    try:
        return torch.as_tensor(x).detach()
    except (TypeError, ValueError, RuntimeError) as err:
        raise SignlibError(f"{name} must be array-like: {err}") from None


def _check_vertices(vertices) -> torch.Tensor:
    v = _tensor(vertices, "vertices")
    if v.ndim != 2 or v.shape[1] != 3 or v.dtype == torch.bool or v.is_complex():
        raise SignlibError(f"vertices must be a real (V, 3) array, got {v.dtype} of shape {tuple(v.shape)}")
    v = v.to(torch.float32)
    if not torch.isfinite(v).all():
        raise SignlibError("vertices must be finite, found NaN or inf")
    return v


def _check_faces(faces, num_vertices: int) -> torch.Tensor:
    f = _tensor(faces, "faces")
    if f.ndim != 2 or f.shape[1] != 3 or f.is_floating_point() or f.is_complex() or f.dtype == torch.bool:
        raise SignlibError(f"faces must be an integer (F, 3) array, got {f.dtype} of shape {tuple(f.shape)}")
    f = f.to(torch.int64)
    if f.numel() and (int(f.min()) < 0 or int(f.max()) >= num_vertices):
        raise SignlibError(f"faces index vertices out of range: indices span [{int(f.min())}, {int(f.max())}] "
                           f"with {num_vertices} vertices")
    return f


def _check_unit_floats(x, name: str) -> torch.Tensor:
    x = _tensor(x, name).to(torch.float32)
    if not torch.isfinite(x).all() or (x.numel() and (x.min() < 0 or x.max() > 1)):
        raise SignlibError(f"{name} must be finite and within [0, 1]")
    return x


def _take(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x[index]`` along the first axis (``index_select`` is much faster than fancy indexing on CPUs)."""
    return x.index_select(0, index.reshape(-1)).view(*index.shape, *x.shape[1:])


def _face_cross(v: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """``(F, 3)`` cross product of two edges of each face: the winding's normal, twice the area long."""
    p = _take(v, f)
    return torch.linalg.cross(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0], dim=1)


def vertex_normals(vertices: torch.Tensor, faces: torch.Tensor) -> torch.Tensor:
    """Area-weighted vertex normals, following the faces' winding.

    Args:
        vertices: ``(V, 3)`` positions; faces: ``(F, 3)`` integer vertex indices.
    Returns:
        ``(V, 3)`` float32 unit normals; a vertex that touches no face of positive area (or whose
        faces cancel out) gets the zero vector instead of a NaN.
    """
    v = _check_vertices(vertices)
    return _vertex_normals(v, _check_faces(faces, v.shape[0]))


def _vertex_normals(v: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    # The un-normalised cross product is already weighted by the face area.
    fn = _face_cross(v, f)
    n = torch.zeros_like(v).index_add_(0, f.reshape(-1), fn[:, None].expand(-1, 3, -1).reshape(-1, 3))
    return torch.nn.functional.normalize(n, dim=1, eps=1e-20)


def _chunks(counts: torch.Tensor, limit: int):
    """Yield ``(start, stop)`` ranges of consecutive items whose ``counts`` sum to at most ``limit``
    (or one item, if it alone is over)."""
    cum = torch.cumsum(counts, 0)
    start, done = 0, 0
    while start < len(counts):
        stop = max(int(torch.searchsorted(cum, done + limit, right=True)), start + 1)
        yield start, stop
        start, done = stop, int(cum[stop - 1])


def rasterize_mesh(vertices: torch.Tensor, faces: torch.Tensor, colors: torch.Tensor, camera: Camera,
                   face_mask: torch.Tensor | None = None, background=(1.0, 1.0, 1.0), ambient: float = 0.35,
                   smooth: bool = True) -> Rendered:
    """Render a triangle mesh with a z-buffer and Lambert shading.

    Args:
        vertices: ``(V, 3)`` world positions (metres).
        faces: ``(F, 3)`` int64 vertex indices.
        colors: ``(V, 3)`` per-vertex or ``(F, 3)`` per-face RGB in ``[0, 1]`` (per-vertex when
            ``V == F``), or one ``(3,)`` colour for the whole mesh.
        camera: the :class:`Camera` (perspective) that gives the image size.
        face_mask: optional ``(F,)`` bool, False hides a face.
        background: RGB in ``[0, 1]`` of empty pixels.
        ambient: share of the light that does not depend on the normal.
        smooth: interpolate vertex normals (True) or use face normals (False).
    Returns:
        :class:`Rendered` with ``(H, W, ...)`` maps, ``H, W = camera.height, camera.width``.
    """
    if not isinstance(camera, Camera):
        raise SignlibError(f"camera must be a signlib.render.camera.Camera, got {type(camera).__name__}")
    v = _check_vertices(vertices)
    f = _check_faces(faces, v.shape[0])
    num_v, num_f = v.shape[0], f.shape[0]
    col = _check_unit_floats(colors, "colors").to(v.device)
    if col.shape == (3,):
        col = col.expand(num_v, 3)
    if col.ndim != 2 or col.shape[1] != 3 or col.shape[0] not in (num_v, num_f):
        raise SignlibError(f"colors must be (V, 3) = ({num_v}, 3) or (F, 3) = ({num_f}, 3), got {tuple(col.shape)}")
    per_face = col.shape[0] != num_v
    keep = torch.ones(num_f, dtype=torch.bool, device=v.device)
    if face_mask is not None:
        keep = _tensor(face_mask, "face_mask").to(v.device)
        if keep.dtype != torch.bool or tuple(keep.shape) != (num_f,):
            raise SignlibError(f"face_mask must be a bool ({num_f},) array, got {keep.dtype} "
                               f"of shape {tuple(keep.shape)}")
    bg = _check_unit_floats(background, "background").to(v.device)
    if bg.shape != (3,):
        raise SignlibError(f"background must be 3 values (RGB), got shape {tuple(bg.shape)}")
    if not 0.0 <= float(ambient) <= 1.0:
        raise SignlibError(f"ambient must be within [0, 1], got {ambient}")
    with torch.no_grad():
        return _render(v, f, col, per_face, keep, bg, float(ambient), bool(smooth), camera)


def _render(v, f, col, per_face, keep, bg, ambient, smooth, camera) -> Rendered:
    H, W, dev = camera.height, camera.width, v.device
    inf = float("inf")
    uv, z = camera.project(v)
    fu, fw, fz = _take(torch.cat((uv, z[:, None]), 1), f).unbind(2)  # (F, 3): column, row, depth of corners
    area2 = (fu[:, 1] - fu[:, 0]) * (fw[:, 2] - fw[:, 0]) - (fw[:, 1] - fw[:, 0]) * (fu[:, 2] - fu[:, 0])
    # Row i is a candidate when its centre i + 0.5 lies in [min v, max v]; clamp before the integer
    # conversion, as faces grazing the near plane project far outside the image.
    row0 = torch.ceil((fw.amin(1) - 0.5).clamp(-1.0, H)).long().clamp_min(0)
    row1 = torch.floor((fw.amax(1) - 0.5).clamp(-1.0, H)).long().clamp_max(H - 1)
    valid = (keep & (fz > NEAR).all(1) & (area2.abs() > _MIN_AREA2)
             & (fu.amax(1) >= 0.5) & (fu.amin(1) <= W - 0.5))
    nrows = torch.where(valid, (row1 - row0 + 1).clamp_min(0), 0)
    sel = torch.nonzero(nrows > 0).squeeze(1)  # ascending, so index order is face order
    nrows, row0, area2 = nrows.index_select(0, sel), row0.index_select(0, sel), area2.index_select(0, sel)
    fu, fw, fz = fu.index_select(0, sel), fw.index_select(0, sel), fz.index_select(0, sel)

    # Edge k joins corners k+1 and k+2 (it faces corner k), taken lower vertex index first; `sign`
    # makes the edge function non-negative inside this face.
    fs = f.index_select(0, sel)
    i1, i2 = torch.cat((fs[:, 1:], fs[:, :1]), 1), torch.cat((fs[:, 2:], fs[:, :2]), 1)
    swap = i1 > i2
    a, b = _take(uv, torch.where(swap, i2, i1)), _take(uv, torch.where(swap, i1, i2))  # (S, 3, 2)
    d = b - a
    sign = torch.where(swap, -1.0, 1.0) * torch.sign(area2)[:, None]
    flat = d[..., 1] == 0  # horizontal edges: their end points belong to the other two edges
    ylo = torch.where(flat, inf, torch.minimum(a[..., 1], b[..., 1]))
    yhi = torch.where(flat, -inf, torch.maximum(a[..., 1], b[..., 1]))
    inv = torch.where(flat, 0.0, 1.0 / d[..., 1])
    # (9 * 3, S): one row per quantity and edge, so gathers along the last axis copy whole runs.
    # Multiplying by +-1 is exact: a neighbour sharing the edge gets exactly the opposite values.
    table = torch.stack((a[..., 0], a[..., 1], d[..., 0] * sign, d[..., 1] * sign, 1.0 / fz,
                         d[..., 0], ylo, yhi, inv))
    table = table.transpose(1, 2).reshape(27, -1)
    # Rounding slack (pixels) that keeps the span of a row a superset of the pixels the edge
    # functions accept; it grows with the coordinates' size, like their rounding errors.
    slack = 1e-3 + 4e-6 * torch.cat((fu, fw), 1).abs().amax(1).clamp_min(float(max(W, H)))

    zbuf = torch.full((H * W,), _EMPTY, dtype=torch.int64, device=dev)
    for f0, f1 in _chunks(nrows, _CHUNK_ROWS):
        # Rows: one per (face, image row) in the face's box, spanning the columns the face crosses.
        nr = nrows[f0:f1]
        num_rows = int(nr.sum())
        rl = torch.repeat_interleave(torch.arange(f1 - f0, device=dev), nr, output_size=num_rows)
        y = torch.arange(num_rows, device=dev) + (row0[f0:f1] - (torch.cumsum(nr, 0) - nr)).index_select(0, rl)
        yc = y.float() + 0.5
        ax, ay, dxs, dys, iz, dx, ylo, yhi, inv = table[:, f0:f1].index_select(1, rl).view(9, 3, -1)
        eps = slack[f0:f1].index_select(0, rl)
        below, above = yc - eps, yc + eps
        crosses = (ylo <= above) & (yhi >= below)
        xa = ax + ((below - ay) * inv).clamp(0, 1) * dx
        xb = ax + ((above - ay) * inv).clamp(0, 1) * dx
        xmin = torch.where(crosses, torch.minimum(xa, xb), inf).amin(0) - eps
        xmax = torch.where(crosses, torch.maximum(xa, xb), -inf).amax(0) + eps
        first = torch.ceil((xmin - 0.5).clamp(-1.0, W)).long().clamp_min(0)
        last = torch.floor((xmax - 0.5).clamp(-1.0, W)).long().clamp_max(W - 1)
        cnt = (last - first + 1).clamp_min(0)
        # Edge k at pixel column centre x is g_k - dy_k * x, with g_k fixed along the row.
        rowf = torch.cat(((dxs * (yc - ay) + dys * ax), dys, iz))  # (9, R)
        fid = rl + f0
        for r0, r1 in _chunks(cnt, _CHUNK_PAIRS):
            c = cnt[r0:r1]
            n = int(c.sum())
            if n == 0:
                continue
            rr = torch.repeat_interleave(torch.arange(r1 - r0, device=dev), c, output_size=n)
            # Column of candidate j of row r: first[r] + (j - start[r]); exact in float32 while
            # chunks stay below 2**22 candidates (_CHUNK_PAIRS plus one row).
            shift = first[r0:r1] - (torch.cumsum(c, 0) - c)
            ar = torch.arange(n, device=dev)
            px = ar.float() + (shift.float() + 0.5).index_select(0, rr)
            g, dys, izs = rowf[:, r0:r1].index_select(1, rr).view(3, 3, n)
            e = g - dys * px  # (3, N)
            # Perspective-correct depth: z = 1 / sum(b_k / z_k), with barycentrics b_k = e_k / sum(e).
            depth = e.sum(0) / (e * izs).sum(0)
            key = (depth.view(torch.int32).long() << 32) | fid[r0:r1].index_select(0, rr)
            # Outside, or so thin that the weights vanish (0/0 depth): not drawn.
            key.masked_fill_(~((e.amin(0) >= 0) & (depth > 0)), _EMPTY)
            zbuf.scatter_reduce_(0, ar + (y[r0:r1] * W + shift).index_select(0, rr), key, "amin")

    # Per selected face: unit normal and corner normals turned towards the camera (the visible side
    # of a face is the lit side), and colours; laid out (quantity, S) like `table`.
    fn = torch.nn.functional.normalize(_face_cross(v, fs), dim=1)
    centre = -camera.viewmat[:3, :3].T.to(v) @ camera.viewmat[:3, 3].to(v)
    facing = torch.where(((centre - v.index_select(0, fs[:, 0])) * fn).sum(1, keepdim=True) < 0, -1.0, 1.0)
    shade = [fn * facing]
    if smooth:
        shade.append((_take(_vertex_normals(v, f), fs) * facing[:, None]).reshape(-1, 9))
    shade.append(col.index_select(0, sel) if per_face else _take(col, fs).reshape(-1, 9))
    attrs = torch.cat((table[:15], torch.cat(shade, 1).T))
    light = camera.light_direction().to(v)[:, None]

    image = bg.expand(H * W, 3).clone()
    depth_map = torch.full((H * W,), inf, device=dev)
    face_map = torch.full((H * W,), -1, dtype=torch.int64, device=dev)
    hits = torch.nonzero(zbuf != _EMPTY).squeeze(1)
    for start in range(0, len(hits), _CHUNK_PIXELS):  # only the winning face of each pixel
        pix = hits[start:start + _CHUNK_PIXELS]
        key = zbuf.index_select(0, pix)
        ci = key & 0xFFFFFFFF
        depth_map.index_copy_(0, pix, (key >> 32).int().view(torch.float32))
        face_map.index_copy_(0, pix, sel.index_select(0, ci))
        data = attrs.index_select(1, ci)
        ax, ay, dxs, dys, iz = data[:15].view(5, 3, -1)
        # Perspective-correct barycentrics from the edge functions, computed exactly as above so
        # that the weights of a drawn pixel are non-negative with a positive sum.
        xc, yc = (pix % W).float() + 0.5, torch.div(pix, W, rounding_mode="floor").float() + 0.5
        lam = ((dxs * (yc - ay) + dys * ax) - dys * xc) * iz  # (3, P)
        lam = lam / lam.sum(0)
        n = data[15:18]
        if smooth:
            smooth_n = (lam[:, None] * data[18:27].view(3, 3, -1)).sum(0)
            length = (smooth_n * smooth_n).sum(0).sqrt()
            # Corner normals can cancel (a sheet drawn twice with opposite windings): keep the face's.
            n = torch.where(length > 1e-6, smooth_n / length.clamp_min(1e-6), n)
        lambert = (n * light).sum(0).clamp_min(0)
        c = data[-3:] if per_face else (lam[:, None] * data[-9:].view(3, 3, -1)).sum(0)
        image.index_copy_(0, pix, (c * (ambient + (1.0 - ambient) * lambert)).clamp(0, 1).T)
    return Rendered(image.view(H, W, 3), depth_map.view(H, W), face_map.view(H, W), face_map.view(H, W) >= 0)


def to_uint8(image) -> np.ndarray:
    """``(H, W, 3)`` float image in ``[0, 1]`` (tensor or array) → ``(H, W, 3)`` uint8, rounded and clipped."""
    img = image.detach().cpu().numpy() if isinstance(image, torch.Tensor) else np.asarray(image)
    if img.ndim != 3 or img.shape[2] != 3 or not np.issubdtype(img.dtype, np.number):
        raise SignlibError(f"image must be a numeric (H, W, 3) array, got shape {img.shape}")
    if not np.isfinite(img).all():
        raise SignlibError("image must be finite, found NaN or inf")
    return np.clip(np.rint(img.astype(np.float64) * 255.0), 0, 255).astype(np.uint8)
