"""Controlled keyframe-to-pose runs: why does SignSparK lose to SLERP inside the keyframed span?

Each variant trains a SignSparK on the workspace's curated training split (``build/``, so run
``dvc repro train_signspark`` first) with ``params.yaml`` plus the variant's overrides, then scores
KF2P against SLERP on 64 training and 64 test clips with FAST's keyframes: DTW-JPE per step (cm),
whole clip and keyframed span, at sampling temperature 1 and 0. One variant differs from the
reference in one thing; the seed is the same everywhere.

    python experiments/kf2p_diagnostics.py reference part_std=... --steps 600

writes ``experiments/results/kf2p_<name>.json`` per variant; ``--table`` gathers them into
``experiments/results/kf2p_diagnostics.md``. Not a DVC stage: it is a research log of controlled
runs (minutes each on a laptop CPU), kept so the README's design notes can be checked.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import time
from pathlib import Path

import numpy as np
import torch
from scipy.ndimage import gaussian_filter1d

from signlib.config import load_params
from signlib.data.corpus import Corpus
from signlib.evaluate import systems as sy
from signlib.evaluate.production import run_systems, score_outputs, summarize_rows
from signlib.keyframes import EVALUATION_POLICY, clip_keyframes, read_keyframes
from signlib.stages.paths import Paths
from signlib.stages.train_signspark import fit_signspark, training_clips, training_keyframes

OUT = Path(__file__).parent / "results"
#: name → (params overrides, options). Options: ``smooth`` (Gaussian sigma in frames applied to the
#: training targets: "clean" targets), ``key_scale`` (keyframe guidance at sampling), ``no_text``.
VARIANTS = {
    "reference": ({}, {}),
    # The flow's source (signlib.generate.prior): the paper's standard noise with the linear track
    # was the reference before the keyframe prior; each of the two changes alone.
    "standard_prior": ({"signspark__model__prior": "standard", "signspark__model__easing": "linear"}, {}),
    "standard_prior_minimum_jerk": ({"signspark__model__prior": "standard"}, {}),
    "linear_track": ({"signspark__model__easing": "linear"}, {}),
    "feature_space_loss": ({"signspark__loss__space": "features"}, {}),
    "channel_std": ({"signspark__model__standardise": "channel"}, {}),
    "no_cfm_term": ({"signspark__loss__cfm_weight": 0.0}, {}),
    "smoothed_targets": ({}, {"smooth": 1.0}),
    "wide_unet": ({"signspark__model__unet__channels": [128, 192, 256]}, {}),
    "patch_1": ({"signspark__model__unet__patch": 1}, {}),
    "skip": ({"signspark__model__skip": True}, {}),
    "position_loss": ({"signspark__loss__position_weight": 0.1}, {}),
    "no_keyframe_track": ({"signspark__model__keyframe_track": False}, {}),
    "true_keyframes": ({"signspark__keyframe_source": "true"}, {}),
    "key_guidance_1.5": ({"signspark__model__prior": "standard", "signspark__model__easing": "linear"},
                         {"key_scale": 1.5}),  # keyframe guidance exists only under the standard prior
    "no_text": ({}, {"no_text": True}),
}
KEYS = ("body_mean", "hand_mean", "inner_body_mean", "inner_hand_mean")


def run(name: str, steps: int, clips_per_split: int = 64) -> dict:
    overrides, options = VARIANTS[name]
    params = load_params("params.yaml", **overrides)
    paths = Paths(params.base)
    corpus = Corpus(paths.curated)
    clips = training_clips(corpus, training_keyframes(params))
    if options.get("smooth"):
        clips = [dataclasses.replace(c, features=gaussian_filter1d(c.features, options["smooth"], axis=0,
                                                                    mode="nearest").astype(np.float32)) for c in clips]
    start = time.time()
    model, _ = fit_signspark(params, clips, corpus.layout, corpus.fps, OUT / "models" / f"{name}_{steps}", steps)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    out = {"variant": name, "steps": steps, "overrides": overrides, "options": options,
           "corpus": f"workspace build at commit {commit}", "train_seconds": round(time.time() - start, 1)}
    keyframes = read_keyframes(paths.keyframes, EVALUATION_POLICY)
    for split in ("train", "test"):
        infos = corpus.select(split)
        truths = [corpus.load(i.id) for i in infos[:: max(1, len(infos) // clips_per_split)][:clips_per_split]]
        keys = [clip_keyframes(s, keyframes) for s in truths]
        truths, keys = [s for s, k in zip(truths, keys) if len(k)], [k for k in keys if len(k)]
        systems = {"SLERP": sy.slerp_system, "keyframe track": sy.track_system(model.config.easing)}
        for temperature in (1.0, 0.0):
            sampler = dataclasses.replace(params.signspark.sampler, temperature=temperature,
                                          key_scale=options.get("key_scale", 1.0))
            systems[f"KF2P T={temperature:g}"] = sy.kf2p_system(model, sampler, with_text=not options.get("no_text"))
        rows = score_outputs(run_systems(systems, truths, keys, progress=False), truths, keys, inner=True,
                             progress=False)
        for r in summarize_rows(rows, KEYS, by_language=False):
            out[f"{split} / {r['system']}"] = {k: round(100 * r[k], 3) for k in KEYS}
    return out


def table() -> str:
    """Markdown: one row per variant × system (runs that skipped a system, e.g. temperature 0 under
    guidance, leave it out), grouped by the corpus the runs used."""
    lines = ["DTW-JPE per step (cm) on 64 training and 64 test clips, FAST keyframes.", "",
             "| corpus | variant | steps | system | train: span body | span hand | test: span body | span hand | "
             "test: clip body | clip hand |", "|---|---|---|---|---|---|---|---|---|---|"]
    for path in sorted(OUT.glob("kf2p_*.json"), key=lambda p: (json.loads(p.read_text())["corpus"], p.name)):
        r = json.loads(path.read_text())
        for system in ("SLERP", "keyframe track", "KF2P T=1", "KF2P T=0"):
            tr, te = r.get(f"train / {system}"), r.get(f"test / {system}")
            if tr is None or te is None:
                continue
            lines.append(f"| {r['corpus']} | {r['variant']} | {r['steps']} | {system} | {tr['inner_body_mean']:.2f} | "
                         f"{tr['inner_hand_mean']:.2f} | {te['inner_body_mean']:.2f} | {te['inner_hand_mean']:.2f} | "
                         f"{te['body_mean']:.2f} | {te['hand_mean']:.2f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="*", help=f"variants to train and score: {', '.join(VARIANTS)}")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--tag", default="", help="suffix of the result files (runs on another corpus keep theirs)")
    parser.add_argument("--table", action="store_true", help="write results/kf2p_diagnostics.md from the JSON files")
    args = parser.parse_args()
    if unknown := [v for v in args.variants if v not in VARIANTS]:
        parser.error(f"unknown variant {unknown[0]!r}; known: {', '.join(VARIANTS)}")
    torch.set_num_threads(int(__import__("os").environ.get("THREADS", "1")))  # two variants side by side use the two cores of a laptop best
    OUT.mkdir(parents=True, exist_ok=True)
    for name in args.variants:
        result = run(name, args.steps)
        (OUT / f"kf2p_{name}{args.tag}.json").write_text(json.dumps(result, indent=1) + "\n")
        print(json.dumps(result, indent=1))
    if args.table:
        (OUT / "kf2p_diagnostics.md").write_text(table())
        print(table())


if __name__ == "__main__":
    main()
