"""A pinhole camera shared by the mesh and Gaussian rasterisers (and by gsplat on GPUs).

Conventions are gsplat's (and OpenCV's), so the same :class:`Camera` feeds our CPU rasterisers and
``gsplat.rasterization`` unchanged:

- ``viewmat`` is the ``(4, 4)`` world-to-camera matrix; camera axes are ``x`` right, ``y`` down and
  ``z`` forward (into the picture), so visible points have positive depth.
- ``K`` is the ``(3, 3)`` intrinsic matrix; pixel ``(row i, column j)`` has its centre at image
  coordinates ``(u, v) = (j + 0.5, i + 0.5)``.

World frame: the template skeleton's (metres, ``y`` up, ``x`` towards the signer's left, ``z``
forward out of the chest). :func:`front_camera` looks at the signer from the front, so a viewer
sees the signer's left hand on the right of the image, as a person facing the signer does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from signlib.errors import SignlibError


@dataclass(frozen=True, eq=False)
class Camera:
    """A pinhole camera.

    Attributes:
        viewmat: ``(4, 4)`` float32 world-to-camera transform (camera ``x`` right, ``y`` down,
            ``z`` forward).
        K: ``(3, 3)`` float32 intrinsics ``[[fx, 0, cx], [0, fy, cy], [0, 0, 1]]`` in pixels.
        width, height: image size in pixels.
    """

    viewmat: torch.Tensor
    K: torch.Tensor
    width: int
    height: int

    def __post_init__(self):
        if self.width < 1 or self.height < 1:
            raise SignlibError(f"camera image size must be positive, got {self.width}x{self.height}")
        if tuple(self.viewmat.shape) != (4, 4) or tuple(self.K.shape) != (3, 3):
            raise SignlibError(f"camera needs a (4, 4) viewmat and a (3, 3) K, got {tuple(self.viewmat.shape)} "
                               f"and {tuple(self.K.shape)}")

    def to_camera(self, points: torch.Tensor) -> torch.Tensor:
        """``(..., 3)`` world points → ``(..., 3)`` camera-frame points (same dtype as ``points``)."""
        R = self.viewmat[:3, :3].to(points)
        t = self.viewmat[:3, 3].to(points)
        return points @ R.T + t

    def project(self, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Perspective projection.

        Args:
            points: ``(..., 3)`` world points.
        Returns:
            ``uv (..., 2)`` image coordinates in pixels (pixel centres at ``+0.5``) and
            ``depth (..., )`` camera ``z`` (metres; not clamped, points behind the camera give
            negative depth and must be culled by the caller).
        """
        cam = self.to_camera(points)
        z = cam[..., 2]
        K = self.K.to(points)
        safe = torch.where(z.abs() < 1e-9, torch.full_like(z, 1e-9), z)
        u = K[0, 0] * cam[..., 0] / safe + K[0, 2]
        v = K[1, 1] * cam[..., 1] / safe + K[1, 2]
        return torch.stack((u, v), dim=-1), z

    def light_direction(self) -> torch.Tensor:
        """``(3,)`` unit world direction *towards* a light above and to the right of the camera
        (a key light; Lambert shading uses ``max(0, n · l)``)."""
        R = self.viewmat[:3, :3]
        # camera frame: right (+x), up (-y) and towards the camera (-z)
        d = R.T @ torch.tensor([0.35, -0.45, -1.0])
        return d / d.norm()


def front_camera(lo, hi, width: int = 256, height: int = 256, fov_deg: float = 20.0,
                 margin: float = 0.06) -> Camera:
    """A camera in front of the signer (on ``+z``) that frames the world box ``[lo, hi]``.

    Args:
        lo, hi: ``(3,)`` corners of the box to frame (e.g. the min and max of every joint of a
            clip, so the framing does not move during the video), metres.
        width, height: image size in pixels.
        fov_deg: vertical field of view; a narrow one keeps perspective mild, as a portrait lens.
        margin: extra space around the box, as a fraction of its larger side.
    Returns:
        A :class:`Camera` looking along world ``-z`` at the box centre.
    """
    lo = np.asarray(lo, np.float64).reshape(3)
    hi = np.asarray(hi, np.float64).reshape(3)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()) or (hi < lo).any():
        raise SignlibError(f"front_camera needs finite box corners with lo <= hi, got {lo} and {hi}")
    centre = (lo + hi) / 2
    half = np.maximum((hi - lo) / 2, 1e-3) + margin * max((hi - lo).max(), 1e-3)
    focal = 0.5 * height / math.tan(math.radians(fov_deg) / 2)
    # Distance at which the box's front face fits both image axes.
    distance = max(half[0] * focal / (0.5 * width), half[1] * focal / (0.5 * height)) + half[2]
    eye = centre + np.array([0.0, 0.0, distance])
    R = np.diag([1.0, -1.0, -1.0])  # world x → right, world y → up (camera -y), world -z → forward
    view = np.eye(4)
    view[:3, :3] = R
    view[:3, 3] = -R @ eye
    K = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    return Camera(torch.tensor(view, dtype=torch.float32), torch.tensor(K, dtype=torch.float32), int(width), int(height))
