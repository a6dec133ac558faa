"""ODE samplers for keyframe-conditioned flow matching, with classifier-free guidance.

The network was trained with each condition dropped independently (text → the null token,
keyframes → an empty mask), so at sampling time up to three velocities are available:
``v(∅, ∅)``, ``v(K, ∅)`` (keyframes only) and ``v(K, T)`` (keyframes and text). Guidance combines
them as nested differences (as InstructPix2Pix does for two conditions)::

    v = v(∅, ∅) + s_K · (v(K, ∅) − v(∅, ∅)) + s_T · (v(K, T) − v(K, ∅))

With ``s_K = s_T = 1`` this is exactly ``v(K, T)`` and only that one pass is run. Without
keyframes (text-to-pose) the key term vanishes; without text (stitching) the text term does.
All branches run as one batched network call.

Keyframes are re-imposed after every step, so the output equals the given keyframe values
exactly. A branch that "does not see" the keyframes gets, at those frames, what it was trained on:
the noisy path value ``t·k + (1 − t)·x0`` of the same noise draw.
"""

from __future__ import annotations

from typing import Callable

import torch

from signlib.errors import SignlibError
from signlib.generate.configs import SamplerConfig


#: ``velocity(control (N, T, D), t (N,), key_mask (N, T) bool, text_on (N,) bool) -> (N, T, D)``
#: where ``N = branches × B``; branch rows are stacked ``[(∅, ∅), (K, ∅), (K, T)]`` as needed.
VelocityFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _branches(has_keys: bool, has_text: bool, config: SamplerConfig) -> list[tuple[bool, bool]]:
    """Which (keys on, text on) velocities the guidance formula needs, in stacking order."""
    if has_keys and has_text:
        if config.key_scale != 1.0:
            return [(False, False), (True, False), (True, True)]
        return [(True, False), (True, True)] if config.text_scale != 1.0 else [(True, True)]
    if has_keys:
        return [(False, False), (True, False)] if config.key_scale != 1.0 else [(True, False)]
    if has_text:
        return [(False, False), (False, True)] if config.text_scale != 1.0 else [(False, True)]
    return [(False, False)]


def _combine(v: dict[tuple[bool, bool], torch.Tensor], has_keys: bool, has_text: bool,
             config: SamplerConfig) -> torch.Tensor:
    if has_keys and has_text:
        base = v[(True, False)] if (True, False) in v else None
        out = v[(True, True)]
        if base is not None:
            out = base + config.text_scale * (out - base)
        if (False, False) in v:
            out = out + (config.key_scale - 1.0) * (base - v[(False, False)])
        return out
    if has_keys or has_text:
        cond = v[(has_keys, has_text)]
        if (False, False) in v:
            scale = config.key_scale if has_keys else config.text_scale
            return v[(False, False)] + scale * (cond - v[(False, False)])
        return cond
    return v[(False, False)]


def check_inputs(x0: torch.Tensor, keys: torch.Tensor, key_mask: torch.Tensor, config: SamplerConfig,
                 name: str = "sample") -> None:
    """One-line errors for what the samplers cannot integrate: a config that is not a
    :class:`SamplerConfig` (its ``steps`` are checked there: a whole number >= 1), or ``x0``,
    ``keys`` and ``key_mask`` that are not tensors of shapes ``(B, T, D)``, ``(B, T, D)``, ``(B, T)``."""
    if not isinstance(config, SamplerConfig):
        raise SignlibError(f"{name}: config: expected a SamplerConfig, got {type(config).__name__}")
    if not all(isinstance(t, torch.Tensor) for t in (x0, keys, key_mask)):
        raise SignlibError(f"{name}: x0, keys and key_mask must be tensors")
    if x0.dim() != 3 or keys.shape != x0.shape or key_mask.shape != x0.shape[:2]:
        raise SignlibError(f"{name}: x0 {tuple(x0.shape)}, keys {tuple(keys.shape)} and key_mask "
                           f"{tuple(key_mask.shape)} must be (B, T, D), (B, T, D) and (B, T)")


def guided(net: VelocityFn, keys: torch.Tensor, key_mask: torch.Tensor, has_text, config: SamplerConfig
           ) -> Callable[[torch.Tensor, float, torch.Tensor], torch.Tensor]:
    """``combined(x (B, T, D), t, blind (B, T, D)) -> (B, T, D)``: the guidance formula over the
    branches ``config`` needs, as one batched call of ``net`` (a velocity here, the clean-sequence
    estimate for :func:`signlib.generate.diffusion.ddim_sample`; guidance is linear in either).
    ``blind`` is what a keyframe-blind branch sees at the keyframes (the noisy path value there)."""
    key_mask = key_mask.bool()
    B = len(keys)
    row_text = torch.as_tensor(has_text, dtype=torch.bool, device=keys.device).expand(B)
    has_keys, any_text = bool(key_mask.any()), bool(row_text.any())
    branches = _branches(has_keys, any_text, config)
    m = key_mask[..., None]
    text_on = torch.cat([row_text & txt for _, txt in branches])
    masks = torch.cat([key_mask if k else torch.zeros_like(key_mask) for k, _ in branches])

    def combined(x: torch.Tensor, t: float, blind: torch.Tensor) -> torch.Tensor:
        noisy = torch.where(m, blind, x)
        control = torch.cat([x if k else noisy for k, _ in branches])
        tt = torch.full((len(control),), t, dtype=x.dtype, device=x.device)
        out = net(control, tt, masks, text_on).split(B)
        return _combine(dict(zip(branches, out)), has_keys, any_text, config)

    return combined


def flow_times(config: SamplerConfig) -> list[float]:
    """Every flow time at which :func:`sample` calls the network, so that what depends on the time
    alone can be computed for all steps at once (:meth:`SignSparK.condition`)."""
    dt = 1.0 / config.steps
    heun = [i * dt + dt for i in range(config.steps - 1)] if config.solver == "heun" else []
    return [i * dt for i in range(config.steps)] + heun


@torch.no_grad()
def sample(velocity: VelocityFn, x0: torch.Tensor, keys: torch.Tensor, key_mask: torch.Tensor,
           has_text, config: SamplerConfig = SamplerConfig()) -> torch.Tensor:
    """Integrate from noise ``x0`` at ``t = 0`` to ``t = 1``.

    Args:
        velocity: the network (see :data:`VelocityFn`).
        x0: ``(B, T, D)`` noise; keys: ``(B, T, D)`` keyframe values (read where ``key_mask``);
        key_mask: ``(B, T)`` bool; has_text: ``(B,)`` bool (or one bool for all rows): whether
            the row has a text condition. Rows without keyframes or text get the same formula
            with that term gone, because their conditional and unconditional branches coincide.
    Returns:
        ``(B, T, D)`` samples whose keyframe frames equal ``keys`` exactly.
    """
    check_inputs(x0, keys, key_mask, config)
    key_mask = key_mask.bool()
    m = key_mask[..., None]
    combined = guided(velocity, keys, key_mask, has_text, config)
    x = torch.where(m, keys, x0)
    dt = 1.0 / config.steps
    for i in range(config.steps):
        t = i * dt
        v = combined(x, t, t * keys + (1 - t) * x0)
        if config.solver == "heun" and i < config.steps - 1:
            x_pred = torch.where(m, keys, x + dt * v)
            t2 = t + dt
            v = 0.5 * (v + combined(x_pred, t2, t2 * keys + (1 - t2) * x0))
        x = torch.where(m, keys, x + dt * v)
    return x
