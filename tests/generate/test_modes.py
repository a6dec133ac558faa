"""Inference modes: keyframes hit exactly, guidance scale 1 is the conditional output, batching
changes nothing, entry i follows seed + i, retrieval falls back to text-to-pose, and bad input is
refused before the network runs."""

import numpy as np
import pytest
import torch

from signlib.errors import SignlibError
from signlib.generate.configs import SamplerConfig
from signlib.generate.modes import Request, generate, generate_batch, kf2p, sr_t2p, stitch, t2p
from signlib.generate.sampling import sample
from signlib.keyframes import Keyframes
from signlib.triframe import RETRIEVAL_PADDING, TriframeDictionary, retrieval_keyframes
from signlib.validate import InvalidValue

from .conftest import perturbed_model, smooth_clip, tiny_config


def _keys(T=30, frames=(0, 7, 15, 29), seed=0):
    clip = smooth_clip(T, seed=seed)
    return Keyframes(np.array(frames), clip[list(frames)], T)


@pytest.mark.parametrize("solver", ["euler", "heun"])
def test_kf2p_hits_the_keyframes_exactly(tiny_model, solver):
    keys = [_keys(), _keys(45, (3, 20, 44), seed=1)]
    outs = kf2p(tiny_model, keys, ["Her tea is cold.", None], ["ASL", "BSL"],
                SamplerConfig(steps=3, solver=solver, text_scale=2.0))
    assert len(outs) == 2
    for out, k, lang in zip(outs, keys, ["ASL", "BSL"]):
        assert out.num_frames == k.num_frames and out.layout == "rot6d" and out.language == lang
        assert np.array_equal(out.features[k.frames], k.features)                 # (K, 240)
        assert np.isfinite(out.features).all() and out.meta["keyframes"] == k.frames.tolist()
    assert outs[0].text == "Her tea is cold." and outs[1].text == ""


def test_guidance_scale_one_equals_the_conditional_sampler_output(tiny_model):
    # Scales that differ inside and outside the keyframed span, so the map to flow coordinates matters.
    tiny_model.scale_in.fill_(0.2)
    tiny_model.scale_out.fill_(1.3)
    keys = _keys(frames=(4, 7, 15, 24))
    out = kf2p(tiny_model, [keys], ["Braucht Sarah ein Ei?"], ["DGS"], SamplerConfig(steps=4), seed=3)[0]
    # The same integration by hand with only the conditional velocity v(K, T), in the flow
    # coordinates z = (x − track) / s of the keyframe prior.
    T, D = 30, 240
    x0 = torch.randn(T, D, generator=torch.Generator().manual_seed(3))[None]
    mask = torch.zeros(1, T, dtype=torch.bool)
    mask[0, keys.frames] = True
    k = torch.zeros(1, T, D)
    k[0, keys.frames] = tiny_model.normalise(torch.from_numpy(keys.features))
    prior = tiny_model.prior(k, mask)
    assert float(prior.std[0, 10, 0]) == pytest.approx(0.2) and float(prior.std[0, 2, 0]) == pytest.approx(1.3)
    text = tiny_model.encode_text(["Braucht Sarah ein Ei?"], ["DGS"])
    lengths = torch.ones(1, T, dtype=torch.bool)
    z = sample(lambda c, t, m, on: tiny_model.velocity(c, t, m, lengths, text, prior.track), x0,
               torch.zeros_like(k), mask, True, SamplerConfig(steps=4))
    manual = tiny_model.denormalise(prior.from_flow(z))[0].detach().numpy()
    manual[keys.frames] = keys.features
    np.testing.assert_allclose(out.features, manual, rtol=1e-5, atol=1e-5)


def test_guidance_other_than_one_changes_the_output(tiny_model):
    keys = _keys()
    a = kf2p(tiny_model, [keys], ["Her tea is cold."], ["ASL"], SamplerConfig(steps=3))[0].features
    b = kf2p(tiny_model, [keys], ["Her tea is cold."], ["ASL"], SamplerConfig(steps=3, text_scale=3.0))[0].features
    assert not np.allclose(a, b)


@pytest.mark.parametrize("prior,key_scale", [("keyframes", 1.0), ("standard", 1.5)])
def test_a_request_gives_the_same_sequence_alone_or_in_a_batch(prior, key_scale):
    model = perturbed_model(tiny_config(prior=prior))
    model.scale_in.fill_(0.3)
    reqs = [Request("ASL", "Her tea is cold.", _keys(30), seed=1), Request("CSL", "星期一谁寄照片？", None, 17, seed=2),
            Request("BSL", None, _keys(45, (3, 20, 44), seed=4), seed=5)]
    sampler = SamplerConfig(steps=2, text_scale=1.5, key_scale=key_scale)
    batch = generate_batch(model, reqs, sampler)
    for req, seq in zip(reqs, batch):
        alone = generate_batch(model, [req], sampler)[0]
        np.testing.assert_allclose(seq.features, alone.features, rtol=1e-4, atol=1e-4)


def test_keyframe_guidance_is_refused_under_the_keyframe_prior(tiny_model):
    # Its keyframe-blind branch would live in other flow coordinates (signlib.generate.prior).
    with pytest.raises(SignlibError, match="key_scale=1.5: keyframe guidance needs .* prior: standard"):
        kf2p(tiny_model, [_keys()], ["Her tea is cold."], ["ASL"], SamplerConfig(steps=2, key_scale=1.5))
    standard = perturbed_model(tiny_config(prior="standard"))
    a = kf2p(standard, [_keys()], ["Her tea is cold."], ["ASL"], SamplerConfig(steps=2))[0].features
    b = kf2p(standard, [_keys()], ["Her tea is cold."], ["ASL"], SamplerConfig(steps=2, key_scale=1.5))[0].features
    assert not np.allclose(a, b)


def test_generate_in_chunks_equals_one_batch_in_order(tiny_model):
    reqs = [Request("ASL", f"Text number {i}.", None, 12 + 3 * i, seed=i) for i in range(5)]
    sampler = SamplerConfig(steps=2, text_scale=1.5)
    whole = generate_batch(tiny_model, reqs, sampler)
    chunked = generate(tiny_model, reqs, sampler, batch_size=2)
    assert [s.num_frames for s in chunked] == [12, 15, 18, 21, 24]
    for a, b in zip(whole, chunked):
        np.testing.assert_allclose(a.features, b.features, rtol=1e-4, atol=1e-4)
    with pytest.raises(SignlibError, match="no requests"):
        generate(tiny_model, [], sampler)


def test_t2p_uses_the_predicted_length_and_the_seed(tiny_model):
    sampler = SamplerConfig(steps=2)
    texts, languages = ["星期一谁寄照片？", "Her tea is cold."], ["CSL", "ASL"]
    out = t2p(tiny_model, texts, languages, sampler)
    predicted = tiny_model.predict_length(texts, languages).tolist()
    assert [s.num_frames for s in out] == predicted and all(8 <= n <= 64 for n in predicted)
    assert [s.language for s in out] == languages and [s.text for s in out] == texts
    text = ["Her tea is cold."]
    fixed = t2p(tiny_model, text, ["ASL"], sampler, seed=1, num_frames=[20])[0]
    again = t2p(tiny_model, text, ["ASL"], sampler, seed=1, num_frames=[20])[0]
    other = t2p(tiny_model, text, ["ASL"], sampler, seed=2, num_frames=[20])[0]
    assert fixed.num_frames == 20
    assert np.array_equal(fixed.features, again.features) and not np.allclose(fixed.features, other.features)


def test_entry_i_is_seeded_by_seed_plus_i(tiny_model):
    sampler = SamplerConfig(steps=2)
    both = t2p(tiny_model, ["Her tea is cold."] * 2, ["ASL"] * 2, sampler, seed=1, num_frames=[20, 20])
    second = t2p(tiny_model, ["Her tea is cold."], ["ASL"], sampler, seed=2, num_frames=[20])[0]
    np.testing.assert_allclose(both[1].features, second.features, rtol=1e-4, atol=1e-4)
    assert not np.allclose(both[0].features, both[1].features)
    keys = _keys()
    pair = kf2p(tiny_model, [keys, keys], [None, None], ["ASL", "ASL"], sampler, seed=5)
    alone = kf2p(tiny_model, [keys], [None], ["ASL"], sampler, seed=6)[0]
    np.testing.assert_allclose(pair[1].features, alone.features, rtol=1e-4, atol=1e-4)


def _dictionary():
    rng = np.random.default_rng(0)
    frames = {("DGS", g): rng.normal(size=(3, 240)).astype(np.float32) for g in ("SARAH", "EI", "BRAUCHEN")}
    spans = {("DGS", "SARAH"): (10, 22), ("DGS", "EI"): (5, 14), ("DGS", "BRAUCHEN"): (0, 2)}
    return TriframeDictionary("rot6d", frames, spans, {k: True for k in frames})


def test_stitch_goes_through_the_dictionary(tiny_model):
    d = _dictionary()
    outs = stitch(tiny_model, d, [["EI", "SARAH"], ["BRAUCHEN"]], ["DGS", "DGS"], texts=["Sarah, ein Ei.", None],
                  sampler=SamplerConfig(steps=2))
    for out, glosses in zip(outs, [["EI", "SARAH"], ["BRAUCHEN"]]):
        keys = retrieval_keyframes(d, "DGS", glosses)
        assert out.num_frames == keys.num_frames and np.array_equal(out.features[keys.frames], keys.features)
        assert [s.gloss for s in out.segments] == glosses
    assert outs[0].text == "Sarah, ein Ei." and outs[1].text == ""
    # The same as keyframe-to-pose through the retrieved keyframes, with the same seeds.
    same = kf2p(tiny_model, [retrieval_keyframes(d, "DGS", ["EI", "SARAH"])], ["Sarah, ein Ei."], ["DGS"],
                SamplerConfig(steps=2))[0]
    np.testing.assert_allclose(outs[0].features, same.features, rtol=1e-4, atol=1e-4)
    with pytest.raises(SignlibError, match="no dictionary entry for gloss 'UNBEKANNT'"):
        stitch(tiny_model, d, [["UNBEKANNT"]], ["DGS"])
    with pytest.raises(SignlibError, match="unknown sign language"):
        stitch(tiny_model, d, [["EI"]], ["XSL"])


def test_retrieval_t2p_skips_unknown_glosses_and_keeps_the_predicted_order(tiny_model):
    d = _dictionary()
    translate = lambda texts, langs: [["BRAUCHEN", "UNBEKANNT", "SARAH"] for _ in texts]  # noqa: E731
    out = sr_t2p(tiny_model, translate, d, ["Braucht Sarah ein Ei?"], ["DGS"], SamplerConfig(steps=2))[0]
    keys = retrieval_keyframes(d, "DGS", ["BRAUCHEN", "SARAH"])
    assert [s.gloss for s in out.segments] == ["BRAUCHEN", "SARAH"] and out.meta["retrieved"] is True
    assert out.num_frames == keys.num_frames and np.array_equal(out.features[keys.frames], keys.features)
    assert out.text == "Braucht Sarah ein Ei?"


def test_retrieval_t2p_falls_back_to_t2p_when_nothing_is_retrieved(tiny_model):
    d = _dictionary()
    texts, languages = ["Braucht Sarah ein Ei?", "Wer?", "Sarah."], ["DGS"] * 3
    too_long = ["SARAH", "EI", "BRAUCHEN", "SARAH"]
    assert retrieval_keyframes(d, "DGS", too_long).num_frames == 5 * RETRIEVAL_PADDING + 36 > 64  # over max_frames
    predicted = [["UNBEKANNT"], too_long, ["SARAH"]]
    sampler = SamplerConfig(steps=2)
    out = sr_t2p(tiny_model, lambda t, l: predicted, d, texts, languages, sampler, seed=4)
    assert [s.meta["retrieved"] for s in out] == [False, False, True]
    fallback = t2p(tiny_model, texts[:2], languages[:2], sampler, seed=4)    # entries 0 and 1: seeds 4 and 5
    for got, expected in zip(out[:2], fallback):
        assert got.segments == () and got.meta["keyframes"] == [] and got.text == expected.text
        assert got.num_frames == expected.num_frames
        np.testing.assert_allclose(got.features, expected.features, rtol=1e-4, atol=1e-4)
    assert [s.gloss for s in out[2].segments] == ["SARAH"]


def test_list_arguments_must_match_in_length(tiny_model):
    keys = _keys()
    with pytest.raises(SignlibError, match="texts: expected a list of 2 entries"):
        kf2p(tiny_model, [keys, keys], [None], ["ASL", "ASL"])
    with pytest.raises(SignlibError, match="languages: expected a list of 1 entries"):
        kf2p(tiny_model, [keys], [None], "ASL")                         # a bare string is not a list
    with pytest.raises(SignlibError, match="num_frames: expected a list of 1 entries"):
        t2p(tiny_model, ["Hi"], ["ASL"], num_frames=[10, 12])
    with pytest.raises(SignlibError, match="languages: expected a list of 2 entries"):
        sr_t2p(tiny_model, lambda t, l: [["EI"]] * len(t), _dictionary(), ["a", "b"], ["DGS"])


@pytest.mark.parametrize("req, message", [
    (Request("ASL", "Hi", None, 0), r"outside \[1, 64\]"),
    (Request("ASL", "Hi", None, 65), "trained maximum"),
    (Request("ASL", "Hi", None, None), "num_frames is required"),
    (Request("XSL", "Hi", None, 10), "unknown sign language"),
    (Request("ASL", "   ", None, 10), "text is empty"),
])
def test_bad_requests_are_refused_before_the_network_runs(tiny_model, req, message):
    with pytest.raises(SignlibError, match=message):
        generate_batch(tiny_model, [req])


def test_keyframes_of_another_layout_are_refused(tiny_model):
    with pytest.raises(SignlibError, match="channels"):
        kf2p(tiny_model, [Keyframes(np.array([0]), np.zeros((1, 138)), 10)], [None], ["ASL"])


def test_temperature_zero_removes_the_seed_from_the_output(tiny_model):
    cold = [t2p(tiny_model, ["Her tea is cold."], ["ASL"], SamplerConfig(steps=2, temperature=0.0), seed=s,
                num_frames=[20])[0].features for s in (1, 2)]
    np.testing.assert_array_equal(cold[0], cold[1])
    with pytest.raises(InvalidValue, match="SamplerConfig: temperature=-1.0 must be a number in"):
        SamplerConfig(temperature=-1.0)


def _unused_translate(texts, languages):
    raise AssertionError("translate must not run on refused input")


@pytest.mark.parametrize("call, message", [
    (lambda m: t2p(m, ["Hi \ud800"], ["ASL"], num_frames=[10]),
     r"^t2p: texts\[0\]: character '\\ud800' at position 3 cannot be encoded as UTF-8"),
    (lambda m: t2p(m, [b"Hi"], ["ASL"], num_frames=[10]), r"^t2p: texts\[0\]: must be str, got bytes"),
    (lambda m: t2p(m, "Hi", ["ASL", "ASL"]), r"^t2p: texts: expected a list"),
    (lambda m: t2p(m, ["Hi"], [["ASL"]]), r"^t2p: languages\[0\]: unknown sign language"),
    (lambda m: t2p(m, ["Hi", "Ho"], ["ASL"] * 2, num_frames=[10, 12.5]),
     r"^t2p: num_frames\[1\]: must be an integer, got 12.5 \(float\)$"),
    (lambda m: t2p(m, ["Hi"], ["ASL"], num_frames=[np.float64(12.0)]), r"^t2p: num_frames\[0\]: must be an integer"),
    (lambda m: t2p(m, ["Hi"], ["ASL"], num_frames=[True]), r"^t2p: num_frames\[0\]: must be an integer, got True"),
    (lambda m: t2p(m, ["Hi"], ["ASL"], num_frames=[65]), r"^t2p: num_frames\[0\]=65 is outside \[1, 64\]"),
    (lambda m: t2p(m, ["Hi"], ["ASL"], num_frames=[10], seed=1.5), r"^t2p: seed: must be an integer"),
    (lambda m: t2p(m, ["Hi"], ["ASL"], num_frames=[10], batch_size=0), r"^t2p: batch_size=0 must be >= 1$"),
    (lambda m: kf2p(m, [Keyframes(np.array([0]), np.zeros((1, 240)), 12.5)], [None], ["ASL"]),
     r"^keyframes: num_frames: must be an integer, got 12.5"),  # Keyframes itself refuses it
    (lambda m: kf2p(m, [_keys()], [b"tea"], ["ASL"]), r"^kf2p: texts\[0\]: must be str, got bytes"),
    (lambda m: kf2p(m, [np.zeros((3, 240))], [None], ["ASL"]), r"^kf2p: keyframes\[0\]: expected Keyframes"),
    (lambda m: stitch(m, _dictionary(), "EI", ["DGS", "DGS"]), r"^stitch: glosses: expected a list"),
    (lambda m: stitch(m, _dictionary(), [[1]], ["DGS"]), r"^stitch: glosses\[0\]: expected a list of gloss strings"),
    (lambda m: stitch(m, _dictionary(), [["EI"]], ["DGS"], texts=["\udcff"]), r"^stitch: texts\[0\]: character"),
    (lambda m: sr_t2p(m, _unused_translate, _dictionary(), ["Ein Ei\ud800"], ["DGS"]),
     r"^sr_t2p: texts\[0\]: character '\\ud800' at position 6"),
    (lambda m: sr_t2p(m, _unused_translate, _dictionary(), [b"Ei"], ["DGS"]), r"^sr_t2p: texts\[0\]: must be str"),
    (lambda m: generate_batch(m, [Request("ASL", "Hi", None, 12.5)]),
     r"^requests\[0\]\.num_frames: must be an integer, got 12.5"),
    (lambda m: generate_batch(m, [Request("ASL", "Hi", None, 10), Request("ASL", b"Hi", None, 10)]),
     r"^requests\[1\]\.text: must be str, got bytes"),
    (lambda m: generate_batch(m, [Request("ASL", "Hi", None, 10, seed=0.5)]),
     r"^requests\[0\]\.seed: must be an integer"),
    (lambda m: generate_batch(m, [Request("ASL", "Hi", None, 10)], {"steps": 2}),
     r"^sampler: expected a SamplerConfig"),
    (lambda m: generate_batch(m, Request("ASL", "Hi", None, 10)), r"requests: expected a non-empty list of Request"),
    (lambda m: generate(m, [Request("ASL", "Hi", None, 10)], batch_size=True),
     r"^batch_size: must be an integer, got True"),
    (lambda m: m.predict_length("Hi", ["ASL", "ASL"]), r"texts, languages: expected lists"),
    (lambda m: m.predict_length(["Hi", "x\ud800"], ["ASL", "ASL"]), r"^texts\[1\]: character '\\ud800' at position 1"),
])
def test_generator_input_is_refused_in_one_line_naming_the_argument(tiny_model, call, message):
    with pytest.raises(SignlibError, match=message) as info:
        call(tiny_model)
    assert "\n" not in str(info.value)


def test_numpy_integers_are_lengths_seeds_and_batch_sizes(tiny_model):
    plain = t2p(tiny_model, ["Hi"], ["ASL"], SamplerConfig(steps=1), seed=3, num_frames=[10], batch_size=1)
    numpy = t2p(tiny_model, ["Hi"], ["ASL"], SamplerConfig(steps=1), seed=np.int64(3), num_frames=np.array([10]),
                batch_size=np.int32(1))
    np.testing.assert_array_equal(plain[0].features, numpy[0].features)
    lengths = tiny_model.predict_length(["Hi"], ["ASL"])              # int64 tensor entries are lengths too
    assert t2p(tiny_model, ["Hi"], ["ASL"], SamplerConfig(steps=1), num_frames=list(lengths))[0].num_frames == \
        int(lengths[0])


def test_the_samplers_check_their_config_and_shapes():
    x0 = torch.zeros(1, 4, 2)
    with pytest.raises(SignlibError, match="sample: config: expected a SamplerConfig, got dict"):
        sample(lambda *a: None, x0, x0, torch.zeros(1, 4, dtype=torch.bool), True, {"steps": 2})
    with pytest.raises(SignlibError, match=r"sample: x0 \(1, 4, 2\), keys \(1, 4, 2\) and key_mask \(1, 5\) must be"):
        sample(lambda *a: None, x0, x0, torch.zeros(1, 5, dtype=torch.bool), True)
