"""Render Gaussians with gsplat's CUDA rasteriser: the GPU twin of :mod:`signlib.render.splat`.

Same inputs, camera conventions and result type as :func:`signlib.render.splat.rasterize_gaussians`
(gsplat clamps α at 0.999 where the CPU rasteriser clamps at 0.99, which only matters for nearly
opaque Gaussians). gsplat is imported only inside the functions, and its CUDA path is never touched
without a CUDA device: with a CUDA compiler installed but no GPU, its first call may try to compile
its extension.
"""

from __future__ import annotations

import importlib

import torch

from signlib.errors import SignlibError
from signlib.render.camera import Camera
from signlib.render.splat import Splatted, check_gaussians


def gsplat_available() -> bool:
    """True when a CUDA device is present and gsplat can be imported."""
    if not torch.cuda.is_available():
        return False
    try:
        importlib.import_module("gsplat")
    except ImportError:
        return False
    return True


def render_gsplat(means: torch.Tensor, quats: torch.Tensor, scales: torch.Tensor, opacities: torch.Tensor,
                  colors: torch.Tensor, camera: Camera, background=(1.0, 1.0, 1.0)) -> Splatted:
    """Render ``N`` Gaussians (``means (N, 3)``, ``quats (N, 4)`` wxyz, ``scales (N, 3)``,
    ``opacities (N,)``, ``colors (N, 3)``) over ``background`` (3 numbers or a ``(3,)`` tensor) with
    ``gsplat.rasterization`` on the GPU.

    Returns CPU float32 tensors: ``image (H, W, 3)``, ``alpha (H, W)``; ``pairs`` is ``-1``.
    Gradients flow back to the inputs through the device copies.
    """
    if not torch.cuda.is_available():
        raise SignlibError("render_gsplat needs a CUDA device; on the CPU use signlib.render.splat.rasterize_gaussians")
    n = check_gaussians(means, quats, scales, opacities, colors)
    cuda = dict(device="cuda", dtype=torch.float32)
    bg = torch.as_tensor(background).to(**cuda)
    if tuple(bg.shape) != (3,) or not torch.isfinite(bg).all():
        raise SignlibError(f"background must be 3 finite numbers, got {background!r}")
    H, W = camera.height, camera.width
    if n == 0:  # nothing to sort or draw: gsplat's kernels are not needed for the background
        return Splatted(bg.expand(H, W, 3).float().cpu(), torch.zeros(H, W), -1)
    try:
        from gsplat import rasterization
    except ImportError as err:
        raise SignlibError(f"render_gsplat needs gsplat, which cannot be imported: {err}") from err
    image, alpha, _ = rasterization(
        means.to(**cuda), quats.to(**cuda), scales.to(**cuda), opacities.to(**cuda), colors.to(**cuda),
        camera.viewmat.to(**cuda)[None], camera.K.to(**cuda)[None], W, H,
        near_plane=0.01, eps2d=0.3, sh_degree=None, packed=False, render_mode="RGB", backgrounds=bg[None])
    return Splatted(image[0].cpu(), alpha[0, ..., 0].cpu(), -1)
