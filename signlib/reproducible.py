"""Same machine, same seed, same numbers: the process settings every stage starts with.

What made two runs of one commit differ, and what holds now:

- **File bytes.** ``torch.save(obj, path)`` names the archive's records after the file, and an
  atomic write saves to a randomly named temporary file, so identical weights gave different
  ``final.pt`` bytes (and DVC hashes) on every run. Every signlib writer now saves through a
  file object (:func:`signlib.io.write_torch`), which gives the fixed record name ``archive``.
- **Thread count.** A CPU reduction (matrix products, sums) splits its work by the number of
  threads, so the float result depends on it: FAST trained with one thread and with two differs
  in the last bits after a few steps, and training amplifies that. Stages run with
  ``base.threads`` threads (:func:`configure`), whatever ``OMP_NUM_THREADS`` says.
- **Algorithms.** ``torch.use_deterministic_algorithms`` is switched on (warning only where an
  operation has no deterministic version), which matters on CUDA (scatter-add, some cuBLAS
  paths; ``CUBLAS_WORKSPACE_CONFIG`` is set for the latter).

Across machines nothing is promised bit for bit: another CPU (its vector width picks other
kernels), another thread count, another torch or MKL build, or a GPU change the last bits of
every product, and training carries them on; the metrics then agree only statistically.
"""

from __future__ import annotations

import os

import torch


def configure(seed: int, threads: int) -> None:
    """Seed torch, fix the intra-op thread count to ``threads`` (> 0) and ask for deterministic
    algorithms. Called by every stage before it builds or trains anything."""
    # cuBLAS reads this when its first handle is made: set before any CUDA work.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.manual_seed(seed)
