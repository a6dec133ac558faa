"""The small real MediaPipe samples beside the repository (``../shared/realdata``; see its MANIFEST).

They are never copied into the repository. Stages use them for tiny, clearly labelled
out-of-domain checks and skip those cells when the folder is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

from signlib.data.formats.annotations import Annotation, read_dgs_fluent_metadata
from signlib.data.formats.pose_file import pose_to_sequence, read_pose
from signlib.data.sequence import Sequence

_DEFAULT = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"


def realdata_dir() -> Path | None:
    """``$SIGNLIB_REALDATA`` or ``<repo>/../shared/realdata``; None when it is not there."""
    path = Path(os.environ.get("SIGNLIB_REALDATA") or _DEFAULT)
    return path.resolve() if path.is_dir() else None


def dgs_fluent_sentences(root: Path | None = None, kind: str = "original") -> list[tuple[Sequence, Annotation]]:
    """The 32 real DGS sentences (``kind`` = ``original`` signing or ``updated``, the naive
    dictionary stitching) as ``xyz_mediapipe`` sequences with their gloss annotations; ``[]``
    when the folder is absent."""
    root = root or realdata_dir()
    if root is None:
        return []
    out = []
    for meta in sorted((root / "dgs_fluent_sentences").glob("*/*_metadata.json")):
        ann = read_dgs_fluent_metadata(meta)
        pose = meta.with_name(meta.name.replace("_metadata.json", f"_{kind}.pose"))
        seq = pose_to_sequence(read_pose(pose), id=pose.stem, text=ann.text, language="DGS", signer="dgs-corpus")
        out.append((seq, ann))
    return out
