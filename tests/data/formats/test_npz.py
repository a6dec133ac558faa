"""Reading .npz archives without trusting their headers: every refusal is one line naming file and member."""

import io
import tracemalloc
import zipfile

import numpy as np
import pytest

from signlib.data.formats.npz import read_npz
from signlib.errors import SignlibError


def _npy(array=None, header=None, data=None) -> bytes:
    """An .npy member: ``array`` as numpy writes it, or a hand-made ``header`` over ``data``."""
    buf = io.BytesIO()
    if header is None:
        np.lib.format.write_array(buf, array, allow_pickle=True)
    else:
        np.lib.format.write_array_header_1_0(buf, header)
        buf.write(data)
    return buf.getvalue()


def _archive(path, members: dict[str, bytes], compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    return path


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_arrays_come_back_as_numpy_saved_them(tmp_path, compression):
    arrays = {"f": np.arange(12, dtype=np.float32).reshape(3, 4), "fortran": np.asfortranarray(np.eye(3)),
              "s": np.array(["REGEN", "家"]), "b": np.zeros((2, 0), bool), "scalar": np.array(3, ">i8")}
    path = tmp_path / "a.npz"
    (np.savez_compressed if compression == zipfile.ZIP_DEFLATED else np.savez)(path, **arrays)
    back = read_npz(path)
    assert back.keys() == arrays.keys()
    for name, array in arrays.items():
        assert back[name].dtype == array.dtype and np.array_equal(back[name], array)


def _refused(path, match):
    tracemalloc.start()
    try:
        with pytest.raises(SignlibError, match=match) as err:
            read_npz(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "\n" not in str(err.value) and peak < 50 * 2**20


@pytest.mark.parametrize("shape", [(10**12,), (2**31, 2**31), (49000000000000,)])
def test_a_header_claiming_an_absurd_size_is_refused_before_allocating(tmp_path, shape):
    member = _npy(header={"descr": "<f4", "fortran_order": False, "shape": shape}, data=b"\0" * 16)
    _refused(_archive(tmp_path / "big.npz", {"features.npy": member}),
             r"big\.npz: member 'features\.npy': its header claims .* bytes")


@pytest.mark.parametrize("shape, data", [((3, 4), b"\0" * 40), ((2,), b"\0" * 12)], ids=["fewer", "more"])
def test_a_header_that_does_not_match_the_data_is_refused(tmp_path, shape, data):
    member = _npy(header={"descr": "<f4", "fortran_order": False, "shape": shape}, data=data)
    _refused(_archive(tmp_path / "m.npz", {"x.npy": member}), r"m\.npz: member 'x\.npy': its header claims shape")


@pytest.mark.parametrize("header, match", [
    ({"descr": "|O", "fortran_order": False, "shape": (1,)}, "object array"),
    ({"descr": [("a", "<f4")], "fortran_order": False, "shape": (1,)}, "dtype"),
    ({"descr": "<M8[s]", "fortran_order": False, "shape": (1,)}, "dtype"),
    ({"descr": "<U0", "fortran_order": False, "shape": (10**12,)}, "dtype"),
    ({"descr": "<f4", "fortran_order": False, "shape": (-1, 4)}, "negative"),
])
def test_headers_describing_anything_but_plain_arrays_are_refused(tmp_path, header, match):
    _refused(_archive(tmp_path / "h.npz", {"x.npy": _npy(header=header, data=b"\0" * 8)}), rf"h\.npz: member 'x\.npy'.*{match}")


@pytest.mark.parametrize("members, match", [
    ({"x.npy": b"\x93NUMPY\x01\x00\x10\x00{'descr': '<f4'"}, r"member 'x\.npy': not a valid \.npy header"),
    ({"x.npy": b"\x93NUMPY\x03\x00" + b"\0" * 16}, r"unsupported \.npy format version"),
    ({"x.txt": b"hello"}, r"member 'x\.txt' is not an \.npy array"),
    ({"x.npy": _npy(np.zeros(2)), "y.npy": _npy(np.zeros(2))[:-3]}, r"member 'y\.npy'"),
    ({"u.npy": _npy(header={"descr": "<U1", "fortran_order": False, "shape": (1,)}, data=b"\xff\xff\xff\xff")},
     "not valid unicode"),
], ids=["cut_header", "version", "not_npy", "cut_data", "bad_unicode"])
def test_damaged_members_are_refused_naming_them(tmp_path, members, match):
    _refused(_archive(tmp_path / "d.npz", members), rf"d\.npz: .*{match}")


def test_a_duplicate_member_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "dup.npz", "w") as zf, pytest.warns(UserWarning):
        zf.writestr("x.npy", _npy(np.zeros(1)))
        zf.writestr("x.npy", _npy(np.ones(1)))
    _refused(tmp_path / "dup.npz", r"dup\.npz: member 'x\.npy' appears twice")


def test_a_bad_crc_is_refused(tmp_path):
    path = _archive(tmp_path / "crc.npz", {"x.npy": _npy(np.arange(4.0))})
    data = bytearray(path.read_bytes())
    data[data.index(b"\x93NUMPY") + 130] ^= 0xFF  # a data byte: the stored CRC no longer matches
    path.write_bytes(bytes(data))
    _refused(path, r"crc\.npz: damaged \.npz archive \(BadZipFile: Bad CRC-32")


@pytest.mark.parametrize("content, match", [
    (b"", "not a readable .npz"), (b"PK\x03\x04 cut", "not a readable .npz"),
    (b"\x93NUMPY\x01\x00", r"holds a single array \(\.npy\)"),
])
def test_what_is_no_zip_archive_is_named(tmp_path, content, match):
    (tmp_path / "n.npz").write_bytes(content)
    _refused(tmp_path / "n.npz", rf"n\.npz: {match}")


def test_missing_file_and_directory_are_named(tmp_path):
    _refused(tmp_path / "gone.npz", r"gone\.npz: file not found")
    (tmp_path / "dir.npz").mkdir()
    _refused(tmp_path / "dir.npz", r"dir\.npz: is a directory")
