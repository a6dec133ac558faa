import numpy as np
import pytest

from signlib.errors import SignlibError
from signlib.pose.layout import HAND21, MANO_JOINTS, get_layout, layout_names, xyz_layout_for


@pytest.mark.parametrize("name, dim", [("rot6d", 240), ("rot6d_spine3", 246)])
def test_rot6d_layouts_have_the_paper_dimensions(name, dim):
    lay = get_layout(name)
    assert lay.dim == dim
    assert lay.kind == "rot6d" and lay.channels == 6


@pytest.mark.parametrize("name", layout_names())
def test_part_slices_cover_every_feature_exactly_once(name):
    lay = get_layout(name)
    covered = np.zeros(lay.dim, dtype=int)
    for part, _, _ in lay.parts:
        covered[lay.feature_slice(part)] += 1
    assert (covered == 1).all()
    assert [p for p, _, _ in lay.parts] == ["body", "left_hand", "right_hand"]


@pytest.mark.parametrize("name", layout_names())
def test_parents_are_valid_and_precede_their_children(name):
    lay = get_layout(name)
    assert len(lay.parents) == lay.num_joints
    for j, p in enumerate(lay.parents):
        assert -1 <= p < j


@pytest.mark.parametrize("name", ["rot6d", "rot6d_spine3"])
def test_hands_are_mano_chains_hanging_off_the_wrists(name):
    lay = get_layout(name)
    for side in ("left", "right"):
        hand = lay.joint_slice(f"{side}_hand")
        assert lay.joints[hand] == tuple(f"{side}_{j}" for j in MANO_JOINTS)
        wrist = lay.joint_index(f"{side}_wrist")
        for j in range(hand.start, hand.stop):
            expected = wrist if lay.joints[j].endswith("1") else j - 1
            assert lay.parents[j] == expected


@pytest.mark.parametrize("name, xyz_name, body_joints", [
    ("rot6d", "xyz_template", 10), ("rot6d_spine3", "xyz_template_spine3", 11)])
def test_xyz_layout_for_rot6d_has_the_body_then_21_points_per_hand(name, xyz_name, body_joints):
    xyz = xyz_layout_for(get_layout(name))
    assert xyz.name == xyz_name and xyz.kind == "xyz" and xyz.channels == 3
    assert xyz.num_joints == body_joints + 2 * 21
    assert xyz.joints[xyz.joint_slice("body")] == get_layout(name).joints[:body_joints]
    assert xyz.joints[xyz.joint_slice("right_hand")] == tuple(f"right_{p}" for p in HAND21)


def test_xyz_layout_for_an_xyz_layout_is_itself():
    lay = get_layout("xyz_mediapipe")
    assert xyz_layout_for(lay) is lay


def test_unknown_layout_error_names_it():
    with pytest.raises(SignlibError, match="'rot7d'"):
        get_layout("rot7d")


def test_check_rejects_the_wrong_channel_count_naming_the_layout():
    lay = get_layout("rot6d")
    lay.check(np.zeros((3, 240)))
    with pytest.raises(SignlibError, match="246 channels but layout 'rot6d' has 240"):
        lay.check(np.zeros((3, 246)))


def test_unknown_part_and_joint_raise():
    lay = get_layout("rot6d")
    with pytest.raises(SignlibError, match="no part 'tail'"):
        lay.joint_slice("tail")
    with pytest.raises(SignlibError, match="no joint 'spine3'"):
        lay.joint_index("spine3")


def test_unflatten_and_split_are_views_of_the_right_shape():
    lay = get_layout("rot6d")
    x = np.arange(2 * 240, dtype=np.float32).reshape(2, 240)
    assert lay.unflatten(x).shape == (2, 40, 6)
    parts = lay.split(x)
    assert {k: v.shape for k, v in parts.items()} == {"body": (2, 60), "left_hand": (2, 90),
                                                     "right_hand": (2, 90)}
    np.testing.assert_array_equal(np.concatenate(list(parts.values()), axis=-1), x)
