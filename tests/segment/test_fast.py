"""FAST and the BiLSTM baseline: shapes, variants, a tiny overfit, checkpoints."""

import json

import numpy as np
import pytest
import torch

from signlib.errors import SignlibError
from signlib.segment.evaluation import load_segmenter, predict_clips, save_model_card, score_predictions
from signlib.segment.features import HAND_FEATURES
from signlib.segment.fast import FAST, BiLSTMConfig, BiLSTMTagger, FASTConfig, build_segmenter
from signlib.segment.training import SegClip, class_weights, make_loss, make_sampler
from signlib.train import TrainConfig, train

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
    scores = score_predictions(predict_clips(model, clips), clips)
    assert scores["inside_iou"] > 0.9


def test_checkpoint_round_trip_and_feature_mismatch(tmp_path):
    model = FAST(SMALL)
    train(model, make_loss(class_weights(_toy_clips()), 0.3), make_sampler(_toy_clips(), 2, 32, augment=False),
          TrainConfig(steps=2, batch_size=2), tmp_path, progress=False)
    save_model_card(tmp_path, SMALL.to_dict())
    loaded = load_segmenter(tmp_path)
    x = torch.randn(1, 12, HAND_FEATURES)
    mask = torch.ones(1, 12, dtype=torch.bool)
    torch.testing.assert_close(loaded(x, x, mask)["logits"], model.eval()(x, x, mask)["logits"])
    card = json.loads((tmp_path / "model.json").read_text())
    card["features"]["per_hand"] = 63  # a checkpoint made for other input
    (tmp_path / "model.json").write_text(json.dumps(card))
    with pytest.raises(SignlibError, match="model.json: checkpoint expects features"):
        load_segmenter(tmp_path)


def test_build_segmenter_from_its_config():
    assert isinstance(build_segmenter(SMALL.to_dict()), FAST)
    assert isinstance(build_segmenter(BiLSTMConfig().to_dict()), BiLSTMTagger)
