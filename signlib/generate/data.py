"""Training data for SignSparK: clips with their keyframes, batches, and the loss for
:func:`signlib.train.train`.

A batch holds whole clips (padded to the longest, no cropping: the text describes the whole
sentence, so a crop would teach the model to ignore half of it), keyframes from the chosen policy,
and the condition dropout of classifier-free guidance drawn per clip: the text is replaced by the
null token with probability ``text_drop`` and, independently, the keyframes are removed with
probability ``key_drop`` (which is what trains text-to-pose).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from signlib.data.batching import length_mask, pad_stack
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.generate.configs import BatchConfig, FlowLossConfig
from signlib.generate.diffusion import network_time, noise_path
from signlib.generate.flow import clean_loss, estimate_clean, flow_loss, probability_path
from signlib.generate.positions import position_loss
from signlib.keyframes import keyframe_mask, true_keyframes
from signlib.pose.normalize import feature_statistics


@dataclass(frozen=True)
class GenClip:
    """One training clip: ``features (T, D)`` raw float32, ``valid (T, D)`` bool, ``keyframes (K,)``."""

    id: str
    features: np.ndarray
    valid: np.ndarray
    keyframes: np.ndarray
    text: str
    language: str


def to_genclip(seq: Sequence, keyframes=None) -> GenClip:
    """A :class:`GenClip` from a sequence; ``keyframes`` default to the true ones."""
    keys = true_keyframes(seq) if keyframes is None else np.asarray(keyframes, np.int64)
    keyframe_mask(keys, seq.num_frames)  # range check with a clear error
    channels = seq.get_layout().channels
    valid = np.repeat(seq.valid_or_all(), channels, axis=1)
    return GenClip(seq.id, seq.features, valid, keys, seq.text, seq.language)


def clip_statistics(clips: list[GenClip]) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std ``(D,)`` over the observed frames of ``clips``."""
    return feature_statistics([c.features for c in clips], [c.valid for c in clips])


def make_sampler(clips: list[GenClip], batch_size: int, config: BatchConfig = BatchConfig()):
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
    window = min(len(clips), config.bucket * batch_size) if config.bucket > 0 else len(clips)

    def sample_batch(step: int, rng: np.random.Generator) -> dict:
        anchor = int(rng.integers(len(clips)))
        start = min(max(anchor - window // 2, 0), len(clips) - window)
        picks = order[np.concatenate([[anchor], start + rng.integers(window, size=batch_size - 1)])]
        drop_text = rng.random(batch_size) < config.text_drop
        drop_keys = rng.random(batch_size) < config.key_drop
        lengths = np.array([len(clips[k].features) for k in picks], np.int64)
        keys = [keyframe_mask([] if d else clips[k].keyframes, n) for k, d, n in zip(picks, drop_keys, lengths)]
        return {"x1": torch.from_numpy(pad_stack([clips[k].features for k in picks], np.float32(0))),
                "valid": torch.from_numpy(pad_stack([clips[k].valid for k in picks], False)),
                "length_mask": torch.from_numpy(length_mask(lengths)),
                "key_mask": torch.from_numpy(pad_stack(keys, False)), "lengths": torch.from_numpy(lengths),
                "texts": [None if d else clips[k].text for k, d in zip(picks, drop_text)],
                "languages": [clips[k].language for k in picks]}

    return sample_batch


def make_loss(channels: torch.Tensor, config: FlowLossConfig = FlowLossConfig()):
    """``loss_fn(model, batch) -> (loss, logs)``: the flow objective (for a ``ddpm`` generator the
    diffusion objective of :mod:`signlib.generate.diffusion`) in the flow coordinates of the
    model's prior (:mod:`signlib.generate.prior`; normalised features under the standard one) plus
    ``length_weight`` × the squared error of the predicted ``log T`` (rows with text only) and
    ``position_weight`` × the joint-position loss of ``x̂1`` (:mod:`signlib.generate.positions`)."""

    def loss_fn(model, batch):
        net = getattr(model, "module", model)
        real = batch["length_mask"][..., None]
        x1 = net.normalise(batch["x1"]) * real
        prior = net.prior(x1, batch["key_mask"])  # the flow runs on z = (x − mean) / std
        z1 = prior.to_flow(x1) * real
        x0 = torch.randn_like(z1)
        if net.config.generator == "ddpm":  # a timestep of the cosine schedule; the network predicts ẑ1
            total = net.config.diffusion_steps
            k = torch.randint(1, total + 1, (len(z1),), device=z1.device)
            t = network_time(k, total)
            control = noise_path(z1, x0, k, total, batch["key_mask"])
            out = model(control, t, batch["key_mask"], batch["length_mask"], batch["texts"], batch["languages"],
                        prior.track)
            z_hat = out["x_hat"]
            loss, logs = clean_loss(z_hat, z1, batch["length_mask"], batch["valid"], channels, config)
        else:
            t = torch.rand(len(z1), device=z1.device)
            control, target = probability_path(z1, x0, t, batch["key_mask"])
            out = model(control, t, batch["key_mask"], batch["length_mask"], batch["texts"], batch["languages"],
                        prior.track)
            loss, logs = flow_loss(out["v"], z1, control, target, t, batch["key_mask"], batch["length_mask"],
                                   batch["valid"], channels, config,
                                   prior.std if config.space == "features" else None)
            z_hat = None
        has_text = torch.tensor([s is not None for s in batch["texts"]], device=x1.device)
        if config.length_weight > 0 and bool(has_text.any()):
            err = (out["log_length"] - batch["lengths"].float().log()) ** 2
            length = err[has_text].mean()
            loss = loss + config.length_weight * length
            logs["length"] = float(length.detach())
        if config.position_weight > 0:
            if z_hat is None:
                z_hat = estimate_clean(control, out["v"], t, batch["key_mask"])
            x_hat = prior.from_flow(z_hat)
            pos = position_loss(net.denormalise(x_hat), batch["x1"], batch["length_mask"], net.config.layout)
            loss = loss + config.position_weight * pos
            logs["position"] = float(pos.detach())
        return loss, logs

    return loss_fn
