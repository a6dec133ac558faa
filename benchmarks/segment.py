"""Segmentation throughput: frames per second of FAST and of the BiLSTM tagger, same run.

Usage: ``python benchmarks/segment.py [--frames 250] [--clips 40] [--checkpoint models/fast/fast]``

Both models tag the same clips one at a time on this CPU (2 threads by default), fp32. With
``--checkpoint`` the trained FAST is timed, otherwise both run with random weights of the
default configuration (throughput does not depend on the weights). Writes
``benchmarks/results/segment.json`` and prints the ratio measured in this run.
"""

from __future__ import annotations

import argparse
import platform
from pathlib import Path

import numpy as np
import torch

from signlib.io import write_json
from signlib.segment.evaluation import frames_per_second, load_segmenter
from signlib.segment.fast import FAST, BiLSTMTagger
from signlib.segment.configs import HAND_FEATURES
from signlib.segment.training import SegClip


def throughput(model: torch.nn.Module, clips: list[SegClip], repeats: int) -> float:
    frames_per_second(model, clips[:1])  # warm-up
    return frames_per_second(model, clips, repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--clips", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", default="")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "segment.json"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    clips = []
    for k in range(args.clips):
        x = rng.normal(size=(args.frames, HAND_FEATURES)).astype(np.float32)
        x[:, -1] = 1.0  # hands observed, so the network really runs
        clips.append(SegClip(f"c{k}", x, x, np.zeros(args.frames, np.int64), ()))
    fast = load_segmenter(args.checkpoint) if args.checkpoint else FAST()
    results = {"fast_frames_per_s": throughput(fast, clips, args.repeats),
               "bilstm_frames_per_s": throughput(BiLSTMTagger(), clips, args.repeats)}
    results["fast_over_bilstm"] = results["fast_frames_per_s"] / results["bilstm_frames_per_s"]
    results.update(frames_per_clip=args.frames, clips=args.clips, repeats=args.repeats, threads=args.threads,
                   fast_params=sum(p.numel() for p in fast.parameters()), checkpoint=args.checkpoint or "random weights",
                   torch=torch.__version__, machine=platform.processor() or platform.machine())
    write_json(args.out, results)
    print(f"FAST {results['fast_frames_per_s']:.0f} frames/s, BiLSTM {results['bilstm_frames_per_s']:.0f} frames/s, "
          f"ratio {results['fast_over_bilstm']:.2f} (same run) -> {args.out}")


if __name__ == "__main__":
    main()
