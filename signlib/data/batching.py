"""Padded batches with masks: a list of sequences → tensors a model can take."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.pose.layout import get_layout

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


def collate(sequences: list[Sequence], max_frames: int | None = None) -> Batch:
    """Pad ``sequences`` (one layout) to the longest one; clips longer than ``max_frames`` are an error."""
    if not sequences:
        raise SignlibError("collate: empty list of sequences")
    layout = sequences[0].layout
    lay = get_layout(layout)
    for s in sequences:
        if s.layout != layout:
            raise SignlibError(f"collate: {s.id} has layout {s.layout!r}, the batch has {layout!r}")
        if max_frames is not None and s.num_frames > max_frames:
            raise SignlibError(f"collate: {s.id} has {s.num_frames} frames, over max_frames={max_frames}")
    B, T = len(sequences), max(s.num_frames for s in sequences)
    feats = np.zeros((B, T, lay.dim), np.float32)
    mask = np.zeros((B, T), bool)
    valid = np.zeros((B, T, lay.num_joints), bool)
    bio = np.full((B, T), PAD_LABEL, np.int64)
    for i, s in enumerate(sequences):
        n = s.num_frames
        feats[i, :n], mask[i, :n], valid[i, :n] = s.features, True, s.valid_or_all()
        if s.bio is not None or s.segments:
            bio[i, :n] = s.labels()
    return Batch(torch.from_numpy(feats), torch.from_numpy(mask), torch.from_numpy(valid), torch.from_numpy(bio),
                 torch.tensor([s.num_frames for s in sequences]), tuple(s.id for s in sequences),
                 tuple(s.text for s in sequences), tuple(s.language for s in sequences))
