"""Golden images of the three renderers on the procedural body: skeleton, mesh, Gaussian avatar
(64×64, a fixed pose). See ``tests/helpers/golden.py`` for the tolerance and how to update them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch

from signlib.data.sequence import Segment, Sequence
from signlib.pose.layout import get_layout
from signlib.pose.rotation import axis_angle_to_rot6d
from signlib.pose.skeleton import rest_features
from signlib.render.frames import avatar_frames, mesh_frames
from signlib.render.scene import avatar_scene, clip_camera, mesh_scene
from signlib.render.skeleton_video import SkeletonPainter

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "helpers"))

from golden import check_golden  # noqa: E402


def signing_pose() -> Sequence:
    """One frame: right hand raised in front of the chest with curled fingers, left arm lowered."""
    lay = get_layout("rot6d")
    x = rest_features(lay, 2).reshape(2, lay.num_joints, 6)
    turns = {"left_shoulder": [0.0, 0.0, -1.2], "right_shoulder": [0.0, 0.6, 1.0], "right_elbow": [0.0, 1.9, 0.0],
             "left_elbow": [0.0, -0.4, 0.0], "right_wrist": [0.3, 0.0, -0.4]}
    for name, aa in turns.items():
        x[:, lay.joint_index(name)] = axis_angle_to_rot6d(torch.tensor(aa))
    for finger in ("index", "middle", "ring", "pinky"):
        for k in (1, 2, 3):
            x[:, lay.joint_index(f"right_{finger}{k}")] = axis_angle_to_rot6d(torch.tensor([0.0, 0.0, 0.7]))
    return Sequence(x.reshape(2, -1).numpy(), "rot6d", 25.0, segments=(Segment(0, 2, "SIGN"),), id="golden")


def test_golden_mesh():
    scene = mesh_scene(signing_pose())
    check_golden(next(mesh_frames(scene, clip_camera(scene.framing_points(), 64, 64), frames=[0])), "body_mesh")


def test_golden_avatar():
    scene = avatar_scene(signing_pose(), count=1500)
    camera = clip_camera(mesh_scene(signing_pose()).framing_points(), 64, 64)
    check_golden(next(avatar_frames(scene, camera, backend="cpu", frames=[0])), "body_avatar")


def test_golden_skeleton():
    image = SkeletonPainter(signing_pose(), 64, 64, keyframes=[0]).frame(1)
    check_golden(np.ascontiguousarray(image), "body_skeleton")
