"""The four SignSparK inference modes as plain functions, all built on :func:`generate_batch`.

- :func:`kf2p` keyframe-to-pose: given keyframes (and optionally text), fill in the motion.
- :func:`t2p` text-to-pose: no keyframes; the length comes from the model's length head.
- :func:`sr_t2p` retrieval text-to-pose: text → glosses (text-to-gloss transformer) → tri-frame
  dictionary keyframes on a timeline (:func:`retrieval_keyframes`) → generate.
- :func:`stitch` sign stitching: glosses → dictionary keyframes → generate (no text).

Bad input (keyframes outside the sequence, lengths of zero or above the trained maximum, an
unknown language, empty text) is a :class:`SignlibError` raised before the network runs. Sequences
longer than the model's ``max_frames`` are refused rather than windowed: the UNet never saw them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.generate.model import SignSparK
from signlib.generate.sampling import SamplerConfig, sample
from signlib.generate.tokens import check_language

#: Frames of padding before, between and after retrieved signs (the paper's fixed 8 frames).
RETRIEVAL_PADDING = 8


@dataclass(frozen=True)
class Keyframes:
    """``features (K, D)`` at sorted, distinct ``frames (K,)`` of a ``num_frames``-long sequence."""

    frames: np.ndarray
    features: np.ndarray
    num_frames: int
    segments: tuple[Segment, ...] = field(default=(), compare=False)  # gloss spans, when known

    def __post_init__(self):
        frames = np.asarray(self.frames, np.int64).reshape(-1)
        feats = np.asarray(self.features, np.float32)
        if self.num_frames < 1:
            raise SignlibError(f"keyframes: num_frames must be >= 1, got {self.num_frames}")
        if feats.ndim != 2 or len(feats) != len(frames):
            raise SignlibError(f"keyframes: features must be (K={len(frames)}, D), got {feats.shape}")
        if len(frames) and (frames.min() < 0 or frames.max() >= self.num_frames):
            raise SignlibError(f"keyframes {frames.tolist()} fall outside a sequence of {self.num_frames} frames")
        if np.any(np.diff(frames) <= 0):
            raise SignlibError(f"keyframes {frames.tolist()} must be sorted and distinct")
        if not np.isfinite(feats).all():
            raise SignlibError("keyframes: features contain NaN or inf")
        object.__setattr__(self, "frames", frames)
        object.__setattr__(self, "features", feats)

    @staticmethod
    def from_sequence(seq: Sequence, frames) -> "Keyframes":
        """The given frames of ``seq`` (e.g. mined onset/mid/offset) as keyframes."""
        frames = np.asarray(frames, np.int64)
        if len(frames) and (frames.min() < 0 or frames.max() >= seq.num_frames):
            raise SignlibError(f"{seq.id}: keyframes {frames.tolist()} fall outside its {seq.num_frames} frames")
        return Keyframes(frames, seq.features[frames], seq.num_frames, seq.segments)


@dataclass(frozen=True)
class Request:
    """One sequence to generate: keyframes and/or text in a language, and a length."""

    language: str
    text: str | None = None
    keyframes: Keyframes | None = None
    num_frames: int | None = None       # required when there are no keyframes (see t2p)
    seed: int = 0


def _check(model: SignSparK, req: Request) -> int:
    check_language(req.language)
    if req.text is not None and not str(req.text).strip():
        raise SignlibError(f"text is empty: {req.text!r}; pass text=None for text-free generation")
    T = req.keyframes.num_frames if req.keyframes is not None else req.num_frames
    if T is None:
        raise SignlibError("num_frames is required when no keyframes are given")
    if not 1 <= int(T) <= model.config.max_frames:
        raise SignlibError(f"num_frames={T} is outside [1, {model.config.max_frames}] (the trained maximum)")
    if req.keyframes is not None and req.keyframes.features.shape[1] != model.dim:
        raise SignlibError(f"keyframes have {req.keyframes.features.shape[1]} channels; the model's layout "
                           f"{model.config.layout!r} has {model.dim}")
    return int(T)


@torch.no_grad()
def generate_batch(model: SignSparK, requests: list[Request], sampler: SamplerConfig = SamplerConfig()) -> list[Sequence]:
    """Generate every request in one padded batch. Each request's noise depends only on its own
    seed and length, and the network ignores padding, so a request gives the same sequence alone
    or in any batch."""
    if not requests:
        raise SignlibError("generate_batch: no requests")
    lengths = [_check(model, r) for r in requests]
    model.eval()
    device = model.mean.device
    B, T, D = len(requests), max(lengths), model.dim
    x0 = torch.zeros(B, T, D)
    keys, key_mask = torch.zeros(B, T, D), torch.zeros(B, T, dtype=torch.bool)
    for b, (req, n) in enumerate(zip(requests, lengths)):
        x0[b, :n] = sampler.temperature * torch.randn(n, D, generator=torch.Generator().manual_seed(req.seed))
        if req.keyframes is not None and len(req.keyframes.frames):
            f = torch.from_numpy(req.keyframes.frames)
            keys[b, f] = model.normalise(torch.from_numpy(req.keyframes.features))
            key_mask[b, f] = True
    length_mask = torch.arange(T)[None] < torch.tensor(lengths)[:, None]
    x0, keys, key_mask, length_mask = (z.to(device) for z in (x0, keys, key_mask, length_mask))
    texts = [r.text for r in requests]
    languages = [r.language for r in requests]
    cache: dict[tuple, object] = {}

    def velocity(control, t, masks, text_on):
        rows = tuple(text_on.tolist())
        if rows not in cache:  # the text encoder runs once per branch layout, not once per step
            cache[rows] = model.encode_text([texts[i % B] if on else None for i, on in enumerate(rows)],
                                            [languages[i % B] for i in range(len(rows))])
        n = len(control) // B
        return model.velocity(control, t, masks, length_mask.repeat(n, 1), cache[rows])

    x = sample(velocity, x0, keys, key_mask, torch.tensor([s is not None for s in texts]), sampler)
    feats = model.denormalise(x).cpu().numpy()
    out = []
    for b, (req, n) in enumerate(zip(requests, lengths)):
        f = feats[b, :n].copy()
        kf = req.keyframes
        if kf is not None and len(kf.frames):
            f[kf.frames] = kf.features  # exact, not up to float round-off of (x − μ)/σ·σ + μ
        out.append(Sequence(f, model.config.layout, model.config.fps, text=req.text or "", language=req.language,
                            segments=kf.segments if kf is not None else (), id=f"generated_{b}",
                            meta={"keyframes": [] if kf is None else kf.frames.tolist()}))
    return out


def kf2p(model: SignSparK, keyframes: Keyframes, text: str | None, language: str,
         sampler: SamplerConfig = SamplerConfig(), seed: int = 0) -> Sequence:
    """Keyframe-to-pose: a ``keyframes.num_frames``-long sequence through the given keyframes."""
    return generate_batch(model, [Request(language, text, keyframes, seed=seed)], sampler)[0]


def t2p(model: SignSparK, text: str, language: str, num_frames: int | None = None,
        sampler: SamplerConfig = SamplerConfig(), seed: int = 0) -> Sequence:
    """Text-to-pose without keyframes; ``num_frames`` defaults to the length head's prediction."""
    check_language(language)
    if num_frames is None:
        num_frames = int(model.predict_length([text], [language])[0])
    return generate_batch(model, [Request(language, text, None, num_frames, seed)], sampler)[0]


def retrieval_keyframes(dictionary, language: str, glosses, padding: int = RETRIEVAL_PADDING) -> Keyframes:
    """Keyframes of ``glosses`` from a tri-frame dictionary, laid out on one timeline: ``padding``
    frames, then each sign's onset/mid/offset spaced by its citation duration, ``padding`` frames
    between signs and at the end. Glosses missing from the dictionary are an error."""
    glosses = [g for g in glosses]
    if not glosses:
        raise SignlibError("no glosses to retrieve")
    frames, feats, segments, t = [], [], [], padding
    for g in glosses:
        triple = dictionary.lookup(language, g)                      # (3, D)
        start, end = dictionary.spans[(language, g)]
        d = max(end - start, 3)
        for k, offset in enumerate((0, (d - 1) // 2, d - 1)):
            frames.append(t + offset)
            feats.append(triple[k])
        segments.append(Segment(t, t + d, g))
        t += d + padding
    return Keyframes(np.array(frames), np.stack(feats), t, tuple(segments))


def stitch(model: SignSparK, dictionary, glosses, language: str, text: str | None = None,
           sampler: SamplerConfig = SamplerConfig(), seed: int = 0) -> Sequence:
    """Sign stitching: dictionary keyframes of ``glosses`` joined by generated transitions."""
    check_language(language)
    return kf2p(model, retrieval_keyframes(dictionary, language, glosses), text, language, sampler, seed)


def sr_t2p(model: SignSparK, translate, dictionary, text: str, language: str,
           sampler: SamplerConfig = SamplerConfig(), seed: int = 0) -> Sequence:
    """Retrieval text-to-pose. ``translate(texts, languages) -> [[gloss, ...]]`` is the
    text-to-gloss model; predicted glosses missing from the dictionary are skipped (a text whose
    glosses are all unknown is an error)."""
    check_language(language)
    glosses = [g for g in translate([text], [language])[0] if (language, g) in dictionary.frames]
    if not glosses:
        raise SignlibError(f"no predicted gloss of {text!r} is in the {language} dictionary")
    return kf2p(model, retrieval_keyframes(dictionary, language, glosses), text, language, sampler, seed)
