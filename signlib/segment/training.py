"""Segmenter data, augmentation, loss and inference: what :func:`signlib.train.train` needs.

- :func:`prepare` turns corpus clips into hand streams and gold labels once.
- :func:`make_sampler` draws a training batch as a pure function of ``(step, rng)``: random clips,
  temporal augmentation (speed resampling 0.8–1.25×, random frame drops), a random crop, padding.
  Labels are rebuilt from the gold spans after augmentation, so a B is only ever where a sign
  really starts.
- :func:`make_loss`: class-weighted frame cross-entropy + ``ctc_weight`` × CTC that asks the model
  to emit one "sign" token per sign in the window.
- :func:`predict_probs`: ``(T, 3)`` probabilities for one clip.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from signlib.data.batching import PAD_LABEL, length_mask, pad_stack
from signlib.data.bio import B, I
from signlib.data.sequence import Sequence
from signlib.segment.features import hand_streams


@dataclass(frozen=True)
class SegClip:
    """One clip ready for a segmenter: ``left``/``right`` ``(T, F)``, gold ``labels`` ``(T,)``, spans
    and the frame rate (for boundary tolerances in seconds; None when unknown)."""

    id: str
    left: np.ndarray
    right: np.ndarray
    labels: np.ndarray
    spans: tuple[tuple[int, int], ...]
    fps: float | None = None


def prepare(sequences) -> list[SegClip]:
    """Hand streams and gold labels of every sequence (spans from its gloss segments)."""
    out = []
    for seq in sequences:
        left, right = hand_streams(seq)
        spans = tuple((s.start, s.end) for s in seq.segments)
        out.append(SegClip(seq.id, left, right, seq.labels().astype(np.int64), spans, seq.fps))
    return out


def remap_labels(spans, index: np.ndarray) -> np.ndarray:
    """Labels of a clip resampled by ``index`` (new frame → source frame, non-decreasing):
    frames whose source lies in a span are I, the first of them B."""
    labels = np.zeros(len(index), np.int64)
    for start, end in spans:
        inside = np.flatnonzero((index >= start) & (index < end))
        if inside.size:
            labels[inside] = I
            labels[inside[0]] = B
    return labels


def augment_index(T: int, rng: np.random.Generator, speed=(0.8, 1.25), drop: float = 0.05) -> np.ndarray:
    """Source-frame index of an augmented clip: speed resampling, then random frame drops."""
    factor = rng.uniform(*speed)
    n = max(2, int(round(T / factor)))
    index = np.round(np.linspace(0, T - 1, n)).astype(np.int64)
    keep = rng.random(n) >= drop
    keep[0] = True
    return index[keep]


def make_sampler(clips: list[SegClip], batch_size: int, crop: int, augment: bool = True,
                 weights: np.ndarray | None = None):
    """``sample_batch(step, rng) -> dict`` of padded tensors (see :func:`signlib.train.train`).

    ``weights``: optional ``(N,)`` sampling weights of the clips (e.g. to mix isolated citation
    forms into continuous signing at a chosen rate); uniform by default.
    """
    p = None if weights is None else np.asarray(weights, np.float64) / np.sum(weights)

    def sample_batch(step: int, rng: np.random.Generator) -> dict:
        picks = rng.choice(len(clips), size=batch_size, p=p) if p is not None else rng.integers(len(clips), size=batch_size)
        items = []
        for k in picks:
            c = clips[k]
            T = len(c.labels)
            index = augment_index(T, rng) if augment else np.arange(T)
            if len(index) > crop:
                start = int(rng.integers(0, len(index) - crop + 1))
                index = index[start:start + crop]
            labels = remap_labels(c.spans, index)
            # Signs with at least one frame in the window; a sign cut by the crop still counts.
            n_signs = sum(bool(((index >= s) & (index < e)).any()) for s, e in c.spans)
            items.append((c.left[index], c.right[index], labels, n_signs))
        return {"left": torch.from_numpy(pad_stack([i[0] for i in items], np.float32(0))),
                "right": torch.from_numpy(pad_stack([i[1] for i in items], np.float32(0))),
                "mask": torch.from_numpy(length_mask([len(i[2]) for i in items])),
                "labels": torch.from_numpy(pad_stack([i[2] for i in items], PAD_LABEL)),
                "n_signs": torch.tensor([i[3] for i in items])}

    return sample_batch


def class_weights(clips: list[SegClip]) -> torch.Tensor:
    """``(3,)`` inverse-frequency weights of O, I, B, normalised to mean 1 (B frames are rare)."""
    counts = np.bincount(np.concatenate([c.labels for c in clips]), minlength=3).astype(np.float64)
    w = 1.0 / np.maximum(counts / counts.sum(), 1e-4)
    w = np.sqrt(w)  # full inverse frequency over-predicts B; its square root balances precision
    return torch.tensor(w / w.mean(), dtype=torch.float32)


def make_loss(weights: torch.Tensor, ctc_weight: float = 0.3):
    """``loss_fn(model, batch) -> (loss, logs)``: weighted cross-entropy (+ CTC when the model has
    a CTC head and ``ctc_weight`` > 0)."""

    def loss_fn(model, batch):
        out = model(batch["left"], batch["right"], batch["mask"])
        ce = F.cross_entropy(out["logits"].transpose(1, 2), batch["labels"], weight=weights.to(out["logits"]),
                             ignore_index=PAD_LABEL)
        logs = {"ce": float(ce.detach())}
        loss = ce
        if ctc_weight > 0 and "ctc_logits" in out:
            log_probs = out["ctc_logits"].log_softmax(-1).transpose(0, 1)          # (T', B, 2)
            n = batch["n_signs"]
            targets = torch.ones(int(n.sum()), dtype=torch.long, device=log_probs.device)
            ctc = F.ctc_loss(log_probs, targets, out["ctc_mask"].sum(1), n, blank=0, zero_infinity=True)
            loss = loss + ctc_weight * ctc
            logs["ctc"] = float(ctc.detach())
        return loss, logs

    return loss_fn


@torch.no_grad()
def predict_probs(model: torch.nn.Module, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """``(T, 3)`` O/I/B probabilities of one clip (model in eval mode, whole clip at once).

    A clip in which neither hand is observed in any frame has nothing to segment: it gets
    ``p(O) = 1`` everywhere (no segments) instead of whatever the network makes of all-zero input.
    """
    if not (left[:, -1].any() or right[:, -1].any()):
        probs = np.zeros((len(left), 3), np.float32)
        probs[:, 0] = 1.0
        return probs
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    l = torch.from_numpy(np.ascontiguousarray(left))[None].to(device)
    r = torch.from_numpy(np.ascontiguousarray(right))[None].to(device)
    mask = torch.ones(l.shape[:2], dtype=torch.bool, device=device)
    probs = model(l, r, mask)["logits"].softmax(-1)[0].cpu().numpy()
    model.train(was_training)
    return probs


def segment_sequence(model: torch.nn.Module, seq: Sequence) -> np.ndarray:
    """``(T, 3)`` probabilities for a :class:`Sequence` (computes its hand streams)."""
    left, right = hand_streams(seq)
    return predict_probs(model, left, right)
