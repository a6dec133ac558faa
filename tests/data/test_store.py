"""signlib clip files: round trip, refusal of pickles, clear errors."""

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
