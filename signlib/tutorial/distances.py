"""How far generated 2-D points are from the data, and the tables of tutorial notebook 01.

Two numbers, because each misses something the other sees:

- :func:`nearest_distance`: the mean distance from each sample to its nearest data point. It is
  small when every sample lies *on* the data, even if all samples sit on one spot (it cannot see
  a collapse onto one mode or onto the mean of a mode).
- :func:`sliced_wasserstein`: the sliced Wasserstein-2 distance between samples and data (RMS,
  over random directions, of the difference of the sorted projections). It is small only when
  the samples also spread like the data.

:func:`step_table` scores several models at several Euler step counts; :func:`markdown` renders
rows for display. Point sets are ``(n, 2)`` tensors.
"""

from __future__ import annotations

import torch
from IPython.display import Markdown

from signlib.errors import SignlibError
from signlib.evaluate.tables import to_markdown
from signlib.tutorial.toy2d import ToyRun, euler_sample, toy_data

#: Seed of the reference data the distances are measured to (distinct from every training seed).
REFERENCE_SEED = 12345


def nearest_distance(samples: torch.Tensor, data: torch.Tensor) -> float:
    """Mean over ``samples (n, 2)`` of the Euclidean distance to the nearest point of ``data (m, 2)``."""
    if len(samples) == 0 or len(data) == 0:
        raise SignlibError("nearest_distance: empty point set")
    # Chunks keep the (chunk, m) distance matrix small whatever n is.
    # The direct formula, not cdist's matrix-product shortcut, which is off by ~1e-4 for coincident points.
    return float(torch.cat([torch.cdist(chunk, data, compute_mode="donot_use_mm_for_euclid_dist").min(1).values
                            for chunk in samples.split(2048)]).mean())


def sliced_wasserstein(a: torch.Tensor, b: torch.Tensor, projections: int = 128, seed: int = 0) -> float:
    """Sliced Wasserstein-2 distance between point sets ``a (n, 2)`` and ``b (n, 2)`` of equal size."""
    if a.shape != b.shape:
        raise SignlibError(f"sliced_wasserstein: equal-size sets needed, got {tuple(a.shape)} and {tuple(b.shape)}")
    g = torch.Generator().manual_seed(seed)
    directions = torch.randn(projections, a.shape[1], generator=g)
    directions = directions / directions.norm(dim=1, keepdim=True)
    pa, pb = (a @ directions.T).sort(0).values, (b @ directions.T).sort(0).values  # (n, projections)
    return float(((pa - pb) ** 2).mean().sqrt())


def reference(kind: str = "ring", n: int = 2000) -> torch.Tensor:
    """``(n, 2)`` fresh data points that every distance is measured against."""
    return toy_data(n, REFERENCE_SEED, kind)[0]


def distances(samples: torch.Tensor, data: torch.Tensor) -> dict[str, float]:
    """``{"nearest": ..., "sliced_w2": ...}`` of ``samples`` against ``data`` (same size)."""
    return {"nearest": nearest_distance(samples, data), "sliced_w2": sliced_wasserstein(samples, data)}


def step_table(runs: dict[str, ToyRun], steps=(1, 2, 5, 20), n: int = 2000, seed: int = 7,
               baselines: dict[str, torch.Tensor] | None = None) -> list[dict]:
    """One row per model and Euler step count: ``model``, ``steps``, ``nearest``, ``sliced_w2``
    (samples from the same noise for every model), then one row per named ``baselines`` point set
    (e.g. the noise itself, or the data mean repeated)."""
    kind = next(iter(runs.values())).net.config.data if runs else "ring"
    data = reference(kind, n)
    rows = []
    for name, run in runs.items():
        for k in steps:
            rows.append({"model": name, "steps": k, **distances(euler_sample(run.net, n, k, seed), data)})
    for name, points in (baselines or {}).items():
        rows.append({"model": name, "steps": "", **distances(points, data)})
    return rows


def markdown(rows: list[dict], digits: int = 3) -> Markdown:
    """Rows as a Markdown table for display in a notebook."""
    return Markdown(to_markdown(rows, digits))
