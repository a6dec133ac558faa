"""The z-buffer mesh rasteriser: coverage, depth order, no cracks, shading, masks, golden images.

Golden images: ``tests/render/golden/raster_*.png`` (see ``tests/helpers/golden.py`` for how to
rewrite them after an intended change).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy import ndimage

import signlib.render.raster as raster
from signlib.errors import SignlibError
from signlib.render.camera import Camera, front_camera
from signlib.render.raster import rasterize_mesh, to_uint8, vertex_normals

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))

from golden import check_golden  # noqa: E402


def pinhole(size: int = 64, focal: float = 64.0, rotation: np.ndarray | None = None, eye_z: float = 0.0) -> Camera:
    """Camera at the world origin (or at ``-eye_z`` after ``rotation``) whose axes are the world's:
    a world point (x, y, z) lands at (focal * x / z + size / 2, focal * y / z + size / 2)."""
    view = np.eye(4)
    if rotation is not None:
        view[:3, :3] = rotation
    view[2, 3] = eye_z
    K = np.array([[focal, 0, size / 2], [0, focal, size / 2], [0, 0, 1]])
    return Camera(torch.tensor(view, dtype=torch.float32), torch.tensor(K, dtype=torch.float32), size, size)


def unproject(uv, z, size: int = 64, focal: float = 64.0) -> torch.Tensor:
    """World points (for :func:`pinhole` without rotation) that project to pixel coordinates ``uv`` at depth ``z``."""
    uv, z = np.asarray(uv, np.float64), np.broadcast_to(np.asarray(z, np.float64), (len(uv),))
    xy = (uv - size / 2) * z[:, None] / focal
    return torch.tensor(np.column_stack((xy, z)), dtype=torch.float32)


def rotation(ax: float, ay: float, az: float) -> np.ndarray:
    cx, sx, cy, sy, cz, sz = math.cos(ax), math.sin(ax), math.cos(ay), math.sin(ay), math.cos(az), math.sin(az)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


def icosphere(subdivisions: int = 2) -> tuple[torch.Tensor, torch.Tensor]:
    """Unit sphere: an icosahedron whose faces are split in four ``subdivisions`` times (outward winding)."""
    t = (1 + math.sqrt(5)) / 2
    verts = [(-1, t, 0), (1, t, 0), (-1, -t, 0), (1, -t, 0), (0, -1, t), (0, 1, t),
             (0, -1, -t), (0, 1, -t), (t, 0, -1), (t, 0, 1), (-t, 0, -1), (-t, 0, 1)]
    verts = [np.array(p, float) / np.linalg.norm(p) for p in verts]
    faces = [(0, 11, 5), (0, 5, 1), (0, 1, 7), (0, 7, 10), (0, 10, 11), (1, 5, 9), (5, 11, 4), (11, 10, 2),
             (10, 7, 6), (7, 1, 8), (3, 9, 4), (3, 4, 2), (3, 2, 6), (3, 6, 8), (3, 8, 9), (4, 9, 5),
             (2, 4, 11), (6, 2, 10), (8, 6, 7), (9, 8, 1)]
    for _ in range(subdivisions):
        midpoint: dict[tuple[int, int], int] = {}

        def mid(i, j):
            key = (min(i, j), max(i, j))
            if key not in midpoint:
                p = verts[i] + verts[j]
                verts.append(p / np.linalg.norm(p))
                midpoint[key] = len(verts) - 1
            return midpoint[key]

        new = []
        for a, b, c in faces:
            ab, bc, ca = mid(a, b), mid(b, c), mid(c, a)
            new += [(a, ab, ca), (b, bc, ab), (c, ca, bc), (ab, bc, ca)]
        faces = new
    return torch.tensor(np.array(verts), dtype=torch.float32), torch.tensor(faces, dtype=torch.int64)


def cube() -> tuple[torch.Tensor, torch.Tensor]:
    """Unit cube centred at the origin, two outward-wound triangles per side (sides in order -x, +x, -y, +y, -z, +z)."""
    v = torch.tensor([[x, y, z] for x in (-0.5, 0.5) for y in (-0.5, 0.5) for z in (-0.5, 0.5)])
    quads = [(0, 1, 3, 2), (4, 6, 7, 5), (0, 4, 5, 1), (2, 3, 7, 6), (0, 2, 6, 4), (1, 5, 7, 3)]
    faces = [tri for a, b, c, d in quads for tri in ((a, b, c), (a, c, d))]
    return v, torch.tensor(faces)


def capsule(p0, p1, radius: float, around: int = 16, rings: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed capsule around the segment ``p0``-``p1``: two hemispheres of ``rings`` latitude rings
    joined by a cylinder, ``around`` vertices per ring, outward winding."""
    p0, p1 = np.asarray(p0, float), np.asarray(p1, float)
    axis = (p1 - p0) / np.linalg.norm(p1 - p0)
    side = np.cross(axis, [1.0, 0, 0] if abs(axis[0]) < 0.9 else [0, 1.0, 0])
    side /= np.linalg.norm(side)
    up = np.cross(axis, side)
    phi = 2 * math.pi * np.arange(around) / around
    circle = np.cos(phi)[:, None] * side + np.sin(phi)[:, None] * up
    angles = [math.pi / 2 * k / rings for k in range(1, rings + 1)]  # from the pole to the equator
    centres = ([p0 - radius * math.cos(a) * axis for a in angles]
               + [p1 + radius * math.cos(a) * axis for a in angles[::-1]])
    radii = [radius * math.sin(a) for a in angles] + [radius * math.sin(a) for a in angles[::-1]]
    verts = [p0 - radius * axis] + [c + r * circle[j] for c, r in zip(centres, radii) for j in range(around)]
    verts.append(p1 + radius * axis)
    top, faces = len(verts) - 1, []
    for j in range(around):
        k = (j + 1) % around
        faces.append((0, 1 + k, 1 + j))
        for ring in range(len(centres) - 1):
            a, b = 1 + ring * around, 1 + (ring + 1) * around
            faces += [(a + j, a + k, b + k), (a + j, b + k, b + j)]
        last = 1 + (len(centres) - 1) * around
        faces.append((top, last + j, last + k))
    return torch.tensor(np.array(verts), dtype=torch.float32), torch.tensor(faces)


def pixel_centres(size: int = 64) -> np.ndarray:
    j, i = np.meshgrid(np.arange(size) + 0.5, np.arange(size) + 0.5)
    return np.stack((j, i), -1)  # (H, W, 2) as (u, v)


def inside_polygon(points: np.ndarray, poly: np.ndarray, margin: float) -> np.ndarray:
    """True where ``points (..., 2)`` lie inside the convex polygon ``poly (K, 2)`` by more than
    ``margin`` pixels (any winding); ``margin < 0`` accepts points that far outside."""
    area = np.sum(poly[:, 0] * np.roll(poly[:, 1], -1) - np.roll(poly[:, 0], -1) * poly[:, 1])
    ok = np.ones(points.shape[:-1], bool)
    for a, b in zip(poly, np.roll(poly, -1, 0)):
        d = b - a
        dist = (d[0] * (points[..., 1] - a[1]) - d[1] * (points[..., 0] - a[0])) / np.linalg.norm(d)
        ok &= np.sign(area) * dist > margin
    return ok


# ----------------------------------------------------------------------------- coverage and depth


def test_single_triangle_covers_its_area_and_nothing_outside_its_box():
    uv = np.array([[10.3, 12.7], [50.2, 20.1], [25.4, 55.8]])
    out = rasterize_mesh(unproject(uv, 2.0), torch.tensor([[0, 1, 2]]), torch.tensor([0.2, 0.4, 0.6]), pinhole(),
                         background=(1.0, 1.0, 1.0))
    assert out.image.shape == (64, 64, 3) and out.image.dtype == torch.float32
    assert out.depth.shape == out.face_index.shape == out.mask.shape == (64, 64)
    (ax, ay), (bx, by) = uv[1] - uv[0], uv[2] - uv[0]
    area = 0.5 * abs(ax * by - ay * bx)
    perimeter = sum(np.linalg.norm(uv[k] - uv[k - 1]) for k in range(3))
    mask = out.mask.numpy()
    assert abs(mask.sum() - area) <= perimeter / 2
    # Exact coverage, away from the edges by more than rounding.
    centres = pixel_centres()
    assert not (mask & ~inside_polygon(centres, uv, -1e-3)).any()
    assert (mask | ~inside_polygon(centres, uv, 1e-3)).all()
    lo, hi = uv.min(0), uv.max(0)
    outside_box = ((centres < lo) | (centres > hi)).any(-1)
    assert not mask[outside_box].any()
    assert (out.image.numpy()[outside_box] == 1.0).all()
    assert (out.face_index[~out.mask] == -1).all() and (out.face_index[out.mask] == 0).all()
    assert torch.isinf(out.depth[~out.mask]).all()
    assert torch.allclose(out.depth[out.mask], torch.tensor(2.0), atol=1e-5)


def plane_depth(normal, offset, size: int = 64, focal: float = 64.0) -> np.ndarray:
    """``(H, W)`` camera depth, along each pixel-centre ray, of the plane ``normal . p = offset``."""
    rays = np.concatenate(((pixel_centres(size) - size / 2) / focal, np.ones((size, size, 1))), -1)
    return offset / (rays @ np.asarray(normal, float))


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_the_nearer_triangle_wins_with_perspective_correct_depth(order):
    # A: the plane z = 2. B: the tilted plane z = 2 + 0.8 x, nearer on the image's left half.
    a = torch.tensor([[-1.5, -1.0, 2.0], [1.5, -1.0, 2.0], [0.0, 1.5, 2.0]])
    xb = torch.tensor([-1.2, 1.2, 0.0])
    b = torch.stack((xb, torch.tensor([-1.2, -1.2, 1.5]), 2.0 + 0.8 * xb), 1)
    tris = [a, b]
    verts = torch.cat([tris[k] for k in order])
    faces = torch.tensor([[0, 1, 2], [3, 4, 5]])
    cam, col = pinhole(), torch.tensor([0.5, 0.5, 0.5])
    out = rasterize_mesh(verts, faces, col, cam)
    alone = [rasterize_mesh(tris[k], faces[:1], col, cam) for k in order]
    both = alone[0].mask & alone[1].mask
    assert both.sum() > 500 and (alone[0].mask ^ alone[1].mask).sum() > 100
    # Expected: depth of each plane where its triangle covers the pixel, the nearer one wins.
    expected = {0: plane_depth([0, 0, 1], 2.0), 1: plane_depth([-0.8, 0, 1], 2.0)}
    depths = np.stack([np.where(alone[i].mask.numpy(), expected[k], np.inf) for i, k in enumerate(order)])
    assert np.abs(out.depth.numpy()[out.mask.numpy()] - depths.min(0)[out.mask.numpy()]).max() < 1e-4
    assert torch.equal(out.mask, alone[0].mask | alone[1].mask)
    winner = torch.tensor(depths.argmin(0))
    assert torch.equal(out.face_index[out.mask], winner[out.mask])
    left, right = both.clone(), both.clone()
    left[:, 32:], right[:, :32] = False, False
    nearer_b = order.index(1)
    assert (out.face_index[left] == nearer_b).all() and (out.face_index[right] == 1 - nearer_b).all()


def test_ties_go_to_the_lowest_face_index_and_faces_behind_the_camera_are_dropped():
    tri = unproject([[5.0, 5.0], [60.0, 8.0], [30.0, 60.0]], 2.0)
    verts = torch.cat((tri, tri))
    out = rasterize_mesh(verts, torch.tensor([[3, 4, 5], [0, 1, 2]]), torch.tensor([0.5, 0.5, 0.5]), pinhole())
    assert (out.face_index[out.mask] == 0).all() and out.mask.sum() > 500
    behind = tri.clone()
    behind[0, 2] = -1.0
    empty = rasterize_mesh(behind, torch.tensor([[0, 1, 2]]), torch.tensor([0.5, 0.5, 0.5]), pinhole())
    assert not empty.mask.any()


# ----------------------------------------------------------------------------- closed meshes, cracks


@pytest.mark.parametrize("angles", [(0.0, 0.0, 0.0), (0.3, -0.7, 0.2), (1.1, 0.4, -0.9)])
def test_closed_meshes_render_without_holes(angles):
    R = torch.tensor(rotation(*angles), dtype=torch.float32)
    for verts, faces in (icosphere(2), cube()):
        v = verts @ R.T * 0.8 + torch.tensor([0.05, -0.03, 3.0])
        out = rasterize_mesh(v, faces, torch.tensor([0.3, 0.6, 0.9]), pinhole())
        mask = out.mask.numpy()
        assert 200 < mask.sum() < 64 * 64 - 200
        assert (ndimage.binary_fill_holes(mask) == mask).all(), "background pixels inside the silhouette"
        assert ndimage.label(mask)[1] == 1


def grid(n: int, jitter: float, seed: int = 0):
    """``(n + 1)**2`` points of an ``n x n`` grid of unit cells over ``[0, n]**2`` (interior ones moved
    by up to ``jitter`` cells) and its triangles, with diagonals in both directions."""
    g = np.stack(np.meshgrid(np.arange(n + 1), np.arange(n + 1), indexing="ij"), -1).reshape(-1, 2).astype(float)
    interior = ((g > 0) & (g < n)).all(1)
    g[interior] += np.random.default_rng(seed).uniform(-jitter, jitter, (interior.sum(), 2))
    faces = []
    for i in range(n):
        for j in range(n):
            a, b, c, d = i * (n + 1) + j, (i + 1) * (n + 1) + j, (i + 1) * (n + 1) + j + 1, i * (n + 1) + j + 1
            faces += [(a, b, c), (a, c, d)] if (i + j) % 2 else [(a, b, d), (b, c, d)]
    return g, torch.tensor(faces)


def test_shared_edges_through_pixel_centres_leave_no_cracks():
    # Vertices on pixel centres: every grid line and diagonal passes exactly through pixel centres,
    # where a strict inside test on both neighbours would leave a crack.
    pts, faces = grid(14, 0.0)
    uv = 7.5 + 4 * pts  # pixel centres 7.5 .. 63.5 in steps of 4
    out = rasterize_mesh(unproject(uv, 2.0), faces, torch.tensor([0.5, 0.5, 0.5]), pinhole())
    c = pixel_centres()
    inside = ((c >= 7.5) & (c <= 63.5)).all(-1)
    assert torch.equal(out.mask, torch.tensor(inside))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_jittered_and_tilted_meshes_leave_no_cracks(seed):
    pts, faces = grid(12, 0.35, seed)
    verts = torch.tensor(np.column_stack((pts / 6 - 1, np.zeros(len(pts)))), dtype=torch.float32)
    cam = pinhole(rotation=rotation(0.5 + 0.1 * seed, -0.4, 0.3 * seed), eye_z=2.5)
    out = rasterize_mesh(verts, faces, torch.tensor([0.5, 0.5, 0.5]), cam)
    corners = cam.project(torch.tensor([[-1.0, -1, 0], [1, -1, 0], [1, 1, 0], [-1, 1, 0]]))[0].numpy()
    inside = inside_polygon(pixel_centres(), corners.astype(float), 1e-2)
    assert inside.sum() > 500
    assert out.mask.numpy()[inside].all()
    assert not out.mask.numpy()[~inside_polygon(pixel_centres(), corners.astype(float), -1e-2)].any()


def test_chunked_and_unchunked_renders_are_identical(monkeypatch):
    verts, faces = icosphere(3)
    v = verts @ torch.tensor(rotation(0.2, 0.5, 0.1), dtype=torch.float32).T + torch.tensor([0.0, 0.0, 2.5])
    colors = (verts + 1) / 2
    whole = rasterize_mesh(v, faces, colors, pinhole())
    monkeypatch.setattr(raster, "_CHUNK_PAIRS", 97)
    monkeypatch.setattr(raster, "_CHUNK_ROWS", 61)
    chunked = rasterize_mesh(v, faces, colors, pinhole())
    for name in ("image", "depth", "face_index", "mask"):
        assert torch.equal(getattr(whole, name), getattr(chunked, name)), name


# ----------------------------------------------------------------------------- shading and masks


def quad_facing(normal, centre=(0.0, 0.0, 3.0), half: float = 0.6) -> torch.Tensor:
    """Square (two triangles' four corners) centred at ``centre`` with unit ``normal``."""
    n = np.asarray(normal, float) / np.linalg.norm(normal)
    s = np.cross(n, [0, 1.0, 0])
    s /= np.linalg.norm(s)
    t = np.cross(n, s)
    c = np.asarray(centre, float)
    return torch.tensor(np.array([c - half * s - half * t, c + half * s - half * t, c + half * s + half * t,
                                  c - half * s + half * t]), dtype=torch.float32)


def test_lambert_shading_follows_the_light_and_ambient_one_gives_flat_colours():
    cam = pinhole()
    light = cam.light_direction().numpy()
    faces = torch.tensor([[0, 1, 2], [0, 2, 3]])
    colour = torch.tensor([0.8, 0.6, 0.4])
    means = []
    for normal in (light, [0, 0, -1.0], [-0.9, 0.3, -0.4]):  # lit head-on, from the side, from behind
        out = rasterize_mesh(quad_facing(normal), faces, colour, cam, ambient=0.35, smooth=False)
        assert out.mask.sum() > 150
        means.append(out.image[out.mask].mean(0))
    assert torch.allclose(means[0], colour, atol=1e-5)  # n . l = 1
    assert (means[0] > means[1]).all() and (means[1] > means[2]).all()
    assert torch.allclose(means[2], 0.35 * colour, atol=1e-6)  # n . l < 0: ambient only

    verts, faces = cube()
    v = verts @ torch.tensor(rotation(0.5, 0.6, 0.0), dtype=torch.float32).T + torch.tensor([0.0, 0.0, 3.0])
    flat = torch.rand(12, 3, generator=torch.Generator().manual_seed(0))
    out = rasterize_mesh(v, faces, flat, cam, ambient=1.0)
    assert torch.equal(out.image[out.mask], flat[out.face_index[out.mask]])
    assert len(out.face_index[out.mask].unique()) >= 4  # several sides seen


def test_both_sides_of_an_open_mesh_are_lit_alike():
    tri = unproject([[5.0, 5.0], [60.0, 8.0], [30.0, 60.0]], 2.0)
    colour = torch.tensor([0.9, 0.9, 0.9])
    front = rasterize_mesh(tri, torch.tensor([[0, 1, 2]]), colour, pinhole())
    back = rasterize_mesh(tri, torch.tensor([[0, 2, 1]]), colour, pinhole())
    assert torch.equal(front.mask, back.mask) and front.mask.sum() > 500
    assert torch.allclose(front.image, back.image, atol=1e-6)
    assert (front.image[front.mask] > 0.35 * 0.9 + 0.05).all()  # lit, not only ambient


def test_face_mask_hides_faces():
    verts, faces = icosphere(2)
    v = verts + torch.tensor([0.0, 0.0, 3.0])
    col = torch.tensor([0.2, 0.5, 0.8])
    hidden = rasterize_mesh(v, faces, col, pinhole(), face_mask=torch.zeros(len(faces), dtype=torch.bool),
                            background=(0.1, 0.2, 0.3))
    assert not hidden.mask.any() and (hidden.face_index == -1).all() and torch.isinf(hidden.depth).all()
    assert torch.equal(hidden.image, torch.tensor([0.1, 0.2, 0.3]).expand(64, 64, 3))
    keep = torch.arange(len(faces)) % 3 != 0
    part = rasterize_mesh(v, faces, col, pinhole(), face_mask=keep)
    shown = part.face_index[part.mask]
    assert len(shown) > 100 and keep[shown].all()
    # The front half of the sphere hidden: its back faces show through, farther away.
    full = rasterize_mesh(v, faces, col, pinhole())
    front = v[faces].mean(1)[:, 2] < 3.0
    back = rasterize_mesh(v, faces, col, pinhole(), face_mask=~front)
    assert (back.depth[full.mask] > full.depth[full.mask]).all()


def test_vertex_normals_are_unit_area_weighted_and_safe_without_faces():
    verts, faces = icosphere(2)
    n = vertex_normals(verts, faces)
    assert torch.allclose(n.norm(dim=1), torch.ones(len(verts)), atol=1e-5)
    assert (n * verts).sum(1).min() > 0.99  # the sphere's normal is its position
    v = torch.cat((verts, torch.tensor([[5.0, 5.0, 5.0]])))  # a vertex that no face uses
    n = vertex_normals(v, faces)
    assert torch.isfinite(n).all() and (n[-1] == 0).all()
    # Area weighting: a vertex shared by a large and a small face leans towards the large one.
    v = torch.tensor([[0.0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0.1], [0, -0.1, 0]])
    n = vertex_normals(v, torch.tensor([[0, 1, 2], [0, 3, 4]]))
    assert n[0, 2] > 0.9


def test_to_uint8_rounds_and_clips():
    img = torch.tensor([[[-0.2, 0.2, 0.5], [1.3, 1.0, 0.0]]])
    out = to_uint8(img)
    assert out.dtype == np.uint8 and out.shape == (1, 2, 3)
    assert out.tolist() == [[[0, 51, 128], [255, 255, 0]]]
    assert np.array_equal(to_uint8(img.numpy()), out)


# ----------------------------------------------------------------------------- golden images


def golden_scenes():
    """Three small deterministic scenes: ``name -> (vertices, faces, colors, camera, smooth)``."""
    scenes = {}
    verts, faces = icosphere(3)
    v = verts * 0.1
    scenes["sphere"] = (v, faces, 0.55 + 0.4 * verts.clamp(-1, 1) * torch.tensor([1.0, -1.0, 1.0]),
                        front_camera([-0.1] * 3, [0.1] * 3, 64, 64), True)
    v, faces = capsule([-0.1, -0.05, 0.0], [0.1, 0.06, -0.03], 0.05)
    scenes["capsule"] = (v, faces, torch.tensor([0.9, 0.6, 0.3]),
                         front_camera([-0.16, -0.12, -0.08], [0.16, 0.12, 0.08], 64, 64), True)
    verts, faces = cube()
    v = verts @ torch.tensor(rotation(0.6, 0.7, 0.1), dtype=torch.float32).T * 0.2
    colors = torch.tensor([[0.9, 0.2, 0.2], [0.2, 0.8, 0.2], [0.2, 0.3, 0.9], [0.9, 0.8, 0.1], [0.7, 0.2, 0.8],
                           [0.1, 0.8, 0.8]]).repeat_interleave(2, 0)
    scenes["cube"] = (v, faces, colors, front_camera([-0.2] * 3, [0.2] * 3, 64, 64), False)
    return scenes


@pytest.mark.parametrize("name", ["sphere", "capsule", "cube"])
def test_golden_images(name):
    v, faces, colors, cam, smooth = golden_scenes()[name]
    image = to_uint8(rasterize_mesh(v, faces, colors, cam, smooth=smooth, background=(1.0, 1.0, 1.0)).image)
    check_golden(image, f"raster_{name}")
    assert (image != 255).any(-1).mean() > 0.1  # the object is there


# ----------------------------------------------------------------------------- bad input


def _bad_cases():
    v, f = cube()
    col = torch.tensor([0.5, 0.5, 0.5])
    nan = v.clone()
    nan[3, 1] = float("nan")
    cam = pinhole(eye_z=3.0)
    return {
        "faces out of range": ((v, torch.tensor([[0, 1, 8]]), col, cam), {}, "faces"),
        "negative face index": ((v, torch.tensor([[0, -1, 2]]), col, cam), {}, "faces"),
        "float faces": ((v, f.float(), col, cam), {}, "faces"),
        "faces of 4": ((v, torch.tensor([[0, 1, 2, 3]]), col, cam), {}, "faces"),
        "NaN vertex": ((nan, f, col, cam), {}, "vertices"),
        "2-D vertices": ((v[:, :2], f, col, cam), {}, "vertices"),
        "colors of neither V nor F": ((v, f, torch.rand(5, 3), cam), {}, "colors"),
        "colors above 1": ((v, f, torch.tensor([0.5, 1.5, 0.5]), cam), {}, "colors"),
        "face_mask too short": ((v, f, col, cam), {"face_mask": torch.ones(3, dtype=torch.bool)}, "face_mask"),
        "face_mask not bool": ((v, f, col, cam), {"face_mask": torch.ones(12)}, "face_mask"),
        "no camera": ((v, f, col, "front"), {}, "camera"),
        "ambient above 1": ((v, f, col, cam), {"ambient": 1.5}, "ambient"),
        "background of 2": ((v, f, col, cam), {"background": (1.0, 1.0)}, "background"),
    }


@pytest.mark.parametrize("case", list(_bad_cases()))
def test_bad_input_raises_a_one_line_error_naming_the_argument(case):
    args, kwargs, name = _bad_cases()[case]
    with pytest.raises(SignlibError) as info:
        rasterize_mesh(*args, **kwargs)
    assert name in str(info.value) and "\n" not in str(info.value)


def test_bad_input_to_vertex_normals_and_to_uint8():
    v, f = cube()
    with pytest.raises(SignlibError, match="faces"):
        vertex_normals(v, f + 8)
    with pytest.raises(SignlibError, match="vertices"):
        vertex_normals(v[:, :2], f)
    with pytest.raises(SignlibError, match="image"):
        to_uint8(torch.zeros(4, 4))
