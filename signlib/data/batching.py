"""Padded batches with masks: a list of sequences → tensors a model can take.

:func:`pad_stack` is the one padding helper every sampler and decoder uses: clips of different
lengths become one ``(B, T_max, ...)`` array, padded at the end, with :func:`length_mask` saying
which frames are real.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from signlib.data.sequence import Sequence
from signlib.errors import SignlibError

#: BIO value on padded frames; ``torch.nn.functional.cross_entropy`` ignores it.
PAD_LABEL = -100


@dataclass(frozen=True)
class Batch:
    """A padded batch.

    Attributes:
        features: ``(B, T, D)`` float32, zero past each clip's end.
        mask: ``(B, T)`` bool, True on real frames.
        valid: ``(B, T, J)`` bool, True on observed joints of real frames.
        bio: ``(B, T)`` int64 FAST labels, :data:`PAD_LABEL` on padding and unlabelled clips.
        lengths: ``(B,)`` int64.
        ids, texts, languages: per clip.
    """

    features: torch.Tensor
    mask: torch.Tensor
    valid: torch.Tensor
    bio: torch.Tensor
    lengths: torch.Tensor
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    languages: tuple[str, ...]

    def to(self, device) -> "Batch":
        return Batch(*(getattr(self, f).to(device) for f in ("features", "mask", "valid", "bio", "lengths")),
                     self.ids, self.texts, self.languages)


def pad_stack(arrays, value=0) -> np.ndarray:
    """``B`` arrays ``(T_i, ...)`` (same trailing shape and dtype) → ``(B, max T_i, ...)``, each
    padded at its end with ``value``."""
    arrays = list(arrays)
    if not arrays:
        raise SignlibError("pad_stack: no arrays")
    out = np.full((len(arrays), max(len(a) for a in arrays), *arrays[0].shape[1:]), value, dtype=arrays[0].dtype)
    for i, a in enumerate(arrays):
        out[i, :len(a)] = a
    return out


def length_mask(lengths, total: int | None = None) -> np.ndarray:
    """``(B, T)`` bool, True on the first ``lengths[b]`` frames of row ``b`` (``T`` = ``total`` or
    the longest)."""
    lengths = np.asarray(lengths, np.int64)
    total = int(lengths.max()) if total is None else int(total)
    return np.arange(total)[None] < lengths[:, None]


def collate(sequences: list[Sequence], max_frames: int | None = None) -> Batch:
    """Pad ``sequences`` (one layout) to the longest one; clips longer than ``max_frames`` are an error."""
    if not sequences:
        raise SignlibError("collate: empty list of sequences")
    layout = sequences[0].layout
    for s in sequences:
        if s.layout != layout:
            raise SignlibError(f"collate: {s.id} has layout {s.layout!r}, the batch has {layout!r}")
        if max_frames is not None and s.num_frames > max_frames:
            raise SignlibError(f"collate: {s.id} has {s.num_frames} frames, over max_frames={max_frames}")
    lengths = [s.num_frames for s in sequences]
    feats = pad_stack([s.features for s in sequences], np.float32(0))
    valid = pad_stack([s.valid_or_all() for s in sequences], False)
    unlabelled = np.full(max(lengths), PAD_LABEL, np.int64)
    bio = pad_stack([s.labels().astype(np.int64) if s.bio is not None or s.segments else unlabelled[:n]
                     for s, n in zip(sequences, lengths)], PAD_LABEL)
    return Batch(torch.from_numpy(feats), torch.from_numpy(length_mask(lengths)), torch.from_numpy(valid),
                 torch.from_numpy(bio), torch.tensor(lengths), tuple(s.id for s in sequences),
                 tuple(s.text for s in sequences), tuple(s.language for s in sequences))
