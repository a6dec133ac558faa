"""The editor widget routes front-end gestures to the controller and redraws: a dropped marker
moves a keyframe and regenerates, a refused drop says why, a dragged wrist handle becomes an IK
target, and the pose pad's pixel map goes both ways."""

import io

import numpy as np
import pytest
from PIL import Image

from signlib.data.sequence import Sequence
from signlib.widgets.canvas import PadFrame
from signlib.widgets.editor import KeyframeEditor
from signlib.widgets.editor_view import KeyframeEditorView

from ..generate.conftest import perturbed_model, tiny_config
from .test_editor import clip, dictionary


@pytest.fixture(scope="module")
def model():
    return perturbed_model(tiny_config(max_frames=128))


@pytest.fixture
def view(model):
    return KeyframeEditorView(KeyframeEditor(model, dictionary=dictionary()), [(clip(), None)], size=96)


def _image(view) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(view.image.value)))


def test_opening_a_clip_fills_the_timeline_the_pad_and_the_frame(view):
    assert view.timeline.frames == [5, 12, 19, 30, 39, 49] and view.timeline.num_frames == 60
    assert [s["gloss"] for s in view.timeline.segments] == ["CAT", "SLEEP"]
    assert _image(view).shape[1] == 3 * 96 and set(view.pad.handles) == {"left", "right"}
    assert list(view.sign.options) == ["CAT", "DOG"] and view.sign.value == "CAT" and view.language.value == "DGS"
    assert "generation 1" in view.status.value


def test_a_dropped_marker_moves_the_keyframe_regenerates_and_keeps_it_selected(view):
    before = view.editor.result.kf2p.features.copy()
    view._timeline_event(view.timeline, {"event": "move", "index": 1, "frame": 25}, [])
    assert view.timeline.frames == [5, 19, 25, 30, 39, 49] and view.timeline.selected == 2
    assert "generation 2" in view.status.value and view.last_change > 0
    assert np.abs(view.editor.result.kf2p.features - before).max() > 1e-3


def test_a_refused_drop_leaves_everything_and_says_why(view):
    view._timeline_event(view.timeline, {"event": "move", "index": 1, "frame": 30}, [])
    assert "frame 30 already holds a keyframe" in view.status.value
    assert view.timeline.frames == [5, 12, 19, 30, 39, 49] and view.generations == 1


def test_a_double_click_adds_and_the_buttons_delete_and_replace(view):
    view._timeline_event(view.timeline, {"event": "add", "frame": 55}, [])
    assert 55 in view.timeline.frames
    view.timeline.selected = 0
    view.delete.click()
    assert view.timeline.frames == [12, 19, 30, 39, 49, 55]
    view.timeline.selected, view.sign.value = 3, "DOG"
    view.replace.click()
    assert [s["gloss"] for s in view.timeline.segments] == ["CAT", "DOG"] and view.generations == 4


def test_a_dragged_wrist_handle_becomes_the_ik_target(view):
    view.timeline.selected = 1
    x, y = view.pad.handles["right"]
    view._pad_event(view.pad, {"event": "wrist", "side": "right", "x": x + 6, "y": y + 9}, [])
    nx, ny = view.pad.handles["right"]
    assert (nx, ny) == pytest.approx((x + 6, y + 9), abs=0.6)  # the solved wrist is where it was dropped
    assert "generation 2" in view.status.value


def test_the_cursor_and_the_renderer_redraw_the_frame(view):
    first = _image(view)
    view.timeline.cursor = 40
    skeleton = _image(view)
    assert not np.array_equal(skeleton, first)
    view.renderer.value = "mesh"
    mesh = _image(view)
    assert mesh.shape == skeleton.shape and not np.array_equal(mesh, skeleton)


def test_the_pad_frame_maps_pixels_to_points_and_back_for_both_y_conventions():
    seq = clip()
    frame = PadFrame.fit(seq, 200)
    point = np.array([0.1, 0.2, 0.3], np.float32)
    px = frame.to_pixels(point)
    np.testing.assert_allclose(frame.to_point(px[0], px[1], np.array([9.0, 9.0, 0.3])), point, atol=1e-6)
    up = frame.to_pixels(np.array([0.0, 1.0, 0.0])) - frame.to_pixels(np.array([0.0, 0.0, 0.0]))
    assert up[1] < 0  # y up in metres is up on the screen
    keypoints = Sequence(np.random.default_rng(0).normal(size=(4, 147)).astype(np.float32), "xyz_mediapipe", 25.0)
    down = PadFrame.fit(keypoints, 200)
    step = down.to_pixels(np.array([0.0, 1.0])) - down.to_pixels(np.array([0.0, 0.0]))
    assert step[1] > 0  # image coordinates already grow downwards
