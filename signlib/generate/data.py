"""Training data for SignSparK: clips with their keyframes, batches, and the loss for
:func:`signlib.train.train`.

A batch holds whole clips (padded to the longest, no cropping: the text describes the whole
sentence, so a crop would teach the model to ignore half of it), keyframes from the chosen policy,
and the condition dropout of classifier-free guidance drawn per clip: the text is replaced by the
null token with probability ``text_drop`` and, independently, the keyframes are removed with
probability ``key_drop`` (which is what trains text-to-pose).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from signlib.data.corpus import Corpus
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError, file_error
from signlib.generate.flow import FlowLossConfig, flow_loss, probability_path
from signlib.keyframes import keyframe_mask, onset_mid_offset


@dataclass(frozen=True)
class GenClip:
    """One training clip: ``features (T, D)`` raw float32, ``valid (T, D)`` bool, ``keyframes (K,)``."""

    id: str
    features: np.ndarray
    valid: np.ndarray
    keyframes: np.ndarray
    text: str
    language: str


def load_keyframes(path: str | os.PathLike, policy: str) -> dict[str, list[int]]:
    """``{clip id: frames}`` of ``policy`` from the ``keyframes`` stage's ``keyframes.json``."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        table = raw["keyframes"][policy]
    except FileNotFoundError:
        raise file_error(path, "keyframes not found (run the `keyframes` stage)") from None
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise file_error(path, f"no keyframes for policy {policy!r} ({type(err).__name__})") from None
    return {str(k): [int(f) for f in v] for k, v in table.items()}


def true_keyframes(seq: Sequence) -> np.ndarray:
    """Onset/mid/offset of every gold sign (what FAST approximates)."""
    return onset_mid_offset([(s.start, s.end) for s in seq.segments], seq.num_frames)


def to_genclip(seq: Sequence, keyframes=None) -> GenClip:
    """A :class:`GenClip` from a sequence; ``keyframes`` default to the true ones."""
    keys = true_keyframes(seq) if keyframes is None else np.asarray(keyframes, np.int64)
    keyframe_mask(keys, seq.num_frames)  # range check with a clear error
    channels = seq.get_layout().channels
    valid = np.repeat(seq.valid_or_all(), channels, axis=1)
    return GenClip(seq.id, seq.features, valid, keys, seq.text, seq.language)


def clip_keyframes(seq: Sequence, keyframes: dict[str, list[int]] | None) -> np.ndarray:
    """The keyframes a generator gets for ``seq``: mined ones from ``keyframes``, else the true ones.
    A clip missing from ``keyframes`` is an error: the keyframes file belongs to another corpus."""
    if keyframes is None:
        return true_keyframes(seq)
    if seq.id not in keyframes:
        raise SignlibError(f"clip {seq.id!r} has no keyframes; rerun the `keyframes` stage for this corpus")
    return np.asarray(keyframes[seq.id], np.int64)


def prepare_clips(corpus: Corpus, split: str, keyframes: dict[str, list[int]] | None = None) -> list[GenClip]:
    """Clips of one split with their keyframes (``None``: the true keyframes); see :func:`clip_keyframes`."""
    out = []
    for info in corpus.select(split):
        seq = corpus.load(info.id)
        out.append(to_genclip(seq, clip_keyframes(seq, keyframes)))
    if not out:
        raise SignlibError(f"{corpus.root}: no clips in split {split!r}")
    return out


def feature_statistics(clips: list[GenClip]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std ``(D,)`` over the observed frames of ``clips``."""
    x = np.concatenate([c.features for c in clips]).astype(np.float64)
    w = np.concatenate([c.valid for c in clips]).astype(np.float64)
    n = np.maximum(w.sum(0), 1.0)
    mean = (x * w).sum(0) / n
    std = np.sqrt(((x - mean) ** 2 * w).sum(0) / n)
    return mean.astype(np.float32), std.astype(np.float32)


def make_sampler(clips: list[GenClip], batch_size: int, text_drop: float = 0.1, key_drop: float = 0.1,
                 bucket: int = 4):
    """``sample_batch(step, rng) -> dict``: ``x1 (B, T, D)``, ``valid (B, T, D)``, ``length_mask
    (B, T)``, ``key_mask (B, T)``, ``lengths (B,)``, ``texts`` (None where dropped), ``languages``.

    Batches are drawn from clips of similar length: a uniformly drawn anchor clip plus clips from a
    window of ``bucket × batch_size`` clips around it in length order. Uniform picks would pad every
    batch to its longest clip and waste about a third of the compute on padding; the anchor keeps
    the shortest and longest clips from being starved. ``bucket = 0`` samples uniformly.
    """
    if not clips:
        raise SignlibError("make_sampler: no clips")
    order = np.argsort([len(c.features) for c in clips], kind="stable")
    window = min(len(clips), bucket * batch_size) if bucket > 0 else len(clips)

    def sample_batch(step: int, rng: np.random.Generator) -> dict:
        anchor = int(rng.integers(len(clips)))
        start = min(max(anchor - window // 2, 0), len(clips) - window)
        picks = order[np.concatenate([[anchor], start + rng.integers(window, size=batch_size - 1)])]
        drop_text = rng.random(batch_size) < text_drop
        drop_keys = rng.random(batch_size) < key_drop
        T = max(len(clips[k].features) for k in picks)
        D = clips[0].features.shape[1]
        x1 = np.zeros((batch_size, T, D), np.float32)
        valid = np.zeros((batch_size, T, D), bool)
        lengths = np.zeros(batch_size, np.int64)
        keys = np.zeros((batch_size, T), bool)
        for b, k in enumerate(picks):
            c = clips[k]
            n = len(c.features)
            x1[b, :n], valid[b, :n], lengths[b] = c.features, c.valid, n
            if not drop_keys[b]:
                keys[b, c.keyframes] = True
        return {"x1": torch.from_numpy(x1), "valid": torch.from_numpy(valid),
                "length_mask": torch.from_numpy(np.arange(T)[None] < lengths[:, None]),
                "key_mask": torch.from_numpy(keys), "lengths": torch.from_numpy(lengths),
                "texts": [None if d else clips[k].text for k, d in zip(picks, drop_text)],
                "languages": [clips[k].language for k in picks]}

    return sample_batch


def make_loss(channels: torch.Tensor, config: FlowLossConfig = FlowLossConfig(), length_weight: float = 0.1):
    """``loss_fn(model, batch) -> (loss, logs)``: the flow objective on normalised features plus
    ``length_weight`` × the squared error of the predicted ``log T`` (rows with text only)."""

    def loss_fn(model, batch):
        net = getattr(model, "module", model)
        x1 = net.normalise(batch["x1"]) * batch["length_mask"][..., None]
        x0 = torch.randn_like(x1)
        t = torch.rand(len(x1), device=x1.device)
        control, target = probability_path(x1, x0, t, batch["key_mask"])
        out = model(control, t, batch["key_mask"], batch["length_mask"], batch["texts"], batch["languages"])
        loss, logs = flow_loss(out["v"], x1, control, target, t, batch["key_mask"], batch["length_mask"],
                               batch["valid"], channels, config)
        has_text = torch.tensor([s is not None for s in batch["texts"]], device=x1.device)
        if length_weight > 0 and bool(has_text.any()):
            err = (out["log_length"] - batch["lengths"].float().log()) ** 2
            length = err[has_text].mean()
            loss = loss + length_weight * length
            logs["length"] = float(length.detach())
        return loss, logs

    return loss_fn
