"""What a training run optimises and how: its config, the per-model optimiser settings, AdamW's
parameter groups, the learning-rate schedule and the EMA update.

:class:`TrainConfig` is everything :func:`signlib.train.train` needs for one run.
:class:`OptimConfig` is what ``params.yaml`` says per model (``<model>.train``); its
:meth:`~OptimConfig.schedule` turns it into the run's :class:`TrainConfig` for a number of steps.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from signlib import validate
from signlib.errors import SignlibError


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings shared by every model (one ``params.yaml`` section each)."""

    steps: int = 1000                       # optimizer steps in total (resumed runs count from 0)
    batch_size: int = 32                    # per rank; read by ``sample_batch``, recorded for resume
    lr: float = 1e-3                        # peak learning rate, reached after warmup
    weight_decay: float = 0.01              # AdamW decoupled decay; never on biases / norm weights
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 0                   # linear warmup from 0 to ``lr``
    min_lr_ratio: float = 0.1               # cosine decay ends at ``lr * min_lr_ratio``
    grad_clip: float = 1.0                  # global gradient norm bound; 0 = off
    ema_decay: float = 0.0                  # EMA of the weights; 0 = off
    checkpoint_every: int = 0               # write last.pt every N steps (and always at the end)
    log_every: int = 10                     # a metrics row every N steps (and at the end)
    seed: int = 0                           # batches and dropout depend on (seed, step, rank)
    device: str = "cpu"                     # cpu | cuda | auto (cuda when available)

    def __post_init__(self):
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        checks = {"steps": self.steps >= 0, "batch_size": self.batch_size >= 1, "lr": self.lr > 0,
                  "weight_decay": self.weight_decay >= 0, "betas": len(self.betas) == 2
                  and all(0 <= b < 1 for b in self.betas), "warmup_steps": self.warmup_steps >= 0,
                  "min_lr_ratio": 0 <= self.min_lr_ratio <= 1, "grad_clip": self.grad_clip >= 0,
                  "ema_decay": 0 <= self.ema_decay < 1, "checkpoint_every": self.checkpoint_every >= 0,
                  "log_every": self.log_every >= 1, "seed": self.seed >= 0,
                  "device": self.device in ("cpu", "cuda", "auto")}
        for key, ok in checks.items():
            if not ok:
                raise SignlibError(f"TrainConfig: {key}={getattr(self, key)!r} is out of range")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (``betas`` as a list), as stored in checkpoints and config.json."""
        d = dataclasses.asdict(self)
        d["betas"] = list(self.betas)
        return d


@dataclass(frozen=True)
class OptimConfig:
    """How one model is optimised (``params.yaml``: ``<model>.train``); the number of steps comes
    from the profile, the seed and device from ``base``."""

    batch_size: int = 32            # clips (or windows) per step
    lr: float = 1e-3                # peak learning rate; linear warmup over 5% of the steps, cosine decay
    weight_decay: float = 0.01      # AdamW decoupled decay (not on biases and norm scales)
    ema_decay: float = 0.0          # EMA of the weights (0 = off); see :meth:`schedule` for short runs

    def __post_init__(self):
        validate.integers(self, ("batch_size",))
        validate.numbers(self, ("lr",), 1e-12)
        validate.numbers(self, ("weight_decay",))
        validate.numbers(self, ("ema_decay",), 0.0, 1.0, high_open=True)

    def schedule(self, steps: int, seed: int = 0, device: str = "cpu") -> TrainConfig:
        """The full :class:`TrainConfig` of a run of ``steps`` steps: warmup over 5% of them, a
        checkpoint every 20% and a metrics row about every 5% (at most every 25 steps).

        EMA is off below 200 steps and its decay is capped at ``1 − 10/steps``: the average starts
        from the initial weights, which keep a share ``decay^steps`` of it (13% after 200 steps
        at 0.99), so a short run averages over its last ~10% of steps instead."""
        ema = 0.0 if steps < 200 or self.ema_decay == 0 else min(self.ema_decay, 1.0 - 10.0 / steps)
        return TrainConfig(steps=steps, batch_size=self.batch_size, lr=self.lr, weight_decay=self.weight_decay,
                           warmup_steps=max(1, steps // 20), ema_decay=ema, checkpoint_every=max(1, steps // 5),
                           log_every=max(1, min(25, steps // 20)), seed=seed, device=device)


def lr_at(step: int, config: TrainConfig) -> float:
    """Learning rate of (0-based) ``step``: linear warmup, then cosine decay to ``lr * min_lr_ratio``."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    span = max(1, config.steps - config.warmup_steps - 1)
    progress = min(1.0, (step - config.warmup_steps) / span)
    ratio = config.min_lr_ratio + (1 - config.min_lr_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
    return config.lr * ratio


def make_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    # Matrices (linear, conv, embedding) decay; biases, norm scales and other 1-D params do not.
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.ndim >= 2], "weight_decay": config.weight_decay},
              {"params": [p for p in params if p.ndim < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas)


@torch.no_grad()
def ema_update(ema: dict[str, torch.Tensor], model: nn.Module, decay: float) -> None:
    for name, value in model.state_dict().items():
        if ema[name].is_floating_point():
            ema[name].mul_(decay).add_(value, alpha=1 - decay)  # ema = d·ema + (1-d)·w
        else:
            ema[name].copy_(value)  # counters such as BatchNorm's num_batches_tracked
