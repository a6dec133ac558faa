"""The EMA vector quantiser: nearest codes, straight-through gradients, EMA updates that move codes
onto their clusters, dead-code reset, and clear errors."""

import pytest
import torch

from signlib.baselines.vq import EMAQuantizer
from signlib.errors import SignlibError


def test_each_vector_gets_its_nearest_code_and_gradients_pass_straight_through():
    torch.manual_seed(0)
    q = EMAQuantizer(8, 3).eval()
    z = torch.randn(2, 5, 3, requires_grad=True)
    out = q(z)
    brute = torch.cdist(z.detach().reshape(-1, 3), q.codebook).argmin(1).view(2, 5)
    assert torch.equal(out.indices, brute)
    torch.testing.assert_close(out.codes, q.codebook[brute])
    out.codes.sum().backward()
    torch.testing.assert_close(z.grad, torch.ones_like(z))  # the straight-through estimator


def test_the_first_training_batch_seeds_the_codes():
    torch.manual_seed(4)
    q = EMAQuantizer(32, 2).train()
    data = 0.01 * torch.randn(500, 2) + 3.0  # far from randn codes
    q(data)
    assert bool(q.initialised) and torch.cdist(q.codebook, data).min(1).values.max() < 0.01
    assert q.eval()(data).perplexity > 8  # many codes in use, not one


def test_ema_updates_move_the_codes_onto_the_clusters_of_the_data():
    torch.manual_seed(1)
    centres = torch.tensor([[5.0, 0.0], [-5.0, 0.0], [0.0, 5.0]])
    q = EMAQuantizer(3, 2, decay=0.9).train()
    for _ in range(200):
        batch = centres[torch.randint(3, (64,))] + 0.1 * torch.randn(64, 2)
        q(batch)
    found = torch.cdist(centres, q.codebook).min(1).values
    assert found.max() < 0.3, (q.codebook, found)  # every cluster has a code on it
    assert q(centres).perplexity > 2.9  # and all three codes are in use


def test_codes_nobody_uses_are_reset_to_data():
    torch.manual_seed(2)
    q = EMAQuantizer(16, 2, decay=0.5, dead_threshold=0.05).train()
    with torch.no_grad():
        q.codebook += 100.0  # every code far away: all but the nearest go unused
        q.ema_sum.copy_(q.codebook)
        q.initialised.fill_(True)  # keep these codes (no seeding from the first batch)
    data = torch.randn(256, 2)
    for _ in range(20):
        q(data)
    assert q.resets > 0
    assert torch.cdist(q.codebook, data).min(1).values.max() < 1.0  # every code now sits near the data
    assert q.eval()(data).perplexity > 4


def test_eval_mode_leaves_the_codebook_alone_and_the_commitment_is_beta_times_the_error():
    torch.manual_seed(3)
    q = EMAQuantizer(4, 2, beta=0.5).eval()
    before = q.codebook.clone()
    z = torch.randn(10, 2)
    out = q(z)
    assert torch.equal(q.codebook, before)
    torch.testing.assert_close(out.commitment, 0.5 * (z - q.codebook[out.indices]).pow(2).mean())


@pytest.mark.parametrize("call, message", [
    (lambda: EMAQuantizer(1, 4), "size must be >= 2"),
    (lambda: EMAQuantizer(4, 2, decay=1.0), "decay must lie in \\(0, 1\\)"),
    (lambda: EMAQuantizer(4, 2)(torch.zeros(3, 5)), "inputs have 5 channels, the codebook 2"),
    (lambda: EMAQuantizer(4, 2).lookup(torch.tensor([0, 4])), "code indices must lie in \\[0, 4\\)"),
])
def test_bad_arguments_are_named(call, message):
    with pytest.raises(SignlibError, match=message):
        call()
