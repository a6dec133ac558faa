"""The editor's two drawing surfaces, as anywidget front ends, and the pose pad's projection.

- :class:`Timeline`: the BIO strip, gloss spans, draggable keyframe markers and the frame cursor
  (``static/timeline.js``). Front-end gestures arrive as messages, ``{"event": "move", "index",
  "frame"}`` and ``{"event": "add", "frame"}``; clicks set the synced ``cursor`` and ``selected``.
- :class:`PosePad`: one pose, front view, with a draggable handle on each wrist
  (``static/posepad.js``); a released drag arrives as ``{"event": "wrist", "side", "x", "y"}`` in
  pad pixels.
- :class:`PadFrame`: the fixed map between a sequence's coordinates and pad pixels (fitted once
  to every frame of the sequence, so the pad does not rescale while you edit) and back, which
  turns a dragged handle into an inverse-kinematics target.

The widgets hold no editing logic: the view (:mod:`signlib.widgets.editor_view`) routes their
messages to the controller (:mod:`signlib.widgets.editor`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import anywidget
import numpy as np
import traitlets

from signlib.data.positions import sequence_positions
from signlib.data.sequence import Sequence
from signlib.pose.layout import Layout
from signlib.render.skeleton import _PART_COLOURS  # the pad draws parts in the skeleton figures' colours

STATIC = Path(__file__).parent / "static"


class Timeline(anywidget.AnyWidget):
    """Synced state: ``num_frames``, ``frames`` (keyframes), ``bio`` (``T`` labels, O=0 I=1 B=2),
    ``segments`` (``{"start", "end", "gloss"}``), ``cursor`` and ``selected`` (keyframe index)."""

    _esm = STATIC / "timeline.js"
    num_frames = traitlets.Int(1).tag(sync=True)
    frames = traitlets.List(traitlets.Int()).tag(sync=True)
    bio = traitlets.List(traitlets.Int()).tag(sync=True)
    segments = traitlets.List(traitlets.Dict()).tag(sync=True)
    cursor = traitlets.Int(0).tag(sync=True)
    selected = traitlets.Int(0).tag(sync=True)


class PosePad(anywidget.AnyWidget):
    """Synced state: ``points`` (``J × [x, y]`` pad pixels), ``bones`` (``[a, b]`` point pairs),
    ``colours`` (one per bone), ``handles`` (``{side: [x, y]}``) and the pad ``size``."""

    _esm = STATIC / "posepad.js"
    size = traitlets.Int(240).tag(sync=True)
    points = traitlets.List(traitlets.List()).tag(sync=True)
    bones = traitlets.List(traitlets.List()).tag(sync=True)
    colours = traitlets.List(traitlets.Unicode()).tag(sync=True)
    handles = traitlets.Dict().tag(sync=True)


def _bones(layout: Layout) -> tuple[list[list[int]], list[str]]:
    bones, colours = [], []
    for part, start, stop in layout.parts:
        for j in range(start, stop):
            if layout.parents[j] >= 0:
                bones.append([layout.parents[j], j])
                colours.append(_PART_COLOURS[part])
    return bones, colours


@dataclass(frozen=True)
class PadFrame:
    """Sequence coordinates ↔ pad pixels for the front view (``x`` right, ``y`` up on screen).

    Attributes:
        centre: ``(2,)`` the x, y of the pad's centre, in the layout's coordinates.
        scale: pixels per coordinate unit.
        size: the pad's side in pixels.
        flip_y: True for y-up coordinates (screen y grows downwards).
        layout: the xyz layout of the points (FK's for rotation sequences).
    """

    centre: np.ndarray
    scale: float
    size: int
    flip_y: bool
    layout: Layout

    @staticmethod
    def fit(seq: Sequence, size: int = 240, margin: float = 0.12) -> "PadFrame":
        """The frame that shows every frame of ``seq`` with ``margin`` of the pad left around."""
        points, layout = sequence_positions(seq)
        xy = points[..., :2].reshape(-1, 2)
        lo, hi = np.nanmin(xy, 0), np.nanmax(xy, 0)
        extent = float(max(hi - lo)) or 1.0
        return PadFrame((lo + hi) / 2, size * (1 - 2 * margin) / extent, size, layout.y_up, layout)

    def to_pixels(self, points: np.ndarray) -> np.ndarray:
        """``(..., ≥2)`` points → ``(..., 2)`` pad pixels."""
        d = (np.asarray(points, np.float64)[..., :2] - self.centre) * self.scale
        if self.flip_y:
            d[..., 1] = -d[..., 1]
        return d + self.size / 2

    def to_point(self, px: float, py: float, depth: np.ndarray) -> np.ndarray:
        """Pad pixel ``(px, py)`` → a point with the x, y it shows and the other coordinates of
        ``depth`` (the point being dragged: the pad cannot change depth)."""
        d = (np.array([px, py], np.float64) - self.size / 2) / self.scale
        if self.flip_y:
            d[1] = -d[1]
        out = np.array(depth, np.float64).copy()
        out[:2] = self.centre + d
        return out.astype(np.float32)

    def pad_state(self, pose: np.ndarray, seq_layout: str, wrists: dict[str, np.ndarray]) -> dict:
        """The :class:`PosePad` traits for one ``(D,)`` pose of layout ``seq_layout`` and its
        ``{side: (C,)}`` wrist positions."""
        one = Sequence(np.asarray(pose, np.float32)[None], seq_layout, 25.0)
        points, _ = sequence_positions(one)
        bones, colours = _bones(self.layout)
        return {"points": self.to_pixels(points[0]).round(2).tolist(), "bones": bones, "colours": colours,
                "handles": {side: self.to_pixels(w).round(2).tolist() for side, w in wrists.items()}}
