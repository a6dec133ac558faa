"""The diffusion generator of Fig 4b: DDPM training with a cosine noise schedule and clean-sequence
(x0) prediction, DDIM sampling (η = 0) on respaced steps.

It shares everything else with SignSparK (the network, the keyframe control signal, the prior's
flow coordinates, classifier-free guidance), so Fig 4b compares only the noise path, the
objective and the sampler. Notation, all ``(B, T, D)`` in flow coordinates: ``z1`` the data,
``ε ~ N(0, I)``, ``k ∈ {1, ..., K}`` the timestep (``K = diffusion_steps``, 1000 by default),
``ᾱ(k)`` the cosine schedule of Nichol & Dhariwal (2021)::

    ᾱ(k) = f(k) / f(0),   f(k) = cos²((k/K + s) / (1 + s) · π/2),   s = 0.008
    x_k = √ᾱ(k)·z1 + √(1 − ᾱ(k))·ε

The network gets the control ``M⊙z1 + (1 − M)⊙x_k`` (keyframes written in clean, as for the flow)
and the time ``1 − k/K`` (0 = pure noise, 1 = clean, the flow's convention), and predicts ``ẑ1``.
Its loss is the reconstruction and velocity terms of the SignSparK objective on ``ẑ1``
(:func:`signlib.generate.flow.clean_loss`): the x0-prediction DDPM loss, plus the velocity term so
that the generators differ in path and sampler only.

DDIM (Song et al. 2021) with η = 0 walks ``K = k_0 > k_1 > ... > k_S = 0`` (``S`` = sampler
steps, evenly respaced): ``ε̂ = (x − √ᾱ(k_i)·ẑ1) / √(1 − ᾱ(k_i))``, then
``x ← √ᾱ(k_{i+1})·ẑ1 + √(1 − ᾱ(k_{i+1}))·ε̂``. With one step it returns the first ``ẑ1``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from signlib.errors import SignlibError
from signlib.generate.configs import SamplerConfig
from signlib.generate.sampling import VelocityFn, check_inputs, guided

#: Offset of the cosine schedule (Nichol & Dhariwal 2021): keeps ᾱ from falling too fast near k = 0.
COSINE_OFFSET = 0.008


def alpha_bar(k: torch.Tensor, total: int) -> torch.Tensor:
    """``ᾱ(k)`` (same shape as ``k``; float timesteps in ``[0, total]``): 1 at 0, 0 at ``total``."""
    def f(u):
        return torch.cos((u / total + COSINE_OFFSET) / (1 + COSINE_OFFSET) * math.pi / 2) ** 2
    return (f(k.double()) / f(torch.zeros((), dtype=torch.float64))).clamp(0.0, 1.0).float()


def network_time(k: torch.Tensor, total: int) -> torch.Tensor:
    """The time input of the network for timesteps ``k``: ``1 − k/total`` (0 noise, 1 clean)."""
    return 1.0 - k.float() / total


def noise_path(z1: torch.Tensor, eps: torch.Tensor, k: torch.Tensor, total: int, key_mask: torch.Tensor
               ) -> torch.Tensor:
    """The control signal for timesteps ``k (B,)``: ``x_k`` with the keyframes ``key_mask (B, T)``
    written in clean."""
    ab = alpha_bar(k, total).to(z1)[:, None, None]
    xk = ab.sqrt() * z1 + (1 - ab).sqrt() * eps
    return torch.where(key_mask.bool()[..., None], z1, xk)


def respaced(steps: int, total: int) -> list[int]:
    """The ``steps + 1`` timesteps DDIM visits, from ``total`` down to 0, evenly spaced."""
    if not 1 <= steps <= total:
        raise SignlibError(f"DDIM steps={steps} must be in [1, {total}] (the training timesteps)")
    return [int(k) for k in np.round(np.linspace(total, 0, steps + 1))]


def ddim_times(steps: int, total: int) -> list[float]:
    """The network times at which :func:`ddim_sample` calls the network (see
    :func:`signlib.generate.sampling.flow_times`)."""
    return [1.0 - k / total for k in respaced(steps, total)[:-1]]


@torch.no_grad()
def ddim_sample(clean: VelocityFn, x0: torch.Tensor, keys: torch.Tensor, key_mask: torch.Tensor, has_text,
                config: SamplerConfig, total: int) -> torch.Tensor:
    """Deterministic DDIM from noise ``x0`` (``(B, T, D)``) to a sample whose keyframe frames equal
    ``keys`` exactly; ``clean(control, time, key_mask, text_on)`` is the network's ``ẑ1``, called
    through the same guidance branches as the flow sampler (:func:`signlib.generate.sampling.guided`).
    ``config.steps`` respaced steps; the solver field does not apply."""
    check_inputs(x0, keys, key_mask, config, "ddim_sample")
    key_mask = key_mask.bool()
    m = key_mask[..., None]
    combined = guided(clean, keys, key_mask, has_text, config)
    levels = respaced(config.steps, total)
    x = torch.where(m, keys, x0)
    for k, k_next in zip(levels[:-1], levels[1:]):
        ab = float(alpha_bar(torch.tensor(float(k)), total))
        ab_next = float(alpha_bar(torch.tensor(float(k_next)), total))
        blind = math.sqrt(ab) * keys + math.sqrt(1 - ab) * x0  # a keyframe-blind branch's view of the keyframes
        z_hat = combined(x, 1.0 - k / total, blind)
        eps = (x - math.sqrt(ab) * z_hat) / math.sqrt(max(1 - ab, 1e-12))
        x = torch.where(m, keys, math.sqrt(ab_next) * z_hat + math.sqrt(1 - ab_next) * eps)
    return x
