"""The keyframe editor's controller: every edit does what it says, refused edits change nothing,
and regeneration passes through the edited keyframes and follows them."""

import numpy as np
import pytest
import torch

from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.keyframes import true_keyframes
from signlib.pose.ik import wrist_position
from signlib.pose.rotation import axis_angle_to_rot6d
from signlib.triframe import TriframeDictionary
from signlib.widgets.editor import KeyframeEditor

from ..generate.conftest import perturbed_model, tiny_config

T, D = 60, 240


def clip(seed: int = 0) -> Sequence:
    """Joint rotations that drift smoothly (valid rotations, so FK and IK apply)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T)[:, None, None]
    aa = 0.5 * np.sin(2 * np.pi * (t * rng.uniform(0.5, 1.5, (1, 40, 3)) + rng.uniform(0, 1, (1, 40, 3))))
    feats = axis_angle_to_rot6d(torch.from_numpy(aa.astype(np.float32))).reshape(T, D).numpy()
    return Sequence(feats, "rot6d", 25.0, text="the cat sleeps", language="DGS", id="c0",
                    segments=(Segment(5, 20, "CAT"), Segment(30, 50, "SLEEP")))


def dictionary() -> TriframeDictionary:
    rng = np.random.default_rng(3)
    frames = {("DGS", g): clip(10 + k).features[[0, 10, 20]] + 0 * rng.normal() for k, g in enumerate(["DOG", "CAT"])}
    return TriframeDictionary("rot6d", frames, {k: (0, 21) for k in frames}, {k: True for k in frames})


@pytest.fixture(scope="module")
def model():
    return perturbed_model(tiny_config(max_frames=128))


@pytest.fixture
def editor(model):
    ed = KeyframeEditor(model, dictionary=dictionary())
    ed.open_clip(clip())
    return ed


def test_a_clip_opens_with_its_gold_onset_mid_offset_keyframes(editor):
    assert editor.frames == true_keyframes(clip()).tolist() == [5, 12, 19, 30, 39, 49]
    np.testing.assert_array_equal(editor.poses[12], clip().features[12])


def test_moving_a_keyframe_carries_its_pose_and_a_refused_move_changes_nothing(editor):
    pose, version = editor.poses[12].copy(), editor.version
    editor.move(1, 25)
    assert editor.frames == [5, 19, 25, 30, 39, 49] and editor.version == version + 1
    np.testing.assert_array_equal(editor.poses[25], pose)
    before = {f: p.copy() for f, p in editor.poses.items()}
    for index, frame, message in [(2, 30, "frame 30 already holds a keyframe"), (2, T, "outside the sequence"),
                                  (9, 3, "keyframe index 9 is out of range")]:
        with pytest.raises(SignlibError, match=message):
            editor.move(index, frame)
    assert editor.poses.keys() == before.keys() and all(np.array_equal(editor.poses[f], before[f]) for f in before)


def test_adding_takes_the_generated_pose_and_the_last_keyframe_cannot_be_deleted(editor):
    generated = editor.regenerate().kf2p.features
    editor.add(55)
    np.testing.assert_array_equal(editor.poses[55], generated[55])
    with pytest.raises(SignlibError, match="pose: expected 240 finite values"):
        editor.add(56, np.zeros(3))
    while len(editor.frames) > 1:
        editor.delete(0)
    with pytest.raises(SignlibError, match="cannot delete the last keyframe"):
        editor.delete(0)


def test_a_dictionary_sign_replaces_the_three_keyframes_of_the_sign_it_lands_on(editor):
    editor.replace_with_sign(4, "DOG")  # keyframe 39 lies in SLEEP (30, 50)
    tri = dictionary().lookup("DGS", "DOG")
    for pose, frame in zip(tri, (30, 39, 49)):
        np.testing.assert_array_equal(editor.poses[frame], pose)
    np.testing.assert_array_equal(editor.poses[12], clip().features[12])  # the other sign is untouched
    assert [s.gloss for s in editor.segments] == ["CAT", "DOG"]
    with pytest.raises(SignlibError, match="gloss 'HORSE' is not in the DGS dictionary"):
        editor.replace_with_sign(0, "HORSE")


def test_dragging_a_wrist_moves_only_that_keyframe_and_reaches_the_target(editor):
    target = editor.wrist(1, "right") + np.array([0.02, -0.04, 0.03], np.float32)
    others = {f: editor.poses[f].copy() for f in editor.frames if f != 12}
    residual = editor.drag_wrist(1, "right", target)
    assert residual < 0.005
    np.testing.assert_allclose(wrist_position(editor.poses[12], "rot6d", "right"), target, atol=0.005)
    assert all(np.array_equal(editor.poses[f], p) for f, p in others.items())


def test_regeneration_passes_through_the_edited_keyframes_and_follows_a_move(editor):
    first = editor.regenerate()
    assert not editor.stale and first.kf2p.num_frames == T
    editor.move(1, 25)
    assert editor.stale
    second = editor.regenerate()
    for f in editor.frames:
        np.testing.assert_array_equal(second.kf2p.features[f], editor.poses[f])
        np.testing.assert_allclose(second.slerp.features[f], editor.poses[f], atol=1e-5)
    assert np.abs(second.kf2p.features - first.kf2p.features).max() > 1e-3
    # The frames far from the edit barely move: the edit is local.
    assert np.abs(second.kf2p.features[25] - first.kf2p.features[25]).mean() > \
        np.abs(second.kf2p.features[55] - first.kf2p.features[55]).mean()


def test_a_typed_text_gets_retrieval_keyframes_when_the_translator_knows_its_signs(model):
    ed = KeyframeEditor(model, dictionary=dictionary(), translate=lambda texts, langs: [["CAT", "HORSE", "DOG"]])
    ed.open_text("a cat and a dog", "DGS")
    assert [s.gloss for s in ed.segments] == ["CAT", "DOG"] and len(ed.frames) == 6
    np.testing.assert_array_equal(ed.poses[ed.frames[0]], dictionary().lookup("DGS", "CAT")[0])


def test_a_typed_text_without_retrieval_uses_fast_or_evenly_spaced_keyframes(model):
    ed = KeyframeEditor(model, segmenter=lambda seq: [(1, seq.num_frames)], fallback_spacing=7)
    ed.open_text("a cat", "DGS")
    n = ed.source.num_frames
    assert ed.frames == sorted({1, n // 2, n - 1}) and [(s.start, s.end) for s in ed.segments] == [(1, n)]
    plain = KeyframeEditor(model, fallback_spacing=7)
    plain.open_text("a cat", "DGS")
    assert plain.frames == list(range(0, plain.source.num_frames, 7))


def test_editing_before_opening_says_what_to_do(model):
    with pytest.raises(SignlibError, match="call open_clip or open_text first"):
        KeyframeEditor(model).regenerate()
