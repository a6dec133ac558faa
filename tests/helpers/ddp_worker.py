"""Run by ``torchrun`` from ``tests/test_train.py``; not a test module (pytest does not collect it).

Usage: ``ddp_worker.py OUT_DIR WEIGHTS_DIR [signspark]``. Each rank starts from a *different* random init (DDP
must broadcast rank 0's weights), trains 2 steps with gloo and saves its final weights to
``WEIGHTS_DIR/rank<r>.pt`` so the test can check that every rank ends with the same weights.
"""

import os
import sys
from pathlib import Path

import torch
from torch import nn

from signlib.train import TrainConfig, is_main_process, train


def sample_batch(step, rng):
    x = torch.from_numpy(rng.normal(size=(8, 3))).float()   # (B, 3); differs per rank
    return {"x": x, "y": x.sum(dim=1, keepdim=True)}        # (B, 1)


def loss_fn(model, batch):
    loss = nn.functional.mse_loss(model(batch["x"]), batch["y"])
    return loss, {}


def signspark_setup():
    """A tiny SignSparK with its sampler and loss: text, keyframes and lists of strings in the batch."""
    import numpy as np

    from signlib.generate.configs import SignSparKConfig, TextEncoderConfig, UNetConfig
    from signlib.generate.data import GenClip, make_loss, make_sampler
    from signlib.generate.flow import part_weights
    from signlib.generate.model import SignSparK

    config = SignSparKConfig(max_frames=64, text=TextEncoderConfig(d_model=16, layers=1, heads=2, ff=32),
                             unet=UNetConfig(channels=(16, 24), heads=2, cond_dim=16))
    rng = np.random.default_rng(0)
    clips = [GenClip(f"c{i}", rng.normal(size=(20 + i, 240)).astype(np.float32), np.ones((20 + i, 240), bool),
                     np.array([0, 10, 19 + i]), f"text {i}", "DGS") for i in range(4)]
    return SignSparK(config), make_loss(part_weights("rot6d")), make_sampler(clips, 4)


def main(out_dir: str, weights_dir: str, kind: str = "mlp") -> None:
    rank = int(os.environ["RANK"])
    torch.manual_seed(100 + rank)
    if kind == "signspark":
        model, loss, sampler = signspark_setup()
    else:
        model, loss, sampler = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)), loss_fn, sample_batch
    config = TrainConfig(steps=2, lr=1e-2, ema_decay=0.5, log_every=1, seed=3)
    result = train(model, loss, sampler, config, out_dir, progress=False)
    torch.save({"model": model.state_dict(), "ema": result.ema_state, "main": is_main_process()},
               Path(weights_dir) / f"rank{rank}.pt")


if __name__ == "__main__":
    main(*sys.argv[1:])
