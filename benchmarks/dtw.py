"""Benchmark: DTW-JPE and DTW-PA-JPE on two 250-frame xyz_template sequences.

Compares, in one run and on the same inputs:

- DTW alone: :func:`signlib.evaluate.dtw.dtw` (anti-diagonal, vectorised) against a textbook
  pure-Python double loop, on the same ``(250, 250)`` cost matrices (totals must agree);
- the whole metric: :func:`dtw_jpe` / :func:`dtw_pa_jpe` against a naive version that fills the cost
  matrix pair by pair (one Procrustes per pair for PA) and runs the pure-Python DTW.

Prints a table of times and speed-ups and writes ``benchmarks/results/dtw.json``.
The naive PA cost matrix (one SVD per frame pair) is timed on ``--naive-pa-rows`` rows and
scaled to all rows; everything else is timed in full. Vectorised times are the best of
``--repeats`` runs, naive ones a single run.
Usage: ``python benchmarks/dtw.py [--frames 250] [--repeats 3]`` (about 10 s on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from signlib.evaluate.dtw import dtw, dtw_jpe, dtw_pa_jpe
from signlib.evaluate.pose_metrics import frame_costs, procrustes, split_parts
from signlib.io import write_json
from signlib.pose.layout import get_layout
from signlib.pose.rotation import axis_angle_to_rot6d_np
from signlib.pose.skeleton import forward_kinematics_np

RESULTS = Path(__file__).resolve().parent / "results" / "dtw.json"
PARTS = ("body", "hand")


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
    args = parser.parse_args()
    lay = get_layout("xyz_template")
    pred, ref = sequence(args.frames, 0), sequence(args.frames, 1)
    p, r = split_parts(pred, lay), split_parts(ref, lay)
    result = {"frames": args.frames, "layout": lay.name, "repeats": args.repeats,
              "numpy": np.__version__, "python": platform.python_version(), "cpus": os.cpu_count(),
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
    write_json(RESULTS, result)
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
