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

Loaded with ``allow_pickle=False``: a clip file can never execute code.
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

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


def read_clip(path: str | os.PathLike) -> Sequence:
    """Read a clip written by :func:`write_clip`."""
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [f for f in _FIELDS if f not in z.files]
            if missing:
                raise file_error(path, f"not a signlib clip: missing field {missing[0]!r}")
            arrays = {f: z[f] for f in _FIELDS}
    except FileNotFoundError:
        raise file_error(path, "file not found") from None
    except SignlibError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise file_error(path, f"unreadable clip file ({type(err).__name__}: {err})") from None
    try:
        meta = json.loads(str(arrays["meta"]))
        segs = arrays["segments"].reshape(-1, 2)
        glosses = arrays["glosses"].tolist()
        return Sequence(
            features=arrays["features"], layout=meta["layout"], fps=float(meta["fps"]), valid=arrays["valid"],
            bio=arrays["bio"] if arrays["bio"].size else None,
            segments=tuple(Segment(int(a), int(b), g) for (a, b), g in zip(segs.tolist(), glosses)),
            text=meta["text"], language=meta["language"], signer=meta["signer"], id=meta["id"])
    except SignlibError as err:
        raise file_error(path, str(err)) from None
    except (KeyError, ValueError, TypeError) as err:
        raise file_error(path, f"corrupt clip metadata ({type(err).__name__}: {err})") from None
