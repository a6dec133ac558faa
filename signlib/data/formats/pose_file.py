"""pose-format ``.pose`` files (sign-language-processing/pose), read and written with ``pose-format``.

A header (version, components with point names and a format such as ``XYZC``) and a body
(``data (T, P, N, C)``, ``confidence (T, P, N)``, fps) become a :class:`PoseFile` of plain numpy
with missing points as NaN, and then a :class:`~signlib.data.Sequence` (:func:`pose_to_sequence`):

- MediaPipe Holistic (543/576/586 points) and pose-format's reduced 178, whose ``POSE_LANDMARKS``
  keep only shoulders, elbows, wrists and hips: the nose is then missing (``valid`` False).
- OpenPose (``pose_keypoints_2d`` BODY_25/COCO + ``hand_*_keypoints_2d``): 2D, ``z`` is filled with
  0 and ``meta["point_dims"]`` says 2. OpenPose hands use MediaPipe's 21-point order.
- Files written by :func:`write_pose`: components ``body``/``left_hand``/``right_hand`` whose
  point names are the joints of an ``xyz`` layout; they come back in that layout.

A fourth channel such as MediaPipe's visibility (``XYZKC``) is dropped. ``.pose`` has no place for
glosses or text: keep them beside it (e.g. in an ELAN file, :mod:`signlib.data.formats.elan`).
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import numpy as np
import numpy.ma as ma
from pose_format.numpy import NumPyPoseBody
from pose_format.pose_header import PoseHeader
from pose_format.utils.reader import BufferReader

from signlib.data.sequence import Sequence, mask_missing
from signlib.errors import file_error
from signlib.pose.layout import PARTS, get_layout, layout_names

VERSIONS = (0.0, 0.1, 0.2)  # what pose-format 0.15 reads; it always writes 0.2


class PoseComponent(NamedTuple):
    """One header component: ``name``, its ``points`` (names) and ``format`` (e.g. ``"XYZC"``)."""
    name: str
    points: tuple[str, ...]
    format: str


@dataclass(frozen=True)
class PoseHeaderInfo:
    """A ``.pose`` header: ``version``, ``components`` and ``dimensions`` (width, height, depth)."""

    version: float
    components: tuple[PoseComponent, ...]
    dimensions: tuple[int, int, int] = (0, 0, 0)
    path: str = field(default="", compare=False)

    @property
    def num_points(self) -> int:
        return sum(len(c.points) for c in self.components)

    @property
    def component_names(self) -> list[str]:
        return [c.name for c in self.components]

    @property
    def num_dims(self) -> int:
        """Spatial channels ``C`` (the format's letters less the confidence)."""
        return max(len(c.format) for c in self.components) - 1

    def component_slice(self, name: str) -> slice:
        """Range of ``name``'s points in the flat ``N`` axis."""
        start = 0
        for c in self.components:
            if c.name == name:
                return slice(start, start + len(c.points))
            start += len(c.points)
        raise file_error(self.path or "pose", f"no component {name!r}; components are {self.component_names}")


@dataclass(frozen=True, eq=False)
class PoseFile(PoseHeaderInfo):
    """A whole ``.pose`` file as plain numpy.

    Attributes:
        data: ``(T, P, N, C)`` float32, NaN where a point is missing (confidence 0 or masked).
        confidence: ``(T, P, N)`` float32 as stored.
        fps: frames per second (stored as float32; rounded to 1e-4 so 29.97 reads back as 29.97).
    """

    data: np.ndarray = None
    confidence: np.ndarray = None
    fps: float = 0.0

    @property
    def num_frames(self) -> int:
        return self.data.shape[0]

    @property
    def header(self) -> PoseHeaderInfo:
        return PoseHeaderInfo(self.version, self.components, self.dimensions, self.path)


# ---------------------------------------------------------------- reading


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        what = {FileNotFoundError: "no such file", IsADirectoryError: "is a directory, not a .pose file"}
        raise file_error(path, what.get(type(e), f"cannot read ({e.strerror})")) from None


def _why(e: Exception) -> str:
    """A library exception as ``Type: message`` (``struct.error`` is just ``error`` otherwise)."""
    name = "struct.error" if isinstance(e, struct.error) else type(e).__name__
    return f"{name}: {e}"


def _parse_header(path: Path, buf: bytes) -> tuple[PoseHeader, BufferReader]:
    if len(buf) < 4:
        raise file_error(path, f"not a .pose file ({len(buf)} bytes, too short for a header)")
    version = struct.unpack_from("<f", buf)[0]
    # Exact float comparison would reject 0.1 stored as float32; garbage rarely lands this close.
    if not any(abs(version - v) < 1e-6 for v in VERSIONS):
        raise file_error(path, f"unsupported .pose version {version:.6g} (pose-format reads "
                               f"{', '.join(map(str, VERSIONS))}); is it a .pose file?")
    reader = BufferReader(buf)
    try:
        header = PoseHeader.read(reader)
    except Exception as e:  # struct.error, UnicodeDecodeError, TypeError… from a cut or foreign file
        raise file_error(path, f"truncated or corrupt .pose header ({_why(e)})") from None
    formats = [c.format for c in header.components]
    if not formats or any(len(f) < 2 or not f.endswith("C") or not f.isalpha() for f in formats):
        raise file_error(path, f"corrupt .pose header: point formats {formats} (expected e.g. XYZC)")
    return header, reader


def _info(path: Path, header: PoseHeader, cls=PoseHeaderInfo, **extra):
    comps = tuple(PoseComponent(c.name, tuple(c.points), c.format) for c in header.components)
    d = header.dimensions
    return cls(version=round(float(header.version), 3), components=comps,
               dimensions=(int(d.width), int(d.height), int(d.depth)), path=os.fspath(path), **extra)


def read_pose_header(path: str | os.PathLike) -> PoseHeaderInfo:
    """The header of a ``.pose`` or header-only ``.poseheader`` file.

    The body's frames are not read, but when there is a body its size must match what its own
    frame and people counts say (v0.1, v0.2) and it must hold at least one frame, so a file this
    accepts is not one :func:`read_pose` refuses for being cut or empty.
    """
    path = Path(path)
    buf = _read_bytes(path)
    header, reader = _parse_header(path, buf)
    if reader.read_offset < len(buf):
        _check_body_size(path, header, buf, reader.read_offset)
    return _info(path, header)


def _check_body_size(path: Path, header: PoseHeader, buf: bytes, offset: int) -> None:
    """Catch cut and empty files before pose-format reads them: v0.1 infers the frame count from
    the bytes left, so a cut file would otherwise read "fine" with confidence taken from the data
    block, and zero frames would surface as a reshape error far from the file."""
    left = len(buf) - offset
    version = round(header.version, 3)
    if left == 0:
        raise file_error(path, "has a header but no body (a .poseheader? use read_pose_header)")
    if version == 0.0:
        # ushort fps and frame count, then per-frame people counts: the sizes are checked after
        # reading, by the bytes consumed; pose-format fails on zero frames with a stack error.
        if left >= 4 and struct.unpack_from("<HH", buf, offset)[1] == 0:
            raise file_error(path, "no frames (the body holds 0 frames)")
        return
    prefix = struct.Struct("<HHH" if version == 0.1 else "<fIH")  # fps, frames, people
    if left < prefix.size:
        raise file_error(path, f"truncated .pose body ({left} bytes after the header)")
    _, frames, people = prefix.unpack_from(buf, offset)
    frame_bytes, body = people * header.total_points() * (header.num_dims() + 1) * 4, left - prefix.size
    if frame_bytes == 0:
        raise file_error(path, f"corrupt .pose body: {people} people × {header.total_points()} points")
    # v0.1 stores the frame count as a ushort, so files over 65535 frames wrap around.
    if body != frames * frame_bytes and not (version == 0.1 and body % frame_bytes == 0
                                              and (body // frame_bytes) % 65536 == frames):
        raise file_error(path, f"truncated or corrupt .pose body: {frames} frames × {people} people × "
                               f"{header.total_points()} points need {frames * frame_bytes} bytes, "
                               f"the file has {body}")
    if body == 0:
        raise file_error(path, "no frames (the body holds 0 frames)")


def read_pose(path: str | os.PathLike) -> PoseFile:
    """Read a ``.pose`` file (v0.0, v0.1 or v0.2) into a :class:`PoseFile`."""
    path = Path(path)
    buf = _read_bytes(path)
    header, reader = _parse_header(path, buf)
    _check_body_size(path, header, buf, reader.read_offset)
    try:
        body = NumPyPoseBody.read(header, reader)
    except Exception as e:
        raise file_error(path, f"truncated or corrupt .pose body ({_why(e)})") from None
    if reader.read_offset != len(buf):
        raise file_error(path, f"corrupt .pose body: {len(buf) - reader.read_offset} bytes after the last frame")
    data = np.asarray(ma.getdata(body.data), dtype=np.float32)
    if data.ndim != 4 or data.shape[0] == 0:  # v0.0 states its frame count only as it goes
        raise file_error(path, f"no frames (the body holds data of shape {data.shape})")
    conf = np.asarray(ma.getdata(body.confidence), dtype=np.float32)
    fps = round(float(body.fps), 4)
    if not (np.isfinite(fps) and fps > 0):
        raise file_error(path, f"corrupt .pose body: fps is {fps}")
    missing = ma.getmaskarray(body.data).any(-1) | ~(conf > 0) | ~np.isfinite(data).all(-1)
    data = np.where(missing[..., None], np.float32(np.nan), data)
    return _info(path, header, PoseFile, data=data, confidence=conf, fps=fps)


# ---------------------------------------------------------------- to a Sequence


class _Source(NamedTuple):  # component names, and body points by name or index
    body: str
    left: str
    right: str
    body_points: dict


_MP_BODY = {j: j.upper() for j in ("nose", "left_shoulder", "right_shoulder", "left_elbow",
                                   "right_elbow", "left_wrist", "right_wrist")}
# OpenPose BODY_25 (and COCO-18, which shares indices 0-7) by index: Nose 0, RShoulder 2, RElbow 3,
# RWrist 4, LShoulder 5, LElbow 6, LWrist 7. Converters disagree on point names, not on order.
_OP_BODY = {"nose": 0, "right_shoulder": 2, "right_elbow": 3, "right_wrist": 4,
            "left_shoulder": 5, "left_elbow": 6, "left_wrist": 7}
_SOURCES = {
    "mediapipe": _Source("POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS", _MP_BODY),
    "openpose": _Source("pose_keypoints_2d", "hand_left_keypoints_2d", "hand_right_keypoints_2d", _OP_BODY),
    "openpose_3d": _Source("pose_keypoints_3d", "hand_left_keypoints_3d", "hand_right_keypoints_3d", _OP_BODY),
}


def _own_layout(pf: PoseFile) -> str | None:
    """The xyz layout whose joint names the body/left_hand/right_hand components carry, if any."""
    comps = {c.name: c.points for c in pf.components}
    points = sum((comps.get(p, ()) for p in PARTS), ())
    return next((n for n in layout_names() if get_layout(n).kind == "xyz" and get_layout(n).joints == points), None)


def _xyz(pf: PoseFile, comp: str, person: int) -> np.ndarray:
    """``(T, n, 3)`` positions of component ``comp``: extra channels dropped, 2D padded with z=0."""
    fmt = pf.components[pf.component_names.index(comp)].format
    if not fmt.startswith("XY"):
        raise file_error(pf.path, f"component {comp!r} has point format {fmt!r}; expected XY… coordinates")
    sl = pf.component_slice(comp)
    # Confidence 0 means missing even where a hand-made PoseFile holds numbers there.
    x = np.where(pf.confidence[:, person, sl, None] > 0, pf.data[:, person, sl, :], np.float32(np.nan))
    if fmt.startswith("XYZ"):
        return x[..., :3]
    z = np.where(np.isnan(x[..., :1]), np.float32(np.nan), np.float32(0.0))
    return np.concatenate([x[..., :2], z], axis=-1)


def _external_parts(pf: PoseFile, person: int) -> tuple[str, list[np.ndarray], dict]:
    """Body ``(T, 7, 3)`` and hands ``(T, 21, 3)`` of a MediaPipe or OpenPose file, with meta."""
    kind = next((k for k, s in _SOURCES.items() if {s.body, s.left, s.right} <= set(pf.component_names)), None)
    if kind is None:
        raise file_error(pf.path, f"unknown pose components {pf.component_names}; expected MediaPipe "
                                  "Holistic, OpenPose or a file written by signlib")
    src, lay = _SOURCES[kind], get_layout("xyz_mediapipe")
    names = pf.components[pf.component_names.index(src.body)].points
    joints = lay.joints[lay.joint_slice("body")]
    keys = [src.body_points[j] for j in joints]
    idx = [k if isinstance(k, int) and k < len(names) else names.index(k) if k in names else len(names)
           for k in keys]
    # A NaN column at index len(names) stands in for body points the file lacks.
    body = np.pad(_xyz(pf, src.body, person), ((0, 0), (0, 1), (0, 0)), constant_values=np.nan)[:, idx]
    hands = [_xyz(pf, c, person) for c in (src.left, src.right)]
    if any(h.shape[1] != 21 for h in hands):
        raise file_error(pf.path, f"hand components {src.left!r}/{src.right!r} must have 21 points each")
    missing = tuple(j for j, i in zip(joints, idx) if i == len(names))
    return lay.name, [body] + hands, {"pose_format": kind, "missing_points": missing}


def pose_to_sequence(pose_file: PoseFile | str | os.PathLike, *, person: int = 0, id: str = "",
                     text: str = "", language: str = "", signer: str = "") -> Sequence:
    """A :class:`Sequence` (``xyz_mediapipe``, or the layout a signlib-written file names).

    Missing points become ``valid=False`` joints filled with 0; body points a file lacks (the nose
    of reduced-178 files) are missing in every frame and listed in ``meta["missing_points"]``.
    """
    pf = pose_file if isinstance(pose_file, PoseFile) else read_pose(pose_file)
    if np.ndim(pf.data) != 4 or len(pf.data) == 0:
        raise file_error(pf.path or "pose", f"no frames to convert (data of shape {np.shape(pf.data)})")
    if not 0 <= person < pf.data.shape[1]:
        raise file_error(pf.path, f"person {person} requested but the file holds {pf.data.shape[1]}")
    layout = _own_layout(pf)
    if layout is not None:
        parts, meta = [_xyz(pf, p, person) for p in PARTS], {"pose_format": "signlib", "missing_points": ()}
    else:
        layout, parts, meta = _external_parts(pf, person)
    x = np.concatenate(parts, axis=1)  # (T, J, 3)
    features, valid = mask_missing(x.reshape(len(x), -1), layout)
    meta.update(source=pf.path, point_dims=min(pf.num_dims, 3))
    return Sequence(features, layout, pf.fps, valid=valid, text=text, language=language, signer=signer,
                    id=id or Path(pf.path).stem, meta=meta)
