"""Golden-image comparison for the render tests.

Golden images live in ``tests/render/golden/<name>.png``. After an intended change of a renderer,
rewrite them with ``SIGNLIB_UPDATE_GOLDEN=1 python -m pytest tests/render`` and look at the new PNGs
before committing them. The tolerance (mean absolute difference ≤ 1/255, at most 0.5 % of pixels
off by more than 8/255) absorbs float differences across machines, not visible changes.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

GOLDEN = Path(__file__).resolve().parents[1] / "render" / "golden"


def check_golden(image: np.ndarray, name: str, background: int = 255) -> None:
    """Assert ``image`` ``(H, W, 3)`` uint8 matches ``golden/<name>.png`` (writing it when updating)."""
    path = GOLDEN / f"{name}.png"
    if os.environ.get("SIGNLIB_UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        Image.fromarray(image).save(path, optimize=True)
    assert path.exists(), f"{path} missing: run with SIGNLIB_UPDATE_GOLDEN=1 to create it"
    expected = np.asarray(Image.open(path).convert("RGB"))
    assert expected.shape == image.shape, f"{name}: shape {image.shape} vs golden {expected.shape}"
    diff = np.abs(image.astype(int) - expected.astype(int))
    assert diff.mean() <= 1.0, f"{name}: mean absolute difference {diff.mean():.2f}/255"
    assert (diff.max(-1) > 8).mean() <= 0.005, f"{name}: {(diff.max(-1) > 8).sum()} pixels differ by more than 8/255"
    assert (image != background).any(-1).mean() > 0.05, f"{name}: the picture is nearly empty"
