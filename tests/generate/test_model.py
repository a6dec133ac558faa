"""The SignSparK network as a whole: it learns (a short overfit reproduces a clip), it saves and
loads, and a resumed training run ends with the weights of an uninterrupted one."""

import json

import numpy as np
import pytest
import torch

from signlib.generate.data import GenClip, make_loss, make_sampler
from signlib.generate.flow import part_weights
from signlib.generate.model import SignSparK, SignSparKConfig, load_signspark, save_signspark
from signlib.generate.modes import Keyframes, kf2p
from signlib.generate.sampling import SamplerConfig
from signlib.train import TrainConfig, train

from .conftest import smooth_clip, tiny_config


def _clip(T=32, seed=0) -> GenClip:
    x = smooth_clip(T, seed=seed)
    return GenClip("clip", x, np.ones_like(x, bool), np.array([0, 8, 16, 24, 31]), "Her tea is cold.", "ASL")


def _fit(tmp_path, clips, steps, fail_at=None, **config):
    torch.manual_seed(0)
    model = SignSparK(tiny_config())
    x = np.concatenate([c.features for c in clips])
    model.set_statistics(torch.from_numpy(x.mean(0)), torch.from_numpy(x.std(0)))
    sampler = make_sampler(clips, batch_size=8, text_drop=0.0, key_drop=0.0)

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
    err = lambda m: np.mean((kf2p(m, keys, clip.text, "ASL", SamplerConfig(steps=8)).features - clip.features) ** 2)  # noqa: E731
    variance = np.mean((clip.features - clip.features.mean(0)) ** 2)
    rows = json.loads((tmp_path / "metrics_rows.json").read_text())
    assert rows[-1]["recon"] < 0.2 * rows[0]["recon"]
    assert err(model) < 0.02 * variance and err(model) < 0.25 * err(untrained), (err(model), err(untrained), variance)


def test_save_and_load_give_the_same_model(tmp_path, tiny_model):
    torch.save(tiny_model.state_dict(), tmp_path / "final.pt")
    save_signspark(tmp_path, tiny_model.config, {"note": "test"})
    loaded = load_signspark(tmp_path)
    assert loaded.config == tiny_model.config
    keys = Keyframes(np.array([0, 9]), smooth_clip(10)[[0, 9]], 10)
    a = kf2p(tiny_model, keys, "Hi", "BSL", SamplerConfig(steps=2)).features
    b = kf2p(loaded, keys, "Hi", "BSL", SamplerConfig(steps=2)).features
    np.testing.assert_array_equal(a, b)


def test_loading_reports_missing_or_foreign_files(tmp_path, tiny_model):
    with pytest.raises(ValueError, match="signspark.json"):
        load_signspark(tmp_path)
    save_signspark(tmp_path, tiny_model.config)
    with pytest.raises(ValueError, match="final.pt"):
        load_signspark(tmp_path)
    (tmp_path / "final.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="final.pt"):
        load_signspark(tmp_path)
    (tmp_path / "signspark.json").write_text(json.dumps({"format": "other"}))
    with pytest.raises(ValueError, match="not a signlib.signspark"):
        load_signspark(tmp_path)


def test_config_round_trips_through_json():
    config = tiny_config()
    assert SignSparKConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
    with pytest.raises(ValueError, match="SignSparK config"):
        SignSparKConfig.from_dict({"layout": "rot6d", "text": {}, "unet": {"bogus": 1}})


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


def test_a_fresh_model_reproduces_linear_interpolation_of_the_keyframes():
    # The UNet's output layer starts at zero, so x̂1 is the keyframe track itself and one Euler step
    # lands on it: linear interpolation between keyframes (in normalised units), held at the ends.
    model = SignSparK(tiny_config()).eval()
    clip = smooth_clip(20)
    frames = np.array([3, 10, 16])
    out = kf2p(model, Keyframes(frames, clip[frames], 20), None, "ASL", SamplerConfig(steps=1)).features
    expected = np.empty_like(clip)
    for d in range(clip.shape[1]):
        expected[:, d] = np.interp(np.arange(20), frames, clip[frames, d])
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_without_the_keyframe_track_a_fresh_model_outputs_the_mean_between_keyframes():
    model = SignSparK(tiny_config(keyframe_track=False)).eval()
    clip = smooth_clip(20)
    frames = np.array([3, 10, 16])
    out = kf2p(model, Keyframes(frames, clip[frames], 20), None, "ASL", SamplerConfig(steps=1)).features
    free = np.setdiff1d(np.arange(20), frames)
    np.testing.assert_allclose(out[free], np.broadcast_to(model.mean.numpy(), out[free].shape), rtol=1e-5, atol=1e-5)
