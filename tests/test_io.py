"""Atomic, reproducible writes."""

import numpy as np
import pytest

from signlib.io import atomic_path, write_json, write_npz


def test_write_npz_is_byte_reproducible_and_loads_without_pickle(tmp_path):
    arrays = {"x": np.arange(12, dtype=np.float32).reshape(3, 4), "s": np.array(["家", "HOUSE"])}
    write_npz(tmp_path / "a.npz", arrays)
    write_npz(tmp_path / "b.npz", arrays)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    with np.load(tmp_path / "a.npz", allow_pickle=False) as z:
        np.testing.assert_array_equal(z["x"], arrays["x"])
        assert z["s"].tolist() == ["家", "HOUSE"]


def test_write_npz_refuses_object_arrays(tmp_path):
    with pytest.raises(ValueError):
        write_npz(tmp_path / "o.npz", {"o": np.array([{}], dtype=object)})
    assert not list(tmp_path.iterdir())


def test_atomic_path_keeps_the_old_file_when_the_block_fails(tmp_path):
    target = tmp_path / "t.json"
    write_json(target, {"a": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("interrupted")
    assert target.read_text() == '{\n  "a": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["t.json"]
