"""The SignSparK network as a whole: it learns (a short overfit reproduces a clip), it saves and
loads as a model folder, its configs refuse bad values naming the field, :func:`fit` keeps the
EMA weights, and a resumed training run ends with the weights of an uninterrupted one."""

import dataclasses
import hashlib
import json

import numpy as np
import pytest
import torch

from signlib.errors import SignlibError
from signlib.generate.configs import BatchConfig, SamplerConfig, SignSparKConfig, TextEncoderConfig, UNetConfig
from signlib.generate.data import GenClip, clip_statistics, make_loss, make_sampler
from signlib.generate.flow import part_weights
from signlib.generate.model import SignSparK, load_signspark, save_signspark_card
from signlib.generate.modes import kf2p
from signlib.keyframes import Keyframes
from signlib.train import OptimConfig, TrainConfig, fit, train
from signlib.validate import InvalidValue

from .conftest import smooth_clip, tiny_config


def _clip(T=32, seed=0) -> GenClip:
    x = smooth_clip(T, seed=seed)
    return GenClip("clip", x, np.ones_like(x, bool), np.array([0, 8, 16, 24, 31]), "Her tea is cold.", "ASL")


def _fit(tmp_path, clips, steps, fail_at=None, **config):
    torch.manual_seed(0)
    model = SignSparK(tiny_config())
    x = np.concatenate([c.features for c in clips])
    model.set_statistics(torch.from_numpy(x.mean(0)), torch.from_numpy(x.std(0)))
    sampler = make_sampler(clips, batch_size=8, config=BatchConfig(text_drop=0.0, key_drop=0.0))

    def sample_batch(step, rng):
        if step == fail_at:
            raise KeyboardInterrupt  # the run is killed here
        return sampler(step, rng)

    cfg = TrainConfig(**{"steps": steps, "lr": 3e-3, "warmup_steps": 5, "log_every": 10, **config})
    result = train(model, make_loss(part_weights("rot6d")), sample_batch, cfg, tmp_path, progress=False)
    return model.eval(), result


def test_a_short_overfit_on_one_clip_reproduces_it(tmp_path):
    clip = _clip()
    keys = Keyframes(clip.keyframes, clip.features[clip.keyframes], 32)
    model, result = _fit(tmp_path, [clip], steps=120)
    untrained = SignSparK(tiny_config()).eval()  # its output is the interpolated keyframe track
    untrained.set_statistics(model.mean, model.std)
    err = lambda m: np.mean((kf2p(m, [keys], [clip.text], ["ASL"], SamplerConfig(steps=8))[0].features  # noqa: E731
                             - clip.features) ** 2)
    variance = np.mean((clip.features - clip.features.mean(0)) ** 2)
    rows = json.loads((tmp_path / "metrics_rows.json").read_text())
    assert rows[-1]["recon"] < 0.2 * rows[0]["recon"]
    assert err(model) < 0.02 * variance and err(model) < 0.25 * err(untrained), (err(model), err(untrained), variance)


def test_save_and_load_give_the_same_model(tmp_path, tiny_model):
    torch.save(tiny_model.state_dict(), tmp_path / "final.pt")  # what training writes
    save_signspark_card(tmp_path, tiny_model.config, note="test")
    card = json.loads((tmp_path / "model.json").read_text())
    sha = hashlib.sha256((tmp_path / "final.pt").read_bytes()).hexdigest()
    assert card == {"format": "signlib.signspark/1", "config": tiny_model.config.to_dict(), "note": "test",
                    "weights_sha256": sha}
    loaded = load_signspark(tmp_path)
    assert loaded.config == tiny_model.config and not loaded.training
    torch.testing.assert_close(loaded.mean, tiny_model.mean, rtol=0, atol=0)
    keys = Keyframes(np.array([0, 9]), smooth_clip(10)[[0, 9]], 10)
    a = kf2p(tiny_model, [keys], ["Hi"], ["BSL"], SamplerConfig(steps=2))[0].features
    b = kf2p(loaded, [keys], ["Hi"], ["BSL"], SamplerConfig(steps=2))[0].features
    np.testing.assert_array_equal(a, b)


def test_loading_reports_missing_or_foreign_files(tmp_path, tiny_model):
    with pytest.raises(SignlibError, match="model.json: not found"):
        load_signspark(tmp_path)
    save_signspark_card(tmp_path, tiny_model.config)
    with pytest.raises(SignlibError, match="final.pt: weights not found"):
        load_signspark(tmp_path)
    (tmp_path / "final.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(SignlibError, match="final.pt: cannot load weights: not a torch weights file"):
        load_signspark(tmp_path)
    torch.save(SignSparK(tiny_config(max_frames=32, unet=UNetConfig(channels=(16, 24), heads=2, cond_dim=16)))
               .state_dict(), tmp_path / "final.pt")
    # weights of another architecture
    with pytest.raises(SignlibError, match="final.pt: cannot load weights: they do not fit this model"):
        load_signspark(tmp_path)
    save_signspark_card(tmp_path, tiny_model.config)       # now the card fingerprints those weights
    torch.save(tiny_model.state_dict(), tmp_path / "final.pt")  # and a later run's weights replace them
    with pytest.raises(SignlibError, match="final.pt: weights do not belong to this card"):
        load_signspark(tmp_path)
    card = json.loads((tmp_path / "model.json").read_text())
    card["config"]["unet"]["bogus"] = 1
    (tmp_path / "model.json").write_text(json.dumps(card))
    with pytest.raises(SignlibError, match="model.json: bad card"):
        load_signspark(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({"format": "other", "config": {}}))
    with pytest.raises(SignlibError, match="model.json: not a signlib.signspark/1 card"):
        load_signspark(tmp_path)


def test_config_round_trips_through_json():
    config = tiny_config()
    assert SignSparKConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(SignlibError, match="SignSparK config"):
        SignSparKConfig.from_dict({"layout": "rot6d", "text": {}, "unet": {"bogus": 1}})
    with pytest.raises(SignlibError, match="SignSparK config"):
        SignSparKConfig.from_dict({"layout": "rot6d", "unet": {}})           # no text section


def test_for_data_changes_only_what_the_data_decides():
    config = tiny_config()
    data = config.for_data("rot6d", 30.0, 128)
    assert (data.layout, data.fps, data.max_frames) == ("rot6d", 30.0, 128)
    assert data.text == config.text and data.unet == config.unet and data.keyframe_track == config.keyframe_track
    assert (config.fps, config.max_frames) == (25.0, 64)                  # frozen: the original is unchanged
    with pytest.raises(InvalidValue, match="SignSparKConfig: max_frames=0"):
        config.for_data("rot6d", 25.0, 0)
    with pytest.raises(SignlibError, match="layout"):
        config.for_data("nonsense", 25.0, 64)


@pytest.mark.parametrize("make, message", [
    (lambda: SignSparKConfig(max_frames=0), "SignSparKConfig: max_frames=0 must be an integer >= 1"),
    (lambda: SignSparKConfig(fps=0.0), "SignSparKConfig: fps=0.0 must be a number in"),
    (lambda: SignSparKConfig(keyframe_track=1), "SignSparKConfig: keyframe_track=1 must be true or false"),
    (lambda: SignSparKConfig(standardise="joint"), "SignSparKConfig: standardise='joint' is not one of part, channel"),
    (lambda: TextEncoderConfig(kind="gpt"), "TextEncoderConfig: kind='gpt' is not one of bytes, pretrained"),
    (lambda: TextEncoderConfig(d_model=30, heads=4), "TextEncoderConfig: heads=4 must divide d_model=30"),
    (lambda: TextEncoderConfig(dropout=1.0), r"TextEncoderConfig: dropout=1.0 must be a number in \[0, 1\)"),
    (lambda: UNetConfig(channels=(4, 8)), "UNetConfig: channels=.* must be a non-empty list of widths >= 8"),
    (lambda: UNetConfig(channels=(32, 50), heads=4), "UNetConfig: heads=4 must divide the bottleneck width 50"),
    (lambda: UNetConfig(patch=0), "UNetConfig: patch=0 must be an integer >= 1"),
])
def test_bad_architectures_are_refused_naming_the_field(make, message):
    with pytest.raises(InvalidValue, match=message):
        make()


def test_part_standardisation_gives_every_channel_of_a_part_one_scale(tiny_model):
    std = torch.cat([torch.full((60,), 0.1), torch.rand(90) + 0.5, torch.full((90,), 2.0)])   # body, left, right
    std[0] = 0.7                                                                              # one loud body channel
    tiny_model.set_statistics(torch.zeros(240), std)
    body = float(torch.cat([torch.tensor([0.7]), torch.full((59,), 0.1)]).pow(2).mean().sqrt())
    assert tiny_model.std[:60].tolist() == pytest.approx([body] * 60)
    assert tiny_model.std[60:150].tolist() == pytest.approx([float(std[60:150].pow(2).mean().sqrt())] * 90)
    assert tiny_model.std[150:].tolist() == pytest.approx([2.0] * 90)


def test_feature_statistics_are_floored_so_still_channels_do_not_blow_up(tiny_model):
    tiny_model = SignSparK(dataclasses.replace(tiny_model.config, standardise="channel"))
    std = torch.tensor([0.0, 1e-5, 0.5, 1.0, 2.0] + [1.0] * 235)          # (240,), median 1.0
    tiny_model.set_statistics(torch.zeros(240), std)
    assert tiny_model.std[:5].tolist() == pytest.approx([1e-3, 1e-3, 0.5, 1.0, 2.0])
    tiny_model.set_statistics(torch.zeros(240), std, relative_floor=0.6)
    assert tiny_model.std[:5].tolist() == pytest.approx([0.6, 0.6, 0.6, 1.0, 2.0])
    tiny_model.set_statistics(torch.zeros(240), std * 1e-4, relative_floor=0.6)  # the absolute floor still holds
    assert tiny_model.std[:5].tolist() == pytest.approx([1e-3] * 5)


def test_fit_with_an_optim_config_leaves_the_ema_weights_in_the_model(tmp_path):
    clips = [_clip(seed=s) for s in range(3)]
    schedule = OptimConfig(batch_size=4, lr=3e-3, ema_decay=0.99).schedule(200, seed=1)
    # Short runs: EMA only from 200 steps on, with its decay capped at 1 - 10 / steps.
    assert (schedule.steps, schedule.ema_decay, schedule.warmup_steps, schedule.seed) == (200, 0.95, 10, 1)
    assert OptimConfig(ema_decay=0.99).schedule(199).ema_decay == 0.0
    torch.manual_seed(0)
    model = SignSparK(tiny_config())
    model.set_statistics(*clip_statistics(clips))
    sampler = make_sampler(clips, schedule.batch_size, BatchConfig(text_drop=0.0, key_drop=0.0))
    short = dataclasses.replace(schedule, steps=3, checkpoint_every=0)
    result = fit(model, make_loss(part_weights("rot6d")), sampler, short, tmp_path, progress=False)
    assert not model.training and result.ema_state is not None
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, result.ema_state[name], rtol=0, atol=0, msg=name)
    torch.manual_seed(0)
    raw = SignSparK(tiny_config())                                          # the same run through plain train
    raw.set_statistics(*clip_statistics(clips))
    train(raw, make_loss(part_weights("rot6d")), sampler, short, tmp_path / "raw", progress=False)
    assert not torch.equal(raw.unet.inp.weight, model.unet.inp.weight)     # fit kept the average, not the last step
    final = torch.load(tmp_path / "final.pt", weights_only=True)            # train writes the EMA weights too
    assert final.keys() == model.state_dict().keys()
    for name, value in model.state_dict().items():
        torch.testing.assert_close(final[name], value, rtol=0, atol=0, msg=name)


def test_resumed_training_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    clips = [_clip(seed=s) for s in range(3)]
    settings = dict(steps=6, checkpoint_every=3, ema_decay=0.9)
    full, _ = _fit(tmp_path / "full", clips, **settings)
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "cut", clips, fail_at=4, **settings)
    resumed, result = _fit(tmp_path / "cut", clips, **settings)  # a fresh process, a fresh model
    assert result.resumed_from == 3
    for (name, a), b in zip(full.state_dict().items(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    final_full = torch.load(tmp_path / "full" / "final.pt", weights_only=True)
    final_cut = torch.load(tmp_path / "cut" / "final.pt", weights_only=True)
    for name in final_full:
        torch.testing.assert_close(final_full[name], final_cut[name], rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("prior,easing", [("standard", "linear"), ("keyframes", "linear"),
                                          ("keyframes", "minimum_jerk"), ("standard", "minimum_jerk")])
def test_a_fresh_model_reproduces_its_keyframe_track(prior, easing):
    # The UNet's output layer starts at zero, so x̂1 is the keyframe track itself (the origin of the
    # flow coordinates under the keyframe prior) and one Euler step lands on it, from any noise.
    model = SignSparK(tiny_config(prior=prior, easing=easing)).eval()
    clip = smooth_clip(20)
    frames = np.array([3, 10, 16])
    out = kf2p(model, [Keyframes(frames, clip[frames], 20)], [None], ["ASL"], SamplerConfig(steps=1))[0].features
    expected = np.empty_like(clip)
    for a, b in zip(frames[:-1], frames[1:]):
        tau = (np.arange(a, b + 1) - a) / (b - a)
        w = tau if easing == "linear" else 10 * tau ** 3 - 15 * tau ** 4 + 6 * tau ** 5
        expected[a:b + 1] = (1 - w[:, None]) * clip[a] + w[:, None] * clip[b]
    expected[:3], expected[17:] = clip[3], clip[16]
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_without_the_keyframe_track_a_fresh_model_outputs_the_mean_between_keyframes():
    model = SignSparK(tiny_config(keyframe_track=False, prior="standard")).eval()
    clip = smooth_clip(20)
    frames = np.array([3, 10, 16])
    out = kf2p(model, [Keyframes(frames, clip[frames], 20)], [None], ["ASL"], SamplerConfig(steps=1))[0].features
    free = np.setdiff1d(np.arange(20), frames)
    np.testing.assert_allclose(out[free], np.broadcast_to(model.mean.numpy(), out[free].shape), rtol=1e-5, atol=1e-5)


def test_the_skip_weights_copy_the_control_late_and_start_from_the_track_early():
    from signlib.generate.flow import interpolate_keyframes
    from signlib.generate.model import SKIP_STD
    from signlib.generate.blocks import time_embedding

    torch.manual_seed(1)
    control, keys = torch.randn(2, 16, 240), torch.zeros(2, 16, dtype=torch.bool)
    keys[:, [2, 9, 14]] = True
    lengths = torch.ones(2, 16, dtype=torch.bool)
    for skip in (True, False):
        torch.manual_seed(1)
        model = SignSparK(tiny_config(skip=skip, prior="standard", easing="linear"))
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.05 * torch.randn_like(p))
        model.eval()
        text = model.encode_text(["a", "b"], ["ASL", "DGS"])
        with torch.no_grad():
            late = model.predict_clean(control, torch.full((2,), 1.0), keys, lengths, text)
            early = model.predict_clean(control, torch.zeros(2), keys, lengths, text)
            cond = model.time_mlp(time_embedding(torch.zeros(2), model.config.unet.cond_dim)) + model.text_proj(text.pooled)
            track = interpolate_keyframes(control, keys)
            out = model.unet(control, keys, lengths, cond, text.tokens, text.mask, track)
        if skip:   # at t = 1 the control is the data: copied; at t = 0: the track plus SKIP_STD x the network
            torch.testing.assert_close(late, control, atol=1e-5, rtol=0)
            torch.testing.assert_close(early, track + SKIP_STD * out, atol=1e-5, rtol=1e-5)
        else:      # without skip the network's output is added to the track at every time
            assert (late - control).abs().max() > 1e-2
            torch.testing.assert_close(early, track + out, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("prior", ["standard", "keyframes"])
def test_velocity_with_a_prepared_context_equals_velocity_without(prior):
    torch.manual_seed(3)
    model = SignSparK(tiny_config(prior=prior, easing="linear"))
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    model.eval()
    B, T = 2, 19
    control, keys = torch.randn(B, T, model.dim), torch.zeros(B, T, dtype=torch.bool)
    keys[:, [0, 9, 18]] = True
    lengths = torch.ones(B, T, dtype=torch.bool)
    text = model.encode_text(["a b", None], ["ASL", "DGS"])
    track = model.prior(control, keys).track
    context = model.condition(keys, lengths, text, track)
    # A sampler's times are known in advance: their FiLMs are precomputed (0.3 here, not 0.5).
    stepped = model.condition(keys, lengths, text, track, times=[0.0, 0.3])
    assert sorted(stepped.step_films) == [0.0, pytest.approx(0.3)]
    with torch.no_grad():
        for t in (torch.full((B,), 0.3), torch.tensor([0.1, 0.7]), torch.full((B,), 0.5)):  # shared, per row, not listed
            direct = model.velocity(control, t, keys, lengths, text, track)
            for ctx in (context, stepped):
                torch.testing.assert_close(model.velocity(control, t, keys, lengths, text, track, ctx), direct,
                                           rtol=1e-5, atol=1e-5)
    with pytest.raises(SignlibError, match="pass track"):
        model.condition(keys, lengths, text)
