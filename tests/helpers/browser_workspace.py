"""A tiny workspace for the browser test, built inside the notebook kernel JupyterLab runs: a
corpus of two rotation clips, an untrained (weight-perturbed) SignSparK, and a preference study
over two small videos. It is test scaffolding, imported by the test's own notebook only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from signlib.data.corpus import write_corpus
from signlib.data.sequence import Segment, Sequence
from signlib.generate.configs import SignSparKConfig, TextEncoderConfig, UNetConfig
from signlib.generate.model import SignSparK
from signlib.io import write_json
from signlib.pose.rotation import axis_angle_to_rot6d
from signlib.baselines.slerp import slerp_sequence
from signlib.keyframes import true_keyframes
from signlib.render.skeleton_video import skeleton_frames
from signlib.render.video import write_video
from signlib.widgets.editor import KeyframeEditor
from signlib.widgets.editor_view import KeyframeEditorView
from signlib.widgets.explorer import SampleExplorer
from signlib.widgets.preference import Session, build_study
from signlib.widgets.preference_view import PreferenceView

T = 80


def _clip(seed: int, language: str) -> Sequence:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T)[:, None, None]
    aa = 0.5 * np.sin(2 * np.pi * (t * rng.uniform(0.5, 1.5, (1, 40, 3)) + rng.uniform(0, 1, (1, 40, 3))))
    feats = axis_angle_to_rot6d(torch.from_numpy(aa.astype(np.float32))).reshape(T, 240).numpy()
    return Sequence(feats, "rot6d", 25.0, text="the cat sleeps", language=language, signer=f"s{seed}",
                    id=f"{language}_{seed}", segments=(Segment(8, 30, "CAT"), Segment(40, 70, "SLEEP")))


def _model() -> SignSparK:
    torch.manual_seed(0)
    config = SignSparKConfig(layout="rot6d", max_frames=128,
                             text=TextEncoderConfig(d_model=32, layers=1, heads=2, ff=64, dropout=0.0),
                             unet=UNetConfig(channels=(32, 48), blocks=1, heads=2, cond_dim=32, patch=2))
    model = SignSparK(config)
    with torch.no_grad():  # a fresh UNet outputs zeros: nudge it so edits visibly change the output
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model.eval()


def _study(root: Path, clips: list[Sequence]) -> Path:
    entries = []
    for k, seq in enumerate(clips):
        videos = {}
        # Skeleton videos of the clip and of SLERP through its keyframes (the untrained model's
        # output would only add seconds): enough to see the study's layout in a screenshot.
        slerp = slerp_sequence(seq, true_keyframes(seq))
        for system, shown in (("truth", seq), ("SignSparK KF2P", seq), ("SLERP", slerp)):
            rel = f"study/{seq.id}/{system.replace(' ', '_')}.mp4"
            write_video(root / rel, skeleton_frames(shown, 160, 160), seq.fps)
            videos[system] = rel
        entries.append({"clip": seq.id, "language": seq.language, "text": seq.text, "videos": videos})
    write_json(root / "study" / "study.json", {"method": "SignSparK KF2P", "clips": entries})
    return root / "study" / "study.json"


def build(root: str) -> tuple[SampleExplorer, KeyframeEditorView, PreferenceView]:
    """The three widgets over a tiny workspace under ``root``."""
    root = Path(root)
    clips = [_clip(1, "DGS"), _clip(2, "ASL")]
    corpus = write_corpus(root / "corpus", clips, {c.signer: "test" for c in clips})
    view = KeyframeEditorView(KeyframeEditor(_model()), [(c, None) for c in clips], size=160)
    study = build_study(_study(root, clips), seed=0, workdir=root / "study_work")
    return SampleExplorer(corpus, "test"), view, PreferenceView(Session(study, root / "answers.jsonl", "tester"))
