"""Generator training data: keyframes from the keyframes stage, batches, condition dropout."""

import json

import numpy as np
import pytest

from signlib.data.sequence import Segment, Sequence
from signlib.generate.data import (GenClip, feature_statistics, load_keyframes, make_sampler, to_genclip,
                                   true_keyframes)

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
    batch = make_sampler(clips, batch_size=8, text_drop=0.0, key_drop=0.0)(0, np.random.default_rng(0))
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
    sampler = make_sampler(_clips(), batch_size=64, text_drop=0.3, key_drop=0.5)
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
    bucketed, uniform = make_sampler(clips, 16, text_drop=0.0), make_sampler(clips, 16, text_drop=0.0, bucket=0)
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
    mean, std = feature_statistics([GenClip("a", x, valid, np.array([0]), "t", "ASL")])
    assert np.allclose(mean, 1.0) and np.allclose(std, 0.0)


def test_keyframes_file_errors_name_the_file(tmp_path):
    path = tmp_path / "keyframes.json"
    with pytest.raises(ValueError, match="keyframes.json.*run the `keyframes` stage"):
        load_keyframes(path, "onset_mid_offset")
    path.write_text(json.dumps({"keyframes": {"random": {"a": [1, 2]}}}))
    with pytest.raises(ValueError, match="onset_mid_offset"):
        load_keyframes(path, "onset_mid_offset")
    assert load_keyframes(path, "random") == {"a": [1, 2]}


def test_clips_default_to_the_true_keyframes_and_reject_out_of_range_ones():
    seq = Sequence(smooth_clip(30), "rot6d", 25.0, segments=(Segment(2, 10, "A"), Segment(14, 25, "B")),
                   text="a b", language="ASL", id="s")
    assert to_genclip(seq).keyframes.tolist() == true_keyframes(seq).tolist() == [2, 5, 9, 14, 19, 24]
    with pytest.raises(ValueError, match="outside"):
        to_genclip(seq, [0, 30])
