"""A curated corpus on disk: an index plus one clip file each, loaded lazily.

Layout of a corpus folder::

    index.json                  {"layout", "fps", "clips": [{id, file, language, signer, split,
                                                             num_frames, text, glosses}, ...]}
    clips/<id>.<sha256:16>.npz  one :mod:`signlib.data.store` clip per entry, named by its content

The index answers every question that does not need the motion (sizes, splits, vocabularies),
so statistics and split selection never read the clip files. Readers go through the index, never
through a glob of ``clips/``.

Interrupted writes: :func:`write_corpus` never touches a file the current index points to
(a changed clip gets a new name, an unchanged one is rewritten with the same bytes), and replaces
the index last, atomically. A write killed at any moment leaves the previous corpus readable, or,
when there was none, no ``index.json`` and a clear error from :class:`Corpus`. Clip files only a
killed write made stay in ``clips/`` unreferenced until the next write deletes them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from signlib.data.sequence import Sequence
from signlib.data.store import read_clip, write_clip
from signlib.errors import SignlibError, file_error
from signlib.io import PARTIAL, remove_partials, write_json

SPLITS = ("train", "val", "test")
INDEX = "index.json"
CLIPS = "clips"
_STAGED = ".staged"  # a clip written but not yet named by its hash; hidden and not *.npz
_HASHED = re.compile(r".+\.[0-9a-f]{16}\.npz")  # what _write_clip_file names a clip


@dataclass(frozen=True)
class ClipInfo:
    """One index entry."""

    id: str
    file: str
    language: str
    signer: str
    split: str
    num_frames: int
    text: str
    glosses: tuple[str, ...]


def split_signers(signers: Iterable[str], val_fraction: float, test_fraction: float, seed: int,
                  groups: dict[str, str] | None = None) -> dict[str, str]:
    """Assign every signer to ``train``, ``val`` or ``test`` so test signers are never seen in training.

    With ``groups`` (signer → group, e.g. its language) the fractions apply within each group, so
    every language gets unseen test signers. Deterministic for a seed and independent of input
    order. A group with at least three signers gives a non-zero fraction at least one signer, and
    training always keeps at least one.
    """
    names = sorted(set(signers))
    groups = groups or {}
    out: dict[str, str] = {}
    for g, group in enumerate(sorted({groups.get(s, "") for s in names})):
        members = [s for s in names if groups.get(s, "") == group]
        order = [members[i] for i in np.random.default_rng([seed, g]).permutation(len(members))]
        n = len(order)
        n_test = math.ceil(test_fraction * n) if test_fraction > 0 and n >= 3 else 0
        n_val = math.ceil(val_fraction * n) if val_fraction > 0 and n >= 3 else 0
        while n_test + n_val >= n and (n_test or n_val):
            if n_val >= n_test and n_val:
                n_val -= 1
            else:
                n_test -= 1
        out.update({s: "test" for s in order[:n_test]})
        out.update({s: "val" for s in order[n_test:n_test + n_val]})
        out.update({s: "train" for s in order[n_test + n_val:]})
    return out


def write_corpus(root: str | os.PathLike, sequences: Iterable[Sequence], splits: dict[str, str]) -> "Corpus":
    """Write clips and index under ``root``; ``splits`` maps signer → split.

    Safe to interrupt (see the module docstring). The same sequences give byte-identical files.
    One writer per folder: two processes writing the same corpus at once delete each other's clips.
    """
    root = Path(root)
    previous = _referenced(root)
    clips_dir = root / CLIPS
    clips_dir.mkdir(parents=True, exist_ok=True)
    entries, layout, fps, seen = [], None, None, set()
    try:
        for seq in sequences:
            if layout is None:
                layout, fps = seq.layout, seq.fps
            if seq.layout != layout:
                raise SignlibError(f"{seq.id}: layout {seq.layout!r} differs from the corpus layout {layout!r}")
            if seq.signer not in splits:
                raise SignlibError(f"{seq.id}: signer {seq.signer!r} has no split")
            if seq.id in seen:  # before writing: both would be staged under the same name
                raise SignlibError(f"{root}: clip ids are not unique ({seq.id!r} twice)")
            seen.add(seq.id)
            entries.append({"id": seq.id, "file": f"{CLIPS}/{_write_clip_file(clips_dir, seq)}",
                            "language": seq.language, "signer": seq.signer, "split": splits[seq.signer],
                            "num_frames": seq.num_frames, "text": seq.text, "glosses": seq.glosses})
        if not entries:
            raise SignlibError(f"{root}: no clips to write")
    except BaseException:
        _sweep(clips_dir, keep=previous, drop=set())  # the old index still rules: drop only new files
        raise
    write_json(root / INDEX, {"layout": layout, "fps": fps, "clips": entries})  # the commit point
    remove_partials(root / INDEX)
    _sweep(clips_dir, keep={e["file"] for e in entries}, drop=previous)
    return Corpus(root)


def _write_clip_file(folder: Path, seq: Sequence) -> str:
    """Write ``seq`` into ``folder`` as ``<id>.<sha256 of the file:16>.npz``; return that name.

    Naming by content is what keeps the previous corpus intact: a clip that changed never
    overwrites the file the current index points to.
    """
    staged = folder / f".{seq.id}{_STAGED}"
    write_clip(staged, seq)
    name = f"{seq.id}.{hashlib.sha256(staged.read_bytes()).hexdigest()[:16]}.npz"
    os.replace(staged, folder / name)
    return name


def _referenced(root: Path) -> set[str]:
    """Files (relative to ``root``) the index in ``root`` points to; none when it is missing or unreadable."""
    try:
        return {c["file"] for c in json.loads((root / INDEX).read_text(encoding="utf-8"))["clips"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _sweep(folder: Path, keep: set[str], drop: set[str]) -> None:
    """Delete the files in ``folder`` (a corpus's ``clips/``) that no index needs any more.

    Deleted: files named in ``drop`` (the index just replaced), content-named clips and the
    leftovers of interrupted writes; always except those named in ``keep``. Anything else
    (files this module did not write) is left alone.
    """
    for path in folder.iterdir():
        rel = f"{CLIPS}/{path.name}"
        ours = rel in drop or _HASHED.fullmatch(path.name) or path.name.endswith((_STAGED, PARTIAL))
        if path.is_file() and ours and rel not in keep:
            path.unlink()


def _interrupted(root: Path) -> str:
    """A hint for a missing index: ``clips/`` holding files only :func:`write_corpus` makes means
    a first write was killed before its index; say so rather than only "not found"."""
    clips = root / CLIPS
    ours = clips.is_dir() and any(_HASHED.fullmatch(p.name) or p.name.endswith(_STAGED) for p in clips.iterdir())
    return "an earlier write_corpus was interrupted before writing it; " if ours else ""


class Corpus:
    """A curated corpus folder, read lazily: clips load on access."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        index = self.root / INDEX
        try:
            raw = json.loads(index.read_text(encoding="utf-8"))
            self.layout: str = raw["layout"]
            self.fps: float = float(raw["fps"])
            self.clips = [ClipInfo(**{**c, "glosses": tuple(c["glosses"])}) for c in raw["clips"]]
        except FileNotFoundError:
            hint = _interrupted(self.root)
            raise file_error(index, f"corpus index not found ({hint}run the `corpus` stage first)") from None
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise file_error(index, f"corrupt corpus index ({type(err).__name__}: {err})") from None
        self._by_id = {c.id: c for c in self.clips}
        self._check_files(index)

    def _check_files(self, index: Path) -> None:
        """Fail now, not at the first lazy load, when the index points to files that are gone
        (a half-done ``dvc checkout``, a hand-deleted clip). One listing per folder, no reads."""
        present: dict[Path, set[str]] = {}
        missing = []
        for c in self.clips:
            path = self.root / c.file
            if path.parent not in present:
                present[path.parent] = set(os.listdir(path.parent)) if path.parent.is_dir() else set()
            if path.name not in present[path.parent]:
                missing.append(c.file)
        if missing:
            raise file_error(index, f"{len(missing)} clip file(s) it lists are missing (first: {missing[0]}); "
                                    "run the `corpus` stage again")

    def __len__(self) -> int:
        return len(self.clips)

    def __iter__(self) -> Iterator[Sequence]:
        return (self.load(c.id) for c in self.clips)

    def __getitem__(self, key: int | str) -> Sequence:
        return self.load(self.clips[key].id if isinstance(key, int) else key)

    def load(self, clip_id: str) -> Sequence:
        try:
            info = self._by_id[clip_id]
        except KeyError:
            raise SignlibError(f"{self.root}: no clip {clip_id!r}") from None
        return read_clip(self.root / info.file)

    def select(self, split: str | None = None, language: str | None = None) -> list[ClipInfo]:
        """Index entries of one split and/or language."""
        if split is not None and split not in SPLITS:
            raise SignlibError(f"unknown split {split!r}; splits are {', '.join(SPLITS)}")
        return [c for c in self.clips if (split is None or c.split == split)
                and (language is None or c.language == language)]

    def languages(self) -> list[str]:
        return sorted({c.language for c in self.clips})

    def signers(self, split: str | None = None) -> list[str]:
        return sorted({c.signer for c in self.select(split)})
