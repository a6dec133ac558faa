"""The systems of Tables 1b, 2 and 3 behind one signature, so one scorer evaluates them all.

A system is ``system(truths, keyframes) -> generated``: it receives a batch of ground-truth test
sequences (it may read only what its task allows: the text and language for text-to-pose, the
keyframe frames for keyframe-to-pose, the gold glosses for stitching) and the keyframe indices of
each, and returns one generated sequence per truth, in order.

| task | systems |
|---|---|
| KF2P (Table 3) | :func:`ground_truth_system`, :func:`slerp_system`, :func:`kf2p_system` |
| T2P (Table 2) | :func:`regression_system`, :func:`t2p_system`, :func:`sr_t2p_system` |
| stitching (Table 1b) | :func:`naive_stitch_system`, :func:`stitch_system` |
"""

from __future__ import annotations

from typing import Callable

import numpy as np
import torch

from signlib.data.sequence import Sequence
from signlib.generate.model import SignSparK
from signlib.generate.modes import Keyframes, Request, generate_batch, retrieval_keyframes
from signlib.generate.regression import ProgressiveTransformer, generate_regression
from signlib.generate.sampling import SamplerConfig
from signlib.generate.stitching import Citations, naive_stitch
from signlib.pose.rotation import slerp_keyframes

#: ``system(truths, keyframes per truth) -> generated sequences`` (same order).
System = Callable[[list[Sequence], list[np.ndarray]], list[Sequence]]


def ground_truth_system(truths: list[Sequence], keyframes: list[np.ndarray]) -> list[Sequence]:
    """The test sequences themselves: DTW 0 and the back-translation upper bound."""
    return list(truths)


def slerp_system(truths: list[Sequence], keyframes: list[np.ndarray]) -> list[Sequence]:
    """SLERP (rotations) or linear (positions) interpolation between the keyframes; frames
    before the first and after the last keyframe hold them."""
    return [seq.replace(features=slerp_keyframes(torch.from_numpy(seq.features), keys, seq.layout).numpy(),
                        valid=None, bio=None, meta={"keyframes": np.asarray(keys).tolist()})
            for seq, keys in zip(truths, keyframes)]


def kf2p_system(model: SignSparK, sampler: SamplerConfig = SamplerConfig(), with_text: bool = True,
                seed: int = 0) -> System:
    """SignSparK keyframe-to-pose (with the clip's text unless ``with_text`` is False)."""

    def run(truths, keyframes):
        requests = [Request(s.language, s.text if with_text else None, Keyframes.from_sequence(s, k), seed=seed + i)
                    for i, (s, k) in enumerate(zip(truths, keyframes))]
        return generate_batch(model, requests, sampler)

    return run


def t2p_system(model: SignSparK, sampler: SamplerConfig = SamplerConfig(), seed: int = 0) -> System:
    """SignSparK text-to-pose without keyframes; the length comes from the model's length head."""

    def run(truths, keyframes):
        lengths = model.predict_length([s.text for s in truths], [s.language for s in truths])
        requests = [Request(s.language, s.text, None, int(n), seed=seed + i)
                    for i, (s, n) in enumerate(zip(truths, lengths))]
        return generate_batch(model, requests, sampler)

    return run


def sr_t2p_system(model: SignSparK, translate, dictionary, sampler: SamplerConfig = SamplerConfig(),
                  seed: int = 0) -> System:
    """Retrieval text-to-pose: ``translate(texts, languages) -> [[gloss, ...]]`` (the text-to-gloss
    model), tri-frame dictionary keyframes of the predicted glosses that the dictionary has, then
    SignSparK. A text none of whose predicted glosses is in the dictionary falls back to plain T2P
    (marked ``meta["retrieved"] = False``), so every test sentence gets a sequence."""

    def run(truths, keyframes):
        texts, languages = [s.text for s in truths], [s.language for s in truths]
        predicted = translate(texts, languages)
        lengths = model.predict_length(texts, languages)
        requests, retrieved = [], []
        for i, (lang, text, glosses, n) in enumerate(zip(languages, texts, predicted, lengths)):
            known = [g for g in glosses if (lang, g) in dictionary.frames]
            keys = retrieval_keyframes(dictionary, lang, known) if known else None
            keys = keys if keys is None or keys.num_frames <= model.config.max_frames else None
            requests.append(Request(lang, text, keys, None if keys is not None else int(n), seed=seed + i))
            retrieved.append(keys is not None)
        out = generate_batch(model, requests, sampler)
        return [s.replace(meta={**s.meta, "retrieved": r}) for s, r in zip(out, retrieved)]

    return run


def stitch_system(model: SignSparK, dictionary, sampler: SamplerConfig = SamplerConfig(), with_text: bool = True,
                  seed: int = 0) -> System:
    """SignSparK sign stitching: the truth's gold glosses → tri-frame dictionary keyframes →
    generated signs and transitions (with the sentence's text unless ``with_text`` is False)."""

    def run(truths, keyframes):
        requests = [Request(s.language, s.text if with_text else None,
                            retrieval_keyframes(dictionary, s.language, s.glosses), seed=seed + i)
                    for i, s in enumerate(truths)]
        return generate_batch(model, requests, sampler)

    return run


def naive_stitch_system(citations: Citations, dictionary) -> System:
    """Naive stitching of the truth's gold glosses: citation spans (where FAST found the sign in
    its citation clip, as the tri-frame ``dictionary`` records) joined by interpolation."""

    def run(truths, keyframes):
        return [naive_stitch(citations, dictionary.spans, s.glosses, s.language, text=s.text) for s in truths]

    return run


def regression_system(model: ProgressiveTransformer, batch_size: int = 64) -> System:
    """The regression text-to-pose baseline (:mod:`signlib.generate.regression`); its counter
    decides the length."""
    def run(truths, keyframes):
        return generate_regression(model, [s.text for s in truths], [s.language for s in truths],
                                   batch_size=batch_size)

    return run
