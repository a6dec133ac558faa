"""What the workshop model does, side by side with SLERP (tutorial notebook 03).

Every function takes generated or true :class:`~signlib.data.sequence.Sequence` clips (``rot6d``
features ``(T, D)``) and keyframe frame indices ``(K,)``:

- :func:`score_systems`: DTW-JPE of SLERP, the minimum-jerk keyframe track, SignSparK
  keyframe-to-pose and text-to-pose against the truth (:mod:`signlib.evaluate.production`), over
  the whole clip and over the keyframed span, as summary rows; :func:`dtw_markdown` shows them in cm
  and :func:`by_system` keys them by system.
- :func:`examples`: truth, KF2P, T2P and SLERP of one clip; :func:`panel` draws them as skeleton
  frames; :func:`render_video` writes them as a side-by-side skeleton video and :func:`show_video`
  embeds it in the notebook.
- :func:`move_keyframe` and :func:`wrist_heights`: the keyframe-editing exercise.
- :func:`keyframe_gap`: how far a generated clip is from its keyframes (0 when it hits them).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from IPython.display import Image, Markdown, Video
from matplotlib.figure import Figure
from tqdm.auto import tqdm

from signlib.baselines.slerp import slerp_sequence
from signlib.data.positions import sequence_positions
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.evaluate.production import evaluate_systems, summarize_rows
from signlib.evaluate.systems import kf2p_system, slerp_system, t2p_system, track_system
from signlib.evaluate.tables import to_markdown
from signlib.generate import modes
from signlib.generate.model import SignSparK
from signlib.generate.sampling import SamplerConfig
from signlib.keyframes import Keyframes
from signlib.render.frames import side_by_side
from signlib.render.skeleton import plot_systems
from signlib.render.skeleton_video import skeleton_frames
from signlib.render.video import write_video
from signlib.tutorial.plots import as_image


def score_systems(model: SignSparK, clips: list[Sequence], keys: list[np.ndarray],
                  sampler: SamplerConfig = SamplerConfig(), with_text: bool = True, t2p: bool = True,
                  progress: bool = True) -> list[dict]:
    """One summary row per system (all languages pooled): ``system``, ``clips``, ``body_mean``,
    ``hand_mean`` (whole clip) and ``inner_body_mean``, ``inner_hand_mean`` (keyframed span),
    each with its ``_std``; metres per DTW step."""
    systems = {"SLERP": slerp_system, "keyframe track (minimum jerk)": track_system(model.config.easing),
               "SignSparK KF2P" + ("" if with_text else ", no text"): kf2p_system(model, sampler, with_text)}
    rows = evaluate_systems(systems, clips, keys, progress=progress)
    if t2p:  # no keyframes, a length of its own: only the whole clip compares (no span columns)
        rows += evaluate_systems({"SignSparK T2P (text only)": t2p_system(model, sampler)}, clips, keys,
                                 inner=False, progress=progress)
    return summarize_rows(rows, by_language=False)


def dtw_markdown(summary: list[dict]) -> Markdown:
    """DTW-JPE in cm per DTW step: whole clip and keyframed span, body and hands."""
    columns = {"body_mean": "body, clip (cm)", "hand_mean": "hands, clip (cm)",
               "inner_body_mean": "body, keyframed span (cm)", "inner_hand_mean": "hands, keyframed span (cm)"}
    rows = [{"system": r["system"], "clips": r["clips"],
             **{name: 100 * r[key] if key in r else "–" for key, name in columns.items()}} for r in summary]
    return Markdown(to_markdown(rows, digits=2))


def by_system(summary: list[dict]) -> dict[str, dict]:
    """Summary rows keyed by their system name."""
    return {r["system"]: r for r in summary}


def examples(model: SignSparK, clip: Sequence, keys: np.ndarray, sampler: SamplerConfig = SamplerConfig(),
             seed: int = 0) -> dict[str, Sequence]:
    """``{"truth", "SignSparK KF2P", "SignSparK T2P", "SLERP"}`` for one clip and its keyframes."""
    request = Keyframes.from_sequence(clip, keys)
    kf2p = modes.kf2p(model, [request], [clip.text], [clip.language], sampler, seed)[0]
    t2p = modes.t2p(model, [clip.text], [clip.language], sampler, seed)[0]
    return {"truth": clip, "SignSparK KF2P": kf2p, "SignSparK T2P": t2p, "SLERP": slerp_sequence(clip, keys)}


def panel(sequences: dict[str, Sequence], keys: np.ndarray, num_frames: int = 6) -> Image:
    """Skeleton frames of every sequence at the same relative times, the truth's timeline beneath."""
    first = next(iter(sequences.values()))
    return as_image(plot_systems(sequences, num_frames, f"{first.language}: {first.text}", keyframes=keys))


def render_video(path: str | os.PathLike, sequences: dict[str, Sequence], keys: np.ndarray, size: int = 192,
                 frames: int = 0) -> Path:
    """A side-by-side skeleton video (mp4, or GIF where ffmpeg cannot run) of ``sequences``, the
    keyframes ticked on each timeline; ``frames > 0`` keeps only the first ``frames`` frames."""
    keep = {name: seq if frames <= 0 or seq.num_frames <= frames else seq.replace(
        features=seq.features[:frames], valid=None if seq.valid is None else seq.valid[:frames],
        bio=None if seq.bio is None else seq.bio[:frames], segments=tuple(s for s in seq.segments if s.end <= frames))
        for name, seq in sequences.items()}
    ticks = [int(k) for k in keys if frames <= 0 or k < frames]
    streams = {name: skeleton_frames(seq, size, size, ticks) for name, seq in keep.items()}
    lengths = {name: seq.num_frames for name, seq in keep.items()}
    first = next(iter(sequences.values()))
    frames_out = tqdm(side_by_side(streams, lengths), total=max(lengths.values()), desc="video", leave=False)
    return write_video(path, frames_out, fps=first.fps)


def show_video(path: str | os.PathLike):
    """The video embedded for display (an mp4 player, or the GIF as an image)."""
    path = Path(path)
    if path.suffix == ".gif":
        return Image(filename=str(path))
    return Video(str(path), embed=True, html_attributes="controls loop")


def keyframe_gap(seq: Sequence, keyframes: Keyframes) -> float:
    """Largest ``|feature − keyframe feature|`` on the keyframes of ``keyframes`` (0 = hits them)."""
    if seq.num_frames != keyframes.num_frames:
        raise SignlibError(f"keyframe_gap: {seq.num_frames} frames generated for a "
                           f"{keyframes.num_frames}-frame request")
    if len(keyframes.frames) == 0:
        return 0.0
    return float(np.abs(seq.features[keyframes.frames] - keyframes.features).max())


def move_keyframe(keyframes: Keyframes, index: int, shift: int) -> Keyframes:
    """The same keyframe poses with keyframe ``index`` moved ``shift`` frames later (earlier when
    negative); it must stay strictly between its neighbours."""
    frames = keyframes.frames.copy()
    if not -len(frames) <= index < len(frames):
        raise SignlibError(f"move_keyframe: no keyframe {index} among {len(frames)}")
    frames[index] += shift
    if np.any(np.diff(frames) <= 0) or frames.min() < 0 or frames.max() >= keyframes.num_frames:
        raise SignlibError(f"move_keyframe: moving keyframe {index} by {shift} gives frames {frames.tolist()}, "
                           "which are not inside the clip and in order; choose a smaller shift")
    return Keyframes(frames, keyframes.features, keyframes.num_frames, keyframes.segments)


def wrist_heights(sequences: dict[str, Sequence], keyframes: dict[str, np.ndarray] | None = None) -> Image:
    """Height of the left and right wrist (m) over time for each sequence, with each sequence's
    keyframes (``keyframes[name]``) marked on its curve."""
    fig = Figure(figsize=(10, 2.8))
    axes = [fig.add_subplot(1, 2, k + 1) for k in range(2)]
    for name, seq in sequences.items():
        pos, xyz = sequence_positions(seq)
        for ax, side in zip(axes, ("left", "right")):
            height = pos[:, xyz.joint_index(f"{side}_wrist"), 1]
            (line,) = ax.plot(height, lw=1.3, label=name)
            marks = (keyframes or {}).get(name)
            if marks is not None and len(marks):
                ax.scatter(marks, height[marks], s=16, color=line.get_color(), zorder=5)
    for ax, side in zip(axes, ("left", "right")):
        ax.set_title(f"{side} wrist height", fontsize=9)
        ax.set_xlabel("frame")
    axes[0].legend(fontsize=7)
    return as_image(fig)
