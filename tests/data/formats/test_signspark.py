import numpy as np
import pytest

from signlib.data import Segment, Sequence
from signlib.data.formats import signspark
from signlib.data.formats.signspark import read_signspark, write_signspark
from signlib.errors import SignlibError
from signlib.pose.layout import get_layout


def _sequence(layout="rot6d", T=12, seed=0, **kw):
    rng = np.random.default_rng(seed)
    D = get_layout(layout).dim
    defaults = dict(segments=(Segment(0, 4, "REGEN"), Segment(5, 11, "SCHNEE")), text="regen und schnee",
                    language="DGS", id="clip")
    defaults.update(kw)
    return Sequence(features=rng.normal(size=(T, D)).astype(np.float32), layout=layout, fps=25, **defaults)


def _record(T=6, body=60, **overrides):
    rec = {
        "language": np.array("DGS"), "translation": np.array("hallo"),
        "gloss": np.array(["A", "B"]), "segment": np.array([[0, 2], [3, 6]]),
        "left_features": np.zeros((T, 90), np.float32), "right_features": np.zeros((T, 90), np.float32),
        "body_features": np.zeros((T, body), np.float32),
    }
    rec.update(overrides)
    return {k: v for k, v in rec.items() if v is not None}


@pytest.mark.parametrize("layout", ["rot6d", "rot6d_spine3"])
def test_round_trip_keeps_features_glosses_text_and_language(tmp_path, layout):
    seq = _sequence(layout)
    path = tmp_path / "clip.npz"
    write_signspark(path, seq)
    back = read_signspark(path, fps=25)
    assert back.layout == layout
    np.testing.assert_array_equal(back.features, seq.features)
    assert back.segments == seq.segments
    assert (back.text, back.language, back.id, back.fps) == (seq.text, seq.language, "clip", 25)


def test_record_has_exactly_the_released_fields_and_loads_without_pickle(tmp_path):
    path = tmp_path / "clip.npz"
    write_signspark(path, _sequence())
    with np.load(path, allow_pickle=False) as z:
        assert sorted(z.files) == sorted(signspark.FIELDS)
        assert z["body_features"].shape == (12, 60)
        assert z["left_features"].shape == z["right_features"].shape == (12, 90)
        assert z["gloss"].dtype.kind == "U" and z["segment"].shape == (2, 2)


def test_hands_are_stored_without_conversion(tmp_path):
    seq = _sequence()
    path = tmp_path / "clip.npz"
    write_signspark(path, seq)
    parts = get_layout("rot6d").split(seq.features)
    with np.load(path) as z:
        np.testing.assert_array_equal(z["left_features"], parts["left_hand"])


def test_clip_without_segments_round_trips(tmp_path):
    seq = _sequence(segments=(), text="", language="")
    write_signspark(tmp_path / "empty.npz", seq)
    back = read_signspark(tmp_path / "empty.npz")
    assert back.segments == () and back.text == ""


def test_gloss_stored_as_one_string_is_split_on_spaces(tmp_path):
    np.savez(tmp_path / "a.npz", **_record(gloss=np.array("A B")))
    assert read_signspark(tmp_path / "a.npz").glosses == ["A", "B"]


def test_fps_is_an_argument(tmp_path):
    np.savez(tmp_path / "a.npz", **_record())
    assert read_signspark(tmp_path / "a.npz", fps=50).fps == 50


@pytest.mark.parametrize("overrides, message", [
    ({"gloss": None}, "missing field 'gloss'"),
    ({"body_features": None}, "missing field 'body_features'"),
    ({"body_features": np.zeros((6, 61), np.float32)}, "body_features"),
    ({"left_features": np.zeros((6, 45), np.float32)}, "left_features"),
    ({"right_features": np.zeros((5, 90), np.float32)}, "frames"),
    ({"right_features": np.full((6, 90), np.nan, np.float32)}, "right_features.*NaN"),
    ({"segment": np.array([[0, 2]])}, "1 segments but 2 glosses"),
    ({"segment": np.array([[0.0, 2.0], [3.0, 6.0]])}, "segment"),
    ({"segment": np.array([[0, 2], [3, 9]])}, "outside"),
    ({"translation": np.array(["a", "b"])}, "translation"),
    ({"gloss": np.array(["A", 1], dtype=object)}, "gloss.*object array"),
    ({"left_features": np.zeros((0, 90), np.float32), "right_features": np.zeros((0, 90), np.float32),
      "body_features": np.zeros((0, 60), np.float32), "segment": np.zeros((0, 2), int), "gloss": np.array([], "<U1")},
     "empty"),
])
def test_bad_record_is_one_line_error_naming_file_and_field(tmp_path, overrides, message):
    path = tmp_path / "bad_clip.npz"
    np.savez(path, **_record(**overrides), allow_pickle=True)
    with pytest.raises(SignlibError, match=rf"bad_clip\.npz.*{message}") as err:
        read_signspark(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated", b"plain text"])
def test_unreadable_file_names_the_file(tmp_path, content):
    path = tmp_path / "broken.npz"
    path.write_bytes(content)
    with pytest.raises(SignlibError, match=r"broken\.npz"):
        read_signspark(path)


def test_single_array_npy_is_not_a_record(tmp_path):
    path = tmp_path / "one.npy"
    np.save(path, np.zeros(3))
    with pytest.raises(SignlibError, match=r"one\.npy.*single array"):
        read_signspark(path)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(SignlibError, match=r"nowhere\.npz"):
        read_signspark(tmp_path / "nowhere.npz")


def test_wrong_layout_is_refused_and_old_file_untouched(tmp_path):
    path = tmp_path / "clip.npz"
    write_signspark(path, _sequence())
    before = path.read_bytes()
    xyz = Sequence(features=np.zeros((4, get_layout("xyz_mediapipe").dim)), layout="xyz_mediapipe", fps=25)
    with pytest.raises(SignlibError, match=r"clip\.npz.*xyz_mediapipe"):
        write_signspark(path, xyz)
    assert path.read_bytes() == before


def test_failure_while_writing_leaves_old_file_byte_identical(tmp_path, monkeypatch):
    path = tmp_path / "clip.npz"
    write_signspark(path, _sequence(seed=1))
    before = path.read_bytes()

    def half_write(fh, array, **kwargs):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", half_write)
    with pytest.raises(OSError):
        write_signspark(path, _sequence(seed=2))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.npz"]


def test_hand_valid_mask_survives_the_round_trip_and_plain_records_are_fully_valid(tmp_path):
    seq = _sequence(seed=3)
    valid = np.ones((seq.num_frames, 40), bool)
    valid[2:4, 10:25] = False  # left hand missing on frames 2-3
    write_signspark(tmp_path / "v.npz", seq.replace(valid=valid))
    back = read_signspark(tmp_path / "v.npz")
    np.testing.assert_array_equal(back.valid, valid)
    write_signspark(tmp_path / "p.npz", seq.replace(valid=None))
    assert read_signspark(tmp_path / "p.npz").valid is None
