"""The small real MediaPipe samples beside the repository (``../shared/realdata``; see its MANIFEST).

They are never copied into the repository. Stages use them for tiny, clearly labelled
out-of-domain checks and skip those cells when the folder is absent.

**As a pipeline input.** The folder lives outside the repository, so ``dvc.yaml`` cannot list it
(a clone without it could not run at all). Instead the stages that read it depend on the committed
``realdata.json``: the md5 of every file they read (:func:`manifest`). A stage that finds the folder
checks it against that file first (:func:`check_manifest`) and stops with a one-line error when
they differ, so changed real data can never hide behind an up-to-date DVC status. After a
deliberate change, ``python -m signlib.data.realdata`` rewrites ``realdata.json``.

:func:`write_dgs_corpus` turns the 32 DGS sentences into a corpus folder in a real format
(``.pose`` clips with ELAN gloss and text tiers, ``corpus.yaml``), which the whole pipeline runs on.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
from pathlib import Path

from signlib.data.formats.annotations import Annotation, read_dgs_fluent_metadata
from signlib.data.formats.elan import frame_to_ms, write_eaf
from signlib.data.formats.pose_file import pose_to_sequence, read_pose
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.io import read_json, write_json, write_text

_DEFAULT = Path(__file__).resolve().parents[2] / ".." / "shared" / "realdata"
#: The subfolders of the real-data folder that stages read (and :func:`manifest` covers).
READ_BY_STAGES = ("dgs_fluent_sentences",)
#: The committed manifest, relative to the repository root (where DVC runs stages).
MANIFEST = "realdata.json"
#: Padding the source inserted between gloss cut-outs of an ``original`` sentence (seconds).
DGS_PADDING = 0.2


def realdata_dir() -> Path | None:
    """``$SIGNLIB_REALDATA`` or ``<repo>/../shared/realdata``; None when it is not there."""
    path = Path(os.environ.get("SIGNLIB_REALDATA") or _DEFAULT)
    return path.resolve() if path.is_dir() else None


def manifest(root: Path, subfolders=READ_BY_STAGES) -> dict[str, str]:
    """``{relative path: md5}`` of every file under ``root/<subfolder>`` (sorted)."""
    out = {}
    for sub in subfolders:
        for path in sorted((root / sub).rglob("*")):
            if path.is_file():
                out[path.relative_to(root).as_posix()] = hashlib.md5(path.read_bytes()).hexdigest()
    return out


def write_manifest(path: str | os.PathLike = MANIFEST, root: Path | None = None) -> dict[str, str]:
    """Write the manifest of the real-data folder to ``path`` (see the module docstring)."""
    root = root or realdata_dir()
    if root is None:
        raise SignlibError("no real-data folder: set SIGNLIB_REALDATA or put it at ../shared/realdata")
    files = manifest(root)
    write_json(path, {"about": "md5 of the real samples the stages read; see signlib.data.realdata",
                      "subfolders": list(READ_BY_STAGES), "files": files})
    return files


def check_manifest(root: Path, path: str | os.PathLike = MANIFEST) -> None:
    """Raise a one-line error when the files under ``root`` differ from the committed manifest."""
    recorded = read_json(path).get("files", {})
    found = manifest(root)
    changed = sorted(set(recorded) ^ set(found) | {k for k in set(recorded) & set(found) if recorded[k] != found[k]})
    if changed:
        raise SignlibError(f"{root}: {len(changed)} real-data files differ from {path} (e.g. {changed[0]}); "
                           f"if the change is meant, run `python -m signlib.data.realdata` and commit {path}")


def checked_realdata_dir(path: str | os.PathLike = MANIFEST) -> Path | None:
    """:func:`realdata_dir` after :func:`check_manifest` (None when the folder is absent)."""
    root = realdata_dir()
    if root is not None:
        check_manifest(root, path)
    return root


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


def dgs_gloss_spans(ann: Annotation, duration: float) -> list[tuple[float, float, str]]:
    """``(start s, end s, gloss)`` of each gloss on an ``original`` clip of ``duration`` seconds.

    The clip is the gloss cut-outs joined by :data:`DGS_PADDING` of interpolated padding, in gloss
    order, then trimmed and rescaled by the source, which records neither: each gloss keeps its
    corpus duration, and the laid-out timeline is scaled to the clip. Approximate by construction.
    """
    spans = ann.extras["gloss_spans"]
    layout, t = [], 0.0
    for (a, b), gloss in zip(spans, ann.glosses):
        layout.append((t, t + (b - a), gloss))
        t += (b - a) + DGS_PADDING
    total = max(t - DGS_PADDING, 1e-6)
    return [(a * duration / total, b * duration / total, g) for a, b, g in layout]


def write_dgs_corpus(out_dir: str | os.PathLike, root: Path | None = None) -> Path:
    """A ``pose`` corpus folder of the 32 real ``original`` DGS sentences: ``clips/<id>.pose`` (the
    files as they are), ``clips/<id>.eaf`` (tier ``GLOSS``: :func:`dgs_gloss_spans`; tier ``TEXT``:
    the German translation) and ``corpus.yaml``. Every sentence is its own signer (the sample does
    not say who signs), so splits are per sentence."""
    root = root or realdata_dir()
    if root is None:
        raise SignlibError("no real-data folder: set SIGNLIB_REALDATA or put it at ../shared/realdata")
    out = Path(out_dir)
    (out / "clips").mkdir(parents=True, exist_ok=True)
    for seq, ann in dgs_fluent_sentences(root):
        name = seq.id.replace("_original", "")
        shutil.copyfile(root / "dgs_fluent_sentences" / name.split("_")[0] / f"{seq.id}.pose",
                        out / "clips" / f"{name}.pose")
        gloss = []
        for a, b, g in dgs_gloss_spans(ann, seq.duration):  # whole frames, at least one per gloss
            start = min(round(a * seq.fps), seq.num_frames - 1)
            end = min(max(start + 1, round(b * seq.fps)), seq.num_frames)
            gloss.append((frame_to_ms(start, seq.fps), frame_to_ms(end, seq.fps), g))
        text = [(0, frame_to_ms(seq.num_frames, seq.fps), ann.text)]
        write_eaf(out / "clips" / f"{name}.eaf", {"GLOSS": gloss, "TEXT": text})
    write_text(out / "corpus.yaml", "format: pose\nfiles: clips/*.pose\nfps: 25\nlanguage: DGS\nsigners: ''\n"
                                    "eaf_tier: GLOSS\ntext_tier: TEXT\nsynthetic: {}\n")
    return out


if __name__ == "__main__":
    files = write_manifest(sys.argv[1] if len(sys.argv) > 1 else MANIFEST)
    print(f"{len(files)} files recorded")
