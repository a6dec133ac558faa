"""The keyframe editor widget: ipywidgets and the two anywidget surfaces over the controller.

``KeyframeEditorView(editor, clips).show()`` in JupyterLab gives:

- a clip dropdown, or a text box, a language dropdown and *generate*;
- the timeline (:class:`~signlib.widgets.canvas.Timeline`): drag a keyframe marker to move it,
  double-click the strip to add one, click to move the frame cursor or select a keyframe;
- the pose pad of the selected keyframe (:class:`~signlib.widgets.canvas.PosePad`): drag a wrist
  handle and the arm follows by inverse kinematics;
- *delete keyframe*, *add at cursor*, a dictionary-sign dropdown with *replace sign*;
- the frame at the cursor, original | SLERP | SignSparK (edited), as skeletons, meshes or
  avatars, with a play button;
- a status line: the generation number, the KF2P time and how far the sequence moved.

Every edit regenerates at once (KF2P of a 10 s clip takes about a tenth of a second on a CPU;
``benchmarks/editor.py``). A refused edit (a keyframe dragged onto another one, say) leaves the
state as it was and says why in the status line. All logic lives in
:class:`~signlib.widgets.editor.KeyframeEditor`; this module only routes events and draws.
"""

from __future__ import annotations

import io
from html import escape

import ipywidgets as widgets
import numpy as np
import torch
from IPython.display import display
from PIL import Image as PILImage

from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.render.body import Identity
from signlib.render.frames import avatar_frames, mesh_frames, side_by_side
from signlib.render.scene import avatar_scene, clip_camera, mesh_scene
from signlib.render.skeleton_video import SkeletonPainter
from signlib.text.tokens import SIGN_LANGUAGES
from signlib.widgets.canvas import PadFrame, PosePad, Timeline
from signlib.widgets.editor import KeyframeEditor

RENDERERS = ("skeleton", "mesh", "avatar")


def _png(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    PILImage.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


class KeyframeEditorView:
    """The editor widget (module docstring). ``clips`` are ``(sequence, keyframes)`` pairs, e.g.
    test clips with their mined keyframes; ``size`` is each tile's side in pixels."""

    def __init__(self, editor: KeyframeEditor, clips: list[tuple[Sequence, np.ndarray]] = (), size: int = 200):
        self.editor, self.size = editor, size
        self.clips = {seq.id: (seq, keys) for seq, keys in clips}
        self.clip = widgets.Dropdown(options=list(self.clips), description="clip")
        self.text = widgets.Text(placeholder="type a sentence", description="text")
        self.language = widgets.Dropdown(options=SIGN_LANGUAGES, value="DGS", description="language")
        self.from_text = widgets.Button(description="generate", tooltip="generate the typed text")
        self.timeline, self.pad = Timeline(), PosePad(size=240)
        self.delete = widgets.Button(description="delete keyframe")
        self.add = widgets.Button(description="add at cursor")
        self.sign = widgets.Dropdown(description="sign", options=[])
        self.replace = widgets.Button(description="replace sign")
        self.renderer = widgets.ToggleButtons(options=RENDERERS, value="skeleton")
        self.play = widgets.Play(interval=40, min=0, max=1, description="play")
        self.image = widgets.Image(format="png")
        self.status = widgets.HTML()
        self.status.add_class("signlib-editor-status")  # stable handles for browser tests and CSS
        self.generations = 0
        self.last_change = float("nan")
        self._frames: dict[str, object] = {}
        self._pad_frame: PadFrame | None = None
        widgets.jslink((self.play, "value"), (self.timeline, "cursor"))
        self.clip.observe(lambda _: self._guard(self.open_clip), names="value")
        self.from_text.on_click(lambda _: self._guard(self.open_text))
        self.delete.on_click(lambda _: self._edit(self.editor.delete, self.timeline.selected))
        self.add.on_click(lambda _: self._edit(self.editor.add, self.timeline.cursor))
        self.replace.on_click(lambda _: self._edit(self.editor.replace_with_sign, self.timeline.selected,
                                                   self.sign.value))
        self.renderer.observe(lambda _: self._guard(self._prepare), names="value")
        self.timeline.observe(lambda _: self.draw_frame(), names="cursor")
        self.timeline.observe(lambda _: self.draw_pad(), names="selected")
        self.timeline.on_msg(self._timeline_event)
        self.pad.on_msg(self._pad_event)
        if self.clips:
            self._guard(self.open_clip)

    # -- events ----------------------------------------------------------------------------------
    def _guard(self, action, *args) -> bool:
        try:
            action(*args)
            return True
        except SignlibError as err:
            self.status.value = f"<span style='color:#b00'>{escape(str(err))}</span>"
            return False

    def _edit(self, action, *args) -> None:
        if self._guard(action, *args):
            self._guard(self.regenerate)

    def _timeline_event(self, _widget, content, _buffers) -> None:
        if content.get("event") == "move":
            self.move(int(content["index"]), int(content["frame"]))
        elif content.get("event") == "add":
            self._edit(self.editor.add, int(content["frame"]))

    def _pad_event(self, _widget, content, _buffers) -> None:
        if content.get("event") == "wrist":
            self.drag_wrist(content["side"], float(content["x"]), float(content["y"]))

    # -- actions (also what tests call in place of gestures) -------------------------------------
    def open_clip(self) -> None:
        seq, keys = self.clips[self.clip.value]
        self.editor.open_clip(seq, keys)
        self.language.value = seq.language  # a sentence typed next starts in the clip's language
        self.regenerate()

    def open_text(self) -> None:
        self.editor.open_text(self.text.value, self.language.value)
        self.regenerate()

    def move(self, index: int, frame: int) -> None:
        """A keyframe marker dropped at ``frame``; the selection follows the moved keyframe."""
        pose = self.editor.poses.get(self.editor.frames[index]) if 0 <= index < len(self.editor.frames) else None
        self._edit(self.editor.move, index, frame)
        if pose is not None:
            self.timeline.selected = next(i for i, f in enumerate(self.editor.frames) if self.editor.poses[f] is pose)

    def drag_wrist(self, side: str, px: float, py: float) -> None:
        """A wrist handle released at pad pixel ``(px, py)``."""
        index = self.timeline.selected
        wrist = self.editor.wrist(index, side)
        self._edit(self.editor.drag_wrist, index, side, self._pad_frame.to_point(px, py, wrist))

    # -- drawing ---------------------------------------------------------------------------------
    def regenerate(self) -> None:
        previous = None if self.editor.result is None else self.editor.result.kf2p.features
        result = self.editor.regenerate()
        self.generations += 1
        now = result.kf2p.features
        self.last_change = float("nan") if previous is None or previous.shape != now.shape else \
            float(np.abs(now - previous).mean())
        src = self.editor.source
        self._pad_frame = PadFrame.fit(src, self.pad.size)
        t = self.timeline
        with t.hold_sync():
            t.num_frames, t.frames = src.num_frames, list(self.editor.frames)
            # The BIO strip of the signs being edited (replaced or retrieved signs included).
            t.bio = src.replace(bio=None, segments=self.editor.segments).labels().astype(int).tolist()
            t.segments = [{"start": s.start, "end": s.end, "gloss": s.gloss} for s in self.editor.segments]
            t.cursor, t.selected = min(t.cursor, src.num_frames - 1), min(t.selected, len(self.editor.frames) - 1)
        self.play.max = src.num_frames - 1
        glosses = [] if self.editor.dictionary is None else sorted(
            g for lang, g in self.editor.dictionary.frames if lang == src.language)
        if list(self.sign.options) != glosses:
            self.sign.options = glosses
            self.sign.value = glosses[0] if glosses else None  # a fresh list selects nothing by itself
        self.status.value = (f"generation {self.generations}: SignSparK KF2P {result.seconds:.2f} s, "
                             f"{len(self.editor.frames)} keyframes; mean change {self.last_change:.4f}")
        self._prepare()
        self.draw_pad()

    def _prepare(self) -> None:
        """Per-generation render state: painters (skeleton) or scenes and one shared camera."""
        res, src = self.editor.result, self.editor.source
        seqs = {"original": src, "SLERP": res.slerp, "SignSparK (edited)": res.kf2p}
        keys = list(self.editor.frames)
        if self.renderer.value == "skeleton":
            self._frames = {n: SkeletonPainter(s, self.size, self.size, keys) for n, s in seqs.items()}
        else:
            avatar = self.renderer.value == "avatar"
            if avatar and src.get_layout().kind != "rot6d":
                raise SignlibError("the avatar needs joint rotations; this sequence has keypoints (use mesh)")
            scenes = {n: avatar_scene(s, Identity()) if avatar else mesh_scene(s) for n, s in seqs.items()}
            camera = clip_camera(torch.cat([s.framing_points() for s in scenes.values()]), self.size, self.size)
            self._frames = {n: (s, camera) for n, s in scenes.items()}
        self.draw_frame()

    def frame_image(self, t: int) -> np.ndarray:
        """``(H, W, 3)`` the three tiles at frame ``t``, labelled."""
        tiles = {}
        for name, state in self._frames.items():
            if isinstance(state, SkeletonPainter):
                tiles[name] = [state.frame(t)]
            else:
                scene, camera = state
                draw = avatar_frames if self.renderer.value == "avatar" else mesh_frames
                tiles[name] = list(draw(scene, camera, frames=[t]))
        return next(side_by_side(tiles))

    def draw_frame(self) -> None:
        if self.editor.result is not None and self._frames:
            self.image.value = _png(self.frame_image(int(self.timeline.cursor)))

    def draw_pad(self) -> None:
        if self.editor.source is None or self._pad_frame is None or not self.editor.frames:
            return
        index = min(self.timeline.selected, len(self.editor.frames) - 1)
        pose = self.editor.poses[self.editor.frames[index]]
        wrists = {side: self.editor.wrist(index, side) for side in ("left", "right")}
        with self.pad.hold_sync():
            for key, value in self._pad_frame.pad_state(pose, self.editor.source.layout, wrists).items():
                setattr(self.pad, key, value)

    @property
    def widget(self):
        row = widgets.HBox
        box = widgets.VBox([
            row([self.clip, self.text, self.language, self.from_text]),
            self.timeline,
            row([widgets.VBox([self.image, row([self.play, self.renderer])]), self.pad]),
            row([self.delete, self.add, self.sign, self.replace]),
            self.status])
        box.add_class("signlib-editor")
        return box

    def show(self) -> None:
        display(self.widget)
