import os
import pickle

import numpy as np
import pytest
import torch

from signlib.data import Sequence
from signlib.data.formats import soke
from signlib.data.formats.soke import clip_folders, read_soke_clip, write_soke_clip
from signlib.errors import SignlibError
from signlib.pose.layout import SMPLX_JOINT_INDEX, get_layout
from signlib.pose.rotation import axis_angle_to_rot6d_np, mirror_axis_angle


def _frame(rng, flat=True):
    def aa(n):
        x = rng.uniform(-1, 1, size=(n, 3)).astype(np.float32)  # angles below pi: unambiguous
        return x.reshape(-1) if flat else x
    return {"smplx_root_pose": aa(1), "smplx_body_pose": aa(21), "smplx_lhand_pose": aa(15),
            "smplx_rhand_pose": aa(15), "smplx_jaw_pose": aa(1), "smplx_shape": rng.normal(size=10).astype(np.float32),
            "smplx_expr": rng.normal(size=10).astype(np.float32), "cam_trans": rng.normal(size=3).astype(np.float32)}


def _write_frames(folder, frames, names=None):
    folder.mkdir(parents=True, exist_ok=True)
    for t, frame in enumerate(frames):
        (folder / (names[t] if names else f"clip_{t:06d}.pkl")).write_bytes(pickle.dumps(frame))


def _sequence(layout="rot6d", T=5, seed=0):
    rng = np.random.default_rng(seed)
    lay = get_layout(layout)
    aa = rng.uniform(-1, 1, size=(T, lay.num_joints, 3)).astype(np.float32)
    return Sequence(features=axis_angle_to_rot6d_np(aa).reshape(T, lay.dim), layout=layout, fps=25, id="clip")


@pytest.mark.parametrize("layout", ["rot6d", "rot6d_spine3"])
@pytest.mark.parametrize("flat", [True, False])
def test_reader_picks_upper_body_and_mirrors_left_hand(tmp_path, layout, flat):
    rng = np.random.default_rng(1)
    frames = [_frame(rng, flat) for _ in range(4)]
    _write_frames(tmp_path / "clip", frames)
    seq = read_soke_clip(tmp_path / "clip", layout=layout, fps=30)
    lay = get_layout(layout)
    assert seq.features.shape == (4, lay.dim) and seq.fps == 30 and seq.id == "clip"
    x = lay.unflatten(seq.features)
    for t, f in enumerate(frames):
        body = np.reshape(f["smplx_body_pose"], (21, 3))
        for j, name in enumerate(lay.joints[:lay.joint_slice("body").stop]):
            np.testing.assert_allclose(x[t, j], axis_angle_to_rot6d_np(body[SMPLX_JOINT_INDEX[name] - 1]), atol=1e-6)
        left = mirror_axis_angle(torch.as_tensor(np.reshape(f["smplx_lhand_pose"], (15, 3)))).numpy()
        np.testing.assert_allclose(x[t, lay.joint_slice("left_hand")], axis_angle_to_rot6d_np(left), atol=1e-6)
        right = np.reshape(f["smplx_rhand_pose"], (15, 3))
        np.testing.assert_allclose(x[t, lay.joint_slice("right_hand")], axis_angle_to_rot6d_np(right), atol=1e-6)


def test_frames_are_ordered_by_number_not_by_name(tmp_path):
    rng = np.random.default_rng(2)
    frames = [_frame(rng) for _ in range(3)]
    _write_frames(tmp_path / "c", frames, names=["f_10.pkl", "f_9.pkl", "f_11.pkl"])  # by name: 10, 11, 9
    _write_frames(tmp_path / "d", [frames[1], frames[0], frames[2]])  # 9, 10, 11
    np.testing.assert_allclose(read_soke_clip(tmp_path / "c").features, read_soke_clip(tmp_path / "d").features)


@pytest.mark.parametrize("names, missing", [
    (["f_0.pkl", "f_1.pkl", "f_3.pkl"], "frame 2 missing"),
    (["f_1.pkl", "f_2.pkl", "f_7.pkl"], "frames 3 to 6 missing"),
])
def test_a_gap_in_the_frame_numbers_names_the_folder_and_the_missing_frame(tmp_path, names, missing):
    rng = np.random.default_rng(3)
    _write_frames(tmp_path / "gap", [_frame(rng) for _ in names], names=names)
    with pytest.raises(SignlibError, match=rf"gap: {missing}: the frame files jump from") as err:
        read_soke_clip(tmp_path / "gap")
    assert "\n" not in str(err.value)


def test_hidden_files_in_a_clip_folder_are_not_frames(tmp_path):
    rng = np.random.default_rng(4)
    _write_frames(tmp_path / "c", [_frame(rng) for _ in range(2)])
    (tmp_path / "c" / ".clip_000000.pkl.x1y2.pkl").write_bytes(b"half a temporary file")
    assert read_soke_clip(tmp_path / "c").num_frames == 2


class _Killed(BaseException):
    """Stands in for SIGKILL: nothing after it runs (the clean-up is patched out too)."""


def test_a_write_killed_mid_clip_leaves_the_old_clip_and_the_next_write_cleans_up(tmp_path, monkeypatch):
    old = _sequence(T=5, seed=1)
    write_soke_clip(tmp_path / "c", old)
    written = []

    def dies_after_two(path, blob):
        if len(written) == 2:
            raise _Killed
        written.append(path)
        path.write_bytes(blob)

    monkeypatch.setattr(soke, "_write_frame", dies_after_two)
    monkeypatch.setattr(soke, "_discard", lambda path: None)  # a killed process cleans nothing up
    with pytest.raises(_Killed):
        write_soke_clip(tmp_path / "c", _sequence(T=4, seed=2))
    monkeypatch.undo()

    leftovers = [p for p in tmp_path.iterdir() if p.name != "c"]
    assert len(leftovers) == 1 and leftovers[0].name.startswith(".c.") and len(list(leftovers[0].iterdir())) == 2
    np.testing.assert_allclose(read_soke_clip(tmp_path / "c").features, old.features, atol=1e-5)  # all old
    assert clip_folders(tmp_path) == [tmp_path / "c"]  # the half-written folder is no clip

    new = _sequence(T=3, seed=3)  # fewer frames than the old clip: the folder is replaced as a whole
    write_soke_clip(tmp_path / "c", new)
    assert [p.name for p in tmp_path.iterdir()] == ["c"]
    np.testing.assert_allclose(read_soke_clip(tmp_path / "c").features, new.features, atol=1e-5)


def test_without_an_atomic_exchange_the_swap_still_never_mixes_clips(tmp_path, monkeypatch):
    monkeypatch.setattr(soke, "_exchange", lambda a, b: False)  # e.g. macOS, Windows
    write_soke_clip(tmp_path / "c", _sequence(T=5, seed=1))
    new = _sequence(T=2, seed=2)
    write_soke_clip(tmp_path / "c", new)
    assert [p.name for p in tmp_path.iterdir()] == ["c"]
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["clip_000000.pkl", "clip_000001.pkl"]
    np.testing.assert_allclose(read_soke_clip(tmp_path / "c").features, new.features, atol=1e-5)


def test_a_failing_write_leaves_no_temporary_folder(tmp_path, monkeypatch):
    write_soke_clip(tmp_path / "c", _sequence(T=2, seed=1))
    before = {p.name: p.read_bytes() for p in (tmp_path / "c").iterdir()}

    def disk_full(path, blob):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(soke, "_write_frame", disk_full)
    with pytest.raises(OSError):
        write_soke_clip(tmp_path / "c", _sequence(T=2, seed=2))
    assert [p.name for p in tmp_path.iterdir()] == ["c"]
    assert {p.name: p.read_bytes() for p in (tmp_path / "c").iterdir()} == before


@pytest.mark.parametrize("layout", ["rot6d", "rot6d_spine3"])
def test_write_then_read_round_trips(tmp_path, layout):
    seq = _sequence(layout)
    paths = write_soke_clip(tmp_path / "clip", seq)
    assert [p.name for p in paths] == [f"clip_{t:06d}.pkl" for t in range(5)]
    back = read_soke_clip(tmp_path / "clip", layout=layout)
    np.testing.assert_allclose(back.features, seq.features, atol=1e-5)


def test_smplx_extras_survive_a_round_trip(tmp_path):
    rng = np.random.default_rng(3)
    _write_frames(tmp_path / "a", [_frame(rng) for _ in range(3)])
    seq = read_soke_clip(tmp_path / "a")
    assert seq.meta["smplx"]["smplx_shape"].shape == (3, 10)
    write_soke_clip(tmp_path / "b", seq)
    back = read_soke_clip(tmp_path / "b")
    for key, values in seq.meta["smplx"].items():
        np.testing.assert_allclose(back.meta["smplx"][key], values)


def test_written_frames_zero_the_lower_body_and_read_with_plain_pickle(tmp_path):
    write_soke_clip(tmp_path / "clip", _sequence())
    frame = pickle.loads((tmp_path / "clip" / "clip_000000.pkl").read_bytes())
    body = frame["smplx_body_pose"].reshape(21, 3)
    upper = {SMPLX_JOINT_INDEX[n] - 1 for n in get_layout("rot6d").joints[:10]}
    assert not body[[i for i in range(21) if i not in upper]].any()
    assert frame["smplx_lhand_pose"].shape == (45,)


def _bad(kind, rng):
    frame = _frame(rng)
    if kind == "missing key":
        del frame["smplx_rhand_pose"]
    elif kind == "wrong shape":
        frame["smplx_body_pose"] = np.zeros(60, np.float32)
    elif kind == "nan":
        frame["smplx_lhand_pose"][3] = np.nan
    elif kind == "not numeric":
        frame["smplx_body_pose"] = "zeros"
    elif kind == "not a dict":
        frame = [frame]
    elif kind == "complex":
        frame["smplx_rhand_pose"] = frame["smplx_rhand_pose"] + 1j
    elif kind == "text":
        frame["smplx_body_pose"] = np.array(["0.1"] * 63)
    return frame


@pytest.mark.parametrize("kind, message", [
    ("missing key", "missing key 'smplx_rhand_pose'"),
    ("wrong shape", "smplx_body_pose.*shape"),
    ("nan", "NaN"),
    ("not numeric", "not numeric"),
    ("not a dict", "holds a list"),
    ("complex", "smplx_rhand_pose.*not numeric.*complex"),  # a cast would drop the imaginary part
    ("text", "smplx_body_pose.*not numeric"),
])
def test_bad_frame_is_one_line_error_naming_that_file(tmp_path, kind, message):
    rng = np.random.default_rng(4)
    _write_frames(tmp_path / "c", [_frame(rng), _bad(kind, rng), _frame(rng)])
    with pytest.raises(SignlibError, match=rf"clip_000001\.pkl: .*{message}") as err:
        read_soke_clip(tmp_path / "c")
    assert "\n" not in str(err.value)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_frame_with_code_is_refused_and_does_not_run(tmp_path):
    marker = tmp_path / "ran"
    frame = _frame(np.random.default_rng(5))
    frame["cam_trans"] = _Payload(marker)
    _write_frames(tmp_path / "c", [frame])
    with pytest.raises(SignlibError, match=r"clip_000000\.pkl: refused to unpickle global"):
        read_soke_clip(tmp_path / "c")
    assert not marker.exists()


def test_empty_or_missing_folder_names_the_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SignlibError, match=r"empty: no \.pkl frame files"):
        read_soke_clip(tmp_path / "empty")
    with pytest.raises(SignlibError, match=r"absent: not a folder"):
        read_soke_clip(tmp_path / "absent")


def test_unnumbered_and_duplicate_frame_names_are_refused(tmp_path):
    rng = np.random.default_rng(6)
    _write_frames(tmp_path / "a", [_frame(rng)], names=["frame.pkl"])
    with pytest.raises(SignlibError, match=r"frame\.pkl: no frame number"):
        read_soke_clip(tmp_path / "a")
    _write_frames(tmp_path / "b", [_frame(rng), _frame(rng)], names=["x_1.pkl", "y_01.pkl"])
    with pytest.raises(SignlibError, match=r"frame number 1"):
        read_soke_clip(tmp_path / "b")


def test_writing_over_another_clip_is_refused_and_touches_nothing(tmp_path):
    write_soke_clip(tmp_path / "c", _sequence(T=5, seed=1))
    before = {p.name: p.read_bytes() for p in (tmp_path / "c").iterdir()}
    with pytest.raises(SignlibError, match=r"c: already holds other frame files"):
        write_soke_clip(tmp_path / "c", _sequence(T=3, seed=2), prefix="other")
    assert {p.name: p.read_bytes() for p in (tmp_path / "c").iterdir()} == before
    (tmp_path / "c" / "notes.txt").write_text("keep me")  # the swap would lose it
    with pytest.raises(SignlibError, match=r"c: already holds other files \(notes\.txt"):
        write_soke_clip(tmp_path / "c", _sequence(T=5, seed=1))
    assert (tmp_path / "c" / "notes.txt").read_text() == "keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["c"]


def test_unwritable_layout_and_bad_extras_leave_old_frames_untouched(tmp_path):
    write_soke_clip(tmp_path / "c", _sequence(T=2, seed=1))
    before = {p.name: p.read_bytes() for p in (tmp_path / "c").iterdir()}
    xyz = Sequence(features=np.zeros((2, get_layout("xyz_mediapipe").dim)), layout="xyz_mediapipe", fps=25, id="clip")
    with pytest.raises(SignlibError, match="xyz_mediapipe"):
        write_soke_clip(tmp_path / "c", xyz)
    bad = _sequence(T=2, seed=2).replace(meta={"smplx": {"smplx_shape": np.zeros((5, 10))}})
    with pytest.raises(SignlibError, match="smplx_shape"):
        write_soke_clip(tmp_path / "c", bad)
    assert {p.name: p.read_bytes() for p in (tmp_path / "c").iterdir()} == before
