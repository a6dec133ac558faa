"""Same machine, same seed, same weights: a small FAST trained twice in fresh processes whose
environments differ (thread count, hash seed) ends with byte-identical ``final.pt`` files."""

import hashlib
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import torch

from signlib.reproducible import configure

REPO = Path(__file__).resolve().parents[1]

TRAIN = textwrap.dedent("""
    import sys
    import numpy as np
    from signlib.reproducible import configure
    configure(seed=0, threads=2)
    from signlib.segment.fast import FAST, FASTConfig
    from signlib.segment.training import SegClip, class_weights, make_loss, make_sampler, remap_labels
    from signlib.train import TrainConfig, fit
    rng = np.random.default_rng(0)
    clips = []
    for k in range(8):
        T = int(rng.integers(40, 80))
        spans = ((4, 14), (18, 30))
        clips.append(SegClip(str(k), rng.normal(size=(T, 52)).astype(np.float32),
                             rng.normal(size=(T, 52)).astype(np.float32), remap_labels(spans, np.arange(T)), spans))
    model = FAST(FASTConfig(d_model=32, ff=64, layers=1, heads=2))
    fit(model, make_loss(class_weights(clips), 0.3), make_sampler(clips, 4, 48),
        TrainConfig(steps=12, lr=1e-3, seed=0, batch_size=4, checkpoint_every=5), sys.argv[1], progress=False)
""")


def _train(out: Path, **env) -> bytes:
    full = {**os.environ, "PYTHONPATH": str(REPO), **env}
    subprocess.run([sys.executable, "-c", TRAIN, str(out)], cwd=REPO, env=full, check=True, timeout=300,
                   capture_output=True)
    return (out / "final.pt").read_bytes()


def test_fast_trained_twice_gives_identical_weights_and_files(tmp_path):
    # OMP_NUM_THREADS=1 would make the second run reduce with one thread: configure() pins the
    # count from params, so the environment no longer changes the float results.
    a = _train(tmp_path / "a", OMP_NUM_THREADS="1", PYTHONHASHSEED="1")
    b = _train(tmp_path / "b", OMP_NUM_THREADS="2", PYTHONHASHSEED="2")
    assert hashlib.sha256(a).hexdigest() == hashlib.sha256(b).hexdigest()
    assert (tmp_path / "a" / "last.pt").read_bytes() == (tmp_path / "b" / "last.pt").read_bytes()


def test_configure_pins_the_thread_count_and_asks_for_deterministic_algorithms():
    before = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    try:
        configure(seed=3, threads=1)
        assert torch.get_num_threads() == 1 and torch.are_deterministic_algorithms_enabled()
        first = torch.rand(3)
        configure(seed=3, threads=1)
        assert torch.equal(first, torch.rand(3))
    finally:
        torch.set_num_threads(before[0])
        torch.use_deterministic_algorithms(before[1])
