"""The diffusion and plain-CFM generators of Fig 4b: the cosine schedule, the noise path, DDIM with
an oracle, training losses and sampling through the inference API."""

import numpy as np
import pytest
import torch

from signlib.errors import SignlibError
from signlib.generate.configs import FlowLossConfig, SamplerConfig
from signlib.generate.data import make_loss, make_sampler, to_genclip
from signlib.generate.diffusion import alpha_bar, ddim_sample, ddim_times, network_time, noise_path, respaced
from signlib.generate.flow import clean_loss, estimate_clean, flow_loss, part_weights, probability_path
from signlib.generate.modes import kf2p, t2p
from signlib.generate.text import TextEncoding
from signlib.keyframes import Keyframes
from signlib.validate import InvalidValue

from .conftest import perturbed_model, smooth_clip, tiny_config


def test_cosine_schedule_runs_from_clean_to_pure_noise_monotonically():
    k = torch.arange(0, 1001, dtype=torch.float32)
    ab = alpha_bar(k, 1000)
    assert ab[0] == pytest.approx(1.0) and ab[-1] < 1e-6
    assert bool((ab[1:] <= ab[:-1]).all()) and bool((ab[1:] < ab[:-1])[:-1].all())
    # the offset keeps the first step small: most of the signal survives k = 1
    assert 0.99 < float(ab[1]) < 1.0
    assert torch.allclose(network_time(torch.tensor([0, 500, 1000]), 1000), torch.tensor([1.0, 0.5, 0.0]))


def test_respaced_timesteps_span_the_schedule_and_bad_counts_are_refused():
    assert respaced(1, 1000) == [1000, 0]
    assert respaced(4, 1000) == [1000, 750, 500, 250, 0]
    assert len(respaced(1000, 1000)) == 1001
    with pytest.raises(SignlibError, match="DDIM steps=0"):
        respaced(0, 1000)
    with pytest.raises(SignlibError, match="1001"):
        respaced(1001, 1000)


def test_noise_path_keeps_keyframes_clean_and_has_the_schedule_variance():
    torch.manual_seed(0)
    z1, eps = torch.randn(2, 50, 8), torch.randn(2, 50, 8)
    mask = torch.zeros(2, 50, dtype=torch.bool)
    mask[:, [0, 20, 49]] = True
    k = torch.tensor([1000, 300])
    control = noise_path(z1, eps, k, 1000, mask)
    assert torch.equal(control[mask], z1[mask])
    ab = alpha_bar(k.float(), 1000)
    assert torch.allclose(control[1][~mask[1]], (ab[1].sqrt() * z1[1] + (1 - ab[1]).sqrt() * eps[1])[~mask[1]])
    assert torch.allclose(control[0][~mask[0]], eps[0][~mask[0]], atol=1e-3)  # k = K: pure noise


@pytest.mark.parametrize("steps", [1, 3, 50])
def test_ddim_with_an_oracle_returns_the_target_and_hits_keyframes(steps):
    torch.manual_seed(1)
    target, x0 = torch.randn(2, 30, 6), torch.randn(2, 30, 6)
    mask = torch.zeros(2, 30, dtype=torch.bool)
    mask[:, [2, 15]] = True
    calls = []

    def oracle(control, t, key_mask, text_on):
        calls.append(len(control))
        return target.repeat(len(control) // 2, 1, 1)

    out = ddim_sample(oracle, x0, target * mask[..., None], mask, True, SamplerConfig(steps=steps), 1000)
    assert torch.allclose(out, target, atol=1e-5)
    assert torch.equal(out[mask], target[mask])
    assert len(calls) == steps and set(calls) == {2}  # scale 1: one branch, one call per step


def test_ddim_one_step_returns_the_networks_first_estimate():
    x0 = torch.randn(1, 12, 4)
    seen = {}

    def net(control, t, key_mask, text_on):
        seen["t"] = float(t[0])
        seen["control"] = control.clone()
        return torch.full_like(control, 0.25)

    out = ddim_sample(net, x0, torch.zeros(1, 12, 4), torch.zeros(1, 12, dtype=torch.bool), False,
                      SamplerConfig(steps=1), 1000)
    assert seen["t"] == 0.0 and torch.equal(seen["control"], x0)  # pure noise at time 0
    assert torch.allclose(out, torch.full_like(out, 0.25))


def test_clean_loss_is_the_reconstruction_and_velocity_part_of_the_flow_loss():
    torch.manual_seed(2)
    x1, x0, v = torch.randn(2, 20, 240), torch.randn(2, 20, 240), torch.randn(2, 20, 240)
    t = torch.tensor([0.3, 0.8])
    mask = torch.zeros(2, 20, dtype=torch.bool)
    mask[:, [0, 10]] = True
    lengths = torch.ones(2, 20, dtype=torch.bool)
    control, target = probability_path(x1, x0, t, mask)
    cfg = FlowLossConfig(cfm_weight=0.0, acceleration_weight=0.5)
    full, logs = flow_loss(v, x1, control, target, t, mask, lengths, None, part_weights("rot6d"), cfg)
    part, clean_logs = clean_loss(estimate_clean(control, v, t, mask), x1, lengths, None, part_weights("rot6d"), cfg)
    assert torch.allclose(full, part) and set(clean_logs) == {"recon", "vel", "acc"}
    assert clean_logs["recon"] == pytest.approx(logs["recon"])


def _encoding(model, n):
    return model.encode_text(["a cup of tea"] * n, ["ASL"] * n)


def test_plain_cfm_velocity_is_the_network_output_and_ddpm_has_no_velocity():
    cfm = perturbed_model(tiny_config(generator="cfm", prior="standard"))
    x, t = torch.randn(1, 16, 240), torch.tensor([0.4])
    mask, lengths = torch.zeros(1, 16, dtype=torch.bool), torch.ones(1, 16, dtype=torch.bool)
    mask[0, [0, 15]] = True
    text = _encoding(cfm, 1)
    v = cfm.velocity(x, t, mask, lengths, text)
    out, _ = cfm._network(x, t, mask, lengths, text)
    assert torch.equal(v, out)
    assert torch.allclose(cfm.predict_clean(x, t, mask, lengths, text), estimate_clean(x, v, t, mask))
    ddpm = perturbed_model(tiny_config(generator="ddpm", prior="standard"))
    with pytest.raises(SignlibError, match="DDIM"):
        ddpm.velocity(x, t, mask, lengths, _encoding(ddpm, 1))
    assert isinstance(text, TextEncoding)


@pytest.mark.parametrize("generator", ["cfm", "ddpm"])
@pytest.mark.parametrize("prior", ["standard", "keyframes"])
def test_every_generator_trains_a_step_and_samples_through_the_inference_api(generator, prior):
    model = perturbed_model(tiny_config(generator=generator, prior=prior, diffusion_steps=50))
    model.train()
    clips = [to_genclip(_sequence(smooth_clip(40, seed=s)), [0, 9, 20, 39]) for s in range(4)]
    batch = make_sampler(clips, 4)(0, np.random.default_rng(0))
    loss, logs = make_loss(part_weights("rot6d"), FlowLossConfig(position_weight=0.1))(model, batch)
    loss.backward()
    assert torch.isfinite(loss) and "recon" in logs and ("cfm" in logs) == (generator == "cfm")
    assert all(p.grad is not None for p in model.unet.parameters() if p.requires_grad)
    model.eval()
    clip = smooth_clip(30, seed=9)
    keys = Keyframes(np.array([0, 14, 29]), clip[[0, 14, 29]], 30)
    scales = SamplerConfig(steps=3, text_scale=2.0, key_scale=1.5 if prior == "standard" else 1.0)
    out = kf2p(model, [keys], ["a cup of tea"], ["ASL"], scales)[0]
    assert np.array_equal(out.features[keys.frames], keys.features) and np.isfinite(out.features).all()
    assert t2p(model, ["a cup of tea"], ["BSL"], SamplerConfig(steps=2), num_frames=[20])[0].num_frames == 20


def _sequence(features):
    from signlib.data.sequence import Sequence
    return Sequence(features, "rot6d", 25.0, text="a cup of tea", language="ASL", id="clip")


def test_generator_settings_are_checked():
    with pytest.raises(InvalidValue, match="generator"):
        tiny_config(generator="gan")
    with pytest.raises(InvalidValue, match="skip"):
        tiny_config(generator="ddpm", skip=True)
    with pytest.raises(InvalidValue, match="diffusion_steps"):
        tiny_config(diffusion_steps=1)


def test_ddim_times_are_exactly_the_times_ddim_asks_for():
    seen = []

    def clean(control, t, masks, text_on):
        seen.append(float(t[0]))
        return torch.zeros_like(control)

    ddim_sample(clean, torch.zeros(1, 5, 2), torch.zeros(1, 5, 2), torch.zeros(1, 5, dtype=torch.bool), True,
                SamplerConfig(steps=6), 1000)
    assert seen == torch.tensor(ddim_times(6, 1000), dtype=torch.float32).tolist()
