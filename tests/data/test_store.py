"""signlib clip files: round trip, refusal of pickles, clear errors."""

import json
import tracemalloc
import zipfile

import numpy as np
import pytest

from signlib.data.sequence import Sequence
from signlib.data.store import read_clip, write_clip
from signlib.errors import SignlibError


def _seq():
    rng = np.random.default_rng(0)
    valid = np.ones((12, 49), bool)
    valid[3, 30:] = False
    return Sequence(features=rng.normal(size=(12, 147)).astype(np.float32), layout="xyz_mediapipe", fps=30,
                    valid=valid, segments=[(1, 4, "HAUS"), (6, 9, "家")], text="das Haus", language="DGS",
                    signer="s1", id="clip_1")


def test_round_trip_keeps_every_field(tmp_path):
    seq = _seq()
    write_clip(tmp_path / "c.npz", seq)
    back = read_clip(tmp_path / "c.npz")
    np.testing.assert_array_equal(back.features, seq.features)
    np.testing.assert_array_equal(back.valid, seq.valid)
    assert back.bio is None and back.segments == seq.segments
    assert (back.text, back.language, back.signer, back.id, back.fps, back.layout) == \
        (seq.text, seq.language, seq.signer, seq.id, seq.fps, seq.layout)


def test_missing_field_is_named(tmp_path):
    np.savez(tmp_path / "x.npz", features=np.zeros((3, 147)))
    with pytest.raises(SignlibError, match=r"x\.npz: not a signlib clip: missing field 'valid'"):
        read_clip(tmp_path / "x.npz")


def test_object_arrays_are_refused_without_unpickling(tmp_path):
    np.savez(tmp_path / "evil.npz", features=np.array([object()], dtype=object), valid=0, bio=0, segments=0,
             glosses=0, meta=0)
    with pytest.raises(SignlibError, match="evil.npz"):
        read_clip(tmp_path / "evil.npz")


@pytest.mark.parametrize("content", [b"", b"not a zip", b"PK\x03\x04truncated"])
def test_garbage_file_is_a_clear_error(tmp_path, content):
    (tmp_path / "bad.npz").write_bytes(content)
    with pytest.raises(SignlibError, match="bad.npz"):
        read_clip(tmp_path / "bad.npz")


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "c.npz"
    write_clip(path, _seq())
    before = path.read_bytes()

    def boom(fh, array, **kwargs):
        fh.write(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", boom)
    with pytest.raises(OSError):
        write_clip(path, _seq())
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["c.npz"]  # no temporary file left behind


def _clip_arrays(**changes) -> dict:
    """The arrays write_clip stores for _seq(), with ``changes`` (None drops a field)."""
    seq = _seq()
    meta = {"layout": seq.layout, "fps": seq.fps, "text": seq.text, "language": seq.language, "signer": seq.signer,
            "id": seq.id}
    arrays = dict(features=seq.features, valid=seq.valid, bio=np.zeros(0, np.int8),
                  segments=np.array([[1, 4], [6, 9]]), glosses=np.array(["HAUS", "家"]), meta=np.array(json.dumps(meta)))
    for key, value in changes.items():
        if key.startswith("meta_"):
            meta[key[5:]] = value
            arrays["meta"] = np.array(json.dumps(meta))
        else:
            arrays[key] = value
    return {k: v for k, v in arrays.items() if v is not None}


@pytest.mark.parametrize("changes, message", [
    ({"features": np.zeros((12, 147), "U1")}, "field 'features' must be a 2-d float array"),
    ({"features": np.full((12, 147), 1e300)}, "NaN or inf"),
    ({"valid": np.ones((12, 49), np.float32)}, "field 'valid' must be a 2-d bool array"),
    ({"bio": np.full(12, 258, np.int64)}, "field 'bio' must hold only 0"),  # int8 would wrap 258 to 2
    ({"segments": np.array([1, 4, 6, 9])}, "field 'segments' must be a 2-d integer array"),
    ({"glosses": np.array(["HAUS"])}, "'segments' .* and 'glosses' .* must be"),
    ({"meta": np.array("{not json")}, "field 'meta' is not valid JSON"),
    ({"meta": np.array("[1, 2]")}, "must be a JSON object"),
    ({"meta_fps": 10**400}, "meta 'fps' must be a positive number"),
    ({"meta_fps": "25"}, "meta 'fps' must be a positive number"),
    ({"meta_fps": True}, "meta 'fps' must be a positive number"),
    ({"meta_text": ["a"]}, "meta 'text' must be a string"),
    ({"meta_layout": "no_such_layout"}, "unknown layout"),
])
def test_each_field_is_checked_and_named(tmp_path, changes, message):
    np.savez(tmp_path / "c.npz", **_clip_arrays(**changes))
    with pytest.raises(SignlibError, match=rf"c\.npz: .*{message}") as err:
        read_clip(tmp_path / "c.npz")
    assert "\n" not in str(err.value)


def test_a_header_claiming_an_absurd_shape_is_refused_without_a_memory_error(tmp_path):
    # The tester's case: numpy.load allocated what the header said, and raised MemoryError.
    path = tmp_path / "huge.npz"
    write_clip(path, _seq())
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    # Same length (the header's padding shrinks), so the member stays a well-formed .npy.
    members["glosses.npy"] = members["glosses.npy"].replace(b"(2,), }" + b" " * 12, b"(9999999999999,), }")
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    tracemalloc.start()
    try:
        with pytest.raises(SignlibError, match=r"huge\.npz: member 'glosses\.npy': its header claims"):
            read_clip(path)
        assert tracemalloc.get_traced_memory()[1] < 50 * 2**20
    finally:
        tracemalloc.stop()
