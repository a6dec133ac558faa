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
digits** in the file name (``clip_000012.pkl`` → 12), so names need not be zero-padded. The other
keys, when every frame has them, are kept as ``meta["smplx"][key]`` ``(T, n)`` arrays so a round
trip through :func:`write_soke_clip` preserves them.

Pickles are read with :func:`signlib.data.safe_pickle.safe_load`: a frame file cannot run code.
Conversion to a signlib ``rot6d`` layout: upper-body joints are picked from ``smplx_body_pose``
(:data:`signlib.pose.layout.SMPLX_JOINT_INDEX`), the left hand is mirrored into the right-hand
convention with ``(x, y, z) → (x, -y, -z)``, and every rotation becomes 6D.
"""

from __future__ import annotations

import os
import pickle
import re
from pathlib import Path

import numpy as np
import torch

from signlib.data.safe_pickle import safe_load
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError, file_error
from signlib.io import write_bytes
from signlib.pose.layout import SMPLX_JOINT_INDEX, get_layout
from signlib.pose.rotation import axis_angle_to_rot6d, mirror_axis_angle, rot6d_to_axis_angle

#: key → number of axis-angle joints (3 values each) or of plain values.
POSE_KEYS = {"smplx_body_pose": 21, "smplx_lhand_pose": 15, "smplx_rhand_pose": 15}
EXTRA_KEYS = {"smplx_root_pose": 3, "smplx_jaw_pose": 3, "smplx_shape": 10, "smplx_expr": 10, "cam_trans": 3}
_DIGITS = re.compile(r"(\d+)")


def frame_files(folder: str | os.PathLike) -> list[Path]:
    """The ``.pkl`` frame files of a clip folder, ordered by frame number."""
    folder = Path(folder)
    if not folder.is_dir():
        raise file_error(folder, "not a folder of SOKE frame pickles")
    numbered = []
    for f in folder.glob("*.pkl"):
        runs = _DIGITS.findall(f.stem)
        if not runs:
            raise file_error(f, "no frame number in the file name")
        numbered.append((int(runs[-1]), f))
    numbered.sort()
    for (a, fa), (b, fb) in zip(numbered, numbered[1:]):
        if a == b:
            raise file_error(fb, f"frame number {b} also used by {fa.name}")
    if not numbered:
        raise file_error(folder, "no .pkl frame files in the folder")
    return [f for _, f in numbered]


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
        raise file_error(path, f"missing key {key!r} (keys are {', '.join(map(str, frame))})")
    try:
        arr = np.asarray(frame[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise file_error(path, f"key {key!r} is not numeric (got {type(frame[key]).__name__})") from None
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


def write_soke_clip(folder: str | os.PathLike, seq: Sequence, *, prefix: str | None = None) -> list[Path]:
    """Write ``seq`` as one SMPL-X pickle per frame, ``<prefix>_<frame:06d>.pkl``.

    Lower-body joints, root, jaw, shape, expression and camera translation are zero unless
    ``seq.meta["smplx"]`` holds ``(T, n)`` arrays for them. Every frame is encoded before any file
    is written, and each file is replaced atomically; a folder holding ``.pkl`` files this write
    would not replace is refused (reading it back would mix two clips).

    Returns:
        the written paths in frame order.
    """
    folder = Path(folder)
    name, body_idx = _body_rows(seq.layout, folder)
    lay = get_layout(name)
    prefix = prefix if prefix is not None else (seq.id or "frame")
    names = [_frame_name(prefix, t) for t in range(seq.num_frames)]
    if folder.is_dir():
        stale = sorted(f.name for f in folder.glob("*.pkl") if f.name not in set(names))
        if stale:
            raise file_error(folder, f"already holds other frame files ({stale[0]}, ...); write to an empty folder")

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
    paths = [folder / n for n in names]
    for p, blob in zip(paths, blobs):
        write_bytes(p, blob)
    return paths
