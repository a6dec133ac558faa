"""Vector quantisation with an EMA codebook and dead-code reset: the core of the SOKE-style tokenizer.

:class:`EMAQuantizer` maps each input vector to its nearest code (squared Euclidean distance) and
passes gradients straight through (``z + (q - z).detach()``). The codebook is not trained by the
optimiser: in training mode every forward pass moves it by exponential moving averages of the
vectors assigned to each code (counts and sums, Laplace-smoothed so an empty code does not divide
by zero), the update of VQ-VAE-2 and SOKE's decoupled tokenizer; the first training batch seeds the
codes. A code that has been assigned
almost nothing for a while (its EMA count below ``dead_threshold``) is **reset** to a random input
vector of the current batch, so the codebook does not collapse onto a few codes. The commitment
loss ``β |z - sg(q)|²`` keeps the encoder close to its codes.

Shapes: inputs ``(..., C)`` with any leading dims (``(B, T', C)`` for a token sequence); codes
``(K, C)``; indices ``(...)`` int64.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from signlib.errors import SignlibError


@dataclass(frozen=True)
class Quantized:
    """One quantisation: ``codes`` ``(..., C)`` (straight-through), ``indices`` ``(...)``,
    ``commitment`` (scalar loss), ``perplexity`` (exp of the code-usage entropy in this batch)."""

    codes: torch.Tensor
    indices: torch.Tensor
    commitment: torch.Tensor
    perplexity: torch.Tensor


class EMAQuantizer(nn.Module):
    """A codebook of ``size`` codes of width ``dim`` (module docstring).

    Args:
        decay: EMA decay of the counts and sums (0.99 as in SOKE's tokenizer).
        beta: commitment weight.
        dead_threshold: a code whose EMA count falls below this is reset to a batch vector.
        eps: Laplace smoothing of the counts.
    """

    def __init__(self, size: int, dim: int, decay: float = 0.99, beta: float = 0.25,
                 dead_threshold: float = 1e-3, eps: float = 1e-5):
        super().__init__()
        if size < 2 or dim < 1:
            raise SignlibError(f"EMAQuantizer: size must be >= 2 and dim >= 1, got size={size}, dim={dim}")
        if not 0.0 < decay < 1.0:
            raise SignlibError(f"EMAQuantizer: decay must lie in (0, 1), got {decay}")
        self.size, self.dim, self.decay, self.beta = size, dim, decay, beta
        self.dead_threshold, self.eps = dead_threshold, eps
        codes = torch.randn(size, dim)
        self.register_buffer("codebook", codes)
        self.register_buffer("ema_count", torch.ones(size))
        self.register_buffer("ema_sum", codes.clone())
        self.register_buffer("resets", torch.zeros((), dtype=torch.long))
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """``(N, C)`` → ``(N,)`` index of the nearest code."""
        d = z.pow(2).sum(1, keepdim=True) - 2 * z @ self.codebook.T + self.codebook.pow(2).sum(1)[None]
        return d.argmin(1)

    def lookup(self, indices: torch.Tensor) -> torch.Tensor:
        """``(...)`` indices → ``(..., C)`` codes."""
        if indices.numel() and (indices.min() < 0 or indices.max() >= self.size):
            raise SignlibError(f"code indices must lie in [0, {self.size}), got {indices.min()}..{indices.max()}")
        return self.codebook[indices]

    @torch.no_grad()
    def _initialise(self, flat: torch.Tensor) -> None:
        """Codes drawn from the first training batch: random codes far from a fresh encoder's
        outputs would leave all but one unused from the start."""
        pick = flat[torch.randint(len(flat), (self.size,), device=flat.device)]
        pick = pick + 1e-3 * flat.std() * torch.randn_like(pick)  # distinct even where inputs repeat
        self.codebook.copy_(pick)
        self.ema_sum.copy_(pick)
        self.ema_count.fill_(1.0)
        self.initialised.fill_(True)

    @torch.no_grad()
    def _update(self, flat: torch.Tensor, indices: torch.Tensor) -> None:
        onehot = torch.zeros(len(flat), self.size, device=flat.device)
        onehot[torch.arange(len(flat)), indices] = 1.0
        self.ema_count.mul_(self.decay).add_(onehot.sum(0), alpha=1 - self.decay)
        self.ema_sum.mul_(self.decay).add_(onehot.T @ flat, alpha=1 - self.decay)
        total = self.ema_count.sum()
        smoothed = (self.ema_count + self.eps) / (total + self.size * self.eps) * total
        self.codebook.copy_(self.ema_sum / smoothed[:, None])
        dead = self.ema_count < self.dead_threshold
        if dead.any():  # reset to random vectors of this batch, with their EMA state
            pick = flat[torch.randint(len(flat), (int(dead.sum()),), device=flat.device)]
            self.codebook[dead] = pick
            self.ema_sum[dead] = pick
            self.ema_count[dead] = 1.0
            self.resets += int(dead.sum())

    def forward(self, z: torch.Tensor) -> Quantized:
        if z.shape[-1] != self.dim:
            raise SignlibError(f"EMAQuantizer: inputs have {z.shape[-1]} channels, the codebook {self.dim}")
        flat = z.reshape(-1, self.dim)
        if self.training and not self.initialised:
            self._initialise(flat.detach())
        indices = self.nearest(flat.detach())
        if self.training:
            self._update(flat.detach(), indices)
        q = self.codebook[indices].view_as(z)
        commitment = self.beta * (z - q.detach()).pow(2).mean()
        usage = torch.bincount(indices, minlength=self.size).float() / max(len(indices), 1)
        perplexity = torch.exp(-(usage * (usage + 1e-10).log()).sum())
        return Quantized(z + (q - z).detach(), indices.view(z.shape[:-1]), commitment, perplexity)
