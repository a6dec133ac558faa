"""Rendering speed: frames per second of the skeleton, mesh and Gaussian-avatar renderers at 256²
and 512², on this CPU (and with gsplat on a GPU when CUDA is present).

Usage: ``python benchmarks/render.py [--frames 40] [--rounds 5] [--gaussians 3000]``

The clip is one sentence of the generated corpus (a real signing motion of the default ``rot6d``
layout, drawn by the renderers exactly as the ``render`` stage draws it: procedural body, camera
framing the whole clip). Each round renders ``--frames`` frames with every renderer and size, in an
order that rotates between rounds so slow drifts of a noisy machine do not favour one renderer;
each figure is the median over rounds of that round's frames per second. Scene building (skinning
every frame) is timed separately from rasterising. Writes ``benchmarks/results/render.json`` and
prints the ratios to the targets of DESIGN §7 (avatar ≥ 10 frames/s, mesh ≥ 25 frames/s at 256²).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

TARGETS = {"avatar": 10.0, "mesh": 25.0}  # frames per second at 256² on 2 CPU cores
SIZES = (256, 512)


def clip():
    """One sentence of a small generated corpus (rot6d, 25 fps)."""
    from signlib.data.formats.signspark import read_signspark
    from signlib.data.synthetic.generate import SynthSpec, generate_corpus

    with tempfile.TemporaryDirectory() as tmp:
        root = generate_corpus(Path(tmp) / "c", SynthSpec(signers_per_language=1, sentences_per_signer=1,
                                                          signs_per_language=30, seed=5), progress=False)
        return read_signspark(sorted((root / "clips").glob("*.npz"))[0])


def renderers(seq, gaussians: int):
    """name → (size → frame-iterator factory), and the seconds each scene took to build."""
    from signlib.render.frames import avatar_frames, mesh_frames
    from signlib.render.gsplat_backend import gsplat_available
    from signlib.render.scene import avatar_scene, clip_camera, mesh_scene
    from signlib.render.skeleton_video import SkeletonPainter

    start = time.perf_counter()
    mesh = mesh_scene(seq)
    built = {"mesh_scene_seconds": time.perf_counter() - start}
    start = time.perf_counter()
    avatar = avatar_scene(seq, count=gaussians)
    built["avatar_scene_seconds"] = time.perf_counter() - start
    cams = {s: clip_camera(mesh.framing_points(), s, s) for s in SIZES}
    painters = {s: SkeletonPainter(seq, s, s) for s in SIZES}
    out = {"skeleton": lambda s, fr: (painters[s].frame(t) for t in fr),
           "mesh": lambda s, fr: mesh_frames(mesh, cams[s], frames=fr),
           "avatar": lambda s, fr: avatar_frames(avatar, cams[s], backend="cpu", frames=fr)}
    if gsplat_available():
        out["avatar_gsplat"] = lambda s, fr: avatar_frames(avatar, cams[s], backend="gsplat", frames=fr)
    return out, built


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--gaussians", type=int, default=3000)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "render.json"))
    args = parser.parse_args(argv)
    seq = clip()
    draw, built = renderers(seq, args.gaussians)
    frames = list(range(min(args.frames, seq.num_frames)))
    configs = [(name, size) for size in SIZES for name in draw]
    for name, size in configs:  # warm-up: first calls allocate and build caches
        list(draw[name](size, frames[:2]))
    fps: dict[tuple[str, int], list[float]] = {c: [] for c in configs}
    for r in range(args.rounds):
        order = configs[r % len(configs):] + configs[: r % len(configs)]
        for name, size in order:
            start = time.perf_counter()
            n = sum(1 for _ in draw[name](size, frames))
            fps[(name, size)].append(n / (time.perf_counter() - start))
    results = {f"{name}_{size}": {"frames_per_second": statistics.median(v), "rounds": [round(x, 2) for x in v]}
               for (name, size), v in fps.items()}
    ratios = {f"{k}_256_vs_target": results[f"{k}_256"]["frames_per_second"] / t for k, t in TARGETS.items()}
    report = {"machine": {"cpu_threads": torch.get_num_threads(), "platform": platform.platform(),
                          "python": sys.version.split()[0], "torch": torch.__version__,
                          "cuda": torch.cuda.is_available()},
              "clip_frames": len(frames), "gaussians": args.gaussians, "rounds": args.rounds, **built,
              "results": results, "ratios": ratios, "targets_256": TARGETS}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    for key, value in results.items():
        print(f"{key:>20}: {value['frames_per_second']:7.1f} frames/s (rounds {value['rounds']})")
    for key, value in ratios.items():
        print(f"{key}: {value:.2f}× the target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
