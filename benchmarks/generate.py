"""Generation latency: one whole signer (body + both hands), 250 frames, at 1/2/5/10/50 steps, the
three generators of Fig 4b at 1/10/100 steps, and the SOKE-style tokenised baseline against
SignSparK text-to-pose at 10 steps for the same 10 s sentence.

Usage: ``python benchmarks/generate.py [--frames 250] [--repeats 5] [--rounds 3] [--checkpoint models/signspark/signspark]
[--speed-only]``

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
``cfm``, ``ddpm`` with DDIM steps) are the same network with random weights, unguided.

The paper's speed claim (10-step SignSparK against SOKE's autoregressive decoding) is timed side by
side for one text-only request of ``--frames`` frames: SignSparK text-to-pose (no keyframes, the
length given) at 10 Euler steps, and the SOKE-style generator of ``params.yaml`` (``evaluate.soke``)
decoding exactly ``ceil(frames / 4)`` tokens per part with the key/value cache, then the tokenizer's
decoder back to frames: multi-head (three tokens per step) and single-head sequential (one token
per step, three times the steps), both at this workspace's size, and multi-head decoding with a
decoder and text encoder of mBART-large's size, as SOKE uses. The token count is forced (end tokens suppressed until it is
reached) so random weights decode the same length as a trained model would. Writes
``benchmarks/results/generate.json`` (latencies) and ``benchmarks/results/speed_comparison.json``
(the side-by-side comparison; ``--speed-only`` runs just that) and prints the ratios of this run.
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
#: The side-by-side comparison: SignSparK T2P at 10 steps, SOKE-style multi-head and single-head decoding.
SPEED = ("signspark_t2p", "soke_multi", "soke_single", "soke_multi_mbart_size")
#: SOKE decodes with mBART-large (12 + 12 layers, width 1024, 16 heads, feed-forward 4096): the
#: ``soke_multi_mbart_size`` row times multi-head decoding at that size (random weights).
MBART_LARGE = {"d_model": 1024, "layers": 12, "heads": 16, "ff": 4096}
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


def measure_speed(system: str, frames: int, repeats: int, threads: int) -> dict:
    """Median seconds for one text-only 10 s request with ``system`` (one of :data:`SPEED`)."""
    import dataclasses

    from signlib.baselines import soke
    from signlib.baselines.token_generator import SingleHeadTokenGenerator
    from signlib.config import load_params
    from signlib.generate.configs import SamplerConfig
    from signlib.generate.modes import Request, generate_batch

    torch.set_num_threads(threads)
    text, language, tokens = "Braucht Sarah morgen ein Ei?", "DGS", -(-frames // 4)
    if system == "signspark_t2p":
        model = _model("", False)
        request, sampler = Request(language, text, None, frames), SamplerConfig(steps=10)

        def run():
            return generate_batch(model, [request], sampler)
    else:
        params = load_params(Path(__file__).resolve().parents[1] / "params.yaml")
        config = dataclasses.replace(params.evaluate.soke.model, layout="rot6d", fps=25.0,
                                     max_frames=params.sizes.max_frames)
        torch.manual_seed(0)
        if system == "soke_multi_mbart_size":
            config = dataclasses.replace(config, **MBART_LARGE, text=dataclasses.replace(
                config.text, d_model=MBART_LARGE["d_model"], layers=MBART_LARGE["layers"],
                heads=MBART_LARGE["heads"], ff=MBART_LARGE["ff"]))
        tokenizer = soke.SokeTokenizer(config).eval()
        if system.startswith("soke_multi"):
            model = soke.build_generator(config, tokenizer.sizes).eval()

            def decode():
                return model.generate([text], [language], max_len=tokens, min_len=tokens)[0]
        else:
            model = SingleHeadTokenGenerator(tokenizer.sizes, config.text, config.d_model, config.layers, config.heads,
                                             config.ff, config.max_tokens).eval()

            def decode():
                return model.generate([text], [language], max_len=tokens, ignore_eos=True)[0]

        def run():
            codes = decode()
            if len(codes["body"]) != tokens:
                raise RuntimeError(f"{system} decoded {len(codes['body'])} tokens, not {tokens}")
            return tokenizer.detokenize({p: t[None] for p, t in codes.items()})
    start = time.perf_counter()
    run()
    first = time.perf_counter() - start
    for _ in range(WARMUP - 1):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return {"system": system, "seconds": float(np.median(times)), "first_call_seconds": first,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "parameters": sum(p.numel() for p in model.parameters()) + (0 if system == "signspark_t2p" else
                                                                        sum(p.numel() for p in tokenizer.parameters())),
            "decoder_steps": 10 if system == "signspark_t2p" else 3 * tokens if system == "soke_single" else tokens}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=250)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="passes over all configurations; each reports "
                        "the median over rounds of its per-process median")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--checkpoint", default="")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "generate.json"))
    parser.add_argument("--speed-out", default=str(Path(__file__).parent / "results" / "speed_comparison.json"))
    parser.add_argument("--speed-only", action="store_true", help="only SignSparK T2P vs the SOKE-style decoders")
    parser.add_argument("--one", default="", help=argparse.SUPPRESS)  # "steps,guided,generator": child mode
    parser.add_argument("--speed", default="", help=argparse.SUPPRESS)  # one of SPEED: child mode
    args = parser.parse_args()
    if args.speed:
        print(json.dumps(measure_speed(args.speed, args.frames, args.repeats, args.threads)))
        return
    if args.one:
        steps, guided, generator = args.one.split(",")
        print(json.dumps(measure(int(steps), guided == "1", args.frames, args.repeats, args.threads, args.checkpoint,
                                 generator)))
        return
    plans = [] if args.speed_only else [(steps, guided, "") for guided in (False, True) for steps in STEPS]
    # The generators alternate step by step, so a noisy spell of the machine hits all three alike.
    plans += [] if args.speed_only else [(steps, False, g) for steps in GENERATOR_STEPS for g in GENERATORS]
    # The speed comparison alternates its three systems the same way.
    plans += [(10, False, f"speed:{system}") for system in SPEED]
    # Every round runs every configuration, starting one place later than the previous round, so
    # a slow spell of this shared machine (we have seen ±30 %) lands on different configurations
    # in different rounds; the median over rounds discards it.
    runs: dict[int, list[dict]] = {i: [] for i in range(len(plans))}
    for r in range(args.rounds):
        for i in [(r + j) % len(plans) for j in range(len(plans))]:
            steps, guided, generator = plans[i]
            mode = ["--speed", generator[6:]] if generator.startswith("speed:") else \
                ["--one", f"{steps},{int(guided)},{generator}", "--checkpoint", args.checkpoint]
            cmd = [sys.executable, __file__, *mode, "--frames", str(args.frames), "--repeats", str(args.repeats),
                   "--threads", str(args.threads)]
            out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
            runs[i].append(json.loads(out.strip().splitlines()[-1]))
            print(f"round {r + 1}: {steps:4d} steps {'guided' if guided else 'plain '} {generator or '':20s}: "
                  f"{runs[i][-1]['seconds'] * 1000:8.1f} ms, peak {runs[i][-1]['peak_rss_mb']:.0f} MB", flush=True)
    rows = []
    for i, (steps, guided, generator) in enumerate(plans):
        seconds = [run["seconds"] for run in runs[i]]
        rows.append({**runs[i][0], "seconds": float(np.median(seconds)), "seconds_per_round": seconds,
                     "first_call_seconds": float(np.median([run["first_call_seconds"] for run in runs[i]])),
                     "peak_rss_mb": max(run["peak_rss_mb"] for run in runs[i]), "generator_row": bool(generator)})
    speed = [{k: v for k, v in r.items() if k != "generator_row"} for r in rows if "system" in r]
    rows = [r for r in rows if "system" not in r]
    gen = {(r["generator"], r["steps"]): r["seconds"] for r in rows if r["generator_row"]}
    rows = [{k: v for k, v in r.items() if k != "generator_row"} for r in rows if not r["generator_row"]]
    fast = {r["system"]: r["seconds"] for r in speed}
    from signlib.io import write_json

    write_json(args.speed_out, {
        "rows": speed, "ratios": {"soke_multi_head_over_signspark_t2p_10_steps": fast["soke_multi"] / fast["signspark_t2p"],
                                  "soke_single_head_over_signspark_t2p_10_steps": fast["soke_single"] / fast["signspark_t2p"],
                                  "soke_single_over_multi_head": fast["soke_single"] / fast["soke_multi"],
                                  "soke_mbart_size_over_signspark_t2p_10_steps":
                                      fast["soke_multi_mbart_size"] / fast["signspark_t2p"]},
        "paper_seconds": {"signspark_10_steps": 0.01, "soke": 1.55}, "frames": args.frames, "repeats": args.repeats,
        "rounds": args.rounds, "warmup": WARMUP, "threads": args.threads, "weights": "random (default sizes)",
        "torch": torch.__version__, "machine": platform.processor() or platform.machine()})
    print(f"same {args.frames}-frame sentence, text only: SignSparK T2P 10 steps {fast['signspark_t2p'] * 1000:.0f} ms, "
          f"SOKE-style multi-head {fast['soke_multi'] * 1000:.0f} ms "
          f"({fast['soke_multi'] / fast['signspark_t2p']:.1f}x), single-head {fast['soke_single'] * 1000:.0f} ms "
          f"({fast['soke_single'] / fast['signspark_t2p']:.1f}x); multi-head at mBART-large size "
          f"{fast['soke_multi_mbart_size'] * 1000:.0f} ms ({fast['soke_multi_mbart_size'] / fast['signspark_t2p']:.1f}x) "
          f"-> {args.speed_out}")
    if args.speed_only:
        return
    by = {(r["steps"], r["guided"]): r["seconds"] for r in rows}
    ratios = {"50_over_10_steps": by[(50, False)] / by[(10, False)],
              "guided_over_plain_at_10_steps": by[(10, True)] / by[(10, False)],
              "per_step_ms_plain": 1000 * (by[(50, False)] - by[(10, False)]) / 40,
              **{f"{g}_over_recon_cfm_at_{n}_steps": gen[(g, n)] / gen[("recon_cfm", n)]
                 for g in GENERATORS[1:] for n in GENERATOR_STEPS},
              **{f"{g}_100_over_10_steps": gen[(g, 100)] / gen[(g, 10)] for g in GENERATORS}}
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
