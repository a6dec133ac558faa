"""Benchmark: DTW-JPE and DTW-PA-JPE on two 250-frame xyz_template sequences, and the PA frame costs.

Compares, in one run and on the same inputs:

- DTW alone: :func:`signlib.evaluate.dtw.dtw` (anti-diagonal, vectorised) against a textbook
  pure-Python double loop, on the same ``(250, 250)`` cost matrices (totals must agree);
- the whole metric: :func:`dtw_jpe` / :func:`dtw_pa_jpe` against a naive version that fills the cost
  matrix pair by pair (one Procrustes per pair for PA) and runs the pure-Python DTW;
- the all-pairs PA frame costs ``frame_costs(aligned=True)`` on ``--pa-frames`` × ``--pa-frames``
  frames of the body (10 joints), one hand (21 points) and both hands (42): the old implementation
  (a batched SVD per frame pair, kept below verbatim) against the current one (Horn's closed form,
  :mod:`signlib.evaluate.rigid`), and the current one with the SVD solver (its other changes
  alone). The variants run alternately ``--pa-repeats`` times; medians of wall and CPU time are
  reported, with the largest cost difference to the old implementation (asserted ≤ 1e-9 m).

Prints a table of times and speed-ups and writes ``benchmarks/results/dtw.json``.
The naive PA cost matrix (one SVD per frame pair) is timed on ``--naive-pa-rows`` rows and
scaled to all rows; everything else is timed in full. Vectorised times are the best of
``--repeats`` runs, naive ones a single run.
Usage: ``python benchmarks/dtw.py [--frames 250] [--repeats 3] [--pa-frames 150] [--pa-repeats 11]``
(about 30 s on 2 CPU cores; ``OPENBLAS_NUM_THREADS=1`` keeps it on one).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import numpy as np

from signlib.evaluate.dtw import dtw, dtw_jpe, dtw_pa_jpe
from signlib.evaluate.pose_metrics import (CHUNK_JOINT_PAIRS, _centre, as_positions, frame_costs, procrustes,
                                          split_parts)
from signlib.evaluate.rigid import rotation_scale_svd
from signlib.io import write_json
from signlib.pose.layout import get_layout
from signlib.pose.rotation import axis_angle_to_rot6d_np
from signlib.pose.skeleton import forward_kinematics_np

RESULTS = Path(__file__).resolve().parent / "results" / "dtw.json"
PARTS = ("body", "hand")
PA_PARTS = ("body", "left_hand", "hand")       # 10, 21 and 42 points


def sequence(frames: int, seed: int) -> np.ndarray:
    """``(frames, 52, 3)`` positions: FK of smooth random rotations (a random walk, like motion)."""
    lay = get_layout("rot6d")
    steps = np.random.default_rng(seed).normal(scale=0.03, size=(frames, lay.num_joints, 3))
    return forward_kinematics_np(axis_angle_to_rot6d_np(np.cumsum(steps, axis=0)).reshape(frames, -1), lay)


def naive_dtw(cost: list[list[float]]) -> tuple[float, int]:
    """Pure-Python O(T1·T2) DTW (same tie-break as signlib: diagonal, then (1, 0), then (0, 1))."""
    t1, t2 = len(cost), len(cost[0])
    inf = float("inf")
    acc = [[inf] * (t2 + 1) for _ in range(t1 + 1)]
    n = [[0] * (t2 + 1) for _ in range(t1 + 1)]
    acc[0][0] = 0.0
    for i in range(1, t1 + 1):
        row, up_row, cost_row = acc[i], acc[i - 1], cost[i - 1]
        for j in range(1, t2 + 1):
            best, steps = up_row[j - 1], n[i - 1][j - 1]
            if up_row[j] < best:
                best, steps = up_row[j], n[i - 1][j]
            if row[j - 1] < best:
                best, steps = row[j - 1], n[i][j - 1]
            row[j] = cost_row[j - 1] + best
            n[i][j] = steps + 1
    return acc[t1][t2], n[t1][t2]


def naive_costs(a: np.ndarray, b: np.ndarray, aligned: bool) -> list[list[float]]:
    """Cost matrix rows for the frames of ``a``, one pair at a time (a Procrustes per pair if ``aligned``)."""
    out = []
    for x in a:
        row = []
        for y in b:
            if aligned:
                s, r, t = procrustes(x, y)
                x_al = s * x @ r.T + t
            else:
                x_al = x
            row.append(float(np.linalg.norm(x_al - y, axis=-1).mean()))
        out.append(row)
    return out


def _old_rotation_scale(cov: np.ndarray, var_a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``pose_metrics._rotation_scale`` before Horn's closed form (commit a16cd7e), verbatim."""
    u, d, vt = np.linalg.svd(cov)
    sign = np.sign(np.linalg.det(u) * np.linalg.det(vt))
    flip = np.ones(d.shape)
    flip[..., 2] = np.where(sign == 0, 1.0, sign)
    rotation = (u * flip[..., None, :]) @ vt
    scale = np.divide((d * flip).sum(-1), var_a, out=np.zeros_like(var_a), where=var_a > 1e-24)
    return rotation, scale


def _old_all_pairs_pa(a, va, b, vb) -> np.ndarray:
    """``pose_metrics._all_pairs_pa`` before Horn's closed form (commit a16cd7e), verbatim."""
    c, n_j = va.shape
    t2 = vb.shape[0]
    fa, fb = va.astype(np.float64), vb.astype(np.float64)
    inv = 1.0 / np.maximum(fa @ fb.T, 1.0)
    b_flat = b.transpose(1, 0, 2).reshape(n_j, t2 * 3)
    mu_a = (fb[None] @ a) * inv[..., None]
    mu_b = (fa @ b_flat).reshape(c, t2, 3) * inv[..., None]
    second = (b_flat.T @ a.transpose(1, 0, 2).reshape(n_j, c * 3))
    second = second.reshape(t2, 3, c, 3).transpose(2, 0, 1, 3)
    cov = second * inv[..., None, None] - mu_b[..., :, None] * mu_a[..., None, :]
    var_a = (fb @ (a ** 2).sum(-1).T).T * inv - (mu_a ** 2).sum(-1)
    rotation, scale = _old_rotation_scale(cov, var_a)
    shift = mu_b - scale[..., None] * (rotation @ mu_a[..., None])[..., 0]
    rotated = (rotation.reshape(c, t2 * 3, 3) @ a.transpose(0, 2, 1)).reshape(c, t2, 3, n_j)
    diff = scale[..., None, None] * rotated + shift[..., None] - b.transpose(0, 2, 1)[None]
    dist = np.sqrt((diff ** 2).sum(2))
    return np.einsum("abj,aj,bj->ab", dist, fa, fb) * inv


def old_pa_frame_costs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``frame_costs(a, b, aligned=True)`` ``(T1, T2)`` as it was before Horn's closed form."""
    a, va = as_positions(a)
    b, vb = as_positions(b)
    a, b = _centre(a, va), _centre(b, vb)
    rows = max(1, CHUNK_JOINT_PAIRS // (b.shape[0] * b.shape[1]))
    out = np.empty((a.shape[0], b.shape[0]))
    for i in range(0, a.shape[0], rows):
        out[i:i + rows] = _old_all_pairs_pa(a[i:i + rows], va[i:i + rows], b, vb)
    return out


def pa_costs_benchmark(frames: int, repeats: int) -> dict:
    """Old vs current ``frame_costs(aligned=True)`` per part, run alternately: medians and ratios."""
    lay = get_layout("xyz_template")
    p, r = split_parts(sequence(frames, 2), lay), split_parts(sequence(frames, 3), lay)
    variants = {"old": old_pa_frame_costs,
                "new": lambda a, b: frame_costs(a, b, aligned=True),
                "new_svd_solver": lambda a, b: frame_costs(a, b, aligned=True, solver=rotation_scale_svd)}
    out = {}
    print(f"\nPA frame costs, {frames}x{frames} frames, median of {repeats} alternating runs")
    print(f"{'part':<12}{'points':>7}{'old s':>10}{'new s':>10}{'old/new':>9}{'(CPU)':>9}{'new+SVD s':>11}"
          f"{'max |diff| m':>14}")
    for part in PA_PARTS:
        a, b = p[part].xyz, r[part].xyz
        times = {name: [] for name in variants}
        cpu = {name: [] for name in variants}
        costs = {}
        for _ in range(repeats):
            for name, fn in variants.items():
                start, start_cpu = time.perf_counter(), time.process_time()
                costs[name] = fn(a, b)
                times[name].append(time.perf_counter() - start)
                cpu[name].append(time.process_time() - start_cpu)
        med = {name: statistics.median(t) for name, t in times.items()}
        med_cpu = {name: statistics.median(t) for name, t in cpu.items()}
        diff = max(float(np.abs(costs[name] - costs["old"]).max()) for name in variants)
        assert diff <= 1e-9, (part, diff)
        # CPU time as well: on a shared machine it is less disturbed by other processes than wall time.
        out[part] = {"points": a.shape[1], "median_s": med, "median_cpu_s": med_cpu, "times_s": times,
                     "speedup_old_over_new": med["old"] / med["new"],
                     "speedup_old_over_new_cpu": med_cpu["old"] / med_cpu["new"],
                     "speedup_old_over_new_svd_solver": med["old"] / med["new_svd_solver"],
                     "max_abs_diff_to_old_m": diff}
        print(f"{part:<12}{a.shape[1]:>7}{med['old']:>10.4f}{med['new']:>10.4f}{med['old'] / med['new']:>8.2f}x"
              f"{med_cpu['old'] / med_cpu['new']:>8.2f}x{med['new_svd_solver']:>11.4f}{diff:>14.2e}")
    return out


def best_time(fn, repeats: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--naive-pa-rows", type=int, default=50,
                        help="rows of the naive per-pair Procrustes cost matrix actually timed; the "
                             "time is scaled to all rows (every row is the same work)")
    parser.add_argument("--pa-frames", type=int, default=150, help="frames of each sequence for the PA costs")
    parser.add_argument("--pa-repeats", type=int, default=11, help="alternating runs of each PA cost variant")
    args = parser.parse_args()
    lay = get_layout("xyz_template")
    pred, ref = sequence(args.frames, 0), sequence(args.frames, 1)
    p, r = split_parts(pred, lay), split_parts(ref, lay)
    result = {"frames": args.frames, "layout": lay.name, "repeats": args.repeats,
              "numpy": np.__version__, "python": platform.python_version(), "cpus": os.cpu_count(),
              "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS"),
              "naive_pa_rows_timed": min(args.naive_pa_rows, args.frames), "dtw_only": {}, "metric": {}}

    print(f"{'what':<28}{'vectorised s':>14}{'naive s':>10}{'speed-up':>10}")
    for aligned, name, metric in ((False, "dtw_jpe", dtw_jpe), (True, "dtw_pa_jpe", dtw_pa_jpe)):
        naive_total_s = 0.0
        for part in PARTS:
            cost = frame_costs(p[part].xyz, r[part].xyz, aligned=aligned)
            vec_s, res = best_time(lambda: dtw(cost), args.repeats)
            cost_list = cost.tolist()
            naive_s, (total, steps) = best_time(lambda: naive_dtw(cost_list), 1)
            assert steps == res.steps and abs(total - res.total) <= 1e-9 * max(1.0, total), (total, res)
            key = f"{name}/{part}"
            result["dtw_only"][key] = {"vectorised_s": vec_s, "naive_s": naive_s, "speedup": naive_s / vec_s,
                                       "total": res.total, "mean": res.mean, "steps": res.steps}
            print(f"{'DTW only ' + key:<28}{vec_s:>14.4f}{naive_s:>10.3f}{naive_s / vec_s:>9.1f}x")
            # The naive metric = naive cost matrix + naive DTW. The per-pair Procrustes loop takes
            # ~10 s per part, so for PA only some rows are timed and scaled up.
            rows = min(args.naive_pa_rows, args.frames) if aligned else args.frames
            start = time.perf_counter()
            naive_costs(p[part].xyz[:rows], r[part].xyz, aligned)
            naive_total_s += (time.perf_counter() - start) * args.frames / rows + naive_s
        vec_s, out = best_time(lambda: metric(pred, ref, lay), args.repeats)
        result["metric"][name] = {"vectorised_s": vec_s, "naive_s": naive_total_s,
                                  "speedup": naive_total_s / vec_s, "values": out}
        print(f"{'whole ' + name + ' (2 parts)':<28}{vec_s:>14.4f}{naive_total_s:>10.3f}"
              f"{naive_total_s / vec_s:>9.1f}x")
        print("   " + ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in out.items()))
    result["pa_frame_costs"] = {"frames": args.pa_frames, "repeats": args.pa_repeats,
                                "parts": pa_costs_benchmark(args.pa_frames, args.pa_repeats)}
    write_json(RESULTS, result)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
