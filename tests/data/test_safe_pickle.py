import os
import pickle
import struct
import tracemalloc

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


# ---------------------------------------------------------------- memory and state a file only claims


class _Calls:
    """Pickles as ``fn(*args)`` (plus ``state``, applied by BUILD, when given)."""

    def __init__(self, fn, *args, state=None):
        self.fn, self.args, self.state = fn, args, state

    def __reduce__(self):
        return (self.fn, self.args) if self.state is None else (self.fn, self.args, self.state)


def _bounded(blob: bytes, match: str):
    """``safe_load(blob)`` must fail with ``match`` having allocated little (it would allocate GBs)."""
    tracemalloc.start()
    try:
        with pytest.raises(SignlibError, match=match) as err:
            safe_load(blob, name="f.pkl")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20 and "\n" not in str(err.value)


@pytest.mark.parametrize("obj", [
    _Calls(bytearray, 10**12),
    _Calls(bytes, 10**11),
    _Calls(list, range(10**12)),
    _Calls(np._core.multiarray._reconstruct, np.ndarray, (10**10,), b"b"),
    _Calls(np.ndarray, (10**10,)),
], ids=["bytearray(n)", "bytes(n)", "list(range)", "_reconstruct", "ndarray(shape)"])
def test_allowed_callables_cannot_be_asked_for_memory_the_file_does_not_hold(obj):
    _bounded(pickle.dumps(obj, protocol=2), r"f\.pkl: refused to unpickle: .*over the limit")


def test_an_array_of_countless_zero_size_items_is_refused():
    # Costs nothing to build, but any conversion would allocate 10**12 items.
    _bounded(pickle.dumps(_Calls(np.ndarray, (10**12,), np.dtype("V0")), protocol=2),
             r"f\.pkl: refused to unpickle: an array of 1000000000000 zero-size items")


def test_a_huge_memo_index_costs_nothing():
    # LONG_BINPUT 671757106: CPython's C unpickler sizes its memo array to the index (10 GB, 19 s).
    blob = b"\x80\x02K\x07r" + struct.pack("<I", 671_757_106) + b"."
    tracemalloc.start()
    try:
        assert safe_load(blob) == 7
        assert tracemalloc.get_traced_memory()[1] < 50 * 2**20
    finally:
        tracemalloc.stop()


def test_a_bytearray_claiming_more_than_the_file_holds_is_refused_without_allocating_it():
    _bounded(b"\x80\x05\x96" + struct.pack("<Q", 2**32) + b"ab.", r"f\.pkl: not a readable pickle .*cut short")


@pytest.mark.parametrize("state", [
    (3, "<", None, None, None, -1, -1, 63),      # object flags on a float: numpy would read floats as pointers
    (3, "<", None, None, None, 8, 4, 8),         # another item size than float32's
    (3, "<", None, ("a",), {"a": ("f4", 0)}, 4, 1, 16),  # a field given as a string, not a dtype
    (4, "<", None, None, None, -1, -1, 0, None),  # version 4 (datetime metadata)
    "not a tuple",
])
def test_a_dtype_state_numpy_would_not_write_is_refused(state):
    blob = pickle.dumps(_Calls(np.dtype, "f4", False, True, state=state), protocol=2)
    _bounded(blob, r"f\.pkl: not a readable pickle .*dtype state")


def test_only_numpy_arrays_and_dtypes_take_state():
    _bounded(pickle.dumps(_Calls(list, [1], state={"x": 1}), protocol=2), r"f\.pkl: .*a list cannot take state")
