"""ODE samplers with classifier-free guidance, on velocity fields whose answers are known."""

import pytest
import torch

from signlib.generate.sampling import SamplerConfig, flow_times, sample


def _setup(B=2, T=12, D=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    target = torch.randn(B, T, D, generator=g)
    x0 = torch.randn(B, T, D, generator=g)
    keys = torch.randn(B, T, D, generator=g)
    mask = torch.zeros(B, T, dtype=torch.bool)
    mask[:, [0, 5, 11]] = True
    return target, x0, keys, mask


def _oracle(target):
    """The exact flow to ``target``: v = (target − x) / (1 − t)."""
    def velocity(control, t, masks, text_on):
        n = len(control) // len(target)
        return (target.repeat(n, 1, 1) - control) / (1 - t[:, None, None]).clamp_min(1e-6)
    return velocity


@pytest.mark.parametrize("solver", ["euler", "heun"])
@pytest.mark.parametrize("steps", [1, 2, 5, 10])
def test_oracle_flow_reaches_the_target_and_hits_keyframes_exactly(solver, steps):
    target, x0, keys, mask = _setup()
    x = sample(_oracle(target), x0, keys, mask, True, SamplerConfig(steps=steps, solver=solver))
    assert torch.equal(x[mask], keys[mask])
    torch.testing.assert_close(x[~mask], target[~mask], rtol=1e-4, atol=1e-4)


def _affine_field(kind_scale):
    """A velocity that differs per branch: v = a·(keys on) + b·(text on) + c, per row."""
    def velocity(control, t, masks, text_on):
        k = masks.any(1).float()[:, None, None]
        s = text_on.float()[:, None, None]
        return kind_scale[0] * k + kind_scale[1] * s + kind_scale[2] + 0 * control
    return velocity


def test_guidance_scale_one_equals_the_conditional_output_with_one_pass():
    target, x0, keys, mask = _setup()
    calls = []
    base = _affine_field((1.0, 2.0, 0.5))

    def counting(control, t, masks, text_on):
        calls.append(len(control))
        return base(control, t, masks, text_on)

    x = sample(counting, x0, keys, mask, True, SamplerConfig(steps=4, text_scale=1.0, key_scale=1.0))
    assert set(calls) == {2}                       # one branch × B = 2 rows per call
    # v(K, T) = 1 + 2 + 0.5 everywhere; four Euler steps of 1/4 add exactly 3.5.
    torch.testing.assert_close(x[~mask], x0[~mask] + 3.5)


@pytest.mark.parametrize("s_text,s_key", [(2.0, 1.0), (1.0, 3.0), (2.5, 1.5)])
def test_guidance_follows_the_nested_difference_formula(s_text, s_key):
    target, x0, keys, mask = _setup()
    a, b, c = 1.0, 2.0, 0.5
    x = sample(_affine_field((a, b, c)), x0, keys, mask, True, SamplerConfig(steps=3, text_scale=s_text, key_scale=s_key))
    # v00 = c, vK0 = a + c, vKT = a + b + c → v = c + s_K·a + s_T·b
    torch.testing.assert_close(x[~mask], x0[~mask] + (c + s_key * a + s_text * b))


def test_text_to_pose_guidance_uses_only_the_text_term():
    _, x0, keys, _ = _setup()
    no_keys = torch.zeros(2, 12, dtype=torch.bool)
    x = sample(_affine_field((1.0, 2.0, 0.5)), x0, keys, no_keys, True, SamplerConfig(steps=2, text_scale=3.0, key_scale=5.0))
    torch.testing.assert_close(x, x0 + (0.5 + 3.0 * 2.0))


def test_rows_without_text_fall_back_to_keyframe_guidance():
    _, x0, keys, mask = _setup()
    x = sample(_affine_field((1.0, 2.0, 0.5)), x0, keys, mask, torch.tensor([True, False]),
               SamplerConfig(steps=2, text_scale=3.0, key_scale=2.0))
    torch.testing.assert_close(x[0][~mask[0]], x0[0][~mask[0]] + (0.5 + 2.0 + 6.0))
    torch.testing.assert_close(x[1][~mask[1]], x0[1][~mask[1]] + (0.5 + 2.0))


def test_keyframe_blind_branch_sees_the_noisy_path_at_keyframes():
    _, x0, keys, mask = _setup(B=1)
    seen = []

    def velocity(control, t, masks, text_on):
        seen.append((control.clone(), t[0].item(), masks.clone()))
        return torch.zeros_like(control)

    sample(velocity, x0, keys, mask, False, SamplerConfig(steps=2, key_scale=2.0))
    control, t, masks = seen[1]                    # second step, t = 0.5; rows: [(∅,∅), (K,∅)]
    blind = control[0]
    torch.testing.assert_close(blind[mask[0]], (t * keys + (1 - t) * x0)[0][mask[0]])
    assert torch.equal(control[1][mask[0]], keys[0][mask[0]]) and not masks[0].any()


def test_bad_sampler_settings_are_refused():
    with pytest.raises(ValueError, match="steps"):
        SamplerConfig(steps=0)
    with pytest.raises(ValueError, match="solver"):
        SamplerConfig(solver="rk4")


@pytest.mark.parametrize("solver,steps", [("euler", 1), ("euler", 7), ("heun", 4)])
def test_flow_times_are_exactly_the_times_the_sampler_asks_for(solver, steps):
    # Samplers precompute per-time inputs for these times; a time missing from the list would
    # only be slower, but a list that drifted from the loop would silently lose the speed-up.
    seen = []

    def velocity(control, t, masks, text_on):
        seen.append(float(t[0]))
        return torch.zeros_like(control)

    config = SamplerConfig(steps=steps, solver=solver)
    sample(velocity, torch.zeros(1, 5, 2), torch.zeros(1, 5, 2), torch.zeros(1, 5, dtype=torch.bool), True, config)
    as_float32 = torch.tensor(flow_times(config), dtype=torch.float32).tolist()
    assert sorted(seen) == sorted(as_float32)
