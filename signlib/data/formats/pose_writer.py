"""Writing pose-format ``.pose`` files (v0.2) from signlib sequences or :class:`PoseFile` records.

An ``xyz`` :class:`~signlib.data.Sequence` becomes one person with one component per part
(``body``, ``left_hand``, ``right_hand``) whose point names are the layout's joints, so
:func:`signlib.data.formats.pose_file.pose_to_sequence` reads it back in the same layout. Only
poses and fps are stored: ``.pose`` has no place for glosses or text.
"""

from __future__ import annotations

import io
import math
import os

import numpy as np
import numpy.ma as ma
from pose_format import Pose
from pose_format.numpy import NumPyPoseBody
from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

from signlib.data.formats.pose_file import VERSIONS, PoseComponent, PoseFile, _why
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError, file_error
from signlib.io import atomic_path
from signlib.pose.layout import PARTS


def _to_pose(pf: PoseFile) -> Pose:
    comps = [PoseHeaderComponent(c.name, list(c.points), [], [], c.format) for c in pf.components]
    dims = PoseHeaderDimensions(*(min(max(int(d), 0), 65535) for d in pf.dimensions))
    header = PoseHeader(VERSIONS[-1], dims, comps)
    data = np.asarray(pf.data, dtype=np.float32)
    conf = np.asarray(pf.confidence, dtype=np.float32)
    missing = np.isnan(data).any(-1) | ~(conf > 0)
    # pose-format's convention for a missing point: zeros, confidence 0, masked.
    data = ma.masked_array(np.where(missing[..., None], 0, data), mask=np.broadcast_to(missing[..., None], data.shape))
    return Pose(header, NumPyPoseBody(float(pf.fps), data, np.where(missing, 0, conf).astype(np.float32)))


def _check(path, pf: PoseFile) -> None:
    """Refuse, before anything is written, what :func:`read_pose` would refuse to read back."""
    formats = [c.format for c in pf.components]
    if not formats or any(len(f) < 2 or not f.endswith("C") or not f.isalpha() for f in formats):
        raise file_error(path, f"point formats {formats} must be letters ending in C (e.g. XYZC)")
    shape = np.shape(pf.data)
    if len(shape) != 4 or shape[2] != pf.num_points or shape[3] != pf.num_dims:
        raise file_error(path, f"data shape {shape} does not match the components "
                               f"({pf.num_points} points × {pf.num_dims} dims)")
    if shape[0] == 0 or shape[1] == 0:
        raise file_error(path, f"data shape {shape} has no frames or no people; a .pose file needs both")
    if np.shape(pf.confidence) != shape[:3]:
        raise file_error(path, f"confidence shape {np.shape(pf.confidence)} must be {shape[:3]} (frames, people, points)")
    try:
        fps_ok = math.isfinite(pf.fps) and pf.fps > 0
        dims_ok = all(math.isfinite(d) for d in pf.dimensions) and len(pf.dimensions) == 3
    except (TypeError, OverflowError):
        fps_ok = dims_ok = False
    if not fps_ok:
        raise file_error(path, f"fps must be a positive number, got {pf.fps!r}")
    if not dims_ok:
        raise file_error(path, f"dimensions must be three finite numbers (width, height, depth), got {pf.dimensions!r}")


def write_pose_file(path: str | os.PathLike, pose_file: PoseFile) -> None:
    """Write ``pose_file`` as a v0.2 ``.pose`` atomically (NaN points are stored as missing).

    Refused with a one-line error naming ``path``, before anything is written: point formats
    that are not letters ending in ``C``, data not ``(T >= 1, P >= 1, points, dims)`` of the
    components, confidence not ``(T, P, points)``, a non-positive or non-finite fps, dimensions
    that are not three finite numbers.
    """
    _check(path, pose_file)
    buffer = io.BytesIO()
    try:
        _to_pose(pose_file).write(buffer)
    except Exception as e:
        raise file_error(path, f"cannot encode .pose ({_why(e)})") from None
    with atomic_path(path) as tmp:
        tmp.write_bytes(buffer.getvalue())


def sequence_to_pose(sequence: Sequence) -> PoseFile:
    """A one-person :class:`PoseFile` of an ``xyz`` sequence: one component per part, confidence
    1 where ``valid`` else 0 (stored as zeros, pose-format's missing point)."""
    lay = sequence.get_layout()
    if lay.kind != "xyz":
        raise SignlibError(f"{sequence.id or 'sequence'}: layout {lay.name!r} holds joint rotations; "
                           "run forward kinematics first (signlib.pose) to get an xyz layout for .pose")
    fmt = "XYZ"[: lay.channels] + "C"
    comps = tuple(PoseComponent(p, lay.joints[lay.joint_slice(p)], fmt) for p in PARTS)
    x = lay.unflatten(sequence.features).copy()  # (T, J, C)
    valid = sequence.valid_or_all()
    x[~valid] = np.nan
    extent = np.nanmax(x, axis=(0, 1)) - np.nanmin(x, axis=(0, 1)) if valid.any() else np.zeros(lay.channels)
    dims = tuple(int(np.ceil(e)) for e in np.nan_to_num(extent)) + (0,) * (3 - lay.channels)
    return PoseFile(version=VERSIONS[-1], components=comps, dimensions=dims[:3], 
                    data=x[:, None], confidence=valid[:, None].astype(np.float32), fps=float(sequence.fps))


def write_pose(path: str | os.PathLike, sequence: Sequence) -> None:
    """Write an ``xyz`` :class:`Sequence` to a ``.pose`` file atomically (poses and fps only)."""
    try:
        pf = sequence_to_pose(sequence)
    except SignlibError as e:
        raise file_error(path, str(e)) from None  # name the target file too
    write_pose_file(path, pf)
