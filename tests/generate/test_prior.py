"""The flow's source distribution: the keyframe prior's track, scales and coordinate map, and the
residual scales measured from training clips."""

import numpy as np
import pytest
import torch

from signlib.generate.configs import SignSparKConfig
from signlib.generate.flow import ease, interpolate_keyframes, span_mask
from signlib.generate.prior import build_prior, residual_scales
from signlib.validate import InvalidValue

from .conftest import tiny_config


def _mask(T, frames):
    m = torch.zeros(1, T, dtype=torch.bool)
    m[0, list(frames)] = True
    return m


def test_minimum_jerk_easing_has_zero_speed_at_the_keyframes_and_a_bell_in_between():
    w = ease(torch.linspace(0, 1, 101), "minimum_jerk")
    assert float(w[0]) == 0 and float(w[-1]) == pytest.approx(1.0) and float(w[50]) == pytest.approx(0.5)
    speed = w.diff()
    assert float(speed[0]) < 1e-4 and float(speed[-1]) < 1e-4 and int(speed.argmax()) in (49, 50)
    assert torch.equal(ease(torch.tensor([0.3]), "linear"), torch.tensor([0.3]))


def test_span_mask_covers_first_to_last_keyframe_and_nothing_without_keyframes():
    m = torch.zeros(2, 10, dtype=torch.bool)
    m[0, [2, 6]] = True
    assert span_mask(m)[0].tolist() == [False, False, True, True, True, True, True, False, False, False]
    assert not bool(span_mask(m)[1].any())


def test_the_keyframe_prior_is_centred_on_the_track_with_span_and_edge_scales():
    torch.manual_seed(0)
    keys = torch.randn(2, 12, 3)
    mask = torch.zeros(2, 12, dtype=torch.bool)
    mask[0, [3, 8]] = True                                       # row 1: no keyframes (text-to-pose)
    s_in, s_out = torch.tensor([0.1, 0.2, 0.3]), torch.tensor([2.0, 3.0, 4.0])
    prior = build_prior(keys, mask, "keyframes", True, "minimum_jerk", s_in, s_out)
    track = interpolate_keyframes(keys, mask, "minimum_jerk")
    torch.testing.assert_close(prior.mean, track)
    torch.testing.assert_close(prior.std[0, 5], s_in)
    torch.testing.assert_close(prior.std[0, 0], s_out)
    torch.testing.assert_close(prior.std[0, 11], s_out)
    assert torch.equal(prior.std[1], torch.ones(12, 3)) and torch.equal(prior.mean[1], torch.zeros(12, 3))
    x = torch.randn(2, 12, 3)
    torch.testing.assert_close(prior.from_flow(prior.to_flow(x)), x)
    z = prior.to_flow(keys)
    assert float(z[0, [3, 8]].abs().max()) < 1e-6              # keyframes sit at the origin
    standard = build_prior(keys, mask, "standard", True, "linear", s_in, s_out)
    assert torch.equal(standard.to_flow(x), x) and standard.track is not None


def test_residual_scales_measure_what_the_track_misses_inside_and_outside_the_span():
    T = 40
    t = torch.arange(T, dtype=torch.float32)
    x = torch.zeros(T, 4)
    x[:, 0] = torch.where((t >= 10) & (t <= 30), 0.1 * torch.sin(t), torch.zeros(T))  # wiggle inside only
    x[:10, 1] = 1.0                                                                   # a step before the span
    x[:, 2:] = 0.5 * t[:, None] / T                                                   # linear: the track fits it
    keys = _mask(T, (10, 20, 30))[0]
    x[[10, 20, 30], 0] = 0.0
    s_in, s_out = residual_scales([x], [keys], [slice(2, 4)], "linear")
    assert 0.05 < float(s_in[0]) < 0.1 and float(s_out[0]) == pytest.approx(1e-3)
    # 10 of the 19 frames outside the span (all but the keyframes) miss by 1, the rest by 0.
    assert float(s_out[1]) == pytest.approx((10 / 19) ** 0.5) and float(s_in[1]) == pytest.approx(1e-3)
    # Channels 2-3 are one group: pooled (their residual outside the span is the held ramp).
    assert float(s_out[2]) == pytest.approx(float(s_out[3])) and float(s_in[2]) < 1e-2
    none = residual_scales([x], [torch.zeros(T, dtype=torch.bool)], [], "linear")
    assert torch.equal(none[0], torch.ones(4)) and torch.equal(none[1], torch.ones(4))


def test_the_keyframe_prior_needs_the_track_and_known_names():
    with pytest.raises(InvalidValue, match="prior"):
        tiny_config(keyframe_track=False)
    with pytest.raises(InvalidValue, match="easing"):
        tiny_config(easing="cubic")
    with pytest.raises(InvalidValue, match="prior"):
        tiny_config(prior="gaussian")
    assert SignSparKConfig().prior == "keyframes" and SignSparKConfig().easing == "minimum_jerk"


def test_set_prior_scales_reads_raw_clips_through_the_model_statistics():
    from signlib.generate.model import SignSparK
    model = SignSparK(tiny_config())
    rng = np.random.default_rng(0)
    clips = [rng.normal(0, 1, (30, 240)).astype(np.float32) for _ in range(3)]
    model.set_statistics(np.zeros(240), 2 * np.ones(240))
    model.set_prior_scales(clips, [np.array([5, 15, 25])] * 3)
    # White noise of std 1 is std 0.5 normalised; linear interpolation between two noisy keyframes
    # adds some, so the in-span scale sits a little above 0.5.
    assert 0.5 < float(model.scale_in.mean()) < 0.7 and 0.5 < float(model.scale_out.mean()) < 0.8
