"""Stage ``render`` (notebook ``07_render``): skeleton, mesh and Gaussian-avatar videos of what the
current generator produces, Fig-6-style panels, and the real DGS samples.

Reads the curated corpus (test split), its FAST keyframes (the evaluation policy), the SignSparK
generator, the tri-frame dictionary and citation clips (naive stitching; left out without a
dictionary) and the real ``.pose`` sentences (skipped when absent). For
``render.clips_per_language`` test sentences per language it writes to ``results/render/videos``:

- ``<clip>_skeleton.mp4``: SignSparK KF2P as a skeleton over the truth's BIO timeline, keyframes ticked;
- ``<clip>_mesh.mp4`` and ``<clip>_avatar.mp4``: the same output as the capsule mesh and the avatar;
- ``<clip>_compare.mp4``: truth | SignSparK KF2P | SLERP | naive stitching | T2P, as meshes.

Per language a still panel (``figures/panel_<lang>.png``: systems × time points, avatar renders),
the real sentences' skeleton and capsule-mesh videos, a contact sheet of every video's middle frame,
and ``metrics.json`` with the frames rendered and the seconds per frame of each renderer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np
import torch

from signlib.baselines.stitching import load_citations
from signlib.data.corpus import Corpus
from signlib.data.realdata import checked_realdata_dir, dgs_fluent_sentences
from signlib.data.sequence import Segment, Sequence
from signlib.evaluate import systems as sy
from signlib.generate.model import SignSparK, load_signspark
from signlib.keyframes import EVALUATION_POLICY, clip_keyframes, read_keyframes
from signlib.render.body import Identity
from signlib.render.frames import avatar_backend, avatar_frames, mesh_frames, side_by_side, still_grid
from signlib.render.scene import avatar_scene, clip_camera, mesh_scene
from signlib.render.skeleton_video import skeleton_frames
from signlib.render.video import write_video
from signlib.stages.common import Stage
from signlib.triframe import TriframeDictionary

TRUTH, KF2P, SLERP, NAIVE, T2P = "truth", "SignSparK KF2P", "SLERP", "naive stitching", "SignSparK T2P"
#: Kind prefix of the preference study's per-system videos (kept off the contact sheet and players).
STUDY = "study: "


def shown(videos: list["Video"]) -> list["Video"]:
    """The videos to show and tile: all but the preference study's per-system copies."""
    return [v for v in videos if not v.kind.startswith(STUDY)]


@dataclass(frozen=True)
class Inputs:
    corpus: Corpus
    keyframes: dict[str, list[int]]
    model: SignSparK
    triframe: TriframeDictionary | None
    citations: dict | None


def load(stage: Stage) -> Inputs:
    paths = stage.paths
    triframe = citations = None
    if paths.triframe.exists():
        triframe, citations = TriframeDictionary.load(paths.triframe), load_citations(Corpus(paths.dictionary))
    else:
        print("no isolated-sign dictionary: the naive stitching tile is left out")
    return Inputs(Corpus(paths.curated), read_keyframes(paths.keyframes, EVALUATION_POLICY),
                  load_signspark(paths.model("signspark", "signspark")), triframe, citations)


@dataclass
class Timer:
    """Frames rendered and seconds spent per renderer (rendering only, not video encoding)."""

    frames: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, name: str, stream: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        it = iter(stream)
        while True:
            start = time.perf_counter()
            try:
                frame = next(it)
            except StopIteration:
                return
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
            self.frames[name] = self.frames.get(name, 0) + 1
            yield frame

    def rows(self) -> list[dict]:
        return [{"renderer": n, "frames": self.frames[n], "seconds": self.seconds[n],
                 "seconds per frame": self.seconds[n] / self.frames[n],
                 "frames per second": self.frames[n] / self.seconds[n]} for n in self.frames]


def _crop(seq: Sequence, frames: int) -> Sequence:
    """The first ``frames`` frames (all when 0): the smoke profile renders short videos."""
    if frames <= 0 or seq.num_frames <= frames:
        return seq
    segs = tuple(Segment(s.start, min(s.end, frames), s.gloss) for s in seq.segments if s.start < frames)
    return seq.replace(features=seq.features[:frames], valid=None if seq.valid is None else seq.valid[:frames],
                       bio=None if seq.bio is None else seq.bio[:frames], segments=segs)


def test_clips(stage: Stage, inputs: Inputs) -> list[tuple[Sequence, np.ndarray]]:
    """The first ``render.clips_per_language`` test clips with keyframes of every language."""
    out = []
    for lang in inputs.corpus.languages():
        chosen = 0
        for info in inputs.corpus.select("test", lang):
            if chosen == stage.params.render.clips_per_language:
                break
            seq = inputs.corpus.load(info.id)
            keys = clip_keyframes(seq, inputs.keyframes)
            if len(keys):
                out.append((seq, keys))
                chosen += 1
    return out


def generate(stage: Stage, inputs: Inputs, clips: list[tuple[Sequence, np.ndarray]]) -> list[dict[str, Sequence]]:
    """Every system's output for every clip (one batched call per system)."""
    truths, keys = [c for c, _ in clips], [k for _, k in clips]
    sampler = stage.params.signspark.sampler
    systems = {TRUTH: sy.ground_truth_system, KF2P: sy.kf2p_system(inputs.model, sampler), SLERP: sy.slerp_system,
               T2P: sy.t2p_system(inputs.model, sampler)}
    if inputs.triframe is not None:
        systems[NAIVE] = sy.naive_stitch_system(inputs.citations, inputs.triframe)
    outputs = {name: run(truths, keys) for name, run in systems.items()}
    order = [n for n in (TRUTH, KF2P, SLERP, NAIVE, T2P) if n in outputs]
    return [{n: outputs[n][i] for n in order} for i in range(len(truths))]


@dataclass(frozen=True)
class Video:
    """One written video: what it shows, its file (relative to the stage's results) and frames."""

    clip: str
    kind: str
    path: str
    frames: int
    still: np.ndarray  # the middle frame, for the contact sheet


def _write(stage: Stage, name: str, clip: str, kind: str, stream: Iterable[np.ndarray], fps: float,
           folder: str = "videos") -> Video:
    frames: list[np.ndarray] = []

    def keep(it):  # remember frames to take the middle one for the contact sheet
        for f in it:
            frames.append(f)
            yield f

    path = write_video(stage.results / folder / f"{name}.mp4", keep(stream), fps)
    return Video(clip, kind, str(path.relative_to(stage.results)), len(frames), frames[len(frames) // 2])


def smplx_model(stage: Stage):
    """The user's SMPL-X body model when ``render.smplx_dir`` names its folder (rotation clips only;
    the avatar keeps the capsule body), else None."""
    if not stage.params.render.smplx_dir:
        return None
    from signlib.pose.body_model import SMPLXBodyModel

    return SMPLXBodyModel(stage.params.render.smplx_dir)


def render_clip(stage: Stage, outputs: dict[str, Sequence], keys: np.ndarray, timer: Timer) -> list[Video]:
    """The skeleton, mesh, avatar and comparison videos of one test clip (see the module docstring)."""
    cfg, limit = stage.params.render, stage.params.sizes.render_frames
    truth = outputs[TRUTH]
    name = f"{truth.language}_{truth.id}"
    identity = Identity.from_seed(cfg.identity_seed)
    kf2p = _crop(outputs[KF2P].replace(segments=truth.segments, bio=truth.bio), limit)
    ticks = [int(k) for k in keys if k < kf2p.num_frames]
    videos = [_write(stage, f"{name}_skeleton", truth.id, "skeleton", timer.timed(
        "skeleton", skeleton_frames(kf2p, cfg.size, cfg.size, ticks)), truth.fps)]
    body_model = smplx_model(stage)
    scene = mesh_scene(kf2p, identity, body_model)
    camera = clip_camera(scene.framing_points(), cfg.size, cfg.size)
    videos.append(_write(stage, f"{name}_mesh", truth.id, "mesh", timer.timed("mesh", mesh_frames(scene, camera)),
                         truth.fps))
    if has_rotations(truth):
        avatar = avatar_scene(kf2p, identity, cfg.gaussians, seed=cfg.identity_seed)
        videos.append(_write(stage, f"{name}_avatar", truth.id, "avatar", timer.timed(
            f"avatar ({avatar_backend(cfg.backend)})", avatar_frames(avatar, camera, backend=cfg.backend)), truth.fps))
    else:
        print(f"{truth.id}: keypoints, no joint rotations: no Gaussian avatar (skeleton and capsule mesh only)")
    scenes = {n: mesh_scene(_crop(s, limit), identity, body_model) for n, s in outputs.items()}
    shared = clip_camera(torch.cat([s.framing_points() for s in scenes.values()]), cfg.compare_size, cfg.compare_size)
    # Each system's tiles are kept: they are also the preference study's videos (one per system,
    # same camera and size, unlabelled so a rater cannot tell which system is which).
    tiles = {n: list(timer.timed("mesh (comparison tiles)", mesh_frames(s, shared))) for n, s in scenes.items()}
    videos.append(_write(stage, f"{name}_compare", truth.id, "comparison", side_by_side(
        {n: iter(f) for n, f in tiles.items()}, {n: s.num_frames for n, s in scenes.items()}), truth.fps))
    videos += [_write(stage, f"{name}/{_slug(n)}", truth.id, f"{STUDY}{n}", iter(f), truth.fps, folder="study")
               for n, f in tiles.items()]
    return videos


def _slug(system: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in system.lower()).strip("_")


def study_manifest(stage: Stage, clips: list[tuple[Sequence, np.ndarray]], videos: list[Video]) -> dict:
    """Write ``study/study.json``, the preference study's input
    (:func:`signlib.widgets.preference.build_study`): per clip its language, text and one video per
    system, paths relative to ``results/render``; returns it."""
    from signlib.io import write_json

    entries = []
    for truth, _ in clips:
        own = {v.kind.removeprefix(STUDY): v.path for v in videos if v.clip == truth.id and v.kind.startswith(STUDY)}
        if own:
            entries.append({"clip": f"{truth.language}_{truth.id}", "language": truth.language, "text": truth.text,
                            "videos": own})
    manifest = {"method": KF2P, "clips": entries}
    write_json(stage.results / "study" / "study.json", manifest)
    return manifest


def has_rotations(seq: Sequence) -> bool:
    """Whether ``seq`` has joint rotations (the avatar needs them; keypoint clips get meshes)."""
    return seq.get_layout().kind == "rot6d"


def panel(stage: Stage, outputs: dict[str, Sequence], timer: Timer):
    """A Fig-6-style still panel: one row of avatar (or, for keypoint clips, mesh) stills per
    system at ``render.panel_frames`` evenly spaced relative times, ``render.compare_size`` pixels
    square; returns the displayed image."""
    import matplotlib.pyplot as plt

    cfg = stage.params.render
    identity = Identity.from_seed(cfg.identity_seed)
    avatars = has_rotations(outputs[TRUTH])
    scenes = {n: avatar_scene(s, identity, cfg.gaussians, seed=cfg.identity_seed) if avatars else mesh_scene(s)
              for n, s in outputs.items()}
    # Stills at the comparison tile size: a grid of systems × times is read at a glance, not zoomed.
    camera = clip_camera(torch.cat([s.framing_points() for s in scenes.values()]), cfg.compare_size, cfg.compare_size)
    rows = {}
    for name, scene in scenes.items():
        times = np.linspace(0, scene.num_frames - 1, cfg.panel_frames).round().astype(int).tolist()
        rows[name] = list(timer.timed(f"avatar ({avatar_backend(cfg.backend)}, panel stills)", avatar_frames(
            scene, camera, backend=cfg.backend, frames=times)) if avatars else timer.timed(
            "mesh (panel stills)", mesh_frames(scene, camera, frames=times)))
    truth = outputs[TRUTH]
    fig, ax = plt.subplots(figsize=(1.6 * cfg.panel_frames, 1.8 * len(rows)))
    ax.imshow(still_grid(rows))
    ax.axis("off")
    ax.set_title(f"[{truth.language}] {truth.text}", fontsize=9)
    return stage.figure(fig, f"panel_{truth.language}_{truth.id}", dpi=100)


def render_real(stage: Stage, timer: Timer) -> list[Video]:
    """Skeleton and capsule-mesh videos of the first ``render.real_sentences`` real DGS sentences
    (``[]`` when the real-data folder is absent)."""
    cfg, limit = stage.params.render, stage.params.sizes.render_frames
    root = checked_realdata_dir()
    if root is None or cfg.real_sentences == 0:
        print("no real samples: their videos are skipped")
        return []
    videos = []
    for seq, _ in dgs_fluent_sentences(root, "original")[: cfg.real_sentences]:
        seq = _crop(seq, limit)
        videos.append(_write(stage, f"real_{seq.id}_skeleton", seq.id, "real skeleton", timer.timed(
            "skeleton", skeleton_frames(seq, cfg.size, cfg.size)), seq.fps))
        scene = mesh_scene(seq)
        camera = clip_camera(scene.framing_points(), cfg.size, cfg.size)
        videos.append(_write(stage, f"real_{seq.id}_mesh", seq.id, "real capsule mesh",
                             timer.timed("mesh", mesh_frames(scene, camera)), seq.fps))
    return videos


def contact_sheet(stage: Stage, videos: list[Video]):
    """Every video's middle frame in one PNG (``figures/contact_sheet.png``), labelled."""
    import matplotlib.pyplot as plt

    cols = 4
    rows = max(1, -(-len(videos) // cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.2 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, v in zip(axes.ravel(), videos):
        ax.imshow(v.still)
        ax.set_title(f"{v.clip}: {v.kind}", fontsize=7)
    fig.tight_layout()
    return stage.figure(fig, "contact_sheet", dpi=110)


def speed_table(stage: Stage, timer: Timer):
    rows = timer.rows()
    md = stage.table(rows, "speed", caption=f"Rendering speed in this run ({stage.params.render.size}² videos, "
                     f"{stage.params.render.compare_size}² comparison tiles and panel stills), seconds of rendering "
                     "only (scene building and video encoding excluded).", digits=3)
    return md, rows


def video_table(stage: Stage, videos: list[Video]):
    rows = [{"clip": v.clip, "kind": v.kind, "file": v.path, "frames": v.frames} for v in videos]
    return stage.table(rows, "videos", caption="Videos written by this run (under results/render).")


def metrics(timer: Timer, videos: list[Video]) -> dict:
    return {"videos": len(videos), "frames_written": sum(v.frames for v in videos),
            "renderers": {r["renderer"].replace(" ", "_").replace("(", "").replace(")", ""):
                          {"frames": r["frames"], "seconds_per_frame": r["seconds per frame"]} for r in timer.rows()}}


def video_html(videos: list[Video], width: int = 256):
    """An HTML block playing ``videos`` (paths relative to the executed notebook in results/render)."""
    from html import escape

    from IPython.display import HTML

    cells = "".join(f'<figure style="display:inline-block;margin:4px"><video src="{escape(v.path)}" width="{width}" '
                    f'controls loop muted></video><figcaption style="font-size:11px">{escape(v.clip)}: '
                    f'{escape(v.kind)}</figcaption></figure>' for v in videos)
    return HTML(cells)
