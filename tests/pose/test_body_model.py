import os
import types

import numpy as np
import pytest
import torch

from signlib.errors import SignlibError
from signlib.pose.body_model import SMPLXBodyModel, features_to_smplx_pose
from signlib.pose.layout import SMPLX_JOINT_INDEX, get_layout
from signlib.pose.rotation import axis_angle_to_rot6d
from signlib.pose.skeleton import rest_features

SMPLX_DIR = os.environ.get("SIGNLIB_SMPLX_DIR")
needs_model = pytest.mark.skipif(not SMPLX_DIR, reason="set SIGNLIB_SMPLX_DIR to a folder with the SMPL-X model")


def random_axis_angle(*shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    axis = torch.nn.functional.normalize(torch.randn(*shape, 3, generator=g, dtype=torch.float64), dim=-1)
    return axis * torch.rand(*shape, 1, generator=g, dtype=torch.float64) * 2.5


@pytest.mark.parametrize("name", ["rot6d", "rot6d_spine3"])
def test_rest_features_give_the_zero_smplx_pose(name):
    p = features_to_smplx_pose(rest_features(name, 3), name)
    assert p.body_pose.shape == (3, 21, 3)
    assert p.left_hand_pose.shape == p.right_hand_pose.shape == (3, 15, 3)
    for t in (p.body_pose, p.left_hand_pose, p.right_hand_pose):
        assert t.abs().max() < 1e-6


@pytest.mark.parametrize("name", ["rot6d", "rot6d_spine3"])
def test_body_joints_land_in_their_smplx_slots_and_the_rest_stay_zero(name):
    lay = get_layout(name)
    aa = random_axis_angle(4, lay.num_joints, seed=1)
    p = features_to_smplx_pose(axis_angle_to_rot6d(aa).reshape(4, -1), lay)
    used = set()
    for j, joint in enumerate(lay.joints[lay.joint_slice("body")]):
        slot = SMPLX_JOINT_INDEX[joint] - 1
        torch.testing.assert_close(p.body_pose[:, slot], aa[:, j])
        used.add(slot)
    unused = [i for i in range(21) if i not in used]
    assert (p.body_pose[:, unused] == 0).all()
    assert (SMPLX_JOINT_INDEX["spine3"] - 1 in used) == (name == "rot6d_spine3")


def test_left_hand_is_mirrored_back_and_right_hand_kept():
    lay = get_layout("rot6d")
    aa = random_axis_angle(2, lay.num_joints, seed=2)
    p = features_to_smplx_pose(axis_angle_to_rot6d(aa).reshape(2, -1).numpy(), lay)  # numpy input works
    mirror = torch.tensor([1.0, -1.0, -1.0], dtype=p.left_hand_pose.dtype)
    torch.testing.assert_close(p.left_hand_pose, (aa[:, lay.joint_slice("left_hand")] * mirror).float())
    torch.testing.assert_close(p.right_hand_pose, aa[:, lay.joint_slice("right_hand")].float())


@pytest.mark.parametrize("shape, name, message", [((5, 240), "xyz_template", "rot6d layout"),
                                                  ((2, 5, 240), "rot6d", r"\(T, D\)"),
                                                  ((5, 246), "rot6d", "has 240")])
def test_pose_conversion_rejects_bad_input(shape, name, message):
    with pytest.raises(SignlibError, match=message):
        features_to_smplx_pose(torch.zeros(shape), name)


def test_missing_model_folder_is_a_one_line_error_naming_it(tmp_path):
    with pytest.raises(SignlibError, match="nowhere"):
        SMPLXBodyModel(tmp_path / "nowhere")
    with pytest.raises(SignlibError, match=f"{tmp_path}.*no SMPL-X model file SMPLX_NEUTRAL"):
        SMPLXBodyModel(tmp_path)


def test_unreadable_model_file_is_a_one_line_error_naming_it(tmp_path):
    (tmp_path / "smplx").mkdir()
    (tmp_path / "smplx" / "SMPLX_NEUTRAL.npz").write_bytes(b"not a model")
    with pytest.raises(SignlibError, match="SMPLX_NEUTRAL.npz: cannot load") as err:
        SMPLXBodyModel(tmp_path)
    assert "\n" not in str(err.value)


def test_model_is_created_flat_handed_without_pca_and_fed_t_rows(tmp_path, monkeypatch):
    """The plumbing, with ``smplx.create`` replaced by a recorder (no licensed files needed)."""
    import smplx

    (tmp_path / "SMPLX_NEUTRAL.npz").write_bytes(b"")
    calls = {}

    def fake_model(**params):
        calls["params"] = params
        T = params["body_pose"].shape[0]
        return types.SimpleNamespace(joints=torch.zeros(T, 127, 3), vertices=torch.zeros(T, 10475, 3))

    def fake_create(path, **kwargs):
        calls["path"], calls["kwargs"] = path, kwargs
        return fake_model

    monkeypatch.setattr(smplx, "create", fake_create)
    model = SMPLXBodyModel(tmp_path)
    assert calls["path"].endswith("SMPLX_NEUTRAL.npz")
    assert calls["kwargs"]["use_pca"] is False and calls["kwargs"]["flat_hand_mean"] is True
    x = axis_angle_to_rot6d(random_axis_angle(6, 40, seed=3)).reshape(6, -1).float()
    out = model(x, "rot6d")
    assert out.joints.shape == (6, 127, 3) and out.vertices.shape == (6, 10475, 3)
    params, pose = calls["params"], features_to_smplx_pose(x, "rot6d")
    assert params["body_pose"].shape == (6, 63) and params["left_hand_pose"].shape == (6, 45)
    torch.testing.assert_close(params["left_hand_pose"], pose.left_hand_pose.reshape(6, 45))
    for key in ("betas", "global_orient", "transl", "jaw_pose", "expression"):
        assert params[key].shape[0] == 6 and (params[key] == 0).all()


@needs_model
def test_real_model_poses_joints_and_vertices():
    model = SMPLXBodyModel(SMPLX_DIR)
    lay = get_layout("rot6d")
    x = rest_features(lay, 2).reshape(2, 40, 6)
    x[1, lay.joint_index("left_elbow")] = axis_angle_to_rot6d(torch.tensor([0.0, -1.2, 0.0]))
    out = model(x.reshape(2, -1), lay)
    assert out.vertices.shape[:1] == (2,) and out.vertices.shape[-1] == 3
    assert torch.isfinite(out.joints).all() and torch.isfinite(out.vertices).all()
    lw, rw = SMPLX_JOINT_INDEX["left_wrist"], SMPLX_JOINT_INDEX["right_wrist"]
    assert out.joints[0, lw, 0] > 0.4 and out.joints[0, rw, 0] < -0.4  # T-pose, left arm along +x
    moved = torch.linalg.norm(out.joints[1, :55] - out.joints[0, :55], dim=-1) > 1e-5
    assert moved[lw] and not moved[rw] and not moved[SMPLX_JOINT_INDEX["head"]]
    assert np.asarray(model.faces).shape[1] == 3
