"""What gets drawn for a sequence: skinned meshes, keypoint capsules, avatars, hidden parts, the
optional SMPL-X mesh, the skeleton video frames, and the camera framing."""

from __future__ import annotations

import types

import numpy as np
import pytest
import torch

from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.pose.layout import get_layout
from signlib.pose.rotation import axis_angle_to_rot6d
from signlib.pose.skeleton import rest_features
from signlib.render.body import LEFT_HAND
from signlib.render.camera import front_camera
from signlib.render.frames import mesh_frames, side_by_side
from signlib.render.keypoint_mesh import keypoint_mesh
from signlib.render.scene import avatar_scene, clip_camera, mesh_scene
from signlib.render.skeleton_video import SkeletonPainter


def waving(frames: int = 6, layout: str = "rot6d") -> Sequence:
    """The rest pose with the left elbow bending over time (arms down a little, so the body is compact)."""
    lay = get_layout(layout)
    x = rest_features(lay, frames).reshape(frames, lay.num_joints, 6)
    for side, sign in (("left", 1.0), ("right", -1.0)):
        x[:, lay.joint_index(f"{side}_shoulder")] = axis_angle_to_rot6d(torch.tensor([0.0, 0.0, -sign * 1.1]))
    bend = torch.linspace(0.0, 1.4, frames)
    x[:, lay.joint_index("left_elbow")] = axis_angle_to_rot6d(torch.stack([torch.zeros(frames), -bend,
                                                                             torch.zeros(frames)], 1))
    return Sequence(x.reshape(frames, -1).numpy(), layout, 25.0, segments=(Segment(1, frames - 1, "WAVE"),), text="hello",
                    language="DGS", id="wave")


def mediapipe_clip(frames: int = 5) -> Sequence:
    """A synthetic keypoint clip in image coordinates (y down), left hand lost in the last two frames."""
    lay = get_layout("xyz_mediapipe")
    rng = np.random.default_rng(0)
    body = {"nose": (320, 120), "left_shoulder": (400, 220), "right_shoulder": (240, 220), "left_elbow": (430, 330),
            "right_elbow": (210, 330), "left_wrist": (420, 420), "right_wrist": (220, 420)}
    x = np.zeros((frames, lay.num_joints, 3), np.float32)
    for name, (u, v) in body.items():
        x[:, lay.joint_index(name), :2] = (u, v)
    for side in ("left", "right"):
        wrist = x[0, lay.joint_index(f"{side}_wrist")]
        sl = lay.joint_slice(f"{side}_hand")
        x[:, sl] = wrist + rng.normal(0, 15, (sl.stop - sl.start, 3)).astype(np.float32) * [1, 1, 0.2]
    valid = np.ones((frames, lay.num_joints), bool)
    valid[-2:, lay.joint_slice("left_hand")] = False
    x[-2:, lay.joint_slice("left_hand")] = 0.0  # what a reader fills in: must not be drawn at the origin
    return Sequence(x.reshape(frames, -1), "xyz_mediapipe", 25.0, valid=valid, id="mp")


def test_mesh_scene_of_rotations_is_skinned_and_framed_above_the_waist():
    seq = waving()
    scene = mesh_scene(seq)
    assert scene.vertices.shape[0] == 6 and scene.visible.all()
    assert not torch.allclose(scene.vertices[0], scene.vertices[-1])
    pts = scene.framing_points()
    # the torso runs down to y = -1 m; framing stops at the waist (the lowered hands are still framed)
    assert float(scene.vertices[0, :, 1].min()) < -0.9 and float(pts[:, 1].min()) > -0.6
    frames = list(mesh_frames(scene, clip_camera(pts, 64, 48)))
    assert len(frames) == 6 and frames[0].shape == (48, 64, 3) and frames[0].dtype == np.uint8
    assert (frames[0] < 250).any(axis=-1).mean() > 0.15  # the body fills a good part of the picture
    assert not np.array_equal(frames[0], frames[-1])    # the arm moved


def test_missing_hand_is_hidden_not_drawn_at_the_origin():
    seq = waving()
    lay = get_layout("rot6d")
    valid = np.ones((6, lay.num_joints), bool)
    valid[3:, lay.joint_slice("left_hand")] = False
    scene = mesh_scene(seq.replace(valid=valid))
    hand_faces = (scene.visible[0] & ~scene.visible[3])
    assert hand_faces.any() and scene.visible[:3].all()
    camera = clip_camera(scene.framing_points(), 64, 64)
    full = next(mesh_frames(mesh_scene(seq), camera, frames=[4]))
    hidden = next(mesh_frames(scene, camera, frames=[4]))
    assert not np.array_equal(full, hidden)
    blue = lambda img: ((img[..., 2] > 150) & (img[..., 0] < 100)).sum()  # noqa: E731 - left hand colour
    painter = SkeletonPainter(seq.replace(valid=valid), 96, 96)
    assert blue(painter.frame(0)[:76]) > 0 and blue(painter.frame(4)[:76]) == 0
    av = avatar_scene(seq.replace(valid=valid), count=400)
    assert not av.visible[3:, av.avatar.part == LEFT_HAND].any() and av.visible[:3].all()


def test_keypoint_mesh_flips_image_coordinates_and_hides_lost_hands():
    seq = mediapipe_clip()
    lay = get_layout("xyz_mediapipe")
    km = keypoint_mesh(lay.unflatten(seq.features), lay, seq.valid)
    assert km.vertices.shape[0] == 5 and torch.isfinite(km.vertices).all()
    hand = km.part == LEFT_HAND
    assert km.visible[:3, hand].all() and not km.visible[3:, hand].any()
    # y down in the image → y up in the world: the nose is above the wrists
    nose_y = -120.0
    assert float(km.vertices[0, :, 1].max()) > nose_y > float(km.vertices[0, :, 1].min())
    scene = mesh_scene(seq)
    frames = list(mesh_frames(scene, clip_camera(scene.framing_points(), 64, 64)))
    assert len(frames) == 5
    nan = lay.unflatten(seq.features).copy()
    nan[3:, lay.joint_slice("left_hand")] = np.nan  # NaN is fine where the joint is marked missing
    assert torch.isfinite(keypoint_mesh(nan, lay, seq.valid).vertices).all()
    with pytest.raises(SignlibError, match="zero frames"):
        keypoint_mesh(nan[:0], lay)
    with pytest.raises(SignlibError, match="keypoints must be"):
        keypoint_mesh(nan[..., :1], lay)


def test_avatar_needs_rotations_and_bad_clips_fail_in_one_line():
    with pytest.raises(SignlibError, match="needs joint rotations"):
        avatar_scene(mediapipe_clip())
    with pytest.raises(SignlibError, match="empty"):  # a clip of zero frames cannot even be built
        mesh_scene(Sequence(np.zeros((0, 240), np.float32), "rot6d", 25.0, id="empty"))
    with pytest.raises(SignlibError, match="nothing visible"):
        clip_camera(torch.zeros(0, 3))
    with pytest.raises(SignlibError, match="finite box"):
        front_camera([0, 0, np.nan], [1, 1, 1])


def test_smplx_mesh_is_used_when_the_user_has_the_model(tmp_path, monkeypatch):
    """With ``smplx.create`` replaced by a fake model (no licensed files): its vertices and faces
    are what gets drawn."""
    import smplx

    from signlib.pose.body_model import SMPLXBodyModel

    tet = torch.tensor([[0.0, 0.3, 0.0], [-0.3, -0.2, 0.0], [0.3, -0.2, 0.0], [0.0, 0.0, 0.3]])

    def fake_model(**params):
        T = params["body_pose"].shape[0]
        shift = params["body_pose"].reshape(T, -1)[:, :3].sum(-1, keepdim=True)[:, :, None] * 0.01
        return types.SimpleNamespace(joints=torch.zeros(T, 127, 3), vertices=tet.expand(T, 4, 3) + shift)

    fake_model.faces = np.array([[0, 1, 2], [0, 1, 3], [0, 2, 3], [1, 2, 3]])
    (tmp_path / "SMPLX_NEUTRAL.npz").write_bytes(b"")
    monkeypatch.setattr(smplx, "create", lambda path, **kwargs: fake_model)
    scene = mesh_scene(waving(3), body_model=SMPLXBodyModel(tmp_path))
    assert scene.vertices.shape == (3, 4, 3) and scene.faces.shape == (4, 3)
    frame = next(mesh_frames(scene, clip_camera(scene.framing_points(), 32, 32)))
    assert (frame < 250).any(axis=-1).sum() > 50


def test_skeleton_frames_move_the_cursor_and_leave_missing_bones_out():
    seq = mediapipe_clip()
    painter = SkeletonPainter(seq, 96, 96, keyframes=[1, 3])
    first, last = painter.frame(0), painter.frame(4)
    assert first.shape == (96, 96, 3) and first.dtype == np.uint8
    strip = slice(int(96 * 0.8), 96)
    assert not np.array_equal(first[strip], last[strip])  # the red cursor moved along the timeline
    blue = lambda img: ((img[..., 2] > 150) & (img[..., 0] < 100)).sum()  # noqa: E731 - left hand colour
    assert blue(painter.frame(0)[: int(96 * 0.8)]) > 0 and blue(painter.frame(4)[: int(96 * 0.8)]) == 0


def test_side_by_side_holds_the_last_frame_of_shorter_streams():
    a = [np.full((8, 10, 3), 50 * i, np.uint8) for i in range(3)]
    b = [np.full((8, 10, 3), 200, np.uint8)]
    out = list(side_by_side({"a": a, "b": b}))
    assert len(out) == 3 and out[0].shape[1] == 20 and out[0].shape[0] > 8
    assert (out[2][-8:, 10:] == 200).all() and (out[2][-8:, :10] == 100).all()
