"""Frame streams of mesh and avatar renders, and how several streams are put side by side.

A stream is an iterator of ``(H, W, 3)`` uint8 RGB frames, ready for
:func:`signlib.render.video.write_video`. The avatar renders with gsplat's CUDA rasteriser when a
GPU is present and with our own CPU EWA splatting otherwise (``backend="auto"``); the two agree
within the PSNR stated in ``tests/render/test_splat.py``.

Side-by-side videos (:func:`side_by_side`) label each tile once (text drawn by matplotlib into a
header bar) and hold the last frame of shorter clips, since systems produce different lengths
(text-to-pose chooses its own).
"""

from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
import torch

from signlib.errors import SignlibError
from signlib.render.camera import Camera
from signlib.render.raster import rasterize_mesh, to_uint8
from signlib.render.scene import AvatarScene, MeshScene
from signlib.render.splat import quat_to_matrix, rasterize_gaussians

WHITE = (1.0, 1.0, 1.0)


def mesh_frames(scene: MeshScene, camera: Camera, background=WHITE, frames: Iterable[int] | None = None
                ) -> Iterator[np.ndarray]:
    """The ``frames`` (default: every frame) of ``scene`` through the z-buffer rasteriser (Lambert
    shading)."""
    for t in range(scene.num_frames) if frames is None else frames:
        with torch.no_grad():
            out = rasterize_mesh(scene.vertices[t], scene.faces, scene.colors, camera,
                                 face_mask=scene.visible[t], background=background)
        yield to_uint8(out.image)


def avatar_backend(backend: str = "auto") -> str:
    """``"gsplat"`` (CUDA) or ``"cpu"``; ``"auto"`` picks gsplat when it can run."""
    if backend not in ("auto", "cpu", "gsplat"):
        raise SignlibError(f"unknown avatar backend {backend!r}; use auto, cpu or gsplat")
    if backend == "auto":
        from signlib.render.gsplat_backend import gsplat_available

        return "gsplat" if gsplat_available() else "cpu"
    return backend


def avatar_frames(scene: AvatarScene, camera: Camera, background=WHITE, backend: str = "auto",
                  frames: Iterable[int] | None = None, ambient: float = 0.45) -> Iterator[np.ndarray]:
    """The ``frames`` (default: every frame) of ``scene`` splatted (see :func:`avatar_backend`);
    hidden parts are left out."""
    which = avatar_backend(backend)
    if which == "gsplat":
        from signlib.render.gsplat_backend import render_gsplat as draw
    else:
        draw = rasterize_gaussians
    a = scene.avatar
    bg = torch.tensor(background, dtype=torch.float32)
    for t in range(scene.num_frames) if frames is None else frames:
        keep = scene.visible[t]
        with torch.no_grad():
            quats = scene.quats[t][keep]
            out = draw(scene.means[t][keep], quats, a.scales[keep], a.opacities[keep],
                       lambert(a.colors[keep], quat_to_matrix(quats)[..., 2], camera, ambient), camera, bg)
        yield to_uint8(out.image)


def lambert(colors: torch.Tensor, normals: torch.Tensor, camera: Camera, ambient: float = 0.45) -> torch.Tensor:
    """``colors (N, 3)`` lit by the camera's key light: ``c · (ambient + (1 - ambient) max(0, n · l))``,
    normals ``(N, 3)`` turned towards the camera first (as the mesh rasteriser does), so the avatar
    is shaded like the mesh rather than painted flat."""
    forward = camera.viewmat[2, :3]                                          # camera z in world
    n = torch.where((normals @ forward)[:, None] > 0, -normals, normals)
    light = camera.light_direction().to(normals)
    return colors * (ambient + (1 - ambient) * (n @ light).clamp(min=0))[:, None]


def text_bar(labels: list[str], tile_width: int, height: int = 20) -> np.ndarray:
    """A white ``(height, len(labels) * tile_width, 3)`` uint8 bar with each label centred over its tile."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from signlib.render.fonts import setup_fonts

    setup_fonts()
    width = tile_width * len(labels)
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    canvas = FigureCanvasAgg(fig)
    for k, label in enumerate(labels):
        fig.text((k + 0.5) / len(labels), 0.5, label, ha="center", va="center", fontsize=8)
    canvas.draw()
    return np.asarray(canvas.buffer_rgba())[..., :3].copy()


def side_by_side(streams: dict[str, Iterable[np.ndarray]], lengths: dict[str, int] | None = None) -> Iterator[np.ndarray]:
    """Tiles of several streams left to right, under a label bar.

    Args:
        streams: label → frames (all tiles the same size); shorter streams hold their last frame.
        lengths: label → number of frames, when the streams are generators (otherwise ``len``).
    """
    names = list(streams)
    counts = {n: (lengths or {}).get(n) or len(s) for n, s in streams.items()}  # len: a list of frames
    iters = {n: iter(s) for n, s in streams.items()}
    last: dict[str, np.ndarray] = {}
    bar = None
    for t in range(max(counts.values())):
        for n in names:
            if t < counts[n]:
                last[n] = next(iters[n])
        tiles = [last[n] for n in names]
        if bar is None:
            bar = text_bar(names, tiles[0].shape[1])
        yield np.concatenate([bar, np.concatenate(tiles, axis=1)], axis=0)


def still_grid(frames: dict[str, list[np.ndarray]]) -> np.ndarray:
    """Rows of still frames (label → frames, equal sizes) stacked into one image, label bar on top
    of each row; used for Fig-6-style panels."""
    rows = []
    for name, row in frames.items():
        rows.append(text_bar([name], row[0].shape[1] * len(row)))
        rows.append(np.concatenate(row, axis=1))
    return np.concatenate(rows, axis=0)
