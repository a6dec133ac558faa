"""Inference modes: keyframes hit exactly, guidance scale 1 is the conditional output, batching
changes nothing, and bad input is refused before the network runs."""

import numpy as np
import pytest
import torch

from signlib.data.sequence import Segment
from signlib.generate.modes import (RETRIEVAL_PADDING, Keyframes, Request, generate_batch, kf2p, retrieval_keyframes,
                                    sr_t2p, stitch, t2p)
from signlib.generate.sampling import SamplerConfig, sample
from signlib.triframe import TriframeDictionary

from .conftest import smooth_clip


def _keys(T=30, frames=(0, 7, 15, 29), seed=0):
    clip = smooth_clip(T, seed=seed)
    return Keyframes(np.array(frames), clip[list(frames)], T)


@pytest.mark.parametrize("solver", ["euler", "heun"])
def test_kf2p_hits_the_keyframes_exactly(tiny_model, solver):
    keys = _keys()
    out = kf2p(tiny_model, keys, "Her tea is cold.", "ASL", SamplerConfig(steps=3, solver=solver, text_scale=2.0))
    assert out.num_frames == 30 and out.layout == "rot6d"
    assert np.array_equal(out.features[keys.frames], keys.features)
    assert np.isfinite(out.features).all()


def test_guidance_scale_one_equals_the_conditional_sampler_output(tiny_model):
    keys = _keys()
    out = kf2p(tiny_model, keys, "Braucht Sarah ein Ei?", "DGS", SamplerConfig(steps=4), seed=3)
    # The same integration by hand with only the conditional velocity v(K, T).
    T, D = 30, 240
    x0 = torch.randn(T, D, generator=torch.Generator().manual_seed(3))[None]
    mask = torch.zeros(1, T, dtype=torch.bool)
    mask[0, keys.frames] = True
    k = torch.zeros(1, T, D)
    k[0, keys.frames] = tiny_model.normalise(torch.from_numpy(keys.features))
    text = tiny_model.encode_text(["Braucht Sarah ein Ei?"], ["DGS"])
    lengths = torch.ones(1, T, dtype=torch.bool)
    x = sample(lambda c, t, m, on: tiny_model.velocity(c, t, m, lengths, text), x0, k, mask, True,
               SamplerConfig(steps=4))
    manual = tiny_model.denormalise(x)[0].detach().numpy()
    manual[keys.frames] = keys.features
    np.testing.assert_allclose(out.features, manual, rtol=1e-5, atol=1e-5)


def test_guidance_other_than_one_changes_the_output(tiny_model):
    keys = _keys()
    a = kf2p(tiny_model, keys, "Her tea is cold.", "ASL", SamplerConfig(steps=3)).features
    b = kf2p(tiny_model, keys, "Her tea is cold.", "ASL", SamplerConfig(steps=3, text_scale=3.0)).features
    assert not np.allclose(a, b)


def test_a_request_gives_the_same_sequence_alone_or_in_a_batch(tiny_model):
    reqs = [Request("ASL", "Her tea is cold.", _keys(30), seed=1), Request("CSL", "星期一谁寄照片？", None, 17, seed=2),
            Request("BSL", None, _keys(45, (3, 20, 44), seed=4), seed=5)]
    batch = generate_batch(tiny_model, reqs, SamplerConfig(steps=2, text_scale=1.5, key_scale=1.5))
    for req, seq in zip(reqs, batch):
        alone = generate_batch(tiny_model, [req], SamplerConfig(steps=2, text_scale=1.5, key_scale=1.5))[0]
        np.testing.assert_allclose(seq.features, alone.features, rtol=1e-4, atol=1e-4)


def test_t2p_uses_the_predicted_length_and_the_seed(tiny_model):
    out = t2p(tiny_model, "星期一谁寄照片？", "CSL", sampler=SamplerConfig(steps=2))
    assert 8 <= out.num_frames <= 64 and out.language == "CSL"
    fixed = t2p(tiny_model, "Her tea is cold.", "ASL", num_frames=20, sampler=SamplerConfig(steps=2), seed=1)
    again = t2p(tiny_model, "Her tea is cold.", "ASL", num_frames=20, sampler=SamplerConfig(steps=2), seed=1)
    other = t2p(tiny_model, "Her tea is cold.", "ASL", num_frames=20, sampler=SamplerConfig(steps=2), seed=2)
    assert np.array_equal(fixed.features, again.features) and not np.allclose(fixed.features, other.features)


def _dictionary():
    rng = np.random.default_rng(0)
    frames = {("DGS", g): rng.normal(size=(3, 240)).astype(np.float32) for g in ("SARAH", "EI", "BRAUCHEN")}
    spans = {("DGS", "SARAH"): (10, 22), ("DGS", "EI"): (5, 14), ("DGS", "BRAUCHEN"): (0, 2)}
    return TriframeDictionary("rot6d", frames, spans, {k: True for k in frames})


def test_retrieval_lays_signs_out_with_fixed_padding():
    keys = retrieval_keyframes(_dictionary(), "DGS", ["SARAH", "EI", "BRAUCHEN"])
    p = RETRIEVAL_PADDING
    # SARAH lasts 12 frames, EI 9, BRAUCHEN 2 (< 3, widened to 3 so its keyframes stay distinct).
    assert keys.frames.tolist() == [p, p + 5, p + 11, 2 * p + 12, 2 * p + 16, 2 * p + 20, 3 * p + 21, 3 * p + 22, 3 * p + 23]
    assert keys.num_frames == 4 * p + 24
    assert keys.segments == (Segment(p, p + 12, "SARAH"), Segment(2 * p + 12, 2 * p + 21, "EI"),
                             Segment(3 * p + 21, 3 * p + 24, "BRAUCHEN"))
    np.testing.assert_array_equal(keys.features[3:6], _dictionary().lookup("DGS", "EI"))


def test_stitch_and_retrieval_t2p_go_through_the_dictionary(tiny_model):
    d = _dictionary()
    out = stitch(tiny_model, d, ["EI", "SARAH"], "DGS", sampler=SamplerConfig(steps=2))
    keys = retrieval_keyframes(d, "DGS", ["EI", "SARAH"])
    assert out.num_frames == keys.num_frames and np.array_equal(out.features[keys.frames], keys.features)
    assert [s.gloss for s in out.segments] == ["EI", "SARAH"]
    # Unknown predicted glosses are skipped; the rest are generated in the predicted order.
    translate = lambda texts, langs: [["BRAUCHEN", "UNBEKANNT", "SARAH"]]  # noqa: E731
    out = sr_t2p(tiny_model, translate, d, "Braucht Sarah ein Ei?", "DGS", SamplerConfig(steps=2))
    assert [s.gloss for s in out.segments] == ["BRAUCHEN", "SARAH"]
    with pytest.raises(ValueError, match="no predicted gloss"):
        sr_t2p(tiny_model, lambda t, l: [["UNBEKANNT"]], d, "Braucht Sarah ein Ei?", "DGS")
    with pytest.raises(ValueError, match="no dictionary entry"):
        stitch(tiny_model, d, ["UNBEKANNT"], "DGS")


@pytest.mark.parametrize("make, message", [
    (lambda: Keyframes(np.array([0, 30]), np.zeros((2, 240)), 30), "outside"),
    (lambda: Keyframes(np.array([-1, 3]), np.zeros((2, 240)), 30), "outside"),
    (lambda: Keyframes(np.array([5, 3]), np.zeros((2, 240)), 30), "sorted"),
    (lambda: Keyframes(np.array([1]), np.zeros((2, 240)), 30), "features"),
    (lambda: Keyframes(np.array([1]), np.full((1, 240), np.nan), 30), "NaN"),
    (lambda: Keyframes(np.array([], np.int64), np.zeros((0, 240)), 0), "num_frames"),
])
def test_bad_keyframes_are_refused(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("req, message", [
    (Request("ASL", "Hi", None, 0), r"outside \[1, 64\]"),
    (Request("ASL", "Hi", None, 65), "trained maximum"),
    (Request("ASL", "Hi", None, None), "num_frames is required"),
    (Request("XSL", "Hi", None, 10), "unknown sign language"),
    (Request("ASL", "   ", None, 10), "text is empty"),
])
def test_bad_requests_are_refused_before_the_network_runs(tiny_model, req, message):
    with pytest.raises(ValueError, match=message):
        generate_batch(tiny_model, [req])


def test_keyframes_of_another_layout_are_refused(tiny_model):
    with pytest.raises(ValueError, match="channels"):
        kf2p(tiny_model, Keyframes(np.array([0]), np.zeros((1, 138)), 10), None, "ASL")


def test_temperature_zero_removes_the_seed_from_the_output(tiny_model):
    cold = [t2p(tiny_model, "Her tea is cold.", "ASL", 20, SamplerConfig(steps=2, temperature=0.0), seed=s).features
            for s in (1, 2)]
    np.testing.assert_array_equal(cold[0], cold[1])
    with pytest.raises(ValueError, match="temperature"):
        SamplerConfig(temperature=-1.0)
