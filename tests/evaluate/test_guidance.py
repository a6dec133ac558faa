"""Guidance scales are picked on validation clips: scale 1 is always tried, the lowest score wins."""

import dataclasses

import numpy as np
import pytest

from signlib.data.sequence import Segment, Sequence
from signlib.evaluate.guidance import pick_guidance, validation_clips
from signlib.generate.configs import GuidanceSearchConfig, SamplerConfig
from signlib.pose.normalize import orthonormalize_rot6d
from signlib.validate import InvalidValue

from ..generate.conftest import perturbed_model, smooth_clip, tiny_config


def _seq(T, seed, language="ASL"):
    feats = orthonormalize_rot6d(smooth_clip(T, seed=seed), "rot6d")
    return Sequence(feats, "rot6d", 25.0, segments=(Segment(4, T - 4, "A"),), text="tea", language=language,
                    id=f"{language}{seed}")


@pytest.mark.parametrize("field, value", [("key_scales", (2.0, 3.0)), ("text_scales", ()), ("text_scales", (1.0, -1.0)),
                                          ("key_scales", (1.0, True))])
def test_grids_without_scale_one_or_with_bad_scales_are_refused(field, value):
    with pytest.raises(InvalidValue, match=f"GuidanceSearchConfig: {field}="):
        GuidanceSearchConfig(**{field: value})


def test_validation_clips_take_the_first_clips_with_keyframes_per_language():
    clips = [_seq(20, i, lang) for i, lang in enumerate(["ASL", "ASL", "DGS", "ASL", "DGS"])]
    keys = [np.array([1, 5]), np.array([], np.int64), np.array([2]), np.array([3, 9]), np.array([4])]
    picked, picked_keys = validation_clips(clips, keys, per_language=1)
    assert [c.id for c in picked] == ["ASL0", "DGS2"]
    assert [k.tolist() for k in picked_keys] == [[1, 5], [2]]


def test_pick_guidance_tries_the_whole_grid_and_keeps_the_lowest_score():
    model = perturbed_model(tiny_config(max_frames=64, prior="standard"))
    truths = [_seq(24, 0), _seq(30, 1, "DGS")]
    keys = [np.array([4, 12, 19]), np.array([4, 15, 25])]
    search = GuidanceSearchConfig(clips=1, key_scales=(1.0, 3.0), text_scales=(1.0, 2.0))
    pick = pick_guidance(model, truths, keys, SamplerConfig(steps=2), search)
    kf2p = [r for r in pick.rows if r["mode"] == "KF2P"]
    t2p = [r for r in pick.rows if r["mode"] == "T2P"]
    assert [(r["key_scale"], r["text_scale"]) for r in kf2p] == [(1.0, 1.0), (1.0, 2.0), (3.0, 1.0), (3.0, 2.0)]
    assert [r["text_scale"] for r in t2p] == [1.0, 2.0]
    for rows, cfg in ((kf2p, pick.kf2p), (t2p, pick.t2p)):
        best = min(rows, key=lambda r: r["score"])
        assert [r["picked"] for r in rows].count(True) == 1 and best["picked"]
        assert (cfg.key_scale, cfg.text_scale) == (best["key_scale"], best["text_scale"])
        assert all(np.isfinite(r["score"]) and r["score"] > 0 for r in rows)
    assert dataclasses.replace(pick.kf2p, key_scale=1.0, text_scale=1.0) == SamplerConfig(steps=2)


def test_under_the_keyframe_prior_only_text_scales_and_temperatures_are_searched():
    model = perturbed_model(tiny_config(max_frames=64))
    truths = [_seq(24, 0), _seq(30, 1, "DGS")]
    keys = [np.array([4, 12, 19]), np.array([4, 15, 25])]
    search = GuidanceSearchConfig(clips=1, key_scales=(1.0, 3.0), text_scales=(1.0, 2.0), temperatures=(1.0, 0.0))
    pick = pick_guidance(model, truths, keys, SamplerConfig(steps=2), search)
    kf2p = [r for r in pick.rows if r["mode"] == "KF2P"]
    assert [(r["key_scale"], r["text_scale"], r["temperature"]) for r in kf2p] == [
        (1.0, 1.0, 1.0), (1.0, 1.0, 0.0), (1.0, 2.0, 1.0), (1.0, 2.0, 0.0)]
    best = min(kf2p, key=lambda r: r["score"])
    assert best["picked"] and (pick.kf2p.text_scale, pick.kf2p.temperature) == (best["text_scale"], best["temperature"])
    assert len({r["score"] for r in kf2p}) == 4  # the temperature changes the samples
    assert {r["temperature"] for r in pick.rows if r["mode"] == "T2P"} == {1.0}


def test_the_temperature_grid_must_hold_one_and_stay_in_range():
    with pytest.raises(InvalidValue, match="temperatures"):
        GuidanceSearchConfig(temperatures=(0.5,))
    with pytest.raises(InvalidValue, match="temperatures"):
        GuidanceSearchConfig(temperatures=(1.0, 3.0))
    assert GuidanceSearchConfig(temperatures=[1.0, 0.0]).temperatures == (1.0, 0.0)
