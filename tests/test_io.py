"""Atomic, reproducible writes, and temporary files that no reader mistakes for data."""

import json
import os
import stat

import numpy as np
import pytest

from signlib.errors import SignlibError
from signlib.io import atomic_path, remove_partials, write_json, write_npz


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


def test_temporary_files_never_match_the_targets_glob(tmp_path):
    target = tmp_path / "clip_001.npz"
    with atomic_path(target) as tmp:
        # What a SIGKILL here would leave behind: hidden, and not "*.npz" whatever the target is.
        assert tmp.parent == tmp_path and tmp.name.startswith(".clip_001.npz.") and tmp.name.endswith(".partial")
        assert not list(tmp_path.glob("*.npz")) and not tmp.match("*.npz")
        tmp.write_bytes(b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["clip_001.npz"]


def test_a_suffixed_temporary_file_lies_in_a_hidden_folder_that_goes_away(tmp_path):
    target = tmp_path / "movie.mp4"
    with atomic_path(target, suffix=".mp4") as tmp:
        assert tmp.parent == tmp_path / ".partial" and tmp.suffix == ".mp4"
        assert not list(tmp_path.glob("*.mp4"))  # a flat glob does not descend into .partial/
        tmp.write_bytes(b"frames")
    assert target.read_bytes() == b"frames" and [p.name for p in tmp_path.iterdir()] == ["movie.mp4"]


def test_a_writer_that_appends_an_extension_is_an_error_not_an_empty_file(tmp_path):
    target = tmp_path / "a.npy"
    write_json(target, {"old": True})
    with pytest.raises(SignlibError, match=r"a\.npy: the writer added an extension .*\.partial\.npy"):
        with atomic_path(target) as tmp:
            np.save(tmp, np.arange(3))  # numpy appends .npy to a name without it
    assert json.loads(target.read_text()) == {"old": True}
    assert [p.name for p in tmp_path.iterdir()] == ["a.npy"]


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_written_files_get_the_umask_mode_not_the_private_temp_mode(tmp_path):
    old = os.umask(0o022)
    try:
        write_json(tmp_path / "m.json", {})
        with atomic_path(tmp_path / "d.pt", durable=True) as tmp:
            tmp.write_bytes(b"x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "m.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d.pt").stat().st_mode) == 0o644


def test_remove_partials_deletes_only_the_leftovers_of_that_target(tmp_path):
    leftovers = [tmp_path / ".last.pt.0123abcd.partial", tmp_path / ".partial" / ".last.pt.89abcdef.pt"]
    others = [tmp_path / "last.pt", tmp_path / ".last.pt.x.0123abcd.partial", tmp_path / ".final.pt.0123abcd.partial"]
    for path in leftovers + others:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"half")
    assert sorted(remove_partials(tmp_path / "last.pt")) == sorted(leftovers)
    assert sorted(p for p in tmp_path.iterdir()) == sorted(others)  # the emptied .partial/ went too


def test_write_torch_gives_the_same_bytes_for_the_same_object(tmp_path):
    # torch.save(obj, path) names the archive's records after the (random) temporary file: equal
    # weights then hashed differently in DVC on every run.
    import torch

    from signlib.io import write_torch

    state = {"w": torch.arange(12.0).reshape(3, 4), "b": torch.zeros(4)}
    write_torch(tmp_path / "a.pt", state)
    write_torch(tmp_path / "sub" / "b.pt", state, durable=True)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "sub" / "b.pt").read_bytes()
    loaded = torch.load(tmp_path / "a.pt", weights_only=True)
    assert torch.equal(loaded["w"], state["w"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.pt", "sub"]  # no temporary file left


def test_json_and_yaml_readers_name_a_folder_or_an_empty_file(tmp_path):
    from signlib.io import read_json, read_yaml_mapping

    with pytest.raises(SignlibError, match="is a folder"):
        read_json(tmp_path)
    with pytest.raises(SignlibError, match="is a folder"):
        read_yaml_mapping(tmp_path)
    (tmp_path / "empty.yaml").write_text("# nothing but a comment\n")
    with pytest.raises(SignlibError, match="empty.yaml: is empty"):
        read_yaml_mapping(tmp_path / "empty.yaml")
