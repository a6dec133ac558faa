import os
import pickle

import numpy as np
import pytest
import torch

from signlib.data import Segment
from signlib.data.formats.fast_segments import read_segments, to_segments, write_segments
from signlib.errors import SignlibError

MAPPING = {
    "clip_a": {"segments": torch.tensor([[0, 5], [7, 12]]), "glosses": ["REGEN", "SCHNEE"],
               "scores": torch.tensor([0.9, 0.4]), "fps": 25.0},
    "clip_b": {"segments": torch.zeros((0, 2), dtype=torch.int64)},
}


def test_round_trip_keeps_segments_glosses_scores_and_fps(tmp_path):
    path = tmp_path / "segments.pt"
    write_segments(path, MAPPING)
    back = read_segments(path)
    assert back.keys() == MAPPING.keys()
    torch.testing.assert_close(back["clip_a"]["segments"], MAPPING["clip_a"]["segments"])
    assert back["clip_a"]["segments"].dtype == torch.int64
    torch.testing.assert_close(back["clip_a"]["scores"], MAPPING["clip_a"]["scores"])
    assert back["clip_a"]["glosses"] == ["REGEN", "SCHNEE"] and back["clip_a"]["fps"] == 25.0
    assert back["clip_b"]["segments"].shape == (0, 2) and set(back["clip_b"]) == {"segments"}


@pytest.mark.parametrize("segments, expected", [
    ([[0, 5], [7, 12]], [[0, 5], [7, 12]]),
    (np.array([[0, 5], [7, 12]], dtype=np.int32), [[0, 5], [7, 12]]),
    (torch.tensor([[0, 5], [7, 12]], dtype=torch.int32), [[0, 5], [7, 12]]),
    ([], []),
])
def test_writer_accepts_lists_numpy_and_tensors(tmp_path, segments, expected):
    write_segments(tmp_path / "s.pt", {"c": {"segments": segments}})
    back = read_segments(tmp_path / "s.pt")["c"]["segments"]
    assert back.tolist() == expected and back.dtype == torch.int64 and back.shape[1:] == (2,)


def test_file_is_a_plain_torch_save_that_loads_with_weights_only(tmp_path):
    write_segments(tmp_path / "s.pt", MAPPING)
    raw = torch.load(tmp_path / "s.pt", weights_only=True)
    assert isinstance(raw["clip_a"]["segments"], torch.Tensor)


def test_entry_becomes_segment_records():
    assert to_segments(MAPPING["clip_a"]) == (Segment(0, 5, "REGEN"), Segment(7, 12, "SCHNEE"))
    assert to_segments({"segments": torch.tensor([[1, 2]])}) == (Segment(1, 2, ""),)


@pytest.mark.parametrize("mapping, message", [
    ([1, 2], "holds a list"),
    ({1: {"segments": torch.tensor([[0, 1]])}}, "clip ids must be strings"),
    ({"c": torch.tensor([[0, 1]])}, "entry is a Tensor"),
    ({"c": {"glosses": []}}, "missing key 'segments'"),
    ({"c": {"segments": torch.tensor([[0, 1]]), "frames": 3}}, "unknown key 'frames'"),
    ({"c": {"segments": torch.tensor([0, 1, 2])}}, "integer \\(N, 2\\)"),
    ({"c": {"segments": torch.tensor([[0.0, 1.0]])}}, "integer \\(N, 2\\)"),
    ({"c": {"segments": torch.tensor([[3, 3]])}}, "start < end"),
    ({"c": {"segments": torch.tensor([[-1, 3]])}}, "start < end"),
    ({"c": {"segments": torch.tensor([[0, 1]]), "glosses": ["A", "B"]}}, "'glosses' must be a list of 1"),
    ({"c": {"segments": torch.tensor([[0, 1]]), "scores": torch.tensor([0.1, 0.2])}}, "'scores'"),
    ({"c": {"segments": torch.tensor([[0, 1]]), "fps": -25}}, "'fps' must be a positive"),
])
def test_bad_structure_is_one_line_error_naming_the_file(tmp_path, mapping, message):
    path = tmp_path / "bad_segments.pt"
    torch.save(mapping, path)
    with pytest.raises(SignlibError, match=rf"bad_segments\.pt: .*{message}") as err:
        read_segments(path)
    assert "\n" not in str(err.value)
    with pytest.raises(SignlibError, match=message):
        write_segments(tmp_path / "out.pt", mapping)
    assert not (tmp_path / "out.pt").exists()


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_pickled_objects_are_refused_without_running(tmp_path):
    marker = tmp_path / "ran"
    torch.save({"c": {"segments": torch.tensor([[0, 1]]), "glosses": _Payload(marker)}}, tmp_path / "evil.pt")
    with pytest.raises(SignlibError, match=r"evil\.pt: not a readable segments\.pt") as err:
        read_segments(tmp_path / "evil.pt")
    assert "\n" not in str(err.value)
    assert not marker.exists()


@pytest.mark.parametrize("content", [b"", b"not torch", pickle.dumps({"c": 1}, protocol=2)[:-2]],
                         ids=["empty", "text", "truncated pickle"])
def test_not_a_torch_file_names_the_file(tmp_path, content):
    (tmp_path / "junk.pt").write_bytes(content)
    with pytest.raises(SignlibError, match=r"junk\.pt: not a readable"):
        read_segments(tmp_path / "junk.pt")


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(SignlibError, match=r"absent\.pt: no such file"):
        read_segments(tmp_path / "absent.pt")


def test_failed_write_leaves_old_file_byte_identical(tmp_path, monkeypatch):
    path = tmp_path / "segments.pt"
    write_segments(path, MAPPING)
    before = path.read_bytes()
    with pytest.raises(SignlibError):
        write_segments(path, {"c": {"segments": [[5, 2]]}})

    def crash(obj, f, *a, **k):
        f.write(b"partial")  # into the temporary file
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError):
        write_segments(path, {"c": {"segments": [[0, 2]]}})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["segments.pt"]


def test_the_same_segments_give_the_same_bytes(tmp_path):
    # torch names the archive after the file it is given; the writer must not leak its temp name.
    write_segments(tmp_path / "a.pt", MAPPING)
    write_segments(tmp_path / "b.pt", MAPPING)
    assert (tmp_path / "a.pt").read_bytes() == (tmp_path / "b.pt").read_bytes()


def test_a_directory_claiming_more_than_the_file_holds_is_refused_before_torch_reads_it(tmp_path):
    path = tmp_path / "big.pt"
    write_segments(path, MAPPING)
    data = bytearray(path.read_bytes())
    # The central directory's uncompressed-size field of the first member (offset 24 in its entry).
    entry = data.index(b"PK\x01\x02")
    data[entry + 24:entry + 28] = (300 << 20).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(SignlibError, match=r"big\.pt: not a readable segments\.pt .*claims 314572800 bytes") as err:
        read_segments(path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("fps", [10**400, float("inf"), True])
def test_absurd_fps_is_refused(tmp_path, fps):
    with pytest.raises(SignlibError, match="'fps' must be a positive number"):
        write_segments(tmp_path / "s.pt", {"c": {"segments": [[0, 2]], "fps": fps}})


def test_a_zip_whose_first_bytes_are_damaged_is_refused_before_torch_reads_it(tmp_path):
    # Python's zipfile still finds the archive (from its end); torch would take its legacy path and
    # allocate a length read from the damaged bytes ("XK\x03\x04" reads as a 335 MB string).
    path = tmp_path / "x.pt"
    write_segments(path, MAPPING)
    path.write_bytes(b"X" + path.read_bytes()[1:])
    with pytest.raises(SignlibError, match=r"x\.pt: .*does not start with a zip header"):
        read_segments(path)
