"""Skeleton drawings with matplotlib: frames of a clip over time, with its BIO timeline beneath."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
from matplotlib.collections import LineCollection
import numpy as np

from signlib.data.positions import sequence_positions
from signlib.data.sequence import Sequence
from signlib.render.fonts import setup_fonts
from signlib.pose.layout import get_layout, xyz_layout_for

_PART_COLOURS = {"body": "#444444", "left_hand": "#1f77b4", "right_hand": "#d62728"}
_BIO_COLOURS = {0: "#eeeeee", 1: "#9ecae1", 2: "#08519c"}


def draw_skeleton(ax, points: np.ndarray, layout: str, valid: np.ndarray | None = None, flip_y: bool = False) -> None:
    """Draw one frame, front view: a viewer facing the signer sees the signer's left (+x) on the right.

    Args:
        points: ``(J, 3)`` in the xyz ``layout``; valid: optional ``(J,)`` bool, missing bones skipped.
        flip_y: True for image coordinates (MediaPipe: y grows downwards).
    """
    lay = get_layout(layout)
    x, y = points[:, 0], (-points[:, 1] if flip_y else points[:, 1])
    ok = np.ones(len(points), bool) if valid is None else valid
    # One LineCollection per part: hundreds of separate plot() calls make figures slow to draw.
    for part, start, stop in lay.parts:
        segs = [((x[j], y[j]), (x[p], y[p])) for j in range(start, stop)
                if (p := lay.parents[j]) >= 0 and ok[j] and ok[p]]
        ax.add_collection(LineCollection(segs, colors=_PART_COLOURS[part], linewidths=2 if part == "body" else 1.2))
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.axis("off")


def plot_sequence_strip(seq: Sequence, num_frames: int = 6, title: str | None = None):
    """A figure: ``num_frames`` evenly spaced skeleton frames above the clip's BIO timeline and glosses."""
    setup_fonts()
    pos, xyz = sequence_positions(seq)
    xyz_name = xyz.name
    flip = not seq.get_layout().y_up
    valid = seq.valid_or_all() if seq.get_layout().kind == "xyz" else None
    frames = np.linspace(0, seq.num_frames - 1, num_frames).round().astype(int)
    fig = plt.figure(figsize=(1.9 * num_frames, 3.4))
    grid = fig.add_gridspec(2, num_frames, height_ratios=[4, 1], hspace=0.05)
    lo = np.nanmin(pos.reshape(-1, 3), 0)
    hi = np.nanmax(pos.reshape(-1, 3), 0)
    for k, t in enumerate(frames):
        ax = fig.add_subplot(grid[0, k])
        draw_skeleton(ax, pos[t], xyz_name, None if valid is None else valid[t], flip_y=flip)
        ax.set_xlim(lo[0] - 0.05 * (hi[0] - lo[0]), hi[0] + 0.05 * (hi[0] - lo[0]))
        ylim = (-hi[1], -lo[1]) if flip else (lo[1], hi[1])
        ax.set_ylim(ylim[0] - 0.05, ylim[1] + 0.05)
        ax.set_title(f"t={t}", fontsize=8)
    draw_timeline(fig.add_subplot(grid[1, :]), seq, marks=frames)
    fig.suptitle(title or f"{seq.id} [{seq.language}] {seq.text}", fontsize=9)
    return fig


def draw_timeline(ax, seq: Sequence, marks=(), cursor: int | None = None) -> None:
    """The clip's BIO labels as a colour strip with the glosses written on their segments;
    thin lines at ``marks`` and a red ``cursor`` line."""
    labels = seq.labels()
    ax.imshow(labels[None], aspect="auto", cmap=matplotlib.colors.ListedColormap([_BIO_COLOURS[i] for i in range(3)]),
              vmin=0, vmax=2, interpolation="nearest", extent=(0, seq.num_frames, 0, 1))
    for s in seq.segments:
        ax.text((s.start + s.end) / 2, 0.5, s.gloss, ha="center", va="center", fontsize=7)
    for t in marks:
        ax.axvline(t + 0.5, color="k", lw=0.5, alpha=0.4)
    if cursor is not None:
        ax.axvline(cursor + 0.5, color="red", lw=1.5)
    ax.set_yticks([])
    ax.set_xlabel("frame (BIO: O light, I mid, B dark)")


def plot_frame(seq: Sequence, t: int, positions: np.ndarray | None = None):
    """One frame of a clip, front and side view, above its timeline with a cursor at ``t``.

    Args:
        positions: ``(T, J, 3)`` from :func:`signlib.data.positions.sequence_positions`, to avoid
            recomputing FK per frame.
    """
    setup_fonts()
    pos = positions if positions is not None else sequence_positions(seq)[0]
    xyz_name = xyz_layout_for(seq.get_layout()).name
    flip = not seq.get_layout().y_up
    valid = seq.valid_or_all() if seq.get_layout().kind == "xyz" else None
    fig = plt.figure(figsize=(7, 4.2))
    grid = fig.add_gridspec(2, 2, height_ratios=[4, 1], hspace=0.15)
    lo, hi = pos.reshape(-1, 3).min(0), pos.reshape(-1, 3).max(0)
    for k, (title, axes) in enumerate((("front", (0, 1)), ("side", (2, 1)))):
        ax = fig.add_subplot(grid[0, k])
        view = pos[t][:, list(axes)]
        draw_skeleton(ax, np.concatenate([view, np.zeros((len(view), 1))], 1), xyz_name,
                      None if valid is None else valid[t], flip_y=flip)
        pad = 0.05 * (hi - lo).max()
        ax.set_xlim(lo[axes[0]] - pad, hi[axes[0]] + pad)
        ylim = (-hi[1], -lo[1]) if flip else (lo[1], hi[1])
        ax.set_ylim(ylim[0] - pad, ylim[1] + pad)
        ax.set_title(f"{title} view", fontsize=8)
    draw_timeline(fig.add_subplot(grid[1, :]), seq, cursor=t)
    gloss = next((s.gloss for s in seq.segments if s.start <= t < s.end), "")
    fig.suptitle(f"{seq.id} [{seq.language}] frame {t}/{seq.num_frames - 1} {gloss}\n{seq.text}", fontsize=9)
    return fig


def plot_systems(sequences: dict[str, Sequence], num_frames: int = 6, title: str = "", keyframes=()):
    """One row of skeleton frames per system (e.g. truth, KF2P, T2P, SLERP), at the same relative
    times (sequences may differ in length), plus the truth's timeline with ``keyframes`` marked.

    The first entry is taken as the truth: its timeline is drawn and every row shares its axes.
    """
    setup_fonts()
    names = list(sequences)
    truth = sequences[names[0]]
    positions = {n: sequence_positions(s)[0] for n, s in sequences.items()}
    xyz_name = xyz_layout_for(truth.get_layout()).name
    flip = not truth.get_layout().y_up
    allpts = np.concatenate([p.reshape(-1, 3) for p in positions.values()])
    lo, hi = allpts.min(0), allpts.max(0)
    pad = 0.05 * (hi - lo).max()
    fig = plt.figure(figsize=(1.6 * num_frames + 1, 1.7 * len(names) + 0.9))
    grid = fig.add_gridspec(len(names) + 1, num_frames, height_ratios=[4] * len(names) + [1.2], hspace=0.1)
    rel = np.linspace(0, 1, num_frames)
    for r, name in enumerate(names):
        pos = positions[name]
        for k, u in enumerate(rel):
            t = int(round(u * (len(pos) - 1)))
            ax = fig.add_subplot(grid[r, k])
            draw_skeleton(ax, pos[t], xyz_name, flip_y=flip)
            ax.set_xlim(lo[0] - pad, hi[0] + pad)
            ylim = (-hi[1], -lo[1]) if flip else (lo[1], hi[1])
            ax.set_ylim(ylim[0] - pad, ylim[1] + pad)
            if k == 0:
                ax.text(-0.05, 0.5, name, transform=ax.transAxes, rotation=90, ha="right", va="center", fontsize=8)
            if r == 0:
                ax.set_title(f"{u:.0%}", fontsize=7)
    draw_timeline(fig.add_subplot(grid[-1, :]), truth, marks=keyframes)
    fig.suptitle(title or f"{truth.id} [{truth.language}] {truth.text}", fontsize=9)
    return fig
