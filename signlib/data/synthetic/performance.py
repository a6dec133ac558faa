"""A signer performing a sequence of signs: style, timing, coarticulation, estimator noise.

:func:`perform` turns a list of :class:`~signlib.data.synthetic.lexicon.SignSpec` into a clip:
``(T, 240)`` rot6d features, a ``(T, 40)`` valid mask and the frame span of every sign. The same
function makes continuous sentences and isolated citation forms. A citation form is the sign in
full (lengthened, approached from rest and retracted to rest, held at the end). In a sentence each
sign takes its reduced, coarticulated in-context form (:mod:`~signlib.data.synthetic.context`:
shorter, smaller, fewer cycles, location undershoot toward both neighbours, handshape anticipation,
holds mostly dropped), reduced as much as the signer's ``Style.reduction`` and this sentence's
signing rate say.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from signlib.data.synthetic.context import in_context, reduction_degree
from signlib.data.synthetic.lexicon import SignSpec
from signlib.data.synthetic.motion import REST, Track, sign_tracks, still, to_features, transition, transition_frames
from signlib.pose.normalize import orthonormalize_rot6d


@dataclass(frozen=True)
class Style:
    """How one signer signs."""

    speed: float            # > 1 signs faster (shorter signs and transitions)
    amplitude: float        # scales movement size
    left_dominant: bool     # the whole signing is mirrored
    offset: tuple[float, float, float]  # posture: where this signer's hands sit, metres
    head_tilt: float        # habitual head tilt, rad
    jitter: float           # estimator noise on 6D rotations (hands get twice as much)
    missing_rate: float     # expected hand drop-outs per 100 frames
    reduction: float = 0.5  # how much signs in sentences reduce at the average rate (0 = least, 1 = most)


def draw_style(rng: np.random.Generator) -> Style:
    return Style(speed=float(rng.uniform(0.8, 1.25)), amplitude=float(rng.uniform(0.8, 1.2)),
                 left_dominant=bool(rng.random() < 0.2), offset=tuple(rng.normal(0, 0.015, 3).round(4).tolist()),
                 head_tilt=float(rng.normal(0, 0.05)), jitter=float(rng.uniform(0.004, 0.012)),
                 missing_rate=float(rng.uniform(0.0, 1.5)), reduction=float(rng.uniform(0.25, 0.75)))


def _head(T: int, style: Style, rng: np.random.Generator) -> np.ndarray:
    """``(T, 2, 3)`` neck and head axis-angle: a habitual tilt plus slow nods."""
    t = np.arange(T) / 25.0
    head = np.zeros((T, 2, 3))
    head[:, 1, 0] = 0.05 * np.sin(2 * np.pi * rng.uniform(0.2, 0.6) * t + rng.uniform(0, 6.3))
    head[:, 1, 2] = style.head_tilt
    head[:, 0, 0] = 0.02 * np.sin(2 * np.pi * rng.uniform(0.1, 0.3) * t + rng.uniform(0, 6.3))
    return head


def _hold(track: Track, n: int) -> Track:
    """``track`` followed by ``n`` copies of its last frame."""
    return Track.concat([track] + [track.frame(len(track) - 1)] * n)


def perform(signs: list[SignSpec], style: Style, rng: np.random.Generator, citation: bool = False
            ) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Perform ``signs``.

    Returns:
        ``features (T, 240)`` stored rot6d, ``valid (T, 40)`` bool (False on dropped hand frames),
        ``spans`` ``[(start, end)]`` of each sign in frames, end exclusive.
    """
    offset = np.array(style.offset)
    dom = [still(REST, int(rng.integers(8, 14)) if citation else int(rng.integers(5, 11)))]
    other = [still(REST, len(dom[0]), side=-1)]
    spans, frame = [], len(dom[0])
    # This sentence's signing rate: the signer's speed, a little faster or slower each time.
    rate = style.speed if citation else style.speed * float(np.exp(rng.normal(0.0, 0.06)))
    for i, spec in enumerate(signs):
        if citation:
            n = max(6, int(round(spec.duration * rng.uniform(1.15, 1.3) / rate)))
            d, o = sign_tracks(spec, n, style.amplitude, rng)
            hold = int(rng.integers(3, 7))  # the citation form's final hold
        else:
            r = reduction_degree(style.reduction, rate, rng)
            form = in_context(spec, signs[i - 1] if i else None, signs[i + 1] if i + 1 < len(signs) else None, r, rng)
            n = max(6, int(round(form.spec.duration * form.duration / rate)))
            d, o = sign_tracks(form.spec, n, style.amplitude, rng, shift=form.shift, extent=form.extent,
                               next_handshape=form.next_handshape, anticipation=form.anticipation)
            hold = form.hold
        d.target += offset
        if not citation:  # coarticulation: the sign starts a little towards where the hand was
            lean = 0.2 * (dom[-1].target[-1] - d.target[0]) * np.linspace(1, 0, n)[:, None] ** 2
            d.target += lean
        if hold:  # a final hold, part of the sign
            d, o = _hold(d, hold), _hold(o, hold)
        gap = transition_frames(dom[-1], d, rate) + (6 if citation else 0)
        gap = max(gap, transition_frames(other[-1], o, rate))
        dom += [transition(dom[-1], d, gap), d]
        other += [transition(other[-1], o, gap), o]
        spans.append((frame + gap, frame + gap + len(d)))
        frame += gap + len(d)
    end_d, end_o = still(REST, 1), still(REST, 1, side=-1)
    gap = max(transition_frames(dom[-1], end_d, rate), transition_frames(other[-1], end_o, rate))
    gap += 6 if citation else 0
    tail = int(rng.integers(5, 10))
    dom += [transition(dom[-1], end_d, gap), still(REST, tail)]
    other += [transition(other[-1], end_o, gap), still(REST, tail, side=-1)]
    D, O = Track.concat(dom), Track.concat(other)
    feats = to_features(D, O, _head(len(D), style, rng), style.left_dominant)
    return _estimator(feats, style, rng) + (spans,)


def _estimator(feats: np.ndarray, style: Style, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Add pose-estimator artefacts: per-frame jitter and hands that drop out for a few frames
    (held at their last value, marked invalid)."""
    T = len(feats)
    noise = rng.normal(0, style.jitter, feats.shape)
    noise[:, 60:] *= 2.0
    feats = orthonormalize_rot6d((feats + noise).astype(np.float32), "rot6d")
    valid = np.ones((T, 40), bool)
    for hand in (slice(10, 25), slice(25, 40)):
        for _ in range(rng.poisson(style.missing_rate * T / 100)):
            start = int(rng.integers(1, max(2, T - 1)))
            stop = min(T, start + int(rng.integers(1, 9)))
            valid[start:stop, hand] = False
            cols = slice(hand.start * 6, hand.stop * 6)
            feats[start:stop, cols] = feats[start - 1, cols]
    return feats, valid
