"""Generation latency: one whole signer (body + both hands), 250 frames, at 1/2/5/10/50 steps, and
the three generators of Fig 4b at 1/10/100 steps.

Usage: ``python benchmarks/generate.py [--frames 250] [--repeats 5] [--rounds 3] [--checkpoint models/signspark/signspark]``

Each configuration runs in a fresh subprocess so its peak resident memory (``ru_maxrss``) is its
own, once per round (rounds rotate the order; each number is the median over rounds). Timed,
after three warm-up calls (the first, which packs the weights, is reported as
``first_call_seconds``): :func:`signlib.generate.modes.generate_batch` for one keyframe-to-pose
request (onset/mid/offset keyframes every 20 frames, text on) with Euler steps, first with
guidance scales 1 (one network pass per step) and then with text and keyframe guidance (three
passes per step, batched). The latency includes the text encoder. Random weights of the stage's default
size unless ``--checkpoint`` is given: latency does not depend on the weights. Keyframe guidance
exists only under the standard prior (:mod:`signlib.generate.prior`), so the guided random-weight
model uses it (same network, same cost per pass); a guided checkpoint trained with the keyframe
prior runs text guidance only (two passes per step). The generators (SignSparK ``recon_cfm``, plain
``cfm``, ``ddpm`` with DDIM steps) are the same network with random weights, unguided. Writes
``benchmarks/results/generate.json`` and prints the ratios of this run.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

STEPS = (1, 2, 5, 10, 50)
GENERATORS, GENERATOR_STEPS = ("recon_cfm", "cfm", "ddpm"), (1, 10, 100)
WARMUP = 3  # calls before the timed ones


def _model(checkpoint: str, guided: bool, generator: str = ""):
    import dataclasses

    from signlib.config import load_params
    from signlib.generate.model import SignSparK, load_signspark

    if checkpoint:
        return load_signspark(checkpoint)
    params = load_params(Path(__file__).resolve().parents[1] / "params.yaml")
    torch.manual_seed(0)
    config = params.signspark.model.for_data("rot6d", 25.0, params.sizes.max_frames)
    if generator:
        config = dataclasses.replace(config, generator=generator)
    return SignSparK(dataclasses.replace(config, prior="standard") if guided else config).eval()


def measure(steps: int, guided: bool, frames: int, repeats: int, threads: int, checkpoint: str,
            generator: str = "") -> dict:
    """Median seconds per sequence and peak memory of this process (run in a subprocess)."""
    from signlib.generate.configs import SamplerConfig
    from signlib.generate.modes import Request, generate_batch
    from signlib.keyframes import Keyframes

    torch.set_num_threads(threads)
    model = _model("" if generator else checkpoint, guided, generator)
    frames_k = np.unique(np.concatenate([np.arange(0, frames, 20), [frames - 1]]))
    keys = Keyframes(frames_k, np.random.default_rng(0).normal(size=(len(frames_k), model.dim)), frames)
    request = Request("DGS", "Braucht Sarah morgen ein Ei?", keys)
    scale = 2.0 if guided else 1.0
    sampler = SamplerConfig(steps=steps, text_scale=scale, key_scale=scale if model.config.prior == "standard" else 1.0)
    # The first call packs the weights (signlib.generate.packed) and the process's allocator grows
    # its heap over the first few calls; it is reported separately, and two more calls warm up.
    start = time.perf_counter()
    generate_batch(model, [request], sampler)
    first = time.perf_counter() - start
    for _ in range(WARMUP - 1):
        generate_batch(model, [request], sampler)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        generate_batch(model, [request], sampler)
        times.append(time.perf_counter() - start)
    return {"steps": steps, "guided": guided, "generator": model.config.generator, "seconds": float(np.median(times)),
            "first_call_seconds": first,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "parameters": sum(p.numel() for p in model.parameters())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="passes over all configurations; each reports "
                        "the median over rounds of its per-process median")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", default="")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "generate.json"))
    parser.add_argument("--one", default="", help=argparse.SUPPRESS)  # "steps,guided,generator": child mode
    args = parser.parse_args()
    if args.one:
        steps, guided, generator = args.one.split(",")
        print(json.dumps(measure(int(steps), guided == "1", args.frames, args.repeats, args.threads, args.checkpoint,
                                 generator)))
        return
    plans = [(steps, guided, "") for guided in (False, True) for steps in STEPS]
    # The generators alternate step by step, so a noisy spell of the machine hits all three alike.
    plans += [(steps, False, g) for steps in GENERATOR_STEPS for g in GENERATORS]
    # Every round runs every configuration, starting one place later than the previous round, so
    # a slow spell of this shared machine (we have seen ±30 %) lands on different configurations
    # in different rounds; the median over rounds discards it.
    runs: dict[int, list[dict]] = {i: [] for i in range(len(plans))}
    for r in range(args.rounds):
        for i in [(r + j) % len(plans) for j in range(len(plans))]:
            steps, guided, generator = plans[i]
            cmd = [sys.executable, __file__, "--one", f"{steps},{int(guided)},{generator}", "--frames", str(args.frames),
                   "--repeats", str(args.repeats), "--threads", str(args.threads), "--checkpoint", args.checkpoint]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            runs[i].append(json.loads(out.strip().splitlines()[-1]))
            print(f"round {r + 1}: {steps:4d} steps {'guided' if guided else 'plain '} {generator or '':9s}: "
                  f"{runs[i][-1]['seconds'] * 1000:8.1f} ms, peak {runs[i][-1]['peak_rss_mb']:.0f} MB", flush=True)
    rows = []
    for i, (steps, guided, generator) in enumerate(plans):
        seconds = [run["seconds"] for run in runs[i]]
        rows.append({**runs[i][0], "seconds": float(np.median(seconds)), "seconds_per_round": seconds,
                     "first_call_seconds": float(np.median([run["first_call_seconds"] for run in runs[i]])),
                     "peak_rss_mb": max(run["peak_rss_mb"] for run in runs[i]), "generator_row": bool(generator)})
    gen = {(r["generator"], r["steps"]): r["seconds"] for r in rows if r["generator_row"]}
    rows = [{k: v for k, v in r.items() if k != "generator_row"} for r in rows if not r["generator_row"]]
    by = {(r["steps"], r["guided"]): r["seconds"] for r in rows}
    ratios = {"50_over_10_steps": by[(50, False)] / by[(10, False)],
              "guided_over_plain_at_10_steps": by[(10, True)] / by[(10, False)],
              "per_step_ms_plain": 1000 * (by[(50, False)] - by[(10, False)]) / 40,
              **{f"{g}_over_recon_cfm_at_{n}_steps": gen[(g, n)] / gen[("recon_cfm", n)]
                 for g in GENERATORS[1:] for n in GENERATOR_STEPS},
              **{f"{g}_100_over_10_steps": gen[(g, 100)] / gen[(g, 10)] for g in GENERATORS}}
    from signlib.io import write_json

    write_json(args.out, {"rows": rows, "generators": [{"generator": g, "steps": n, "seconds": gen[(g, n)]}
                                                       for n in GENERATOR_STEPS for g in GENERATORS],
                          "ratios": ratios, "frames": args.frames, "repeats": args.repeats, "rounds": args.rounds, "warmup": WARMUP,
                          "threads": args.threads, "checkpoint": args.checkpoint or "random weights",
                          "target_seconds_10_steps": 0.25, "target_seconds_10_steps_guided": 0.1, "torch": torch.__version__,
                          "machine": platform.processor() or platform.machine()})
    print(f"10 steps: {by[(10, False)] * 1000:.0f} ms plain, {by[(10, True)] * 1000:.0f} ms guided "
          f"(targets: 250 ms plain, 100 ms guided); 50/10 steps ratio {ratios['50_over_10_steps']:.2f} (same run) -> {args.out}")


if __name__ == "__main__":
    main()
