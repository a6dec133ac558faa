"""Where the flow starts: standard noise, or noise centred on the keyframe track.

With ``prior: standard`` (the paper) the flow carries ``x0 ~ N(0, I)`` in standardised features to
the data. Inside the keyframed span that is a poor start: the data there lies within about 0.2
standard deviations of the keyframe track (measured on the default corpus), so the network must
cancel noise five times larger than anything it should add, and the loss, being dominated by the
frames outside the span, hardly asks it to. In controlled runs the generator then ended up worse
than its own input track inside the span, on training clips too.

With ``prior: keyframes`` the source is centred on the track and scaled to what the track misses,
as PriorGrad (Lee et al. 2022) does with a data-dependent prior for diffusion vocoders::

    x0 ~ N(track, diag(s)²),   s = s_in inside the keyframed span, s_out outside it

with ``s_in``, ``s_out`` ``(D,)`` the root-mean-square residual ``x − track`` of the training clips
inside and outside the span, pooled per body part. The flow runs on ``z = (x − track) / s``, so
every frame, inside or outside the span, has a unit-scale target and counts alike in the loss.
Rows without keyframes (text-to-pose) keep the standard prior (track 0, scale 1). Keyframe
guidance needs a keyframe-blind branch on the same coordinates and so exists only under the
standard prior (:func:`signlib.generate.modes.generate_batch` refuses it otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from signlib.generate.flow import interpolate_keyframes, span_mask

#: Floor of the residual scales (standardised units): a constant channel must not divide by zero.
MIN_SCALE = 1e-3


@dataclass(frozen=True)
class Prior:
    """The source distribution of one batch: ``track (B, T, D)`` the keyframe track (what the UNet
    sees beside the control; None without ``keyframe_track``), and the affine map between
    standardised features ``x`` and flow coordinates ``z = (x − mean) / std`` (``mean``, ``std``
    broadcastable to ``(B, T, D)``)."""

    track: torch.Tensor | None
    mean: torch.Tensor
    std: torch.Tensor

    def to_flow(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std

    def from_flow(self, z: torch.Tensor) -> torch.Tensor:
        return self.mean + self.std * z


def build_prior(keys: torch.Tensor, key_mask: torch.Tensor, kind: str, keyframe_track: bool, easing: str,
                scale_in: torch.Tensor, scale_out: torch.Tensor) -> Prior:
    """The :class:`Prior` for keyframe values ``keys (B, T, D)`` (standardised; read where
    ``key_mask (B, T)``), of ``kind`` ``standard`` or ``keyframes`` (module docstring)."""
    key_mask = key_mask.bool()
    track = interpolate_keyframes(keys, key_mask, easing) if keyframe_track else None
    if kind == "standard":
        one = torch.ones((), dtype=keys.dtype, device=keys.device)
        return Prior(track, torch.zeros_like(one), one)
    inside = span_mask(key_mask)[..., None]
    std = torch.where(inside, scale_in.to(keys), scale_out.to(keys)).expand_as(keys)
    std = torch.where(key_mask.any(1)[:, None, None], std, torch.ones_like(std))
    return Prior(track, track, std)


@torch.no_grad()
def residual_scales(features: list[torch.Tensor], key_masks: list[torch.Tensor], groups: list[slice], easing: str
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """``(s_in, s_out)``, each ``(D,)``: the root-mean-square of ``x − track`` over the non-keyframe
    frames inside and outside the keyframed span of the clips ``features`` (each ``(T, D)``,
    standardised) with keyframes ``key_masks`` (each ``(T,)`` bool), pooled over each of
    ``groups`` (channel slices; channels outside every group keep their own value). Clips without
    keyframes are skipped; a side with no frames gets scale 1."""
    D = features[0].shape[-1] if features else 0
    sums = {True: torch.zeros(D, dtype=torch.float64), False: torch.zeros(D, dtype=torch.float64)}
    counts = {True: 0, False: 0}
    for x, keys in zip(features, key_masks):
        keys = keys.bool()[None]
        if not bool(keys.any()):
            continue
        residual = (x[None] - interpolate_keyframes(x[None], keys, easing))[0].double()
        inside = span_mask(keys)[0]
        for side in (True, False):
            rows = (inside == side) & ~keys[0]
            sums[side] += (residual[rows] ** 2).sum(0)
            counts[side] += int(rows.sum())
    out = []
    for side in (True, False):
        ms = sums[side] / counts[side] if counts[side] else torch.ones(D, dtype=torch.float64)
        for group in groups:
            ms[group] = ms[group].mean()
        out.append(ms.sqrt().float().clamp_min(MIN_SCALE))
    return out[0], out[1]
