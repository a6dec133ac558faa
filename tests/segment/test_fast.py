"""FAST and the BiLSTM baseline: shapes, variants, a tiny overfit decoded with a DecodeConfig,
model folders, configs that refuse bad values."""

import json

import numpy as np
import pytest
import torch

from signlib.data.sequence import Segment, Sequence
from signlib.data.synthetic.lexicon import draw_sign
from signlib.data.synthetic.performance import Style, perform
from signlib.errors import SignlibError
from signlib.segment.configs import HAND_FEATURES, BiLSTMConfig, FASTConfig
from signlib.segment.decode import DecodeConfig
from signlib.segment.evaluation import (load_segmenter, predict_clips, save_segmenter_card, score_predictions,
                                        sequence_segments)
from signlib.segment.fast import FAST, BiLSTMTagger, build_segmenter
from signlib.segment.features import FEATURE_SPEC
from signlib.segment.training import SegClip, class_weights, make_loss, make_sampler, prepare
from signlib.train import TrainConfig, train
from signlib.validate import InvalidValue

SMALL = FASTConfig(d_model=32, layers=1, heads=2, ff=64, dropout=0.0)
VARIANTS = [SMALL, FASTConfig(**{**SMALL.__dict__, "downsample": True}),
            FASTConfig(**{**SMALL.__dict__, "two_stream": False}),
            FASTConfig(**{**SMALL.__dict__, "temporal_conv": False})]


@pytest.mark.parametrize("config", VARIANTS, ids=["fast", "downsample", "single_stream", "no_conv"])
@pytest.mark.parametrize("T", [1, 2, 7, 40])
def test_every_variant_tags_every_frame_even_of_very_short_clips(config, T):
    model = FAST(config).eval()
    x = torch.randn(3, T, HAND_FEATURES)
    mask = torch.ones(3, T, dtype=torch.bool)
    mask[1, T // 2 + 1:] = False
    out = model(x, x, mask)
    assert out["logits"].shape == (3, T, 3) and torch.isfinite(out["logits"]).all()
    assert out["ctc_logits"].shape[1] == (T + 1) // 2 if config.downsample else T


def test_padding_does_not_change_the_real_frames():
    model = FAST(SMALL).eval()
    x = torch.randn(1, 10, HAND_FEATURES)
    padded = torch.cat([x, torch.randn(1, 5, HAND_FEATURES)], 1)
    mask = torch.tensor([[True] * 10 + [False] * 5])
    a = model(x, x, torch.ones(1, 10, dtype=torch.bool))["logits"]
    b = model(padded, padded, mask)["logits"][:, :10]
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def _toy_clips(n=4, T=40):
    """Clips whose signs are bursts of hand movement: learnable from the streams."""
    rng = np.random.default_rng(0)
    clips = []
    for k in range(n):
        labels = np.zeros(T, np.int64)
        spans = ((5 + k, 15 + k), (22, 30))
        x = rng.normal(0, 0.05, (T, HAND_FEATURES)).astype(np.float32)
        for a, b in spans:
            labels[a:b] = 1
            labels[a] = 2
            x[a:b, :10] += 1.0
            x[a, 10:20] += 1.0  # an onset cue
        clips.append(SegClip(f"c{k}", x, x.copy(), labels, spans))
    return clips


@pytest.mark.parametrize("kind", ["fast", "bilstm"])
def test_tiny_overfit_loss_falls_and_clips_are_segmented(kind, tmp_path):
    clips = _toy_clips()
    model = FAST(SMALL) if kind == "fast" else BiLSTMTagger(BiLSTMConfig(hidden=32))
    loss_fn = make_loss(class_weights(clips), 0.3 if kind == "fast" else 0.0)
    sampler = make_sampler(clips, 4, 64, augment=False)
    first = float(loss_fn(model, sampler(0, np.random.default_rng(0)))[0].detach())
    train(model, loss_fn, sampler, TrainConfig(steps=120, batch_size=4, lr=3e-3), tmp_path, progress=False)
    last = float(loss_fn(model.eval(), sampler(0, np.random.default_rng(0)))[0].detach())
    assert last < 0.3 * first
    predictions = predict_clips(model, clips)
    scores = score_predictions(predictions, clips)
    assert scores["inside_iou"] > 0.9
    for c in clips:
        assert predictions[c.id]["segments"] == DecodeConfig().segments(predictions[c.id]["probs"])
        assert predictions[c.id]["segments"] == list(c.spans)
    # A DecodeConfig is what both apply: segments shorter than min_length are dropped.
    strict = DecodeConfig(min_length=9)
    dropped = predict_clips(model, clips, strict)
    for c in clips:
        assert dropped[c.id]["segments"] == [(a, b) for a, b in predictions[c.id]["segments"] if b - a >= 9]
        np.testing.assert_array_equal(dropped[c.id]["labels"], predictions[c.id]["labels"])
    # The 8-frame sign (22, 30) of every clip is dropped: half the true segments are predicted.
    assert scores["segment_ratio"] == pytest.approx(1.0)
    assert score_predictions(dropped, clips, strict)["segment_ratio"] == pytest.approx(0.5)


def test_checkpoint_round_trip_and_feature_mismatch(tmp_path):
    model = FAST(SMALL)
    train(model, make_loss(class_weights(_toy_clips()), 0.3), make_sampler(_toy_clips(), 2, 32, augment=False),
          TrainConfig(steps=2, batch_size=2), tmp_path, progress=False)
    save_segmenter_card(tmp_path, model)
    card = json.loads((tmp_path / "model.json").read_text())
    assert len(card.pop("weights_sha256")) == 64  # the fingerprint of the final.pt it belongs to
    assert card == {"format": "signlib.segmenter/1", "config": SMALL.to_dict(), "features": FEATURE_SPEC}
    loaded = load_segmenter(tmp_path)
    assert isinstance(loaded, FAST) and loaded.config == SMALL and not loaded.training
    x = torch.randn(1, 12, HAND_FEATURES)
    mask = torch.ones(1, 12, dtype=torch.bool)
    torch.testing.assert_close(loaded(x, x, mask)["logits"], model.eval()(x, x, mask)["logits"])
    card["features"]["per_hand"] = 63  # a checkpoint made for other input
    (tmp_path / "model.json").write_text(json.dumps(card))
    with pytest.raises(SignlibError, match="model.json: bad card .*the checkpoint expects features"):
        load_segmenter(tmp_path)
    card["features"], card["config"]["model"] = FEATURE_SPEC, "transformer"
    (tmp_path / "model.json").write_text(json.dumps(card))
    with pytest.raises(SignlibError, match="model.json: bad card .*unknown segmenter 'transformer'"):
        load_segmenter(tmp_path)
    with pytest.raises(SignlibError, match="model.json: not found"):
        load_segmenter(tmp_path / "none")


def test_a_bilstm_folder_loads_as_a_bilstm(tmp_path):
    model = BiLSTMTagger(BiLSTMConfig(hidden=16))
    torch.save(model.state_dict(), tmp_path / "final.pt")
    save_segmenter_card(tmp_path, model)
    loaded = load_segmenter(tmp_path)
    assert isinstance(loaded, BiLSTMTagger) and loaded.config == BiLSTMConfig(hidden=16)
    x = torch.randn(2, 9, HAND_FEATURES)                                     # (B, T, F) per hand
    mask = torch.ones(2, 9, dtype=torch.bool)
    torch.testing.assert_close(loaded(x, x, mask)["logits"], model.eval()(x, x, mask)["logits"])


def test_sequence_segments_decode_a_sequence_like_its_clip():
    rng = np.random.default_rng(0)
    steady = Style(1.0, 1.0, False, (0.0, 0.0, 0.0), 0.0, 0.0, 0.0)
    feats, valid, spans = perform([draw_sign(f"k{i}", "G", "noun", rng) for i in range(3)], steady, rng)
    seq = Sequence(features=feats, layout="rot6d", fps=25, valid=valid, id="s",
                   segments=tuple(Segment(int(a), int(b), f"k{i}") for i, (a, b) in enumerate(spans)))
    torch.manual_seed(0)
    model = FAST(SMALL).eval()
    clip = prepare([seq])[0]
    found = []
    for decode in (DecodeConfig(), DecodeConfig(convention="b_splits", inside_threshold=0.3, min_length=2)):
        expected = predict_clips(model, [clip], decode)["s"]["segments"]
        assert sequence_segments(model, seq, decode) == expected
        assert expected and all(b - a >= decode.min_length for a, b in expected)
        found.append(expected)
    assert found[0] != found[1]                                  # the decode settings are applied, not defaults


def test_build_segmenter_from_its_config():
    assert isinstance(build_segmenter(SMALL.to_dict()), FAST)
    assert isinstance(build_segmenter(BiLSTMConfig().to_dict()), BiLSTMTagger)
    with pytest.raises(KeyError, match="unknown segmenter None"):
        build_segmenter({"d_model": 32})


@pytest.mark.parametrize("make, message", [
    (lambda: FASTConfig(d_model=30, heads=4), "FASTConfig: heads=4 must divide d_model=30"),
    (lambda: FASTConfig(layers=0), "FASTConfig: layers=0 must be an integer >= 1"),
    (lambda: FASTConfig(dropout=1.0), "FASTConfig: dropout=1.0 must be a number in"),
    (lambda: FASTConfig(downsample="yes"), "FASTConfig: downsample='yes' must be true or false"),
    (lambda: BiLSTMConfig(hidden=0), "BiLSTMConfig: hidden=0 must be an integer >= 1"),
    (lambda: DecodeConfig(convention="bio"), "DecodeConfig: convention='bio' is not one of signspark, b_splits"),
    (lambda: DecodeConfig(b_threshold=1.5), "DecodeConfig: b_threshold=1.5 must be a number in"),
    (lambda: DecodeConfig(min_length=0), "DecodeConfig: min_length=0 must be an integer >= 1"),
])
def test_bad_configs_are_refused_naming_the_field(make, message):
    with pytest.raises(InvalidValue, match=message):
        make()
