"""What :func:`signlib.train.train` needs to fit the regression baseline (:mod:`signlib.baselines.regression`).

Batches are whole clips of similar length (the SignSparK sampler of :mod:`signlib.generate.data`,
without condition dropout: this baseline has no classifier-free guidance). The loss is teacher-forced
MSE on the normalised frames, masked by clip length and by missing joints, plus
``counter_weight`` × the MSE of the counter (in frames). Gaussian noise of std ``input_noise`` is added to the
input frames only (never to the targets): at inference the decoder reads its own outputs, which
are never exactly the data, and a decoder trained on clean inputs drifts quickly on them.
"""

from __future__ import annotations

import numpy as np
import torch

from signlib.baselines.regression import RegressionConfig, teacher_inputs
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.generate.data import BatchConfig, GenClip, make_sampler as clip_sampler, to_genclip
from signlib.pose.layout import get_layout
from signlib.text.tokens import check_language


def as_clips(items) -> list[GenClip]:
    """Training clips from :class:`GenClip` s (e.g. ``training_clips(corpus, None)`` of the signspark stage) or
    :class:`~signlib.data.sequence.Sequence` s (their gold keyframes are not needed)."""
    clips = [to_genclip(c, keyframes=[]) if isinstance(c, Sequence) else c for c in items]
    if not clips:
        raise SignlibError("regression: no training clips")
    for c in clips:
        if not isinstance(c, GenClip):
            raise SignlibError(f"regression: training clips must be GenClip or Sequence, got {type(c).__name__}")
    return clips


def check_clips(clips: list[GenClip], config: RegressionConfig) -> None:
    """Every clip fits the config: ``D`` channels of its layout, 1..max_frames frames, a known language."""
    D = get_layout(config.layout).dim
    for c in clips:
        if c.features.ndim != 2 or c.features.shape[1] != D:
            raise SignlibError(f"clip {c.id!r}: features {c.features.shape} do not match layout "
                               f"{config.layout!r} (D={D})")
        if not 1 <= len(c.features) <= config.max_frames:
            raise SignlibError(f"clip {c.id!r}: {len(c.features)} frames, outside [1, max_frames={config.max_frames}]")
        check_language(c.language)


def make_sampler(clips, batch_size: int, max_frames: int | None = None, bucket: int = 4):
    """``sample_batch(step, rng) -> dict``: ``x1 (B, T, D)`` raw features, ``valid (B, T, D)``,
    ``length_mask (B, T)``, ``lengths (B,)``, ``texts``, ``languages``; ``B = batch_size`` clips
    of similar length (see :func:`signlib.generate.data.make_sampler`), a pure function of
    ``(step, rng)``. Clips longer than ``max_frames`` are an error."""
    clips = as_clips(clips)
    if max_frames is not None and max(len(c.features) for c in clips) > max_frames:
        longest = max(clips, key=lambda c: len(c.features))
        raise SignlibError(f"clip {longest.id!r}: {len(longest.features)} frames, over max_frames={max_frames}")
    # No text or keyframe dropout: the model always reads its text and never sees keyframes.
    sample = clip_sampler(clips, batch_size, BatchConfig(text_drop=0.0, key_drop=1.0, bucket=bucket))

    def sample_batch(step: int, rng: np.random.Generator) -> dict:
        batch = sample(step, rng)
        del batch["key_mask"]
        return batch

    return sample_batch


def teacher_forced(model, net, batch: dict, input_noise: float | None = None, what: str = "regression loss"
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The teacher-forced pass every loss of a :class:`ProgressiveTransformer` shares: ``x (B, T, D)``
    (``batch["x1"]`` normalised), the predicted ``frames (B, T, D)`` and ``counter (B, T)``, and the
    counter target ``(B, T)``. ``model`` is what is called (the DDP wrapper in a distributed run),
    ``net`` the decoder itself; ``input_noise`` (default: the config's) jitters the input frames."""
    noise = net.config.input_noise if input_noise is None else input_noise
    x = net.normalise(batch["x1"])
    if x.shape[-1] != net.dim:
        raise SignlibError(f"{what}: batch has {x.shape[-1]} channels, the model's layout "
                           f"{net.config.layout!r} has {net.dim}")
    frames_in, counter_in, counter_target = teacher_inputs(net, x, batch["lengths"])
    if noise > 0:  # the start frame (position 0) is the model's own, it stays clean
        jitter = noise * torch.randn_like(frames_in)
        jitter[:, 0] = 0.0
        frames_in = frames_in + jitter
    frames, counter = model(frames_in, counter_in, batch["texts"], batch["languages"])
    return x, frames, counter, counter_target


def make_loss(input_noise: float | None = None, counter_weight: float | None = None):
    """``loss_fn(model, batch) -> (loss, {"loss", "mse", "counter"})``; ``input_noise`` and
    ``counter_weight`` default to the model's config. ``mse`` is the mean squared error per
    observed channel of real frames (normalised units); ``counter`` is the counter's over real
    frames, measured in frames (the counter times the clip length ``n``), so 0.01 means its step
    ``1/n`` is off by about 10%."""

    def loss_fn(model, batch):
        net = getattr(model, "module", model)
        weight = net.config.counter_weight if counter_weight is None else counter_weight
        x, frames, counter, counter_target = teacher_forced(model, net, batch, input_noise, "regression loss")
        length_mask = batch["length_mask"]
        w = (batch["valid"] & length_mask[..., None]).to(x.dtype)
        mse = ((frames - x) ** 2 * w).sum() / w.sum().clamp_min(1.0)
        m = length_mask.to(x.dtype)
        # In frames (× n): the counter's step is 1/n, so a raw error would weigh long clips ~1/n² less.
        err = (counter - counter_target) * batch["lengths"].to(x.dtype)[:, None]
        counter_mse = (err ** 2 * m).sum() / m.sum().clamp_min(1.0)
        loss = mse + weight * counter_mse
        return loss, {"loss": float(loss.detach()), "mse": float(mse.detach()), "counter": float(counter_mse.detach())}

    return loss_fn
