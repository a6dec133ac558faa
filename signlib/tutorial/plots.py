"""The figures of tutorial notebooks 01 and 02, each returned as a PNG image for display.

Figures are built on a bare :class:`matplotlib.figure.Figure` (Agg canvas, no pyplot state), so a
notebook shows each exactly once whatever backend its kernel runs, and papermill stores them as
``image/png`` outputs.

- :func:`as_image`: any figure (pyplot ones are closed) → :class:`IPython.display.Image`.
- :func:`scatter_panels`: point sets ``(n, 2)`` over the data, one panel each.
- :func:`velocity_field`: the learnt velocity ``v(x, t)`` as quiver plots at a few times.
- :func:`trajectories`: Euler paths from noise to data.
- :func:`loss_curves`: training losses of several toy runs.
- :func:`curve_panels`: 1-D curves ``(B, L)`` with their keyframes.
"""

from __future__ import annotations

import io

import numpy as np
import torch
from IPython.display import Image
from matplotlib.figure import Figure

from signlib.tutorial.toy2d import ToyNet, euler_sample

_DATA = dict(s=2, c="#bbbbbb", alpha=0.5, linewidths=0)
_LIMIT = 3.2


def as_image(fig, dpi: int = 100) -> Image:
    """PNG of ``fig`` as a displayable image; a pyplot figure is closed so it is not shown twice."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return Image(data=buffer.getvalue(), format="png")


def _square(ax, title: str = "") -> None:
    ax.set_xlim(-_LIMIT, _LIMIT)
    ax.set_ylim(-_LIMIT, _LIMIT)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)


def scatter_panels(sets: dict[str, torch.Tensor], data: torch.Tensor | None = None, size: float = 2.4) -> Image:
    """One panel per named point set ``(n, 2)`` (blue), the ``data`` (grey) behind each."""
    fig = Figure(figsize=(size * len(sets), size))
    for k, (name, points) in enumerate(sets.items()):
        ax = fig.add_subplot(1, len(sets), k + 1)
        if data is not None:
            ax.scatter(data[:, 0], data[:, 1], **_DATA)
        ax.scatter(points[:, 0], points[:, 1], s=2, c="#1f77b4", alpha=0.6, linewidths=0)
        _square(ax, name)
    return as_image(fig)


@torch.no_grad()
def velocity_field(net: ToyNet, times=(0.0, 0.5, 0.9), data: torch.Tensor | None = None, label: int | None = None,
                   grid: int = 17) -> Image:
    """Quiver plots of ``v(x, t)`` on a ``grid × grid`` lattice at each of ``times`` (a
    conditional net gets ``label`` everywhere). Arrows are drawn at their true length over 0.25
    time units, so where an arrow points is where a quarter of the remaining flow goes."""
    axis = torch.linspace(-3, 3, grid)
    xs = torch.cartesian_prod(axis, axis)  # (grid², 2)
    labels = None if label is None else torch.full((len(xs),), label, dtype=torch.long)
    fig = Figure(figsize=(2.6 * len(times), 2.6))
    for k, t in enumerate(times):
        v = net.velocity(xs, torch.full((len(xs),), float(t)), labels)
        ax = fig.add_subplot(1, len(times), k + 1)
        if data is not None:
            ax.scatter(data[:, 0], data[:, 1], **_DATA)
        ax.quiver(xs[:, 0], xs[:, 1], 0.25 * v[:, 0], 0.25 * v[:, 1], np.hypot(v[:, 0], v[:, 1]),
                  angles="xy", scale_units="xy", scale=1, width=0.006, cmap="viridis")
        _square(ax, f"v(x, t = {t:g})" + ("" if label is None else f", label {label}"))
    return as_image(fig)


def trajectories(net: ToyNet, data: torch.Tensor | None = None, n: int = 150, steps: int = 20, seed: int = 3) -> Image:
    """Euler paths of ``n`` noise points over ``steps`` steps: start (black), path, end (blue)."""
    path = euler_sample(net, n, steps, seed, trajectory=True).numpy()  # (steps + 1, n, 2)
    fig = Figure(figsize=(3.2, 3.2))
    ax = fig.add_subplot(1, 1, 1)
    if data is not None:
        ax.scatter(data[:, 0], data[:, 1], **_DATA)
    ax.plot(path[:, :, 0], path[:, :, 1], c="#ff7f0e", alpha=0.35, lw=0.7)
    ax.scatter(path[0, :, 0], path[0, :, 1], s=4, c="black")
    ax.scatter(path[-1, :, 0], path[-1, :, 1], s=4, c="#1f77b4")
    _square(ax, f"{steps} Euler steps from noise")
    return as_image(fig)


def loss_curves(runs: dict[str, list[dict]], key: str = "loss") -> Image:
    """The ``key`` column of each run's loss rows against the step, log scale."""
    fig = Figure(figsize=(5, 2.6))
    ax = fig.add_subplot(1, 1, 1)
    for name, rows in runs.items():
        ax.plot([r["step"] for r in rows], [r[key] for r in rows], label=name)
    ax.set_yscale("log")
    ax.set_xlabel("step")
    ax.set_ylabel(key)
    ax.legend(fontsize=8)
    return as_image(fig)


def curve_panels(truth: torch.Tensor, mask: torch.Tensor, outputs: dict[str, torch.Tensor], count: int = 3,
                 title: str = "") -> Image:
    """The first ``count`` curves: the truth (dashed grey), each output, keyframes as black dots."""
    frames = np.arange(truth.shape[1])
    fig = Figure(figsize=(4 * count, 2.6))
    for i in range(count):
        ax = fig.add_subplot(1, count, i + 1)
        ax.plot(frames, truth[i], "--", c="#888888", lw=1.2, label="truth")
        for name, out in outputs.items():
            ax.plot(frames, out[i], lw=1.2, label=name)
        keys = mask[i].numpy()
        ax.scatter(frames[keys], truth[i].numpy()[keys], c="black", s=18, zorder=5, label="keyframes")
        ax.set_xlabel("frame")
        if i == 0:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    return as_image(fig)
