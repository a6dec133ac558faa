"""Generator training data: clips with their keyframes, batches, condition dropout, the loss."""

import numpy as np
import pytest
import torch

from signlib.data.sequence import Segment, Sequence
from signlib.generate.configs import BatchConfig, FlowLossConfig
from signlib.generate.data import GenClip, clip_statistics, make_loss, make_sampler, to_genclip
from signlib.generate.flow import part_weights
from signlib.keyframes import true_keyframes
from signlib.pose.normalize import feature_statistics
from signlib.validate import InvalidValue

from .conftest import smooth_clip


def _clips(n=40):
    rng = np.random.default_rng(0)
    out = []
    for i in range(n):
        T = int(rng.integers(20, 90))
        x = smooth_clip(T, seed=i)
        out.append(GenClip(f"c{i}", x, np.ones_like(x, bool), np.array([0, T // 2, T - 1]), f"text {i}",
                           ["ASL", "BSL", "DGS", "CSL"][i % 4]))
    return out


def test_batches_pad_to_the_longest_clip_and_mark_keyframes():
    clips = _clips()
    sampler = make_sampler(clips, batch_size=8, config=BatchConfig(text_drop=0.0, key_drop=0.0))
    batch = sampler(0, np.random.default_rng(0))
    T = batch["x1"].shape[1]
    assert T == int(batch["lengths"].max()) and batch["valid"].shape == (8, T, 240)
    by_text = {c.text: c for c in clips}
    for b in range(8):
        clip, n = by_text[batch["texts"][b]], int(batch["lengths"][b])
        assert n == len(clip.features) and batch["length_mask"][b].sum() == n
        assert np.array_equal(batch["x1"][b, :n].numpy(), clip.features)
        assert np.flatnonzero(batch["key_mask"][b].numpy()).tolist() == clip.keyframes.tolist()
        assert batch["languages"][b] == clip.language


def test_condition_dropout_rates_and_independence():
    sampler = make_sampler(_clips(), batch_size=64, config=BatchConfig(text_drop=0.3, key_drop=0.5))
    text_dropped, keys_dropped, both = [], [], []
    for step in range(60):
        b = sampler(step, np.random.default_rng(step))
        t = np.array([s is None for s in b["texts"]])
        k = ~b["key_mask"].numpy().any(1)
        text_dropped.append(t.mean()), keys_dropped.append(k.mean()), both.append((t & k).mean())
    assert np.mean(text_dropped) == pytest.approx(0.3, abs=0.03)
    assert np.mean(keys_dropped) == pytest.approx(0.5, abs=0.03)
    assert np.mean(both) == pytest.approx(0.15, abs=0.03)


def test_length_buckets_cut_padding_without_starving_any_clip():
    clips = _clips(200)
    bucketed = make_sampler(clips, 16, BatchConfig(text_drop=0.0))
    uniform = make_sampler(clips, 16, BatchConfig(text_drop=0.0, bucket=0))
    waste = lambda b: 1 - b["length_mask"].float().mean().item()  # noqa: E731
    rng = np.random.default_rng
    assert np.mean([waste(bucketed(s, rng(s))) for s in range(50)]) < 0.5 * np.mean([waste(uniform(s, rng(s))) for s in range(50)])
    seen = {t for s in range(300) for t in bucketed(s, rng(s))["texts"]}
    assert len(seen) == 200


def test_the_same_step_and_seed_give_the_same_batch():
    sampler = make_sampler(_clips(), 8)
    a, b = sampler(5, np.random.default_rng([0, 5])), sampler(5, np.random.default_rng([0, 5]))
    assert a["texts"] == b["texts"] and np.array_equal(a["x1"].numpy(), b["x1"].numpy())


def test_statistics_skip_missing_joints():
    x = np.ones((10, 240), np.float32)
    valid = np.ones_like(x, bool)
    x[:3, :6], valid[:3, :6] = 100.0, False
    mean, std = clip_statistics([GenClip("a", x, valid, np.array([0]), "t", "ASL")])
    assert mean.shape == std.shape == (240,)
    assert np.allclose(mean, 1.0) and np.allclose(std, 0.0)
    # Without the valid mask the 100s count: clip_statistics passes each clip's mask on.
    mean_all, _ = feature_statistics([x])
    assert mean_all[0] == pytest.approx((3 * 100.0 + 7) / 10) and mean_all[6] == pytest.approx(1.0)


def test_statistics_pool_frames_of_all_clips():
    a, b = smooth_clip(12, seed=1), smooth_clip(30, seed=2)
    clips = [GenClip(i, x, np.ones_like(x, bool), np.array([0]), "t", "ASL") for i, x in (("a", a), ("b", b))]
    mean, std = clip_statistics(clips)
    both = np.concatenate([a, b]).astype(np.float64)
    np.testing.assert_allclose(mean, both.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, both.std(0), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("changes, field", [
    ({"text_drop": 1.5}, "text_drop"), ({"key_drop": -0.1}, "key_drop"), ({"bucket": -1}, "bucket"),
    ({"bucket": 2.5}, "bucket"),
])
def test_bad_batch_settings_are_refused_naming_the_field(changes, field):
    with pytest.raises(InvalidValue, match=f"^BatchConfig: {field}="):
        BatchConfig(**changes)


def _loss_batch(clips):
    sampler = make_sampler(clips, batch_size=4, config=BatchConfig(text_drop=0.0, key_drop=0.0))
    return sampler(0, np.random.default_rng(0))


def test_the_length_term_follows_its_weight_in_the_loss_config(tiny_model):
    batch = _loss_batch(_clips(8))
    channels = part_weights("rot6d")
    results = {}
    for w in (0.0, 0.1, 1.0):
        torch.manual_seed(0)  # the same noise and times in every call
        with torch.no_grad():
            results[w] = make_loss(channels, FlowLossConfig(length_weight=w))(tiny_model, batch)
    (l0, logs0), (l1, logs1), (l10, logs10) = results[0.0], results[0.1], results[1.0]
    assert "length" not in logs0 and logs1["length"] == pytest.approx(logs10["length"]) and logs1["length"] > 0
    assert float(l1) == pytest.approx(float(l0) + 0.1 * logs1["length"], rel=1e-5)
    assert float(l10) == pytest.approx(float(l0) + 1.0 * logs1["length"], rel=1e-5)
    assert FlowLossConfig().length_weight == 0.1


def test_the_length_term_skips_rows_without_text(tiny_model):
    batch = _loss_batch(_clips(8))
    batch["texts"] = [None] * len(batch["texts"])
    torch.manual_seed(0)
    with torch.no_grad():
        _, logs = make_loss(part_weights("rot6d"), FlowLossConfig(length_weight=1.0))(tiny_model, batch)
    assert "length" not in logs
    with pytest.raises(InvalidValue, match="FlowLossConfig: length_weight=-1"):
        FlowLossConfig(length_weight=-1.0)


def test_clips_default_to_the_true_keyframes_and_reject_out_of_range_ones():
    seq = Sequence(smooth_clip(30), "rot6d", 25.0, segments=(Segment(2, 10, "A"), Segment(14, 25, "B")),
                   text="a b", language="ASL", id="s")
    assert to_genclip(seq).keyframes.tolist() == true_keyframes(seq).tolist() == [2, 5, 9, 14, 19, 24]
    with pytest.raises(ValueError, match="outside"):
        to_genclip(seq, [0, 30])
