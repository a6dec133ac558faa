import os
import pickle

import numpy as np
import pytest
import torch

from signlib.data.safe_pickle import safe_load
from signlib.errors import SignlibError


class _WritesMarker:
    """Unpickling this with plain pickle would create the marker file via os.system."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


class _Evil:
    def __reduce__(self):
        return eval, ("__import__('os').getcwd()",)


class _Custom:
    def __init__(self):
        self.x = 1


DATA = {
    "float32 array": np.arange(12, dtype=np.float32).reshape(3, 4),
    "non-contiguous array": np.arange(12.0).reshape(3, 4).T,
    "unicode array": np.array(["REGEN", "SCHNEE"]),
    "numpy scalars": [np.float32(1.5), np.int64(3), np.bool_(True)],
    "structured array": np.zeros(2, dtype=[("a", "f4"), ("b", "i8")]),
    "containers": {"t": (1, 2.5, "x"), "s": {1, 2}, "f": frozenset({3}), "b": b"\x00\xff", "c": 1 + 2j, "n": None},
    "big int, bytearray, range, slice": [10 ** 40, bytearray(b"ab"), range(2, 9, 3), slice(1, None)],
    "smplx frame": {"smplx_body_pose": np.zeros(63, np.float32), "cam_trans": np.ones(3)},
}


def _equal(a, b):
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b and type(a) is type(b)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
@pytest.mark.parametrize("name", list(DATA))
def test_plain_data_round_trips_at_every_protocol(name, protocol):
    obj = DATA[name]
    assert _equal(safe_load(pickle.dumps(obj, protocol=protocol)), obj)


def test_reads_a_file_path(tmp_path):
    path = tmp_path / "frame.pkl"
    path.write_bytes(pickle.dumps(DATA["smplx frame"]))
    assert _equal(safe_load(path), DATA["smplx frame"])
    assert _equal(safe_load(str(path)), DATA["smplx frame"])


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_os_system_payload_is_refused_and_never_runs(tmp_path, protocol):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"smplx_body_pose": _WritesMarker(marker)}, protocol=protocol))
    with pytest.raises(SignlibError, match=r"evil\.pkl.*refused to unpickle global (posix|nt|os)\.system"):
        safe_load(path)
    assert not marker.exists()


@pytest.mark.parametrize("obj, refused", [
    (_Evil(), "builtins.eval"),
    (_Custom(), "_Custom"),
    (torch.zeros(2), "torch"),
    (np.array([_Custom()], dtype=object), "_Custom"),
])
def test_anything_but_plain_data_is_refused_by_name(tmp_path, obj, refused):
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(obj))
    with pytest.raises(SignlibError, match=r"bad\.pkl") as err:
        safe_load(path)
    assert refused in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("blob", [b"", b"not a pickle", pickle.dumps(DATA["float32 array"])[:-7]])
def test_corrupt_or_truncated_bytes_name_the_source(blob):
    with pytest.raises(SignlibError, match=r"clip_0001\.pkl: not a readable pickle"):
        safe_load(blob, name="clip_0001.pkl")


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(SignlibError, match=r"absent\.pkl: cannot read"):
        safe_load(tmp_path / "absent.pkl")
