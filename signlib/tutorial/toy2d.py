"""Flow matching from zero on 2-D points (tutorial notebook 01).

Notation as in :mod:`signlib.generate.flow`: ``x1 (B, 2)`` a data point, ``x0 ~ N(0, I)`` noise,
``t ~ U(0, 1)``, the straight path ``x_t = t·x1 + (1 − t)·x0`` and its constant velocity
``u = x1 − x0``. One Euler step from ``x_t`` to ``t = 1`` gives the clean estimate
``x̂1 = x_t + (1 − t)·v``.

- :func:`toy_data`: ``(points (n, 2), labels (n,))`` of a ``ring`` of 8 Gaussians (the label is
  the Gaussian) or ``moons`` (the label is the moon).
- :class:`ToyConfig`: what one toy model is (what it predicts, whether it sees the label, the
  reconstruction weight) and how long it trains.
- :class:`ToyNet`: an MLP ``f(x (B, 2), t (B,), labels (B,) or None) -> (B, 2)``; it predicts the
  velocity ``v`` (``predicts="velocity"``) or the clean point ``x̂1`` (``"clean"``, SignSparK's
  ``recon_cfm`` parametrisation, where ``v = (x̂1 − x_t) / (1 − t)``).
- :func:`toy_loss`: ``L_CFM = ‖v − u‖²`` plus ``recon_weight · ‖x̂1 − x1‖²``.
- :func:`train_toy`: a fixed number of Adam steps with a fixed seed → :class:`ToyRun`.
- :func:`euler_sample`: ``(n, 2)`` samples after ``steps`` Euler steps from noise.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from signlib.errors import SignlibError

#: Floor of ``1 − t`` when a clean prediction is turned into a velocity (as SignSparK's
#: ``MIN_REMAINING``): it bounds the CFM weight ``1 / (1 − t)²`` on late times.
MIN_REMAINING = 0.05
DATASETS = ("ring", "moons")
PREDICTS = ("velocity", "clean")


def toy_data(n: int, seed: int = 0, kind: str = "ring") -> tuple[torch.Tensor, torch.Tensor]:
    """``(points (n, 2), labels (n,) int64)``: a ring of 8 Gaussians of radius 2 and std 0.15
    (labels 0..7), or two interleaved moons with noise 0.08 (labels 0, 1). Deterministic per seed."""
    g = torch.Generator().manual_seed(seed)
    if kind == "ring":
        labels = torch.randint(0, 8, (n,), generator=g)
        angle = 2 * math.pi * labels / 8
        centres = torch.stack([2.0 * torch.cos(angle), 2.0 * torch.sin(angle)], 1)
        return centres + 0.15 * torch.randn(n, 2, generator=g), labels
    if kind == "moons":
        labels = torch.randint(0, 2, (n,), generator=g)
        s = math.pi * torch.rand(n, generator=g)
        upper = torch.stack([torch.cos(s), torch.sin(s)], 1)
        lower = torch.stack([1 - torch.cos(s), 0.5 - torch.sin(s)], 1)
        points = torch.where(labels[:, None] == 0, upper, lower) - torch.tensor([0.5, 0.25])
        # Scaled so both datasets span about the same box as N(0, I) noise does (|x| ≲ 2.5).
        return 1.6 * points + 0.08 * torch.randn(n, 2, generator=g), labels
    raise SignlibError(f"unknown toy dataset {kind!r}; choose one of {', '.join(DATASETS)}")


def num_labels(kind: str) -> int:
    """How many labels a toy dataset has (8 Gaussians, 2 moons)."""
    return {"ring": 8, "moons": 2}[kind]


@dataclass(frozen=True)
class ToyConfig:
    """One toy model and its training run."""

    data: str = "ring"            # ring | moons (DATASETS)
    predicts: str = "velocity"    # velocity: the net outputs v | clean: it outputs x̂1 (SignSparK)
    conditional: bool = False     # the net sees the label (which Gaussian / moon), like SignSparK sees text
    recon_weight: float = 0.0     # weight of ‖x̂1 − x1‖² next to L_CFM (0 = plain flow matching)
    hidden: int = 128             # MLP width (3 hidden layers)
    steps: int = 1500             # Adam steps
    batch_size: int = 256
    lr: float = 2e-3
    seed: int = 0                 # initial weights and every batch

    def __post_init__(self):
        if self.data not in DATASETS or self.predicts not in PREDICTS:
            raise SignlibError(f"ToyConfig: data must be one of {DATASETS} and predicts one of {PREDICTS}")
        if self.steps < 0 or self.batch_size < 1 or self.hidden < 1 or self.recon_weight < 0:
            raise SignlibError("ToyConfig: steps >= 0, batch_size >= 1, hidden >= 1, recon_weight >= 0")


def time_features(t: torch.Tensor, count: int = 8) -> torch.Tensor:
    """``(B, 2·count)`` sines and cosines of ``t (B,)`` at frequencies ``π·1 .. π·count``."""
    freqs = math.pi * torch.arange(1, count + 1, dtype=t.dtype, device=t.device)
    return torch.cat([torch.sin(t[:, None] * freqs), torch.cos(t[:, None] * freqs)], 1)


class ToyNet(nn.Module):
    """``forward(x (B, 2), t (B,), labels (B,) or None) -> (B, 2)``: ``v`` or ``x̂1`` (config.predicts)."""

    def __init__(self, config: ToyConfig):
        super().__init__()
        self.config = config
        width = 2 + 16 + (16 if config.conditional else 0)
        self.label = nn.Embedding(num_labels(config.data), 16) if config.conditional else None
        h = config.hidden
        self.mlp = nn.Sequential(nn.Linear(width, h), nn.SiLU(), nn.Linear(h, h), nn.SiLU(),
                                 nn.Linear(h, h), nn.SiLU(), nn.Linear(h, 2))

    def forward(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        parts = [x, time_features(t)]
        if self.label is not None:
            if labels is None:
                raise SignlibError("this toy model is conditional: pass the labels")
            parts.append(self.label(labels))
        return self.mlp(torch.cat(parts, 1))

    def velocity(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``v (B, 2)`` at ``x_t = x``, whichever quantity the net predicts."""
        out = self(x, t, labels)
        if self.config.predicts == "velocity":
            return out
        return (out - x) / (1 - t[:, None]).clamp(min=MIN_REMAINING)

    def clean(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """``x̂1 (B, 2)``: where one Euler step from ``(x, t)`` to ``t = 1`` lands."""
        out = self(x, t, labels)
        if self.config.predicts == "clean":
            return out
        return x + (1 - t[:, None]) * out


def toy_loss(net: ToyNet, x1: torch.Tensor, labels: torch.Tensor, generator: torch.Generator
             ) -> tuple[torch.Tensor, dict[str, float]]:
    """``L_CFM + recon_weight · L_recon`` on one batch ``x1 (B, 2)``; also returns both terms."""
    x0 = torch.randn(x1.shape, generator=generator)
    t = torch.rand(len(x1), generator=generator)
    xt = t[:, None] * x1 + (1 - t[:, None]) * x0
    cond = labels if net.config.conditional else None
    out = net(xt, t, cond)
    if net.config.predicts == "velocity":
        v, x_hat = out, xt + (1 - t[:, None]) * out
    else:  # the clean-sample net: its velocity is derived, so L_CFM weights x̂1 errors by 1 / (1 − t)²
        v, x_hat = (out - xt) / (1 - t[:, None]).clamp(min=MIN_REMAINING), out
    cfm = ((v - (x1 - x0)) ** 2).sum(1).mean()
    recon = ((x_hat - x1) ** 2).sum(1).mean()
    loss = cfm + net.config.recon_weight * recon if net.config.recon_weight > 0 else cfm
    return loss, {"cfm": float(cfm.detach()), "recon": float(recon.detach())}


@dataclass
class ToyRun:
    """A trained toy model: the net (eval mode), a loss row every 50 steps, the seconds it took."""

    net: ToyNet
    losses: list[dict]
    seconds: float


def train_toy(config: ToyConfig = ToyConfig(), progress: bool = True) -> ToyRun:
    """Train a :class:`ToyNet` with Adam on fresh batches of :func:`toy_data` (fixed seed)."""
    torch.manual_seed(config.seed)
    net = ToyNet(config)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    g = torch.Generator().manual_seed(config.seed + 1)
    # A finite pool of data points (as in real training) sampled with replacement.
    pool, pool_labels = toy_data(20_000, config.seed + 2, config.data)
    losses, started = [], time.perf_counter()
    name = f"{config.predicts}{' + recon' if config.recon_weight else ''}{', label' if config.conditional else ''}"
    for step in tqdm(range(config.steps), desc=name, disable=not progress, leave=False):
        idx = torch.randint(0, len(pool), (config.batch_size,), generator=g)
        loss, logs = toy_loss(net, pool[idx], pool_labels[idx], g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step % 50 == 0 or step == config.steps - 1:
            losses.append({"step": step + 1, "loss": float(loss.detach()), **logs})
    return ToyRun(net.eval(), losses, time.perf_counter() - started)


@torch.no_grad()
def euler_sample(net: ToyNet, n: int, steps: int, seed: int = 0, labels: torch.Tensor | None = None,
                 trajectory: bool = False) -> torch.Tensor:
    """``(n, 2)`` points after ``steps`` Euler steps ``x ← x + v(x, t)/steps`` from ``x0 ~ N(0, I)``
    (``(steps + 1, n, 2)`` with ``trajectory``). A conditional net gets ``labels (n,)``, drawn
    uniformly from ``seed`` when None."""
    if steps < 1:
        raise SignlibError(f"euler_sample: steps must be >= 1, got {steps}")
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 2, generator=g)
    if net.config.conditional and labels is None:
        labels = torch.randint(0, num_labels(net.config.data), (n,), generator=g)
    path = [x]
    for k in range(steps):
        t = torch.full((n,), k / steps)
        x = x + net.velocity(x, t, labels if net.config.conditional else None) / steps
        path.append(x)
    return torch.stack(path) if trajectory else x
