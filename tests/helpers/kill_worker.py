"""Run by ``tests/test_kill.py`` as a subprocess that the test SIGKILLs; not a test module.

Usage::

    kill_worker.py train OUT_DIR INIT [pause-step K | pause-save N] [MARKER]
    kill_worker.py corpus ROOT SEED [pause-clip K] [MARKER]

``train`` trains a tiny MLP (dropout, EMA, warm-up: every piece of state a resume must restore)
with :func:`signlib.train.train`; ``INIT`` seeds the initial weights, so a resume from another
init proves the weights come from the checkpoint. ``corpus`` writes :func:`corpus_clips` with
:func:`signlib.data.corpus.write_corpus`.

A pause makes the kill land at a known place instead of wherever a timer happens to fall: the
worker creates ``MARKER`` and sleeps until the test kills it.

- ``pause-step K``: inside the batch sampler of step ``K`` (0-based), i.e. mid-training with
  ``K`` steps done;
- ``pause-save N``: inside the ``N``-th write of ``last.pt`` (1-based), after half of its bytes
  reached the temporary file;
- ``pause-clip K``: inside the ``.npz`` write of clip ``K`` (0-based), after some of its arrays.

Every worker runs on one thread (``OMP_NUM_THREADS=1`` from the test, ``torch.set_num_threads(1)``
here) so that runs in different processes are bit-for-bit comparable.
"""

import io
import os
import sys
import time
from pathlib import Path

SLEEP_S = 120  # far longer than any test waits: a worker that is not killed fails its test
STEPS, CHECKPOINT_EVERY = 10, 2


def train_config():
    from signlib.train import TrainConfig

    return TrainConfig(steps=STEPS, lr=1e-2, log_every=1, checkpoint_every=CHECKPOINT_EVERY, ema_decay=0.9,
                       warmup_steps=2, seed=5)


def corpus_clips(seed: int, n: int = 4):
    """``n`` small clips whose motion depends on ``seed``; ids and signers do not, so two seeds
    give two versions of the same corpus."""
    import numpy as np

    from signlib.data.sequence import Sequence

    rng = np.random.default_rng(seed)
    return [Sequence(features=rng.normal(size=(6 + i, 147)).astype(np.float32), layout="xyz_mediapipe", fps=25,
                     segments=[(0, 2, "A"), (2, 5, "B")], text="a b", language="DGS", signer=f"s{i % 2}",
                     id=f"clip_{i:03d}") for i in range(n)]


def _pause(marker: Path) -> None:
    marker.touch()
    time.sleep(SLEEP_S)
    raise SystemExit("kill_worker: paused but was not killed")


def run_train(out_dir: str, init: str, pause: str = "", at: str = "0", marker: str = "") -> None:
    import torch
    from torch import nn

    import signlib.train as loop

    torch.set_num_threads(1)
    torch.manual_seed(int(init))
    model = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Dropout(0.2), nn.Linear(16, 1))
    w_true = torch.tensor([[1.0], [-2.0], [0.5], [3.0]])  # (4, 1)

    def sample_batch(step, rng):
        if pause == "pause-step" and step == int(at):
            _pause(Path(marker))
        x = torch.from_numpy(rng.normal(size=(16, 4))).float()  # (B, 4)
        return {"x": x, "y": x @ w_true}                        # (B, 1)

    def loss_fn(m, batch):
        return nn.functional.mse_loss(m(batch["x"]), batch["y"]), {}

    if pause == "pause-save":
        real_save, saves = torch.save, []

        def half_save(obj, f, *args, **kwargs):
            # train hands torch.save the open temporary file of last.pt: ".last.pt.<hex>.partial".
            if not Path(getattr(f, "name", f)).name.startswith(".last.pt."):
                return real_save(obj, f, *args, **kwargs)
            saves.append(f)
            if len(saves) < int(at):
                return real_save(obj, f, *args, **kwargs)
            buffer = io.BytesIO()
            real_save(obj, buffer, *args, **kwargs)
            data = buffer.getvalue()
            f.write(data[: len(data) // 2])
            f.flush()
            os.fsync(f.fileno())
            _pause(Path(marker))

        loop.torch.save = half_save  # loop.torch is the torch module: _save_torch looks it up per call
    loop.train(model, loss_fn, sample_batch, train_config(), out_dir, progress=False)


def run_corpus(root: str, seed: str, pause: str = "", at: str = "0", marker: str = "") -> None:
    import numpy as np

    from signlib.data.corpus import write_corpus

    if pause == "pause-clip":
        real_write, calls = np.lib.format.write_array, []
        per_clip = 6  # store.write_clip writes six arrays per clip
        pause_call = int(at) * per_clip + 3  # after three arrays of clip `at` are in its temporary file

        def write_array(*args, **kwargs):
            real_write(*args, **kwargs)
            calls.append(1)
            if len(calls) == pause_call:
                _pause(Path(marker))

        np.lib.format.write_array = write_array
    clips = corpus_clips(int(seed))
    write_corpus(root, clips, {c.signer: "train" for c in clips})


if __name__ == "__main__":
    {"train": run_train, "corpus": run_corpus}[sys.argv[1]](*sys.argv[2:])
