"""Keyframe-editor responsiveness: how long one edit takes to regenerate a 10 s clip on this CPU.

Usage: ``python benchmarks/editor.py [--model models/signspark/signspark] [--rounds 15] [--seconds 10]``

The clip is ``--seconds`` long at the model's frame rate with keyframes every 12 frames (about a
sign's onset, middle and offset at signing speed). Each round moves one keyframe and times, in an
order that rotates between rounds: SignSparK KF2P alone (the sampler of ``params.yaml``), the
controller's whole :meth:`~signlib.widgets.editor.KeyframeEditor.regenerate` (KF2P and SLERP),
and one wrist inverse-kinematics solve. Figures are medians over rounds. Without a trained model
(``--model`` missing) the default architecture runs with fresh weights: the time depends on the
network's size, not on its weights. Writes ``benchmarks/results/editor.json`` and prints the ratio
to the target (regeneration within 0.3 s).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

TARGET_SECONDS = 0.3


def setup(model_dir: Path, seconds: float):
    from signlib.config import load_params
    from signlib.data.sequence import Sequence
    from signlib.generate.model import SignSparK, load_signspark
    from signlib.pose.skeleton import rest_features
    from signlib.widgets.editor import KeyframeEditor

    params = load_params("params.yaml")
    trained = model_dir.exists()
    model = load_signspark(model_dir) if trained else SignSparK(params.signspark.model).eval()
    T = int(round(seconds * model.config.fps))
    rng = np.random.default_rng(0)
    feats = rest_features(model.config.layout, T).numpy() + 0.05 * rng.standard_normal((T, model.dim)).astype(np.float32)
    seq = Sequence(feats, model.config.layout, model.config.fps, text="the cat sleeps on the warm sofa",
                   language="DGS", id="bench")
    editor = KeyframeEditor(model, sampler=params.signspark.sampler)
    editor.open_clip(seq, list(range(0, T, 12)))
    return editor, trained, T, params.signspark.sampler


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, default=Path("models/signspark/signspark"))
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "editor.json")
    args = ap.parse_args(argv)

    from signlib.generate import modes

    editor, trained, T, sampler = setup(args.model, args.seconds)
    for _ in range(3):  # warm-up: first calls allocate and plan
        editor.regenerate()
    src = editor.source

    def kf2p():
        modes.kf2p(editor.model, [editor.keyframes()], [src.text], [src.language], sampler, 0)

    def regenerate():
        editor.regenerate()

    def ik():
        editor.drag_wrist(3, "right", editor.wrist(3, "right") + np.array([0.03, -0.05, 0.04], np.float32))

    tasks = {"kf2p": kf2p, "regenerate": regenerate, "wrist_ik": ik}
    times: dict[str, list[float]] = {k: [] for k in tasks}
    names = list(tasks)
    for r in range(args.rounds):
        editor.move(1, 13 if editor.frames[1] == 12 else 12)  # an edit between rounds, as a user makes
        for name in names[r % len(names):] + names[: r % len(names)]:
            start = time.perf_counter()
            tasks[name]()
            times[name].append(time.perf_counter() - start)
    medians = {k: statistics.median(v) for k, v in times.items()}
    result = {
        "clip_frames": T, "keyframes": len(editor.frames), "trained_model": trained,
        "sampler_steps": sampler.steps, "rounds": args.rounds, "torch_threads": torch.get_num_threads(),
        "median_seconds": medians, "target_seconds": TARGET_SECONDS,
        "regenerate_over_target": medians["regenerate"] / TARGET_SECONDS,
        "machine": {"python": sys.version.split()[0], "torch": torch.__version__, "cpu": platform.processor()
                    or platform.machine()},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{T} frames, {len(editor.frames)} keyframes, {'trained' if trained else 'untrained'} model, "
          f"{sampler.steps} steps, {args.rounds} rounds (medians):")
    for name, value in medians.items():
        print(f"  {name:<11} {value * 1000:7.1f} ms")
    print(f"regenerate / target ({TARGET_SECONDS} s) = {result['regenerate_over_target']:.2f}")
    return result


if __name__ == "__main__":
    main()
