"""signlib's own clip file: one ``.npz`` holding a whole :class:`~signlib.data.Sequence`.

Curated corpora are stored this way because the real formats each lose something (SignSparK
records have no fps, signer or missing-frame mask; ``.pose`` has no rotations). Fields:

==============  ===========  ==================================================
``features``    (T, D) f32   layout features
``valid``       (T, J) bool  observed joints
``bio``         (T,) i8      FAST labels, or shape (0,) when unlabelled
``segments``    (N, 2) i64   gloss spans in frames, end exclusive
``glosses``     (N,) str
``meta``        () str       JSON: layout, fps, text, language, signer, id
==============  ===========  ==================================================

Read through :func:`signlib.data.formats.npz.read_npz`: object arrays are refused (a clip file can
never execute code) and no header can make the reader allocate more than the file holds.
"""

from __future__ import annotations

import json
import math
import os

import numpy as np

from signlib.data.formats.npz import read_npz
from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError, file_error
from signlib.io import write_npz

_FIELDS = ("features", "valid", "bio", "segments", "glosses", "meta")
_META = ("layout", "fps", "text", "language", "signer", "id")


def write_clip(path: str | os.PathLike, seq: Sequence) -> None:
    """Write ``seq`` to ``path`` (``.npz``) atomically."""
    segs = np.array([(s.start, s.end) for s in seq.segments], dtype=np.int64).reshape(-1, 2)
    meta = {k: getattr(seq, k) for k in _META}
    write_npz(path, dict(
        features=seq.features, valid=seq.valid_or_all(),
        bio=seq.bio if seq.bio is not None else np.zeros(0, np.int8), segments=segs,
        glosses=np.array([s.gloss for s in seq.segments], dtype=str),
        meta=np.array(json.dumps(meta, ensure_ascii=False, sort_keys=True))), compress=False)


def _field(arrays: dict, name: str, kinds: str, ndim: int, path) -> np.ndarray:
    arr = arrays[name]
    if arr.dtype.kind not in kinds or arr.ndim != ndim:
        want = {"f": "float", "b": "bool", "iu": "integer", "U": "unicode"}[kinds]
        raise file_error(path, f"field {name!r} must be a {ndim}-d {want} array, got {arr.dtype} {arr.shape}")
    return arr


def _meta(arr: np.ndarray, path) -> dict:
    """The ``meta`` JSON, with every key present and of the right type."""
    try:
        meta = json.loads(str(arr[()]))
    except (ValueError, RecursionError) as err:
        raise file_error(path, f"field 'meta' is not valid JSON ({type(err).__name__})") from None
    if not isinstance(meta, dict):
        raise file_error(path, f"field 'meta' must be a JSON object, got {type(meta).__name__}")
    for key in _META:
        if key not in meta:
            raise file_error(path, f"field 'meta' has no key {key!r}")
        if key != "fps" and not isinstance(meta[key], str):
            raise file_error(path, f"meta {key!r} must be a string, got {type(meta[key]).__name__}")
    fps = meta["fps"]
    try:
        ok = isinstance(fps, (int, float)) and not isinstance(fps, bool) and math.isfinite(fps) and fps > 0
    except OverflowError:  # an integer too large for a float
        ok = False
    if not ok:
        raise file_error(path, f"meta 'fps' must be a positive number, got {str(fps)[:40]}")
    return meta


def read_clip(path: str | os.PathLike) -> Sequence:
    """Read a clip written by :func:`write_clip`.

    Raises:
        SignlibError: naming the file (and field) for anything :func:`~signlib.data.formats.npz.read_npz`
            refuses, a missing field, a field of the wrong dtype or rank, ``bio`` values other than
            0/1/2, a glosses/segments count mismatch, bad ``meta`` JSON, or a clip
            :class:`Sequence` refuses (wrong width, NaN, segments outside the clip, ...).
    """
    arrays = read_npz(path)
    missing = [f for f in _FIELDS if f not in arrays]
    if missing:
        raise file_error(path, f"not a signlib clip: missing field {missing[0]!r}")
    features = _field(arrays, "features", "f", 2, path)
    valid = _field(arrays, "valid", "b", 2, path)
    bio = _field(arrays, "bio", "iu", 1, path)
    segs = _field(arrays, "segments", "iu", 2, path)
    glosses = _field(arrays, "glosses", "U", 1, path)
    meta = _meta(_field(arrays, "meta", "U", 0, path), path)
    if segs.shape[1] != 2 or len(glosses) != len(segs):
        raise file_error(path, f"fields 'segments' {segs.shape} and 'glosses' {glosses.shape} must be (N, 2) and (N,)")
    # Checked before the int8 cast in Sequence, which would wrap e.g. 258 round to a valid 2.
    if bio.size and not np.isin(bio, (0, 1, 2)).all():
        raise file_error(path, "field 'bio' must hold only 0 (O), 1 (I) and 2 (B)")
    with np.errstate(over="ignore"):  # float64 beyond float32 becomes inf, which Sequence reports
        features = features.astype(np.float32)
    try:
        return Sequence(
            features=features, layout=meta["layout"], fps=float(meta["fps"]), valid=valid,
            bio=bio if bio.size else None,
            segments=tuple(Segment(int(a), int(b), g) for (a, b), g in zip(segs.tolist(), glosses.tolist())),
            text=meta["text"], language=meta["language"], signer=meta["signer"], id=meta["id"])
    except SignlibError as err:
        raise file_error(path, str(err)) from None
