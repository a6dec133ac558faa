"""The shared training loop: learning, determinism, resume, checkpoints, EMA, clipping, DDP."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from signlib.errors import SignlibError
from signlib.train import TrainConfig, lr_at, to_device, train

W_TRUE = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])  # (4, 1)


def make_model(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Dropout(0.1), nn.Linear(16, 1))


def sample_batch(step, rng):
    x = torch.from_numpy(rng.normal(size=(16, 4))).float()  # (B, 4)
    return {"x": x, "y": x @ W_TRUE}                          # (B, 1)


def loss_fn(model, batch):
    pred = model(batch["x"])
    loss = nn.functional.mse_loss(pred, batch["y"])
    return loss, {"mae": (pred - batch["y"]).abs().mean().item()}


def fit(out_dir, seed=0, init=0, **overrides):
    config = TrainConfig(**{"steps": 20, "lr": 1e-2, "log_every": 1, "seed": seed, **overrides})
    model = make_model(init)
    result = train(model, loss_fn, sample_batch, config, out_dir, progress=False)
    return model, result


def assert_same_weights(a: nn.Module, b: nn.Module) -> None:
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


def test_loss_decreases_on_a_tiny_regression(tmp_path):
    _, result = fit(tmp_path, steps=80, lr=2e-2)
    rows = json.loads(result.paths["metrics"].read_text())
    assert [r["step"] for r in rows] == list(range(1, 81))
    first, last = sum(r["loss"] for r in rows[:5]) / 5, sum(r["loss"] for r in rows[-5:]) / 5
    assert last < 0.3 * first
    assert result.step == 80 and result.logs["step"] == 80 and "mae" in result.logs
    assert all(p.exists() for p in result.paths.values())


def test_same_seed_same_weights_different_seed_different(tmp_path):
    a, _ = fit(tmp_path / "a", seed=1)
    b, _ = fit(tmp_path / "b", seed=1)
    c, _ = fit(tmp_path / "c", seed=2)
    assert_same_weights(a, b)
    assert not torch.equal(a[0].weight, c[0].weight)


def test_eval_rows_join_the_metrics_and_do_not_perturb_training(tmp_path):
    plain, _ = fit(tmp_path / "plain", steps=6)
    config = TrainConfig(steps=6, lr=1e-2, log_every=3)
    model = make_model(0)

    def eval_fn(m):
        assert not m.training
        return {"w": m[0].weight.sum().item(), "noise": torch.rand(()).item()}  # consumes torch RNG

    train(model, loss_fn, sample_batch, config, tmp_path / "eval", eval_fn=eval_fn, eval_every=2, progress=False)
    assert_same_weights(plain, model)
    rows = json.loads((tmp_path / "eval" / "metrics_rows.json").read_text())
    assert [(r["step"], "eval/w" in r) for r in rows] == [(2, True), (3, False), (4, True), (6, True)]


class Killed(Exception):
    """Stands in for SIGKILL: the run stops between two steps."""


def test_resume_after_a_kill_gives_the_weights_of_an_uninterrupted_run(tmp_path):
    settings = dict(steps=20, checkpoint_every=4, ema_decay=0.9, warmup_steps=3)
    full, full_result = fit(tmp_path / "full", **settings)

    def dies_at_14(step, rng):  # steps 0..13 done; the last checkpoint holds step 12
        if step == 14:
            raise Killed
        return sample_batch(step, rng)

    out = tmp_path / "killed"
    config = TrainConfig(lr=1e-2, log_every=1, seed=0, **settings)
    with pytest.raises(Killed):
        train(make_model(0), loss_fn, dies_at_14, config, out, progress=False)
    assert torch.load(out / "last.pt", weights_only=True)["step"] == 12
    assert json.loads((out / "metrics_rows.json").read_text())[-1]["step"] == 14  # rows past the checkpoint

    # A different init proves that the weights come from the checkpoint.
    resumed, result = fit(out, init=7, **settings)
    assert result.resumed_from == 12 and result.step == 20
    assert_same_weights(full, resumed)
    for k, v in full_result.ema_state.items():
        assert torch.equal(v, result.ema_state[k])
    rows_full = json.loads((tmp_path / "full" / "metrics_rows.json").read_text())
    rows = json.loads((out / "metrics_rows.json").read_text())
    assert [r["step"] for r in rows] == list(range(1, 21))  # no duplicates from steps 13-14
    assert rows == rows_full


def test_checkpoint_is_plain_data_loadable_with_weights_only(tmp_path):
    model, result = fit(tmp_path, steps=3)
    ckpt = torch.load(tmp_path / "last.pt", weights_only=True)
    assert ckpt["step"] == 3 and ckpt["config"] == TrainConfig(**ckpt["config"]).to_dict()
    assert ckpt["config"]["lr"] == 1e-2 and ckpt["config"]["betas"] == [0.9, 0.999]
    final = torch.load(tmp_path / "final.pt", weights_only=True)
    assert all(torch.equal(final[k], v) for k, v in model.state_dict().items())
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["train"] == ckpt["config"] and saved["model"]["class"] == "Sequential"


def test_resuming_with_a_different_config_names_the_key(tmp_path):
    fit(tmp_path, steps=4)
    with pytest.raises(SignlibError, match=r"last\.pt.*\blr=") as err:
        fit(tmp_path, steps=4, lr=2e-2)
    assert "\n" not in str(err.value)
    _, result = fit(tmp_path, steps=4, log_every=2)  # a key that does not change the weights
    assert result.resumed_from == 4


def test_a_truncated_checkpoint_is_a_one_line_error_and_nothing_is_overwritten(tmp_path):
    fit(tmp_path, steps=4)
    ckpt = tmp_path / "last.pt"
    ckpt.write_bytes(ckpt.read_bytes()[:300])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(SignlibError, match=r"last\.pt: unreadable checkpoint") as err:
        fit(tmp_path, steps=4)
    assert "\n" not in str(err.value)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_ema_equals_the_hand_computed_average(tmp_path):
    d = 0.8
    w0 = make_model(0).state_dict()
    one, _ = fit(tmp_path / "one", steps=1, min_lr_ratio=1.0)
    two, result = fit(tmp_path / "two", steps=2, min_lr_ratio=1.0, ema_decay=d)
    w1, w2 = one.state_dict(), two.state_dict()
    for k in w0:
        expected = d * (d * w0[k] + (1 - d) * w1[k]) + (1 - d) * w2[k]
        torch.testing.assert_close(result.ema_state[k], expected)
    assert not torch.equal(result.ema_state["0.weight"], w2["0.weight"])
    ema_model = result.ema_model(two)
    assert torch.equal(ema_model[0].weight, result.ema_state["0.weight"])
    assert torch.equal(torch.load(tmp_path / "two" / "final.pt", weights_only=True)["0.weight"],
                       result.ema_state["0.weight"])


def _huge_loss(model, batch):
    return 1000.0 * sum(p.sum() for p in model.parameters()), {}  # every gradient entry is 1000


@pytest.mark.parametrize("clip", [0.0, 1.0])
def test_grad_clip_bounds_the_global_norm_fed_to_adamw(tmp_path, clip):
    model = make_model(0)
    n = sum(p.numel() for p in model.parameters())
    config = TrainConfig(steps=1, grad_clip=clip, log_every=1)
    result = train(model, _huge_loss, sample_batch, config, tmp_path, progress=False)
    assert result.logs["grad_norm"] == pytest.approx(1000.0 * math.sqrt(n))  # logged before clipping
    # After one Adam step exp_avg_sq = (1 - beta2) g², so the optimizer's gradient norm is recoverable.
    state = torch.load(tmp_path / "last.pt", weights_only=True)["optimizer"]["state"]
    seen = math.sqrt(sum(s["exp_avg_sq"].sum().item() for s in state.values()) / (1 - config.betas[1]))
    assert seen == pytest.approx(clip if clip else 1000.0 * math.sqrt(n), rel=1e-4)


def test_weight_decay_skips_biases_and_lr_schedule_warms_up_then_decays(tmp_path):
    fit(tmp_path, steps=1, weight_decay=0.1)
    groups = torch.load(tmp_path / "last.pt", weights_only=True)["optimizer"]["param_groups"]
    assert [(g["weight_decay"], len(g["params"])) for g in groups] == [(0.1, 2), (0.0, 2)]
    config = TrainConfig(steps=10, lr=1.0, warmup_steps=4, min_lr_ratio=0.1)
    lrs = [lr_at(s, config) for s in range(10)]
    assert lrs[:4] == pytest.approx([0.25, 0.5, 0.75, 1.0])
    assert lrs[4] == pytest.approx(1.0) and lrs[-1] == pytest.approx(0.1)
    assert all(a >= b for a, b in zip(lrs[3:], lrs[4:]))


def test_to_device_moves_nested_tensors_and_config_rejects_bad_values():
    batch = {"x": torch.zeros(2), "pair": (torch.ones(1), [torch.ones(1)]), "name": "abc"}
    moved = to_device(batch, torch.device("cpu"))
    assert moved["name"] == "abc" and isinstance(moved["pair"], tuple) and isinstance(moved["pair"][1], list)
    with pytest.raises(SignlibError, match="ema_decay"):
        TrainConfig(ema_decay=1.0)
    with pytest.raises(SignlibError, match="device"):
        TrainConfig(device="tpu")


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not available")
@pytest.mark.parametrize("kind", ["mlp", "signspark"])
def test_ddp_two_cpu_processes_end_with_identical_weights(tmp_path, kind):
    out, weights = tmp_path / "run", tmp_path / "weights"
    weights.mkdir()
    worker = Path(__file__).parent / "helpers" / "ddp_worker.py"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(Path(__file__).parents[1])}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--standalone",
           str(worker), str(out), str(weights), kind]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0, r1 = (torch.load(weights / f"rank{r}.pt", weights_only=True) for r in (0, 1))
    assert r0["main"] and not r1["main"]
    for key in ("model", "ema"):
        assert all(torch.equal(r0[key][k], r1[key][k]) for k in r0[key])
    ckpt = torch.load(out / "last.pt", weights_only=True)
    assert ckpt["step"] == 2 and ckpt["world_size"] == 2
    assert all(torch.equal(ckpt["model"][k], r0["model"][k]) for k in ckpt["model"])
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "final.pt", "last.pt", "metrics_rows.json"]


def test_a_restarted_run_clears_what_an_older_run_left_in_its_folder(tmp_path):
    fit(tmp_path, steps=4)
    leftover = tmp_path / ".last.pt.0123abcd.partial"  # what a run killed inside a checkpoint write leaves
    leftover.write_bytes(b"half a checkpoint")

    def dies_at_2(step, rng):
        if step == 2:
            raise Killed
        return sample_batch(step, rng)

    with pytest.raises(Killed):
        train(make_model(0), loss_fn, dies_at_2, TrainConfig(steps=4, lr=1e-2, log_every=1), tmp_path,
              progress=False, resume=False)
    # The old run's final.pt no longer passes for this run's result, its rows are gone, so is the leftover.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "metrics_rows.json"]
    assert [r["step"] for r in json.loads((tmp_path / "metrics_rows.json").read_text())] == [1, 2]


def test_a_resumed_run_cuts_the_metrics_back_to_its_checkpoint_before_training(tmp_path):
    settings = dict(steps=6, checkpoint_every=2)
    config = TrainConfig(lr=1e-2, log_every=1, seed=0, **settings)

    def dies_at(stop):
        def sampler(step, rng):
            if step == stop:
                raise Killed
            return sample_batch(step, rng)
        return sampler

    with pytest.raises(Killed):
        train(make_model(0), loss_fn, dies_at(3), config, tmp_path, progress=False)  # checkpoint at 2, rows to 3
    with pytest.raises(Killed):
        train(make_model(0), loss_fn, dies_at(2), config, tmp_path, progress=False)  # resumed, dies at once
    assert [r["step"] for r in json.loads((tmp_path / "metrics_rows.json").read_text())] == [1, 2]


def test_the_same_run_writes_byte_identical_checkpoints(tmp_path):
    # Equal bytes, not only equal tensors: DVC hashes these files, and a kill test may compare them.
    fit(tmp_path / "a", steps=3, ema_decay=0.5)
    fit(tmp_path / "b", steps=3, ema_decay=0.5)
    for name in ("last.pt", "final.pt"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
