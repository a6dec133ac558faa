"""Tiny SignSparK models and clips shared by the generator tests (sizes chosen to run in seconds)."""

import numpy as np
import pytest
import torch

from signlib.generate.configs import SignSparKConfig, TextEncoderConfig, UNetConfig
from signlib.generate.model import SignSparK

TINY_TEXT = TextEncoderConfig(d_model=32, layers=1, heads=2, ff=64, dropout=0.0)
TINY_UNET = UNetConfig(channels=(32, 48), blocks=1, heads=2, cond_dim=32, patch=2)


def tiny_config(**changes) -> SignSparKConfig:
    return SignSparKConfig(**{"layout": "rot6d", "max_frames": 64, "text": TINY_TEXT, "unet": TINY_UNET, **changes})


def perturbed_model(config: SignSparKConfig, seed: int = 0) -> SignSparK:
    """A SignSparK in eval mode with every weight nudged by noise: a freshly built UNet outputs zeros
    (zero-initialised head), which would make equality tests pass trivially."""
    torch.manual_seed(seed)
    model = SignSparK(config)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


@pytest.fixture
def tiny_model() -> SignSparK:
    return perturbed_model(tiny_config())


def smooth_clip(T: int = 40, D: int = 240, seed: int = 0) -> np.ndarray:
    """``(T, D)`` smooth curves (a few sinusoids per channel): signing-like, cheap to learn."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T)[:, None]
    freq, phase, amp = rng.uniform(0.5, 2.0, D), rng.uniform(0, 2 * np.pi, D), rng.uniform(0.1, 0.5, D)
    return (amp * np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.3, D)).astype(np.float32)
