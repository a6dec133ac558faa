"""Skeleton video frames: both hands and the upper body, front view, above the clip's BIO timeline
with its keyframes ticked and a cursor at the current frame.

One matplotlib figure is built per clip on an Agg canvas (no GUI backend, so it runs headless
and inside notebooks alike); each frame only moves the line segments and the cursor, then copies
the canvas out as an ``(H, W, 3)`` uint8 image. Missing joints (``Sequence.valid``) leave their
bones out instead of drawing them at a fill value (for rotation clips, the whole part, as the mesh
and the avatar hide it).
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from signlib.data.positions import sequence_positions
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.pose.layout import xyz_layout_for
from signlib.render.fonts import setup_fonts
from signlib.render.body import PART_CODES
from signlib.render.scene import part_visibility
from signlib.render.skeleton import _PART_COLOURS, draw_timeline


class SkeletonPainter:
    """Draws the frames of one clip (see the module docstring).

    Args:
        seq: the clip (any layout; rotations go through forward kinematics).
        width, height: frame size in pixels (the timeline takes the bottom fifth).
        keyframes: frame indices ticked on the timeline.
        positions: optional ``(T, J, 3)`` precomputed joint positions.
    """

    def __init__(self, seq: Sequence, width: int = 256, height: int = 256, keyframes=(),
                 positions: np.ndarray | None = None):
        if seq.num_frames == 0:
            raise SignlibError(f"{seq.id or 'sequence'}: cannot render a clip with zero frames")
        setup_fonts()
        lay = seq.get_layout()
        pos, self.layout = sequence_positions(seq) if positions is None else (positions, xyz_layout_for(lay))
        self.flip = not lay.y_up
        if lay.kind == "xyz":
            self.valid = seq.valid_or_all()
        else:  # rotations: a part with a missing joint is hidden whole, as in the mesh and the avatar
            parts = part_visibility(seq).numpy()
            self.valid = np.ones(pos.shape[:2], bool)
            for name, start, stop in self.layout.parts:
                self.valid[:, start:stop] = parts[:, PART_CODES[name], None]
        self.pos = np.where(self.valid[..., None], pos, np.nan)
        self.fig = Figure(figsize=(width / 100, height / 100), dpi=100)
        self.canvas = FigureCanvasAgg(self.fig)
        self.ax = self.fig.add_axes((0.02, 0.2, 0.96, 0.78))
        ok = self.pos[np.isfinite(self.pos).all(-1)]
        lo, hi = ok.min(0), ok.max(0)
        pad = 0.06 * (hi - lo)[:2].max()
        ys = (-hi[1], -lo[1]) if self.flip else (lo[1], hi[1])
        self.ax.set_xlim(lo[0] - pad, hi[0] + pad)
        self.ax.set_ylim(ys[0] - pad, ys[1] + pad)
        self.ax.set_aspect("equal", adjustable="box")
        self.ax.axis("off")
        self.lines = {}
        for part, start, stop in self.layout.parts:
            lc = LineCollection([], colors=_PART_COLOURS[part], linewidths=2.2 if part == "body" else 1.3,
                                capstyle="round")
            self.ax.add_collection(lc)
            self.lines[part] = (lc, range(start, stop))
        tax = self.fig.add_axes((0.02, 0.03, 0.96, 0.14))
        draw_timeline(tax, seq, marks=keyframes)
        tax.set_xlabel("")
        tax.set_xticks([])
        for text in tax.texts:
            text.set_fontsize(5)
        self.cursor = tax.axvline(0.5, color="red", lw=1.2)
        self.num_frames = seq.num_frames

    def frame(self, t: int) -> np.ndarray:
        """Frame ``t`` as ``(H, W, 3)`` uint8."""
        p = self.pos[t]
        x, y = p[:, 0], (-p[:, 1] if self.flip else p[:, 1])
        for lc, joints in self.lines.values():
            segs = [((x[j], y[j]), (x[q], y[q])) for j in joints
                    if (q := self.layout.parents[j]) >= 0 and np.isfinite(p[j]).all() and np.isfinite(p[q]).all()]
            lc.set_segments(segs)
        self.cursor.set_xdata([t + 0.5, t + 0.5])
        self.canvas.draw()
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()


def skeleton_frames(seq: Sequence, width: int = 256, height: int = 256, keyframes=()) -> Iterator[np.ndarray]:
    """Every frame of ``seq`` drawn by :class:`SkeletonPainter`."""
    painter = SkeletonPainter(seq, width, height, keyframes)
    for t in range(seq.num_frames):
        yield painter.frame(t)
