"""Skeleton drawings with matplotlib: frames of a clip over time, with its BIO timeline beneath."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg", force=False)  # headless under papermill; notebooks may still switch backends
import matplotlib.pyplot as plt
import numpy as np

from signlib.data.sequence import Sequence
from signlib.pose.layout import get_layout, xyz_layout_for

_PART_COLOURS = {"body": "#444444", "left_hand": "#1f77b4", "right_hand": "#d62728"}
_BIO_COLOURS = {0: "#eeeeee", 1: "#9ecae1", 2: "#08519c"}


def joint_positions(seq: Sequence) -> tuple[np.ndarray, str]:
    """``(T, J, 3)`` positions and their xyz layout name: FK for rot6d, the features for xyz."""
    lay = seq.get_layout()
    if lay.kind == "xyz":
        x = seq.features.reshape(seq.num_frames, lay.num_joints, lay.channels)
        if lay.channels == 2:
            x = np.concatenate([x, np.zeros_like(x[..., :1])], -1)
        return x, lay.name
    from signlib.pose.skeleton import forward_kinematics_np

    return forward_kinematics_np(seq.features, lay), xyz_layout_for(lay).name


def draw_skeleton(ax, points: np.ndarray, layout: str, valid: np.ndarray | None = None, flip_y: bool = False) -> None:
    """Draw one frame, front view: a viewer facing the signer sees the signer's left (+x) on the right.

    Args:
        points: ``(J, 3)`` in the xyz ``layout``; valid: optional ``(J,)`` bool, missing bones skipped.
        flip_y: True for image coordinates (MediaPipe: y grows downwards).
    """
    lay = get_layout(layout)
    x, y = points[:, 0], (-points[:, 1] if flip_y else points[:, 1])
    ok = np.ones(len(points), bool) if valid is None else valid
    for part, start, stop in lay.parts:
        for j in range(start, stop):
            p = lay.parents[j]
            if p >= 0 and ok[j] and ok[p]:
                ax.plot([x[j], x[p]], [y[j], y[p]], color=_PART_COLOURS[part], lw=1.2 if part != "body" else 2)
    ax.set_aspect("equal")
    ax.axis("off")


def plot_sequence_strip(seq: Sequence, num_frames: int = 6, title: str | None = None):
    """A figure: ``num_frames`` evenly spaced skeleton frames above the clip's BIO timeline and glosses."""
    pos, xyz_name = joint_positions(seq)
    flip = seq.get_layout().kind == "xyz" and "mediapipe" in seq.layout
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
    ax = fig.add_subplot(grid[1, :])
    labels = seq.labels()
    ax.imshow(labels[None], aspect="auto", cmap=matplotlib.colors.ListedColormap([_BIO_COLOURS[i] for i in range(3)]),
              vmin=0, vmax=2, interpolation="nearest", extent=(0, seq.num_frames, 0, 1))
    for s in seq.segments:
        ax.text((s.start + s.end) / 2, 0.5, s.gloss, ha="center", va="center", fontsize=7)
    for t in frames:
        ax.axvline(t + 0.5, color="k", lw=0.5, alpha=0.4)
    ax.set_yticks([])
    ax.set_xlabel("frame (BIO: O light, I mid, B dark)")
    fig.suptitle(title or f"{seq.id} [{seq.language}] {seq.text}", fontsize=9)
    return fig
