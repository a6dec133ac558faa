"""The SignSparK network: text encoder + conditional 1D UNet + a length head, with its feature
statistics, saved and loaded as one folder.

The network works in normalised feature units (mean and standard deviation of the training
frames, stored as buffers so a checkpoint is self-contained); :meth:`SignSparK.normalise` and
:meth:`SignSparK.denormalise` convert. The flow itself runs in the coordinates of the model's
:class:`~signlib.generate.prior.Prior` (:meth:`SignSparK.prior`; its residual scales are buffers
too). The length head predicts ``log T`` from the pooled text, which text-to-pose needs when no
keyframes fix the length. A trained model is a
:mod:`signlib.checkpoint` folder of kind ``signspark``.
"""

from __future__ import annotations

import os

import torch
from torch import nn

from signlib.checkpoint import load_model, save_card
from signlib.errors import SignlibError
from signlib.generate.blocks import time_embedding
from signlib.generate.configs import SignSparKConfig
from signlib.generate.flow import estimate_clean, interpolate_keyframes
from signlib.generate.prior import Prior, build_prior, residual_scales
from signlib.generate.text import TextEncoding, build_text_encoder
from signlib.generate.unet import UNet1D, UNetContext
from signlib.keyframes import keyframe_mask
from signlib.layers import Standardised
from signlib.pose.layout import get_layout

KIND = "signspark"
#: Floor of ``1 − t`` when the velocity is derived from the predicted clean sequence; it bounds the
#: loss weight ``1 / (1 − t)²`` that ``L_CFM`` puts on late times.
MIN_REMAINING = 0.05
#: Assumed std of the data around its prior mean (the keyframe track), in normalised units, for
#: the skip weights of :meth:`SignSparK.velocity` (EDM's sigma_data).
SKIP_STD = 0.5


class SignSparK(Standardised, nn.Module):
    """``forward(control (B,T,D), t (B,), key_mask (B,T), length_mask (B,T), texts, languages,
    track (B,T,D) or None) -> {"v": (B,T,D) velocity, "log_length": (B,)}``; ``texts`` entries may
    be None (dropped). ``control`` and ``v`` are in flow coordinates (:meth:`prior`); ``track`` is
    the prior's keyframe track."""

    def __init__(self, config: SignSparKConfig = SignSparKConfig()):
        super().__init__()
        self.config = config
        self.dim = get_layout(config.layout).dim
        d_text, d_cond = config.text.d_model, config.unet.cond_dim
        self.text = build_text_encoder(config.text)
        self.time_mlp = nn.Sequential(nn.Linear(d_cond, d_cond), nn.SiLU(), nn.Linear(d_cond, d_cond))
        self.text_proj = nn.Linear(d_text, d_cond)
        self.unet = UNet1D(self.dim, d_text, config.unet, extra=self.dim if config.keyframe_track else 0)
        self.length_head = nn.Sequential(nn.Linear(d_text, d_text), nn.SiLU(), nn.Linear(d_text, 1))
        groups = get_layout(config.layout).feature_slices() if config.standardise == "part" else None
        self.init_statistics(self.dim, groups)  # mean/std of the training features: set_statistics
        # What the keyframe track misses inside / outside the keyframed span: set_prior_scales.
        self.register_buffer("scale_in", torch.ones(self.dim))
        self.register_buffer("scale_out", torch.ones(self.dim))

    def set_prior_scales(self, features, keyframes) -> None:
        """Residual scales of the keyframe prior from training clips: ``features`` raw ``(T, D)``
        arrays and ``keyframes`` their ``(K,)`` frame indices (:func:`residual_scales`)."""
        xs = [self.normalise(torch.as_tensor(f, dtype=torch.float32)) for f in features]
        masks = [torch.from_numpy(keyframe_mask(k, len(x))) for x, k in zip(xs, keyframes)]
        scale_in, scale_out = residual_scales(xs, masks, get_layout(self.config.layout).feature_slices(),
                                              self.config.easing)
        self.scale_in.copy_(scale_in)
        self.scale_out.copy_(scale_out)

    def prior(self, keys: torch.Tensor, key_mask: torch.Tensor) -> Prior:
        """The flow's source for keyframe values ``keys (B, T, D)`` (normalised, read where
        ``key_mask (B, T)``): the keyframe track and the map to flow coordinates."""
        return build_prior(keys, key_mask, self.config.prior, self.config.keyframe_track, self.config.easing,
                           self.scale_in, self.scale_out)

    def encode_text(self, texts, languages) -> TextEncoding:
        """``B`` texts (entries may be None: dropped) in their sign languages, encoded."""
        if isinstance(texts, (str, bytes)) or isinstance(languages, (str, bytes)):
            # list("Hi") would be two one-letter texts
            raise SignlibError("texts, languages: expected lists (one entry per sequence), not strings")
        return self.text(list(texts), list(languages))

    def condition(self, key_mask, length_mask, text: TextEncoding, track=None, times=()) -> UNetContext:
        """The UNet's per-batch constants (:meth:`UNet1D.prepare`) for ``key_mask``, ``length_mask``
        ``(B, T)`` and the keyframe track ``(B, T, D)`` (required with ``keyframe_track``): pass the
        result as ``context`` to :meth:`velocity` / :meth:`predict_clean` at every sampler step.
        ``times``: the flow times the sampler will ask for, if known; their time embeddings and
        FiLMs are computed here in one batch (any other time is computed when asked)."""
        if self.config.keyframe_track and track is None:
            raise SignlibError("SignSparK.condition: this model reads the keyframe track; pass track")
        steps = None
        if len(times):
            t = torch.tensor(list(times), dtype=torch.float32, device=key_mask.device)
            steps = (t.tolist(), self.time_mlp(time_embedding(t, self.config.unet.cond_dim)))
        return self.unet.prepare(key_mask, length_mask, text.tokens, text.mask,
                                 track if self.config.keyframe_track else None, self.text_proj(text.pooled), steps)

    def _network(self, control, t, key_mask, length_mask, text: TextEncoding, track=None, context=None
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(out, offset)``: the UNet's output and what it is an offset from (the keyframe track
        under the standard prior with ``keyframe_track``, else zeros), both ``(B, T, D)``."""
        if self.config.keyframe_track and track is None:
            if self.config.prior != "standard":
                raise SignlibError("SignSparK.predict_clean: the keyframe prior needs the track "
                                   "(the control holds flow coordinates, not keyframes)")
            track = interpolate_keyframes(control, key_mask, self.config.easing)
        if context is None:  # one pass, as in training
            cond = self.time_mlp(time_embedding(t, self.config.unet.cond_dim)) + self.text_proj(text.pooled)
            out = self.unet(control, key_mask, length_mask, cond, text.tokens, text.mask,
                            track if self.config.keyframe_track else None)
        else:
            # The condition vector is time + pooled text, and the text part is in the context.
            # Sampler steps share one time across rows, so its embedding is computed once.
            times = t[:1] if len(t) > 1 and bool((t == t[0]).all()) else t
            step = float(times[0]) if len(times) == 1 and float(times[0]) in context.step_films else None
            cond = None if step is not None else self.time_mlp(time_embedding(times, self.config.unet.cond_dim))
            out = self.unet.run(control, cond, context, step)
        # In flow coordinates of the keyframe prior the track is 0; under the standard prior it is the offset.
        offset = track if self.config.keyframe_track and self.config.prior == "standard" else torch.zeros_like(control)
        return out, offset

    def predict_clean(self, control, t, key_mask, length_mask, text: TextEncoding, track=None,
                      context: UNetContext | None = None) -> torch.Tensor:
        """``x̂1 (B, T, D)``: the network's estimate of the clean sequence in flow coordinates (see
        :meth:`velocity`). ``track`` is the keyframe track of :meth:`prior`; under the standard
        prior it may be left out and is then read off the keyframes in ``control``. For the
        ``cfm`` generator, which predicts the velocity, it is one Euler step to ``t = 1``. ``context``
        is :meth:`condition` of the same batch (computed here when None)."""
        out, prior = self._network(control, t, key_mask, length_mask, text, track, context)
        if self.config.generator == "cfm":
            return estimate_clean(control, out, t, key_mask)
        if self.config.skip:
            # x̂1 = prior + c_skip·(C − t·prior) + c_out·F: the posterior mean of a Gaussian residual
            # of std SKIP_STD around the prior, plus a learnt correction of unit scale (Karras et al.
            # 2022, EDM, written for the straight path). Near t = 1 the control is almost the data
            # and c_skip → 1 copies it, which a UNet narrower than 240 channels cannot do itself.
            tt, s = t[:, None, None], SKIP_STD
            denom = tt ** 2 * s ** 2 + (1 - tt) ** 2
            x_hat = prior + tt * s ** 2 / denom * (control - tt * prior) + (1 - tt) * s / denom.sqrt() * out
        else:
            x_hat = prior + out
        return x_hat

    def velocity(self, control, t, key_mask, length_mask, text: TextEncoding, track=None,
                 context: UNetContext | None = None) -> torch.Tensor:
        """``(B, T, D)`` velocity for a precomputed text encoding (samplers encode once).

        For SignSparK (``generator: recon_cfm``) the UNet predicts the clean sequence ``x̂1`` and the
        velocity follows as ``v = (x̂1 − C) / (1 − t)`` (with ``1 − t`` floored at
        :data:`MIN_REMAINING`). Predicting ``v`` directly (``generator: cfm``, plain flow matching,
        kept for Fig 4b) means cancelling the noise in ``C`` channel by channel, which a UNet whose
        first level is narrower than the 240 input channels cannot do: we measured noisy, jittery
        samples (one-step error above the mean sequence's) that way. Predicting the data is the
        reconstruction-based objective the paper credits for sampling in under ten steps.

        With ``keyframe_track`` (our addition, see the README) the UNet also sees the keyframes
        interpolated to every frame and predicts a correction to that track, so "no worse than
        interpolation" is the easy solution rather than one it must discover (under the keyframe
        prior the track is the origin of the flow coordinates, so the correction is the output).
        """
        if self.config.generator == "ddpm":
            raise SignlibError("SignSparK.velocity: a ddpm generator predicts the clean sequence; sample it with DDIM")
        if self.config.generator == "cfm":
            return self._network(control, t, key_mask, length_mask, text, track, context)[0]
        x_hat = self.predict_clean(control, t, key_mask, length_mask, text, track, context)
        return (x_hat - control) / (1 - t).clamp_min(MIN_REMAINING)[:, None, None]

    def forward(self, control, t, key_mask, length_mask, texts, languages, track=None) -> dict[str, torch.Tensor]:
        """``{"v" (flow generators) or "x_hat" (ddpm): (B, T, D), "log_length": (B,)}``."""
        text = self.encode_text(texts, languages)
        if self.config.generator == "ddpm":
            out = {"x_hat": self.predict_clean(control, t, key_mask, length_mask, text, track)}
        else:
            out = {"v": self.velocity(control, t, key_mask, length_mask, text, track)}
        return {**out, "log_length": self.length_head(text.pooled)[:, 0]}

    def predict_length(self, texts, languages) -> torch.Tensor:
        """``(B,)`` int64 frame counts predicted from the text, clamped to ``[8, max_frames]``."""
        with torch.no_grad():
            log_t = self.length_head(self.encode_text(texts, languages).pooled)[:, 0]
        return log_t.exp().round().clamp(8, self.config.max_frames).long()


def save_signspark_card(folder: str | os.PathLike, config: SignSparKConfig, **extra) -> None:
    """Write the card beside the ``final.pt`` that :func:`signlib.train.train` wrote into the same
    folder: the architecture, ``extra`` fields (what it was trained on) and the weights'
    fingerprint. Call it after training: a card written before records no fingerprint, or the
    previous run's, which the new weights then fail (:func:`signlib.checkpoint.save_card`)."""
    save_card(folder, KIND, config.to_dict(), **extra)


def load_signspark(folder: str | os.PathLike) -> SignSparK:
    """A trained model in eval mode from its model folder (errors: :func:`signlib.checkpoint.load_model`)."""
    return load_model(folder, KIND, lambda card: SignSparK(SignSparKConfig.from_dict(card["config"])))
