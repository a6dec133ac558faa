"""Keyframe-conditioned flow matching: the probability path and the SignSparK training objective.

Notation (SignSparK §3.2), all tensors ``(B, T, D)`` in normalised feature units unless noted:

- ``x1`` the data, ``x0 ~ N(0, I)`` noise, ``t ~ U(0, 1)`` per sequence, ``M`` the ``(B, T)``
  keyframe mask (1 on keyframes);
- the straight path ``x_t = t·x1 + (1 − t)·x0``;
- the control signal the network sees, ``C = M⊙x1 + (1 − M)⊙x_t``: the noisy sequence with the
  keyframes written in clean;
- the target velocity ``u = (1 − M)⊙(x1 − x0) = (x1 − C) / (1 − t)``;
- the one-step estimate of the clean sequence ``x̂1 = M⊙x1 + (1 − M)⊙(C + (1 − t)·v)``.

The issue text writes the target as ``x1 − C``; that is ``(1 − t)·u`` and would make
``x̂1 = x_t + (1 − t)·v`` wrong by a factor ``(1 − t)``. We keep ``u`` as the constant
straight-line velocity, so Euler steps are plain ``x += dt·v`` and ``x̂1`` is exact when ``v = u``.

Losses (weights 2 : 1 : 1 by default, each a masked mean over real frames, every part of the
layout weighted equally): ``L_CFM = ‖v − u‖²`` on non-keyframes, ``L_recon = ‖x̂1 − x1‖²``,
``L_vel = ‖Δx̂1 − Δx1‖²`` on frame differences, and an optional acceleration term on second
differences. Missing joints (``valid`` False) do not count.
"""

from __future__ import annotations


import torch

from signlib.errors import SignlibError
from signlib.generate.configs import EASINGS, FlowLossConfig
from signlib.pose.layout import get_layout


def part_weights(layout: str) -> torch.Tensor:
    """``(D,)`` channel weights summing to 1 with every part of ``layout`` (body, left hand,
    right hand) weighted equally, whatever its number of channels."""
    lay = get_layout(layout)
    w = torch.zeros(lay.dim)
    parts = lay.feature_slices()
    for s in parts:
        w[s] = 1.0 / (len(parts) * (s.stop - s.start))
    return w


def probability_path(x1: torch.Tensor, x0: torch.Tensor, t: torch.Tensor, key_mask: torch.Tensor
                     ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(C, u)``: the control signal and the target velocity for times ``t (B,)``."""
    tt = t[:, None, None]
    m = key_mask[..., None].to(x1.dtype)
    xt = tt * x1 + (1 - tt) * x0
    return m * x1 + (1 - m) * xt, (1 - m) * (x1 - x0)


def estimate_clean(control: torch.Tensor, v: torch.Tensor, t: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
    """``x̂1 (B, T, D)``: one Euler step from ``control`` to ``t = 1``; keyframes stay as given."""
    m = key_mask[..., None].to(control.dtype)
    return m * control + (1 - m) * (control + (1 - t[:, None, None]) * v)


def _masked_mean(err: torch.Tensor, weight: torch.Tensor, channels: torch.Tensor) -> torch.Tensor:
    """Mean over frames with ``weight (B, T, D)`` of ``Σ_d channels_d · err`` (channels sum to 1)."""
    frames = weight.amax(-1).sum().clamp_min(1.0)
    return (err * weight * channels).sum() / frames


def flow_loss(v: torch.Tensor, x1: torch.Tensor, control: torch.Tensor, target: torch.Tensor, t: torch.Tensor,
              key_mask: torch.Tensor, length_mask: torch.Tensor, valid: torch.Tensor | None,
              channels: torch.Tensor, config: FlowLossConfig = FlowLossConfig(),
              scale: torch.Tensor | None = None) -> tuple[torch.Tensor, dict]:
    """The SignSparK objective (module docstring).

    Args:
        v: ``(B, T, D)`` predicted velocity; x1, control, target as from :func:`probability_path`.
        t: ``(B,)``; key_mask, length_mask: ``(B, T)`` bool; valid: ``(B, T, D)`` bool or None.
        channels: ``(D,)`` channel weights (:func:`part_weights`).
        scale: ``(B, T, D)`` or None: every error is multiplied by it before squaring. With the
            prior's ``std`` the loss of a flow run in prior coordinates is measured in standardised
            features (``x − x̂ = std·(z − ẑ)``); None measures it in the flow's own coordinates.
    Returns:
        ``(loss, {"cfm", "recon", "vel"[, "acc"]: float})``.
    """
    real = _real_frames(length_mask, valid, v.dtype)
    channels = channels.to(v)
    x_hat = estimate_clean(control, v, t, key_mask)
    free = real * (~key_mask.bool())[..., None].to(v.dtype)
    # Without a scale these are exactly the unscaled expressions (same floating-point operations).
    xh, xt = (x_hat, x1) if scale is None else (x_hat * scale, x1 * scale)
    dv = (v - target) if scale is None else (v - target) * scale
    cfm = _masked_mean(dv ** 2, free, channels)
    terms = _clean_terms(xh, xt, real, channels, config.acceleration_weight > 0)
    loss = config.cfm_weight * cfm + config.recon_weight * terms["recon"] + config.velocity_weight * terms["vel"]
    return _with_acceleration(loss, {"cfm": cfm, **terms}, config)


def clean_loss(x_hat: torch.Tensor, x1: torch.Tensor, length_mask: torch.Tensor, valid: torch.Tensor | None,
               channels: torch.Tensor, config: FlowLossConfig = FlowLossConfig()) -> tuple[torch.Tensor, dict]:
    """The terms of the objective that need no velocity, for a generator that predicts ``x̂1``
    directly (the diffusion model of :mod:`signlib.generate.diffusion`): ``recon_weight·L_recon +
    velocity_weight·L_vel`` (+ the acceleration term), shapes as in :func:`flow_loss`."""
    real = _real_frames(length_mask, valid, x_hat.dtype)
    terms = _clean_terms(x_hat, x1, real, channels.to(x_hat), config.acceleration_weight > 0)
    loss = config.recon_weight * terms["recon"] + config.velocity_weight * terms["vel"]
    return _with_acceleration(loss, terms, config)


def _real_frames(length_mask: torch.Tensor, valid: torch.Tensor | None, dtype) -> torch.Tensor:
    real = length_mask[..., None].to(dtype)
    return real if valid is None else real * valid.to(dtype)


def _clean_terms(xh: torch.Tensor, xt: torch.Tensor, real: torch.Tensor, channels: torch.Tensor,
                 acceleration: bool) -> dict[str, torch.Tensor]:
    """``L_recon``, ``L_vel`` (and ``L_acc``) of an estimate ``xh`` against ``xt``, both ``(B, T, D)``."""
    recon = _masked_mean((xh - xt) ** 2, real, channels)
    pair = real[:, 1:] * real[:, :-1]
    d_hat, d_true = xh.diff(dim=1), xt.diff(dim=1)
    out = {"recon": recon, "vel": _masked_mean((d_hat - d_true) ** 2, pair, channels)}
    if acceleration:
        triple = pair[:, 1:] * real[:, :-2]
        out["acc"] = _masked_mean((d_hat.diff(dim=1) - d_true.diff(dim=1)) ** 2, triple, channels)
    return out


def _with_acceleration(loss: torch.Tensor, terms: dict[str, torch.Tensor], config: FlowLossConfig
                       ) -> tuple[torch.Tensor, dict]:
    if "acc" in terms:
        loss = loss + config.acceleration_weight * terms["acc"]
    return loss, {k: float(v.detach()) for k, v in terms.items()}


def ease(w: torch.Tensor, easing: str) -> torch.Tensor:
    """``w`` mapped through the easing profile (elementwise; 0 and 1 stay fixed).

    ``minimum_jerk`` is ``10τ³ − 15τ⁴ + 6τ⁵``, the bell-shaped speed profile of human point-to-point
    reaching (Flash & Hogan 1985), which sign movements and the transitions between signs share.
    """
    if easing == "linear":
        return w
    if easing == "minimum_jerk":
        return w ** 3 * (10 - 15 * w + 6 * w ** 2)
    raise SignlibError(f"easing must be one of {', '.join(EASINGS)}, got {easing!r}")


def interpolate_keyframes(x: torch.Tensor, key_mask: torch.Tensor, easing: str = "linear") -> torch.Tensor:
    """``(B, T, D)``: interpolation of ``x`` between its keyframes (``key_mask (B, T)``) with the
    ``easing`` time profile (:func:`ease`), holding the first and last keyframe outwards; zero for
    rows without keyframes.

    The dense keyframe track the generator refines (a "Δ-interpolator", Oreshkin et al. 2022):
    copying it reproduces interpolation, so what the network learns is what interpolation misses.
    """
    B, T, _ = x.shape
    keys = key_mask.bool()
    idx = torch.arange(T, device=x.device).expand(B, T)
    prev = torch.where(keys, idx, torch.full_like(idx, -1)).cummax(1).values                  # last key <= t
    nxt = torch.where(keys, idx, torch.full_like(idx, T)).flip(1).cummin(1).values.flip(1)             # first key >= t
    has_prev, has_next = prev >= 0, nxt < T
    p, n = prev.clamp(0, T - 1), nxt.clamp(0, T - 1)
    xp = x.gather(1, p[..., None].expand_as(x))
    xn = x.gather(1, n[..., None].expand_as(x))
    span = (n - p).clamp_min(1).to(x.dtype)
    w = torch.where(has_prev & has_next, ease((idx - p).to(x.dtype) / span, easing), (~has_prev).to(x.dtype))[..., None]
    out = (1 - w) * xp + w * xn
    return out * (has_prev | has_next)[..., None].to(x.dtype)


def span_mask(key_mask: torch.Tensor) -> torch.Tensor:
    """``(B, T)`` bool: frames from the first to the last keyframe of each row (none without keyframes)."""
    keys = key_mask.bool()
    B, T = keys.shape
    idx = torch.arange(T, device=keys.device).expand(B, T)
    first = torch.where(keys, idx, torch.full_like(idx, T)).amin(1, keepdim=True)
    last = torch.where(keys, idx, torch.full_like(idx, -1)).amax(1, keepdim=True)
    return (idx >= first) & (idx <= last)
