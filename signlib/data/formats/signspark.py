"""SignSparK database records: one ``.npz`` per clip.

The released SignSparK database stores each clip as an npz with seven fields. The field names
and feature widths below are those of the release; the exact encodings of ``gloss`` and
``segment`` could not be confirmed from public code, so this module fixes them as documented here
(and the writer produces exactly this):

=====================  =====================  ==============================================
field                  shape, dtype           meaning
=====================  =====================  ==============================================
``language``           ``()`` unicode         sign language code, e.g. ``"DGS"``
``translation``        ``()`` unicode         the spoken-language sentence
``gloss``              ``(N,)`` unicode       gloss of each segment (a 0-d string is read as
                                              space-separated glosses)
``segment``            ``(N, 2)`` integer     ``(start, end)`` frames of each gloss, end exclusive
``body_features``      ``(T, 60)`` float      10 upper-body joints × 6D (layout ``rot6d``), or
                       ``(T, 66)``            11 joints with spine3 (layout ``rot6d_spine3``)
``left_features``      ``(T, 90)`` float      15 MANO joints × 6D, already mirrored into the
                                              right-hand convention
``right_features``     ``(T, 90)`` float      15 MANO joints × 6D
=====================  =====================  ==============================================

The left hand is stored mirrored, which is signlib's own convention (see
:mod:`signlib.pose.rotation`), so features are concatenated ``[body, left, right]`` without any
conversion. The record carries no fps, no signer and no missing-joint mask: ``fps`` is an argument,
the clip id is the file stem, and a sequence's ``valid`` mask is not written (the fill values are).

Strings are unicode arrays, never object arrays; records are read with
:func:`signlib.data.formats.npz.read_npz`, which refuses object arrays and checks every header
against the bytes it describes before allocating anything.

signlib extension: optional ``left_valid`` / ``right_valid`` ``(T,)`` bool fields say in which
frames each hand was observed (a hand estimator found it); readers of the plain format ignore
them, and records without them read as fully observed. Files are written byte-reproducibly
(:func:`signlib.io.write_npz`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from signlib.data.formats.npz import read_npz
from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError, file_error
from signlib.io import write_npz
from signlib.pose.layout import get_layout

FIELDS = ("language", "translation", "gloss", "segment", "left_features", "right_features", "body_features")
#: body_features width → layout name.
BODY_LAYOUTS = {60: "rot6d", 66: "rot6d_spine3"}
HAND_DIM = 90  # 15 MANO joints × 6
#: signlib's optional extension: ``(T,)`` bool, the hand was observed in that frame.
VALID_FIELDS = ("left_valid", "right_valid")


def _field(z: dict, name: str, path) -> np.ndarray:
    """One field of a record read by :func:`read_npz` (which already refused object arrays)."""
    if name not in z:
        raise file_error(path, f"missing field {name!r} (a SignSparK record has {', '.join(FIELDS)})")
    return z[name]


def _string(arr: np.ndarray, name: str, path) -> str:
    if arr.dtype.kind != "U" or arr.ndim != 0:
        raise file_error(path, f"field {name!r} must be a 0-d unicode string, got {arr.dtype} {arr.shape}")
    return str(arr)


def _features(arr: np.ndarray, name: str, path, widths) -> np.ndarray:
    if arr.dtype.kind != "f" or arr.ndim != 2 or arr.shape[1] not in widths:
        want = " or ".join(f"(T, {w})" for w in widths)
        raise file_error(path, f"field {name!r} must be a float array {want}, got {arr.dtype} {arr.shape}")
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf, refused below
        out = arr.astype(np.float32, copy=False)
    if not np.isfinite(out).all():
        raise file_error(path, f"field {name!r} contains NaN or inf (or values beyond float32)")
    return out


def read_signspark(path: str | os.PathLike, *, fps: float = 25.0) -> Sequence:
    """Read one SignSparK record.

    Args:
        path: the ``.npz`` file; its stem becomes the clip id.
        fps: frame rate (not stored in the record).
    Returns:
        a :class:`Sequence` with ``features`` ``(T, 240)`` (``rot6d``) or ``(T, 246)``
        (``rot6d_spine3``), gloss ``segments``, ``text`` = translation and ``language``.
    Raises:
        SignlibError: naming the file (and field) for an unreadable file, a missing field, a wrong
            shape or dtype, NaN, an object array, or segments outside the clip.
    """
    path = Path(path)
    z = read_npz(path)
    fields = {name: _field(z, name, path) for name in FIELDS}
    hand_valid = {name: z[name] for name in VALID_FIELDS if name in z}
    body = _features(fields["body_features"], "body_features", path, tuple(BODY_LAYOUTS))
    left = _features(fields["left_features"], "left_features", path, (HAND_DIM,))
    right = _features(fields["right_features"], "right_features", path, (HAND_DIM,))
    if not len(body) == len(left) == len(right):
        raise file_error(path, f"body/left/right features have {len(body)}/{len(left)}/{len(right)} frames; "
                               "they must match")

    gloss = fields["gloss"]
    if gloss.dtype.kind != "U" or gloss.ndim > 1:
        raise file_error(path, f"field 'gloss' must be a (N,) unicode array, got {gloss.dtype} {gloss.shape}")
    glosses = str(gloss).split() if gloss.ndim == 0 else [str(g) for g in gloss]
    segment = fields["segment"]
    if segment.dtype.kind not in "iu" or segment.ndim != 2 or segment.shape[1] != 2:
        raise file_error(path, f"field 'segment' must be an integer (N, 2) array, got {segment.dtype} {segment.shape}")
    if len(segment) != len(glosses):
        raise file_error(path, f"{len(segment)} segments but {len(glosses)} glosses")

    layout = get_layout(BODY_LAYOUTS[body.shape[1]])
    valid = None
    if hand_valid:
        valid = np.ones((len(body), layout.num_joints), bool)
        for name, part in zip(VALID_FIELDS, ("left_hand", "right_hand")):
            if name in hand_valid:
                v = hand_valid[name]
                if v.dtype != bool or v.shape != (len(body),):
                    raise file_error(path, f"field {name!r} must be ({len(body)},) bool, got {v.dtype} {v.shape}")
                valid[:, layout.joint_slice(part)] = v[:, None]
    try:
        return Sequence(
            features=np.concatenate([body, left, right], axis=1),  # (T, D): body, left, right
            layout=layout.name, valid=valid,
            fps=float(fps),
            segments=tuple(Segment(int(a), int(b), g) for (a, b), g in zip(segment.tolist(), glosses)),
            text=_string(fields["translation"], "translation", path),
            language=_string(fields["language"], "language", path),
            id=path.stem,
        )
    except SignlibError as e:
        raise file_error(path, str(e)) from None


def write_signspark(path: str | os.PathLike, seq: Sequence) -> None:
    """Write ``seq`` as a SignSparK record, atomically (a failure leaves any old file untouched).

    Args:
        seq: a sequence in layout ``rot6d`` or ``rot6d_spine3``; ``bio``, ``signer`` and ``fps``
            are not part of the format and are dropped; a ``valid`` mask is kept per hand and
            frame in the extension fields.
    """
    lay = get_layout(seq.layout)
    if lay.name not in BODY_LAYOUTS.values():
        raise file_error(path, f"SignSparK records hold layouts {sorted(BODY_LAYOUTS.values())}, not {lay.name!r}")
    parts = lay.split(seq.features)
    glosses = [s.gloss for s in seq.segments]
    record = {
        "language": np.array(seq.language, dtype=np.str_),
        "translation": np.array(seq.text, dtype=np.str_),
        # An explicit unicode dtype keeps an empty gloss list from becoming float64.
        "gloss": np.array(glosses, dtype=np.str_) if glosses else np.zeros(0, dtype="<U1"),
        "segment": np.array([(s.start, s.end) for s in seq.segments], dtype=np.int64).reshape(-1, 2),
        "left_features": np.ascontiguousarray(parts["left_hand"], dtype=np.float32),
        "right_features": np.ascontiguousarray(parts["right_hand"], dtype=np.float32),
        "body_features": np.ascontiguousarray(parts["body"], dtype=np.float32),
    }
    if seq.valid is not None:
        # signlib extension: which frames each hand was observed in (real records have none).
        valid = seq.valid
        record["left_valid"] = valid[:, lay.joint_slice("left_hand")].all(1)
        record["right_valid"] = valid[:, lay.joint_slice("right_hand")].all(1)
    write_npz(path, record, compress=False)  # float noise hardly compresses; storing is 2x faster
