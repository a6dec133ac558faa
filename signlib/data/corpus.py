"""A curated corpus on disk: an index plus one clip file each, loaded lazily.

Layout of a corpus folder::

    index.json          {"layout", "fps", "clips": [{id, file, language, signer, split, num_frames,
                                                       text, glosses}, ...]}
    clips/<id>.npz      one :mod:`signlib.data.store` clip per entry

The index answers every question that does not need the motion (sizes, splits, vocabularies),
so statistics and split selection never read the clip files.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from signlib.data.sequence import Sequence
from signlib.data.store import read_clip, write_clip
from signlib.errors import SignlibError, file_error
from signlib.io import write_json

SPLITS = ("train", "val", "test")


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

    Clips are written first and the index last (atomically), so an interrupted write never
    leaves an index that points to missing clips.
    """
    root = Path(root)
    entries, layout, fps = [], None, None
    for seq in sequences:
        if layout is None:
            layout, fps = seq.layout, seq.fps
        if seq.layout != layout:
            raise SignlibError(f"{seq.id}: layout {seq.layout!r} differs from the corpus layout {layout!r}")
        if seq.signer not in splits:
            raise SignlibError(f"{seq.id}: signer {seq.signer!r} has no split")
        rel = f"clips/{seq.id}.npz"
        write_clip(root / rel, seq)
        entries.append({"id": seq.id, "file": rel, "language": seq.language, "signer": seq.signer,
                        "split": splits[seq.signer], "num_frames": seq.num_frames, "text": seq.text,
                        "glosses": seq.glosses})
    if not entries:
        raise SignlibError(f"{root}: no clips to write")
    ids = [e["id"] for e in entries]
    if len(set(ids)) != len(ids):
        raise SignlibError(f"{root}: clip ids are not unique")
    write_json(root / "index.json", {"layout": layout, "fps": fps, "clips": entries})
    return Corpus(root)


class Corpus:
    """A curated corpus folder, read lazily: clips load on access."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)
        index = self.root / "index.json"
        try:
            raw = json.loads(index.read_text(encoding="utf-8"))
            self.layout: str = raw["layout"]
            self.fps: float = float(raw["fps"])
            self.clips = [ClipInfo(**{**c, "glosses": tuple(c["glosses"])}) for c in raw["clips"]]
        except FileNotFoundError:
            raise file_error(index, "corpus index not found (run the `corpus` stage first)") from None
        except (json.JSONDecodeError, KeyError, TypeError) as err:
            raise file_error(index, f"corrupt corpus index ({type(err).__name__}: {err})") from None
        self._by_id = {c.id: c for c in self.clips}

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
