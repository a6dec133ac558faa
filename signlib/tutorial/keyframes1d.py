"""Keyframe conditioning on a 1-D signal (tutorial notebook 02): SignSparK's idea at toy size.

A "sequence" is one smooth curve ``x (B, L)`` (a sum of three random sinusoids, ``L = 64``); a
keyframe mask ``M (B, L)`` marks the frames whose values are given. As in
:mod:`signlib.generate.flow`, the network sees the control signal ``C = M⊙x1 + (1 − M)⊙x_t``
(the noisy curve with the keyframes written in clean), the keyframe values and the mask, and
predicts the clean curve ``x̂1``; its velocity is ``(x̂1 − C) / (1 − t)``. Keyframes are re-imposed
after every Euler step, so every output passes through them exactly.

- :func:`random_curves`, :func:`random_keyframes`, :func:`even_keyframes`: data and masks.
- :class:`KeyframeConfig`, :class:`KeyframeNet`, :func:`train_keyframe_net`: the tiny conditional
  1-D conv net (dilated residual blocks, time by FiLM; it refines the linear keyframe track as
  SignSparK refines its keyframe track) and its training: ``L_recon`` on the frames that are not
  keyframes plus SignSparK's ``L_vel`` on frame differences (``L_CFM`` is there, weighted 0 by
  default; see :class:`KeyframeConfig`).
- :func:`sample_keyframed`: ``(B, L)`` curves after ``steps`` Euler steps.
- :func:`linear_interpolation`: the baseline (straight lines between keyframes, held outside).
- :func:`keyframe_rows`: between-keyframe RMSE, keyframe error and seam jump per method.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from tqdm.auto import tqdm

from signlib.errors import SignlibError
from signlib.tutorial.toy2d import MIN_REMAINING, time_features

LENGTH = 64


def random_curves(n: int, length: int = LENGTH, seed: int = 0) -> torch.Tensor:
    """``(n, length)`` curves, each a sum of three sinusoids of 0.3–1.5 cycles, amplitude 0.2–1."""
    g = torch.Generator().manual_seed(seed)
    s = torch.linspace(0, 1, length)
    freq = 0.3 + 1.2 * torch.rand(n, 3, 1, generator=g)
    phase = 2 * math.pi * torch.rand(n, 3, 1, generator=g)
    amp = 0.2 + 0.8 * torch.rand(n, 3, 1, generator=g)
    return (amp * torch.sin(2 * math.pi * freq * s + phase)).sum(1)


def random_keyframes(n: int, length: int = LENGTH, count: tuple[int, int] = (2, 8), seed: int = 0) -> torch.Tensor:
    """``(n, length)`` bool masks with ``count[0]..count[1]`` keyframes each, at uniform random frames."""
    g = torch.Generator().manual_seed(seed)
    ks = torch.randint(count[0], count[1] + 1, (n,), generator=g)
    rank = torch.rand(n, length, generator=g).argsort(1).argsort(1)  # each frame's place in a random order
    return rank < ks[:, None]


def even_keyframes(n: int, count: int = 5, length: int = LENGTH) -> torch.Tensor:
    """``(n, length)`` masks with ``count`` evenly spaced keyframes from frame 4 to ``length − 5``
    (like a sign's onset, middle and offset, a few frames in from the clip's ends)."""
    mask = torch.zeros(n, length, dtype=torch.bool)
    mask[:, np.round(np.linspace(4, length - 5, count)).astype(int)] = True
    return mask


@dataclass(frozen=True)
class KeyframeConfig:
    """The conditional 1-D net and its training run."""

    hidden: int = 32                    # conv channels
    steps: int = 800                    # Adam steps
    batch_size: int = 32
    lr: float = 2e-3
    # SignSparK weights L_CFM : L_recon : L_vel as 2 : 1 : 1. With plain N(0, I) noise, as here, the
    # CFM term's 1 / (1 − t)² weight starves early times and its 1-step and temperature-1 samples
    # come out noisy after a short run (exercise 3 of notebook 02), so the toy trains without it:
    # the minimiser is the same flow.
    cfm_weight: float = 0.0
    recon_weight: float = 1.0
    velocity_weight: float = 1.0        # L_vel: errors of x̂1's frame-to-frame differences
    keyframes: tuple[int, int] = (2, 8)  # keyframes per training curve (uniform count, random frames)
    seed: int = 0


class KeyframeNet(nn.Module):
    """``forward(control (B, L), t (B,), keys (B, L), mask (B, L) bool) -> x̂1 (B, L)``."""

    def __init__(self, config: KeyframeConfig = KeyframeConfig()):
        super().__init__()
        self.config = config
        h = config.hidden
        self.inp = nn.Conv1d(3, h, 5, padding=2)
        # Dilations 1..8: a receptive field wider than the curve, so every frame sees every keyframe.
        self.blocks = nn.ModuleList(nn.Conv1d(h, h, 5, padding=2 * d, dilation=d) for d in (1, 2, 4, 8, 1))
        self.films = nn.ModuleList(nn.Linear(16, 2 * h) for _ in self.blocks)
        self.out = nn.Conv1d(h, 1, 5, padding=2)

    def forward(self, control, t, keys, mask):
        # control, keys: (B, L); t: (B,); mask: (B, L) bool. Only keys[mask] is read.
        m = mask.to(control.dtype)
        # As SignSparK's keyframe track: the net sees the keyframes interpolated to every frame and
        # predicts a correction to them, so it starts from a curve that already joins the keyframes.
        track = linear_interpolation(keys, mask)
        h = self.inp(torch.stack([control - track, track, m], 1))  # (B, h, L)
        tf = time_features(t)
        for block, film in zip(self.blocks, self.films):
            scale, shift = film(tf).chunk(2, 1)
            h = h + block(F.silu(h * (1 + scale[..., None]) + shift[..., None]))
        return track + self.out(F.silu(h))[:, 0]


@dataclass
class KeyframeRun:
    """A trained keyframe net (eval mode), a loss row every 50 steps, the seconds it took."""

    net: KeyframeNet
    losses: list[dict]
    seconds: float


def keyframe_loss(net: KeyframeNet, x1, mask, g: torch.Generator) -> tuple[torch.Tensor, dict[str, float]]:
    """``cfm_weight·L_CFM + recon_weight·L_recon + velocity_weight·L_vel`` on one batch ``x1 (B, L)``
    with keyframes ``mask (B, L)``; the first two over the frames that are not keyframes."""
    x0 = torch.randn(x1.shape, generator=g)
    t = torch.rand(len(x1), generator=g)
    control = torch.where(mask, x1, t[:, None] * x1 + (1 - t[:, None]) * x0)
    x_hat = net(control, t, x1, mask)
    v = (x_hat - control) / (1 - t[:, None]).clamp(min=MIN_REMAINING)
    free = (~mask).to(x1.dtype)
    cfm = ((v - (x1 - x0)) ** 2 * free).sum() / free.sum()
    recon = ((x_hat - x1) ** 2 * free).sum() / free.sum()
    # L_vel on every frame difference: keyframes included, so a jump onto a keyframe costs.
    vel = ((x_hat.diff(dim=1) - x1.diff(dim=1)) ** 2).mean()
    cfg = net.config
    loss = cfg.cfm_weight * cfm + cfg.recon_weight * recon + cfg.velocity_weight * vel
    return loss, {"cfm": float(cfm.detach()), "recon": float(recon.detach()), "vel": float(vel.detach())}


def train_keyframe_net(config: KeyframeConfig = KeyframeConfig(), progress: bool = True) -> KeyframeRun:
    """Train on fresh random curves and masks (fixed seed); returns the net in eval mode."""
    torch.manual_seed(config.seed)
    net = KeyframeNet(config)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    # Cosine decay to 5% of the rate: a short run ends near a minimum instead of bouncing around one.
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max(1, config.steps), eta_min=0.05 * config.lr)
    g = torch.Generator().manual_seed(config.seed + 1)
    losses, started = [], time.perf_counter()
    for step in tqdm(range(config.steps), desc="keyframe net", disable=not progress, leave=False):
        batch_seed = config.seed * 1_000_003 + step  # a new batch every step, reproducible
        x1 = random_curves(config.batch_size, seed=batch_seed)
        mask = random_keyframes(config.batch_size, count=config.keyframes, seed=batch_seed)
        loss, logs = keyframe_loss(net, x1, mask, g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        schedule.step()
        if step % 50 == 0 or step == config.steps - 1:
            losses.append({"step": step + 1, "loss": float(loss.detach()), **logs})
    return KeyframeRun(net.eval(), losses, time.perf_counter() - started)


@torch.no_grad()
def sample_keyframed(net: KeyframeNet, keys: torch.Tensor, mask: torch.Tensor, steps: int = 8, seed: int = 0,
                     temperature: float = 1.0) -> torch.Tensor:
    """``(B, L)`` curves through ``keys`` where ``mask``: Euler from ``temperature·x0`` with the
    keyframes re-imposed after every step (1 step = the net's clean estimate at ``t = 0``)."""
    if steps < 1:
        raise SignlibError(f"sample_keyframed: steps must be >= 1, got {steps}")
    if keys.shape != mask.shape:
        raise SignlibError(f"keys {tuple(keys.shape)} and mask {tuple(mask.shape)} differ in shape")
    g = torch.Generator().manual_seed(seed)
    x = torch.where(mask, keys, temperature * torch.randn(keys.shape, generator=g))
    for k in range(steps):
        t = torch.full((len(x),), k / steps)
        x_hat = net(x, t, keys, mask)
        x = torch.where(mask, keys, x + (x_hat - x) / (1 - t[:, None]) / steps)
    return x


def linear_interpolation(keys: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``(B, L)``: straight lines between consecutive keyframes of ``keys`` (read where ``mask``),
    the first and last held outwards."""
    if not bool(mask.any(1).all()):
        raise SignlibError("linear_interpolation: a curve has no keyframe")
    L = keys.shape[1]
    frames = torch.arange(L).expand_as(mask)
    # The keyframe at or before / at or after every frame (clamped to the first / last one).
    before = torch.where(mask, frames, -1).cummax(1).values
    after = torch.where(mask, frames, L).flip(1).cummin(1).values.flip(1)
    before = torch.where(before < 0, after[:, :1], before)  # before the first keyframe: hold it
    after = torch.where(after >= L, before[:, -1:], after)  # after the last one: hold it
    a, b = keys.gather(1, before), keys.gather(1, after)
    w = ((frames - before) / (after - before).clamp(min=1)).clamp(0, 1).to(keys.dtype)
    return a + w * (b - a)


def between_rmse(pred: torch.Tensor, truth: torch.Tensor, mask: torch.Tensor) -> float:
    """RMSE over the frames between the first and last keyframe that are not keyframes."""
    frames = torch.arange(mask.shape[1])
    first = torch.where(mask, frames, mask.shape[1]).min(1).values
    last = torch.where(mask, frames, -1).max(1).values
    inner = (frames >= first[:, None]) & (frames <= last[:, None]) & ~mask
    return float(((pred - truth) ** 2)[inner].mean().sqrt())


def keyframe_error(pred: torch.Tensor, keys: torch.Tensor, mask: torch.Tensor) -> float:
    """Largest ``|pred − keys|`` on a keyframe (0 when the output passes through every keyframe)."""
    return float((pred - keys).abs()[mask].max())


def seam_jump(pred: torch.Tensor, mask: torch.Tensor) -> float:
    """Mean ``|x[f ± 1] − x[f]|`` next to the keyframes ``f``: large when a curve snaps onto its
    keyframes instead of passing through them smoothly."""
    step = (pred[:, 1:] - pred[:, :-1]).abs()
    touches = mask[:, 1:] | mask[:, :-1]
    return float(step[touches].mean())


def keyframe_rows(net: KeyframeNet, truth: torch.Tensor, mask: torch.Tensor, steps=(1, 8), seed: int = 0
                  ) -> list[dict]:
    """The comparison table: truth (seam reference), linear interpolation, the net at each step
    count (temperature 1) and at 8 steps from the keyframes alone (temperature 0)."""
    keys = truth * mask
    outputs = {"truth": truth, "linear interpolation": linear_interpolation(keys, mask)}
    for k in steps:
        outputs[f"flow, {k} Euler step{'s' if k > 1 else ''}"] = sample_keyframed(net, keys, mask, k, seed)
    outputs["flow, 8 steps, temperature 0"] = sample_keyframed(net, keys, mask, 8, seed, temperature=0.0)
    return [{"method": name, "rmse_between_keyframes": between_rmse(out, truth, mask),
             "max_keyframe_error": keyframe_error(out, keys, mask), "seam_jump": seam_jump(out, mask)}
            for name, out in outputs.items()]
