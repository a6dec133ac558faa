"""pose-format ``.pose`` files: round trips, conversion of MediaPipe/OpenPose files, bad input."""

import struct

import numpy as np
import pytest
from pose_format.pose_header import PoseHeader
from pose_format.utils.reader import BufferReader

from signlib.data import Sequence, mask_missing
from signlib.data.formats.pose_file import PoseComponent, PoseFile, pose_to_sequence, read_pose, read_pose_header
from signlib.data.formats.pose_writer import write_pose, write_pose_file
from signlib.errors import SignlibError
from signlib.pose.layout import HAND21, get_layout

MP_POSE33 = ("NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE",
             "RIGHT_EYE_OUTER", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER",
             "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY",
             "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX", "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP",
             "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE", "LEFT_HEEL", "RIGHT_HEEL",
             "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX")
MP_REDUCED8 = ("LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST",
               "LEFT_HIP", "RIGHT_HIP")
MP_HAND = tuple(p.upper() for p in HAND21)
BODY25 = ("Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "MidHip",
          "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar", "LBigToe",
          "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel")


def make_sequence(layout="xyz_mediapipe", T=12, fps=25.0, seed=0) -> Sequence:
    """An xyz sequence with some joints missing (filled with 0, ``valid`` False)."""
    rng = np.random.default_rng(seed)
    lay = get_layout(layout)
    x = rng.normal(size=(T, lay.dim)).astype(np.float32)
    x.reshape(T, lay.num_joints, lay.channels)[rng.random((T, lay.num_joints)) < 0.2] = np.nan
    feats, valid = mask_missing(x, lay)
    return Sequence(feats, layout, fps, valid=valid, id="clip")


def make_pose_file(parts, T=5, seed=0) -> PoseFile:
    """A one-person PoseFile whose point ``k`` has x = k (so tests can see which point went where)."""
    comps = tuple(PoseComponent(name, tuple(points), fmt) for name, points, fmt in parts)
    dims = max(len(f) for _, _, f in parts) - 1
    n = sum(len(p) for _, p, _ in parts)
    rng = np.random.default_rng(seed)
    data = rng.normal(size=(T, 1, n, dims)).astype(np.float32)
    data[..., 0] = np.arange(n, dtype=np.float32)
    return PoseFile(version=0.2, components=comps, data=data, confidence=np.ones((T, 1, n), np.float32), fps=30.0)


def holistic(body=MP_POSE33, fmt="XYZC", world=False):
    parts = [("POSE_LANDMARKS", body, fmt), ("FACE_LANDMARKS", [str(i) for i in range(10)], fmt),
             ("LEFT_HAND_LANDMARKS", MP_HAND, fmt), ("RIGHT_HAND_LANDMARKS", MP_HAND, fmt)]
    return parts + ([("POSE_WORLD_LANDMARKS", body, fmt)] if world else [])


def openpose():
    return [("pose_keypoints_2d", BODY25, "XYC"), ("face_keypoints_2d", [f"FB_{i}" for i in range(70)], "XYC"),
            ("hand_left_keypoints_2d", [f"L{i}" for i in range(21)], "XYC"),
            ("hand_right_keypoints_2d", [f"R{i}" for i in range(21)], "XYC")]


# ---------------------------------------------------------------- round trips


@pytest.mark.parametrize("layout", ["xyz_mediapipe", "xyz_template", "xyz_template_spine3"])
@pytest.mark.parametrize("fps", [25.0, 29.97, 50.0])
def test_sequence_round_trips_through_pose_file(tmp_path, layout, fps):
    seq = make_sequence(layout, fps=fps)
    write_pose(tmp_path / "a.pose", seq)
    back = pose_to_sequence(read_pose(tmp_path / "a.pose"))
    assert back.layout == layout and back.fps == fps
    np.testing.assert_array_equal(back.valid, seq.valid)
    np.testing.assert_array_equal(back.features, seq.features)


def test_written_file_has_one_component_per_part_and_confidence_from_valid(tmp_path):
    seq = make_sequence()
    write_pose(tmp_path / "a.pose", seq)
    pf = read_pose(tmp_path / "a.pose")
    assert pf.version == 0.2 and [c.name for c in pf.components] == ["body", "left_hand", "right_hand"]
    assert {c.format for c in pf.components} == {"XYZC"}
    assert pf.data.shape == (12, 1, 49, 3) and pf.confidence.shape == (12, 1, 49)
    np.testing.assert_array_equal(pf.confidence[:, 0] > 0, seq.valid)
    assert np.isnan(pf.data[:, 0][~seq.valid]).all()
    assert read_pose_header(tmp_path / "a.pose") == pf.header


def test_pose_file_round_trips_nan_as_missing(tmp_path):
    pf = make_pose_file(holistic())
    data = pf.data.copy()
    data[2, 0, 40] = np.nan
    write_pose_file(tmp_path / "h.pose", PoseFile(**{**pf.__dict__, "data": data}))
    back = read_pose(tmp_path / "h.pose")
    np.testing.assert_array_equal(back.data, data)
    assert back.confidence[2, 0, 40] == 0 and back.components == pf.components


# ---------------------------------------------------------------- conversion of other tools' files


@pytest.mark.parametrize("parts", [holistic(), holistic(world=True), holistic(fmt="XYZKC")],
                         ids=["holistic543", "holistic576", "xyzk"])
def test_mediapipe_points_are_taken_by_name(tmp_path, parts):
    pf = make_pose_file(parts)
    seq = pose_to_sequence(pf)
    x = seq.get_layout().unflatten(seq.features)  # (T, 49, 3)
    expected_body = [MP_POSE33.index(n) for n in ("NOSE", "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW",
                                                  "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST")]
    left = 33 + 10  # after pose and face
    np.testing.assert_array_equal(x[0, :, 0], expected_body + list(range(left, left + 42)))
    source = pf.data[:, 0, expected_body + list(range(left, left + 42))]  # (T, 49, C)
    np.testing.assert_array_equal(x, source[..., :3])  # y, z kept; K of XYZKC dropped
    assert seq.layout == "xyz_mediapipe" and seq.valid.all() and x.shape[-1] == 3


def test_reduced_holistic_has_no_nose_so_it_is_invalid(tmp_path):
    seq = pose_to_sequence(make_pose_file(holistic(body=MP_REDUCED8)))
    assert not seq.valid[:, 0].any() and seq.valid[:, 1:].all()
    assert seq.meta["missing_points"] == ("nose",)
    assert np.isfinite(seq.features).all() and (seq.features[:, :3] == 0).all()


def test_openpose_2d_maps_body25_indices_and_fills_z_with_zero():
    pf = make_pose_file(openpose())
    seq = pose_to_sequence(pf)
    x = seq.get_layout().unflatten(seq.features)
    # nose, L/R shoulder, L/R elbow, L/R wrist → BODY_25 0, 5, 2, 6, 3, 7, 4
    np.testing.assert_array_equal(x[0, :7, 0], [0, 5, 2, 6, 3, 7, 4])
    np.testing.assert_array_equal(x[0, 7:, 0], np.r_[95:137])
    assert (x[..., 2] == 0).all() and seq.meta["point_dims"] == 2 and seq.valid.all()


def test_missing_points_become_invalid_joints_with_finite_fill():
    pf = make_pose_file(holistic())
    conf = pf.confidence.copy()
    conf[1, 0, 43:64] = 0  # left hand lost in frame 1
    data = pf.data.copy()
    data[3, 0, 11] = np.nan  # left shoulder NaN in frame 3
    seq = pose_to_sequence(PoseFile(**{**pf.__dict__, "confidence": conf}))
    assert not seq.valid[1, 7:28].any() and seq.valid[1, 28:].all()
    seq = pose_to_sequence(PoseFile(**{**pf.__dict__, "data": data}))
    assert not seq.valid[3, 1] and np.isfinite(seq.features).all()


def test_unknown_components_name_the_file_and_what_was_found(tmp_path):
    write_pose_file(tmp_path / "odd.pose", make_pose_file([("BODY_135", [str(i) for i in range(5)], "XYC")]))
    with pytest.raises(SignlibError, match=r"odd\.pose.*BODY_135"):
        pose_to_sequence(read_pose(tmp_path / "odd.pose"))


def test_person_out_of_range_is_an_error(tmp_path):
    with pytest.raises(SignlibError, match="person 1"):
        pose_to_sequence(make_pose_file(holistic()), person=1)


# ---------------------------------------------------------------- bad input


@pytest.fixture
def good_pose(tmp_path):
    path = tmp_path / "good.pose"
    write_pose(path, make_sequence(T=20))
    return path


def _as_v01(buf: bytes) -> bytes:
    """Rewrite a v0.2 file as v0.1 (ushort fps and frame count), as older pose-format wrote."""
    reader = BufferReader(buf)
    PoseHeader.read(reader)
    end = reader.read_offset
    fps, frames, people = struct.unpack_from("<fIH", buf, end)
    return struct.pack("<f", 0.1) + buf[4:end] + struct.pack("<HHH", int(fps), frames, people) + buf[end + 10:]


@pytest.mark.parametrize("version", ["v0.2", "v0.1"])
@pytest.mark.parametrize("cut", [0.02, 0.5, "frame", "-1"])
def test_truncated_file_is_an_error_naming_it(tmp_path, good_pose, version, cut):
    buf = good_pose.read_bytes()
    if version == "v0.1":
        buf = _as_v01(buf)
    frame_bytes = 49 * 4 * 4  # 49 points × (XYZ + confidence) float32
    n = {"frame": len(buf) - frame_bytes, "-1": len(buf) - 1}.get(cut) or int(len(buf) * cut)
    path = tmp_path / f"cut_{version}.pose"
    path.write_bytes(buf[:n])
    with pytest.raises(SignlibError, match=path.name):
        read_pose(path)


def test_v01_file_reads_like_its_v02_original(tmp_path, good_pose):
    (tmp_path / "old.pose").write_bytes(_as_v01(good_pose.read_bytes()))
    old, new = read_pose(tmp_path / "old.pose"), read_pose(good_pose)
    assert old.version == 0.1 and old.fps == new.fps
    np.testing.assert_array_equal(old.data, new.data)


@pytest.mark.parametrize("version", [0.3, 1.0, -2.0, 1e30])
def test_unsupported_version_is_an_error_naming_it(tmp_path, good_pose, version):
    path = tmp_path / "future.pose"
    path.write_bytes(struct.pack("<f", version) + good_pose.read_bytes()[4:])
    with pytest.raises(SignlibError, match=r"future\.pose.*version"):
        read_pose(path)


@pytest.mark.parametrize("content", [b"", b"\x00", b"hello world, not a pose" * 10,
                                     np.random.default_rng(1).bytes(5000), b"\x00" * 64],
                         ids=["empty", "one_byte", "text", "random", "zeros"])
def test_garbage_is_an_error_naming_the_file(tmp_path, content):
    path = tmp_path / "garbage.pose"
    path.write_bytes(content)
    with pytest.raises(SignlibError, match=r"garbage\.pose") as info:
        read_pose(path)
    assert "\n" not in str(info.value)


def _zero_frames(buf: bytes, version: str) -> bytes:
    """``buf`` with its body emptied: the counts say zero frames and no frame follows."""
    reader = BufferReader(buf)
    PoseHeader.read(reader)
    end = reader.read_offset
    fps, _, people = struct.unpack_from("<fIH", buf, end)
    if version == "v0.1":
        return struct.pack("<f", 0.1) + buf[4:end] + struct.pack("<HHH", int(fps), 0, people)
    if version == "v0.0":
        return struct.pack("<f", 0.0) + buf[4:end] + struct.pack("<HH", int(fps), 0)
    return buf[:end] + struct.pack("<fIH", fps, 0, people)


@pytest.mark.parametrize("version", ["v0.2", "v0.1", "v0.0"])
def test_a_file_with_zero_frames_is_an_error_naming_it(tmp_path, good_pose, version):
    path = tmp_path / "empty.pose"
    path.write_bytes(_zero_frames(good_pose.read_bytes(), version))
    with pytest.raises(SignlibError, match=r"empty\.pose: no frames") as err:
        pose_to_sequence(read_pose(path))
    assert "\n" not in str(err.value)
    with pytest.raises(SignlibError, match=r"empty\.pose: no frames"):
        read_pose_header(path)


def test_a_hand_made_pose_file_without_frames_is_an_error_naming_it():
    pf = make_pose_file(holistic(), T=3)
    empty = PoseFile(**{**pf.__dict__, "data": pf.data[:0], "confidence": pf.confidence[:0], "path": "x.pose"})
    with pytest.raises(SignlibError, match=r"x\.pose: no frames"):
        pose_to_sequence(empty)


@pytest.mark.parametrize("cut", [1, 100])
def test_header_reader_refuses_a_cut_body(tmp_path, good_pose, cut):
    path = tmp_path / "cut.pose"
    path.write_bytes(good_pose.read_bytes()[:-cut])
    with pytest.raises(SignlibError, match=r"cut\.pose: truncated"):
        read_pose_header(path)


def test_trailing_bytes_are_an_error(tmp_path, good_pose):
    path = tmp_path / "long.pose"
    path.write_bytes(good_pose.read_bytes() + b"\x00" * 7)
    with pytest.raises(SignlibError, match=r"long\.pose"):
        read_pose(path)


@pytest.mark.parametrize("make", ["missing", "directory"])
def test_missing_file_or_directory_is_an_error(tmp_path, make):
    path = tmp_path / "nothing.pose"
    if make == "directory":
        path.mkdir()
    for reader in (read_pose, read_pose_header):
        with pytest.raises(SignlibError, match=r"nothing\.pose"):
            reader(path)


def test_header_only_file_points_to_read_pose_header(tmp_path, good_pose):
    buf = good_pose.read_bytes()
    reader = BufferReader(buf)
    PoseHeader.read(reader)
    path = tmp_path / "only.poseheader"
    path.write_bytes(buf[: reader.read_offset])
    assert read_pose_header(path).components == read_pose(good_pose).components
    with pytest.raises(SignlibError, match=r"only\.poseheader.*read_pose_header"):
        read_pose(path)


def test_rot6d_sequence_is_refused_and_the_old_file_is_kept(tmp_path, good_pose):
    before = good_pose.read_bytes()
    rot = Sequence(np.zeros((4, get_layout("rot6d").dim), np.float32), "rot6d", 25.0)
    with pytest.raises(SignlibError, match=r"good\.pose.*forward kinematics"):
        write_pose(good_pose, rot)
    assert good_pose.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["good.pose"]  # no temporary left behind


def test_mismatched_pose_file_is_refused_and_the_old_file_is_kept(tmp_path, good_pose):
    before = good_pose.read_bytes()
    pf = make_pose_file(holistic())
    with pytest.raises(SignlibError, match=r"good\.pose"):
        write_pose_file(good_pose, PoseFile(**{**pf.__dict__, "data": pf.data[:, :, :10]}))
    assert good_pose.read_bytes() == before


@pytest.mark.parametrize("change, message", [
    (lambda pf: {"data": pf.data[:0], "confidence": pf.confidence[:0]}, "no frames"),
    (lambda pf: {"data": pf.data[:, :0], "confidence": pf.confidence[:, :0]}, "no people"),
    (lambda pf: {"confidence": pf.confidence[:, :, :3]}, "confidence shape"),
    (lambda pf: {"fps": float("nan")}, "fps"),
    (lambda pf: {"fps": 0.0}, "fps"),
    (lambda pf: {"dimensions": (float("nan"), 1, 1)}, "dimensions"),
    (lambda pf: {"components": tuple(c._replace(format="XYZ") for c in pf.components)}, "point formats"),
], ids=["frames", "people", "confidence", "nan_fps", "zero_fps", "nan_dims", "format"])
def test_writer_refuses_what_the_reader_would_refuse_and_keeps_the_old_file(tmp_path, good_pose, change, message):
    before = good_pose.read_bytes()
    pf = read_pose(good_pose)
    with pytest.raises(SignlibError, match=rf"good\.pose: .*{message}") as err:
        write_pose_file(good_pose, PoseFile(**{**pf.__dict__, **change(pf)}))
    assert "\n" not in str(err.value)
    assert good_pose.read_bytes() == before
