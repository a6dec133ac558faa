"""SOKE-style SMPL-X clips: one pickle per frame in a clip folder.

SOKE (and the How2Sign / CSL-Daily / Phoenix SMPL-X fits it trains on) stores each video frame as
a pickled dict of SMPL-X parameters, axis-angle, as the SMPLer-X / OSX estimators output them:

=====================  ==========================  =========================================
key                    shape (any of)              meaning
=====================  ==========================  =========================================
``smplx_root_pose``    ``(3,)``, ``(1, 3)``        global orientation
``smplx_body_pose``    ``(63,)``, ``(21, 3)``,     21 body joints; ``body_pose[i]`` is SMPL-X
                       ``(1, 63)``                 joint ``i + 1`` (the pelvis is the root)
``smplx_lhand_pose``   ``(45,)``, ``(15, 3)``      15 MANO joints of the left hand (world
                                                   convention, not mirrored)
``smplx_rhand_pose``   ``(45,)``, ``(15, 3)``      15 MANO joints of the right hand
``smplx_jaw_pose``     ``(3,)``                    jaw
``smplx_shape``        ``(10,)``                   betas
``smplx_expr``         ``(10,)``                   expression
``cam_trans``          ``(3,)``                    camera translation
=====================  ==========================  =========================================

Only the three pose keys above the line are required. Frames are ordered by the **last run of
digits** in the file name (``clip_000012.pkl`` → 12), so names need not be zero-padded, but the
numbers must run on without a gap from the first one: a missing frame is an error naming it, never
a silently shorter clip. Hidden files (names starting with ``.``) are not frames. The other keys,
when every frame has them, are kept as ``meta["smplx"][key]`` ``(T, n)`` arrays so a round trip
through :func:`write_soke_clip` preserves them.

Writing is all-or-nothing: the frames go into a hidden sibling folder (``.<clip>.soke-new-*``)
that then takes the clip folder's place. On Linux the two folders are exchanged in one atomic
``renameat2`` call; elsewhere the old folder is first renamed aside, so a crash in between leaves
no clip folder (and the old clip, complete, in ``.<clip>.soke-old-*``) but never a mix. A write
killed earlier leaves only a hidden folder; readers never look at it (pathlib's ``glob("*/")``
*does* match hidden names, so code that lists clip folders must skip names starting with ``.``,
as :func:`clip_folders` does), and the next write of that clip removes it.

Pickles are read with :func:`signlib.data.safe_pickle.safe_load`: a frame file cannot run code.
Conversion to a signlib ``rot6d`` layout: upper-body joints are picked from ``smplx_body_pose``
(:data:`signlib.pose.layout.SMPLX_JOINT_INDEX`), the left hand is mirrored into the right-hand
convention with ``(x, y, z) → (x, -y, -z)``, and every rotation becomes 6D.
"""

from __future__ import annotations

import ctypes
import errno
import os
import pickle
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from signlib.data.safe_pickle import safe_load
from signlib.data.sequence import MAX_FRAMES, Sequence
from signlib.errors import SignlibError, file_error
from signlib.pose.layout import SMPLX_JOINT_INDEX, get_layout
from signlib.pose.rotation import axis_angle_to_rot6d, mirror_axis_angle, rot6d_to_axis_angle

#: key → number of axis-angle joints (3 values each) or of plain values.
POSE_KEYS = {"smplx_body_pose": 21, "smplx_lhand_pose": 15, "smplx_rhand_pose": 15}
EXTRA_KEYS = {"smplx_root_pose": 3, "smplx_jaw_pose": 3, "smplx_shape": 10, "smplx_expr": 10, "cam_trans": 3}
_DIGITS = re.compile(r"(\d+)")


_NEW, _OLD = ".soke-new-", ".soke-old-"  # hidden sibling folders of a write in progress


def frame_files(folder: str | os.PathLike) -> list[Path]:
    """The ``.pkl`` frame files of a clip folder, ordered by frame number.

    Raises:
        SignlibError: for a missing or empty folder, a name without a number, two files with
            the same number, or a gap (naming the missing frame).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise file_error(folder, "not a folder of SOKE frame pickles")
    numbered = []
    for f in folder.glob("*.pkl"):
        if f.name.startswith("."):  # a temporary file, e.g. of an interrupted older writer
            continue
        runs = _DIGITS.findall(f.stem)
        if not runs:
            raise file_error(f, "no frame number in the file name")
        numbered.append((int(runs[-1]), f))
    numbered.sort()
    for (a, fa), (b, fb) in zip(numbered, numbered[1:]):
        if a == b:
            raise file_error(fb, f"frame number {b} also used by {fa.name}")
        if b != a + 1:
            missing = f"frame {a + 1}" if b == a + 2 else f"frames {a + 1} to {b - 1}"
            raise file_error(folder, f"{missing} missing: the frame files jump from {fa.name} to {fb.name}")
    if not numbered:
        raise file_error(folder, "no .pkl frame files in the folder")
    return [f for _, f in numbered]


def clip_folders(root: str | os.PathLike) -> list[Path]:
    """The clip folders directly under ``root``, sorted, skipping hidden ones (the temporary
    folders of writes in progress or interrupted)."""
    return sorted(p for p in Path(root).iterdir() if p.is_dir() and not p.name.startswith("."))


def _body_rows(layout: str, where) -> tuple[str, list[int]]:
    """The layout's name and the ``smplx_body_pose`` row of each of its body joints."""
    lay = get_layout(layout)
    names = lay.joints[lay.joint_slice("body")]
    if lay.kind != "rot6d" or any(n not in SMPLX_JOINT_INDEX for n in names):
        raise file_error(where, f"SOKE clips hold SMPL-X rotations; layout {lay.name!r} does not")
    return lay.name, [SMPLX_JOINT_INDEX[n] - 1 for n in names]  # body_pose has no pelvis row


def _values(frame: dict, key: str, size: int, path: Path) -> np.ndarray:
    """``frame[key]`` as a flat float64 ``(size,)`` array, or a one-line error naming the file."""
    if key not in frame:
        raise file_error(path, f"missing key {key!r} (keys are {', '.join(str(k)[:40] for k in frame)})")
    try:
        arr = np.asarray(frame[key])
    except (TypeError, ValueError):  # e.g. ragged nested lists
        arr = None
    # Real numbers only: a cast would turn strings into errors deep in numpy, and drop the
    # imaginary part of complex values without a word.
    if arr is None or arr.dtype.kind not in "iuf":
        raise file_error(path, f"key {key!r} is not numeric (got {type(frame[key]).__name__}"
                               f"{'' if arr is None else ' of ' + str(arr.dtype)})")
    arr = arr.astype(np.float64)
    if arr.size != size:
        raise file_error(path, f"key {key!r} has shape {arr.shape}; expected {size} values")
    if not np.isfinite(arr).all():
        raise file_error(path, f"key {key!r} contains NaN or inf")
    return arr.reshape(size)


def read_soke_clip(folder: str | os.PathLike, *, layout: str = "rot6d", fps: float = 25.0, id: str | None = None,
                   text: str = "", language: str = "", signer: str = "") -> Sequence:
    """Read a folder of per-frame SMPL-X pickles as one sequence.

    Args:
        folder: the clip folder; its name is the default clip id.
        layout: ``rot6d`` (10 upper-body joints) or ``rot6d_spine3`` (11).
        fps: frame rate (the pickles do not store it).
    Returns:
        a :class:`Sequence` with ``features`` ``(T, D)`` (``D`` = 240 or 246), left hand mirrored.
    Raises:
        SignlibError: naming the file for an empty folder, a pickle that is not a dict of SMPL-X
            parameters (or tries to load any other object), a missing key or a wrong shape.
    """
    name, body_idx = _body_rows(layout, folder)
    lay = get_layout(name)
    files = frame_files(folder)
    if len(files) > MAX_FRAMES:  # refuse before unpickling them all
        raise file_error(folder, f"{len(files)} frames is over the limit of {MAX_FRAMES}")
    poses = {k: [] for k in POSE_KEYS}
    extras = {k: [] for k in EXTRA_KEYS}
    for f in files:
        frame = safe_load(f)
        if not isinstance(frame, dict):
            raise file_error(f, f"holds a {type(frame).__name__}, expected a dict of SMPL-X parameters")
        for key, joints in POSE_KEYS.items():
            poses[key].append(_values(frame, key, joints * 3, f).reshape(joints, 3))
        for key, size in EXTRA_KEYS.items():
            if key in frame and extras[key] is not None:
                extras[key].append(_values(frame, key, size, f))
            else:
                extras[key] = None  # kept only when every frame has it

    body = torch.as_tensor(np.stack(poses["smplx_body_pose"])[:, body_idx])  # (T, Jb, 3)
    left = mirror_axis_angle(torch.as_tensor(np.stack(poses["smplx_lhand_pose"])))  # (T, 15, 3)
    right = torch.as_tensor(np.stack(poses["smplx_rhand_pose"]))  # (T, 15, 3)
    aa = torch.cat([body, left, right], dim=1)  # (T, J, 3) in layout joint order
    features = axis_angle_to_rot6d(aa).reshape(len(files), lay.dim).float().numpy()
    folder = Path(folder)
    meta = {"smplx": {k: np.stack(v).astype(np.float32) for k, v in extras.items() if v}}
    try:
        return Sequence(features=features, layout=lay.name, fps=float(fps), text=text, language=language,
                        signer=signer, id=id if id is not None else folder.name, meta=meta)
    except SignlibError as e:
        raise file_error(folder, str(e)) from None


def _frame_name(prefix: str, t: int) -> str:
    return f"{prefix}_{t:06d}.pkl"


def _write_frame(path: Path, blob: bytes) -> None:
    """One frame file inside the (still hidden) new clip folder."""
    path.write_bytes(blob)


def _discard(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``); False
    where the platform, the C library or the file system cannot."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):  # not Linux/glibc (TypeError: Windows' CDLL(None))
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), os.fspath(b))


def _swap_in(new: Path, folder: Path) -> None:
    """Put the complete folder ``new`` where ``folder`` is; ``folder`` is never a mix of both."""
    if not folder.exists():
        os.rename(new, folder)
    elif _exchange(new, folder):
        _discard(new)  # it now holds the old clip
    else:
        old = new.with_name(new.name.replace(_NEW, _OLD))
        os.rename(folder, old)  # until the next line the clip folder is absent, never mixed
        os.rename(new, folder)
        _discard(old)


def _glob_escape(name: str) -> str:
    """``name`` with glob's special characters made literal."""
    return re.sub(r"([*?\[])", r"[\1]", name)


def _check_target(folder: Path, prefix: str) -> None:
    """Refuse a target folder holding anything but frames of this clip (``<prefix>_<n>.pkl``): the
    whole folder is replaced, so anything else in it would be lost, or be another clip."""
    if not folder.exists():
        return
    if not folder.is_dir():
        raise file_error(folder, "exists and is not a folder")
    own = re.compile(re.escape(prefix) + r"_\d+\.pkl")
    # Hidden files are temporary files of an interrupted older writer: not data, dropped too.
    other = sorted(p.name for p in folder.iterdir() if not p.name.startswith(".") and not own.fullmatch(p.name))
    if other:
        kind = "frame files" if other[0].endswith(".pkl") else "files"
        raise file_error(folder, f"already holds other {kind} ({other[0]}, ...); write to an empty folder")


def write_soke_clip(folder: str | os.PathLike, seq: Sequence, *, prefix: str | None = None) -> list[Path]:
    """Write ``seq`` as one SMPL-X pickle per frame, ``<prefix>_<frame:06d>.pkl``, all or nothing.

    Lower-body joints, root, jaw, shape, expression and camera translation are zero unless
    ``seq.meta["smplx"]`` holds ``(T, n)`` arrays for them. Every frame is encoded first, written
    into a hidden sibling folder, and that folder then replaces ``folder`` as a whole (see the
    module doc), so readers see the old clip or the new one, never a mix or a shorter clip. A
    ``folder`` holding anything but this clip's frames (``<prefix>_<n>.pkl``) is refused, since
    it would be replaced; hidden leftovers of interrupted writes of this clip are removed.

    Returns:
        the written paths in frame order.
    """
    folder = Path(folder)
    name, body_idx = _body_rows(seq.layout, folder)
    lay = get_layout(name)
    prefix = prefix if prefix is not None else (seq.id or "frame")
    names = [_frame_name(prefix, t) for t in range(seq.num_frames)]
    _check_target(folder, prefix)

    T = seq.num_frames
    aa = rot6d_to_axis_angle(torch.as_tensor(lay.unflatten(seq.features))).double().numpy()  # (T, J, 3)
    parts = {p: aa[:, lay.joint_slice(p)] for p in ("body", "left_hand", "right_hand")}
    body_pose = np.zeros((T, 21, 3))
    body_pose[:, body_idx] = parts["body"]
    left = mirror_axis_angle(torch.as_tensor(parts["left_hand"])).numpy()  # back to world convention
    given = seq.meta.get("smplx", {}) if isinstance(seq.meta, dict) else {}
    extras = {}
    for key, size in EXTRA_KEYS.items():
        extras[key] = np.asarray(given.get(key, np.zeros((T, size))), dtype=np.float32)
        if extras[key].shape != (T, size):
            raise file_error(folder, f"meta['smplx'][{key!r}] must be {(T, size)}, got {extras[key].shape}")
    blobs = []
    for t in range(T):
        frame = {
            "smplx_body_pose": body_pose[t].reshape(63).astype(np.float32),
            "smplx_lhand_pose": left[t].reshape(45).astype(np.float32),
            "smplx_rhand_pose": parts["right_hand"][t].reshape(45).astype(np.float32),
            **{key: values[t] for key, values in extras.items()},
        }
        blobs.append(pickle.dumps(frame, protocol=4))

    folder.parent.mkdir(parents=True, exist_ok=True)
    for leftover in folder.parent.glob(f".{_glob_escape(folder.name)}.soke-*-*"):
        _discard(leftover)  # an interrupted earlier write of this clip
    new = Path(tempfile.mkdtemp(prefix=f".{folder.name}{_NEW}", dir=folder.parent))
    try:
        for n, blob in zip(names, blobs):
            _write_frame(new / n, blob)
        _swap_in(new, folder)
    except BaseException:
        _discard(new)
        raise
    return [folder / n for n in names]

