"""Run by ``torchrun`` from ``tests/test_train.py``; not a test module (pytest does not collect it).

Usage: ``ddp_worker.py OUT_DIR WEIGHTS_DIR``. Each rank starts from a *different* random init (DDP
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


def main(out_dir: str, weights_dir: str) -> None:
    rank = int(os.environ["RANK"])
    torch.manual_seed(100 + rank)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
    config = TrainConfig(steps=2, lr=1e-2, ema_decay=0.5, log_every=1, seed=3)
    result = train(model, loss_fn, sample_batch, config, out_dir, progress=False)
    torch.save({"model": model.state_dict(), "ema": result.ema_state, "main": is_main_process()},
               Path(weights_dir) / f"rank{rank}.pt")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
