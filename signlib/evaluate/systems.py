"""The systems of Tables 1b, 2 and 3 behind one signature, so one runner evaluates them all.

A system is ``system(truths, keyframes) -> generated``: it receives a batch of ground-truth test
sequences (it may read only what its task allows: the text and language for text-to-pose, the
keyframe frames for keyframe-to-pose, the gold glosses for stitching) and the keyframe indices of
each, and returns one generated sequence per truth, in order. Each adapter is a thin call into the
batched inference API (:mod:`signlib.generate.modes`) or a baseline (:mod:`signlib.baselines`);
request ``i`` of a batch is seeded by its index in the batch plus ``seed``.

| task | systems |
|---|---|
| KF2P (Table 3) | :func:`ground_truth_system`, :func:`slerp_system`, :func:`track_system`, :func:`kf2p_system` |
| T2P (Table 2) | :func:`regression_system`, :func:`t2p_system`, :func:`sr_t2p_system`, :func:`text_system` |
| stitching (Table 1b) | :func:`naive_stitch_system`, :func:`stitch_system` |
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from signlib.baselines.regression import ProgressiveTransformer, generate_regression
from signlib.baselines.slerp import slerp_sequence
from signlib.baselines.stitching import Citations, naive_stitch
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.generate import modes
from signlib.generate.flow import interpolate_keyframes
from signlib.generate.model import SignSparK
from signlib.generate.sampling import SamplerConfig
from signlib.keyframes import Keyframes, keyframe_mask
from signlib.triframe import TriframeDictionary

#: ``system(truths, keyframes per truth) -> generated sequences`` (same order).
System = Callable[[list[Sequence], list[np.ndarray]], list[Sequence]]


def ground_truth_system(truths: list[Sequence], keyframes: list[np.ndarray]) -> list[Sequence]:
    """The test sequences themselves: DTW 0 and the back-translation upper bound."""
    return list(truths)


def slerp_system(truths: list[Sequence], keyframes: list[np.ndarray]) -> list[Sequence]:
    """SLERP (rotations) or linear (positions) interpolation between the keyframes; frames
    before the first and after the last keyframe hold them."""
    return [slerp_sequence(seq, keys) for seq, keys in zip(truths, keyframes)]


def track_system(easing: str) -> System:
    """The keyframe track alone: the keyframe features interpolated with the ``easing`` time
    profile (:func:`signlib.generate.flow.interpolate_keyframes`), held before the first and after
    the last keyframe. It is what SignSparK's prior is centred on, so comparing the two shows what
    the network adds."""

    def run(truths, keyframes):
        out = []
        for seq, keys in zip(truths, keyframes):
            keys = np.asarray(keys, np.int64)
            if keys.size == 0:
                raise SignlibError(f"{seq.id or 'sequence'}: the keyframe track needs at least one keyframe")
            mask = torch.from_numpy(keyframe_mask(keys, seq.num_frames))[None]
            features = interpolate_keyframes(torch.from_numpy(seq.features)[None], mask, easing)[0].numpy()
            out.append(seq.replace(features=features, valid=None, bio=None, meta={"keyframes": keys.tolist()}))
        return out

    return run


def _texts(truths: list[Sequence], with_text: bool) -> list[str | None]:
    return [s.text if with_text else None for s in truths]


def kf2p_system(model: SignSparK, sampler: SamplerConfig = SamplerConfig(), with_text: bool = True,
                seed: int = 0) -> System:
    """SignSparK keyframe-to-pose (with the clip's text unless ``with_text`` is False)."""

    def run(truths, keyframes):
        keys = [Keyframes.from_sequence(s, k) for s, k in zip(truths, keyframes)]
        return modes.kf2p(model, keys, _texts(truths, with_text), [s.language for s in truths], sampler, seed,
                          batch_size=len(truths))

    return run


def t2p_system(model: SignSparK, sampler: SamplerConfig = SamplerConfig(), seed: int = 0) -> System:
    """SignSparK text-to-pose without keyframes; the length comes from the model's length head."""

    def run(truths, keyframes):
        return modes.t2p(model, [s.text for s in truths], [s.language for s in truths], sampler, seed,
                         batch_size=len(truths))

    return run


def sr_t2p_system(model: SignSparK, translate, dictionary: TriframeDictionary,
                  sampler: SamplerConfig = SamplerConfig(), seed: int = 0) -> System:
    """Retrieval text-to-pose (:func:`signlib.generate.modes.sr_t2p`); ``translate(texts,
    languages) -> [[gloss, ...]]`` is the text-to-gloss model. A text none of whose predicted
    glosses is in the dictionary falls back to plain T2P (``meta["retrieved"] = False``)."""

    def run(truths, keyframes):
        return modes.sr_t2p(model, translate, dictionary, [s.text for s in truths], [s.language for s in truths],
                            sampler, seed, batch_size=len(truths))

    return run


def stitch_system(model: SignSparK, dictionary: TriframeDictionary, sampler: SamplerConfig = SamplerConfig(),
                  with_text: bool = True, seed: int = 0) -> System:
    """SignSparK sign stitching: the truth's gold glosses → tri-frame dictionary keyframes →
    generated signs and transitions (with the sentence's text unless ``with_text`` is False)."""

    def run(truths, keyframes):
        return modes.stitch(model, dictionary, [s.glosses for s in truths], [s.language for s in truths],
                            _texts(truths, with_text), sampler, seed, batch_size=len(truths))

    return run


def naive_stitch_system(citations: Citations, dictionary: TriframeDictionary) -> System:
    """Naive stitching of the truth's gold glosses: citation spans (where FAST found the sign in
    its citation clip, as the tri-frame ``dictionary`` records) joined by interpolation."""

    def run(truths, keyframes):
        return [naive_stitch(citations, dictionary, s.glosses, s.language, text=s.text) for s in truths]

    return run


def regression_system(model: ProgressiveTransformer, batch_size: int = 64) -> System:
    """The regression text-to-pose baseline (:mod:`signlib.baselines.regression`); its counter
    decides the length."""

    def run(truths, keyframes):
        return generate_regression(model, [s.text for s in truths], [s.language for s in truths],
                                   batch_size=batch_size)

    return run


def text_system(generate: Callable[[list[str], list[str]], list[Sequence]]) -> System:
    """Any text-to-pose generator ``generate(texts, languages) -> sequences`` (the SOKE-style and
    SignLLM baselines, :mod:`signlib.stages.t2p_baselines`): it reads only each truth's text and
    language."""

    def run(truths, keyframes):
        out = generate([s.text for s in truths], [s.language for s in truths])
        if len(out) != len(truths):
            raise SignlibError(f"text_system: the generator returned {len(out)} sequences for {len(truths)} texts")
        return out

    return run
