"""A tiny procedural starter corpus: the placeholder input until the full generator lands.

Each language gets a small vocabulary of signs; a sign is a target arm posture plus a handshape
(dominant hand, sometimes both), held with a small oscillation. Clips are rest → (transition →
sign)* → rest with cosine-eased transitions, per-signer speed and amplitude, and estimator-like
jitter. Ground-truth BIO and gloss segments come from construction. It is deliberately simple;
the phonological multilingual generator (DESIGN §3) replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from signlib.data.sequence import Segment, Sequence
from signlib.pose.layout import MANO_JOINTS, UPPER_BODY_10, get_layout
from signlib.pose.rotation import axis_angle_to_rot6d, mirror_axis_angle


@dataclass(frozen=True)
class StarterSpec:
    languages: tuple[str, ...] = ("ASL", "BSL", "DGS", "CSL")
    signers_per_language: int = 3
    clips_per_signer: int = 2
    vocabulary: int = 12
    signs_per_clip: tuple[int, int] = (2, 4)
    fps: float = 25.0
    seed: int = 0


_J = {name: i for i, name in enumerate(UPPER_BODY_10)}
_WORDS = {
    "en": "house eat friend school water book happy go work family tomorrow help".split(),
    "de": "haus essen freund schule wasser buch froh gehen arbeit familie morgen helfen".split(),
    "zh": "家 吃 朋友 学校 水 书 高兴 去 工作 家庭 明天 帮助".split(),
}
#: spoken language of each sign language's text (ASL and BSL share English, so only the
#: language token tells them apart).
SPOKEN = {"ASL": "en", "BSL": "en", "DGS": "de", "CSL": "zh"}


def _rest_pose() -> np.ndarray:
    """``(40, 3)`` axis-angle: arms hanging by the sides, relaxed hands."""
    aa = np.zeros((40, 3), np.float32)
    aa[_J["left_shoulder"]] = (0, 0, -1.25)   # rotate the +x (left) arm down towards -y
    aa[_J["right_shoulder"]] = (0, 0, 1.25)
    aa[10:, 2] = 0.15                          # slight finger flexion on both hands
    return aa


def _sign_pose(rng: np.random.Generator, two_handed: bool) -> np.ndarray:
    """A random signing posture: the dominant (right) arm raised forward, a random handshape."""
    aa = _rest_pose()
    aa[_J["right_shoulder"]] = (rng.uniform(-0.2, 0.4), rng.uniform(0.4, 1.2), rng.uniform(0.1, 0.7))
    aa[_J["right_elbow"]] = (0, rng.uniform(0.6, 2.0), 0)
    aa[_J["right_wrist"]] = rng.uniform(-0.4, 0.4, 3)
    curls = rng.uniform(0, 1.4, 5)  # one curl per finger, MANO order index, middle, pinky, ring, thumb
    aa[25:40, 2] = np.repeat(curls, 3)
    if two_handed:
        aa[_J["left_shoulder"]] = (aa[_J["right_shoulder"], 0], -aa[_J["right_shoulder"], 1], -aa[_J["right_shoulder"], 2])
        aa[_J["left_elbow"]] = (0, -aa[_J["right_elbow"], 1], 0)
        aa[10:25] = aa[25:40]
    return aa


def _ease(n: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n + 2)[1:-1])


def _to_features(aa: np.ndarray) -> np.ndarray:
    """``(T, 40, 3)`` world-convention axis-angle → ``(T, 240)`` stored rot6d (left hand mirrored)."""
    t = torch.from_numpy(aa.astype(np.float32))
    t[:, 10:25] = mirror_axis_angle(t[:, 10:25])
    return axis_angle_to_rot6d(t).reshape(len(aa), -1).numpy()


def generate_starter(spec: StarterSpec = StarterSpec()) -> list[Sequence]:
    """All clips of the starter corpus, deterministic for ``spec.seed``."""
    rng = np.random.default_rng(spec.seed)
    layout = get_layout("rot6d")
    assert layout.num_joints == 40 and len(MANO_JOINTS) == 15
    out = []
    for language in spec.languages:
        words = _WORDS[SPOKEN.get(language, "en")]
        vocab = [(words[k % len(words)].upper() + ("" if k < len(words) else str(k // len(words))),
                  _sign_pose(rng, two_handed=rng.random() < 0.3)) for k in range(spec.vocabulary)]
        for s in range(spec.signers_per_language):
            signer = f"{language.lower()}{s:02d}"
            speed, amp = rng.uniform(0.8, 1.25), rng.uniform(0.8, 1.2)
            for c in range(spec.clips_per_signer):
                n_signs = int(rng.integers(spec.signs_per_clip[0], spec.signs_per_clip[1] + 1))
                picks = rng.choice(len(vocab), n_signs, replace=False)
                poses, segments = [_rest_pose()[None].repeat(int(rng.integers(6, 12)), 0)], []
                frame = len(poses[0])
                for k in picks:
                    gloss, target = vocab[k]
                    target = _rest_pose() + amp * (target - _rest_pose())
                    n_tr = max(3, int(rng.integers(6, 12) / speed))
                    poses.append(poses[-1][-1] + _ease(n_tr)[:, None, None] * (target - poses[-1][-1]))
                    frame += n_tr
                    n_sign = max(4, int(rng.integers(10, 18) / speed))
                    wobble = 0.15 * np.sin(np.linspace(0, 2 * np.pi, n_sign))[:, None, None]
                    held = target[None].repeat(n_sign, 0)
                    held[:, _J["right_elbow"], 1:2] += wobble[:, 0]
                    poses.append(held)
                    segments.append(Segment(frame, frame + n_sign, gloss))
                    frame += n_sign
                n_back = int(rng.integers(6, 12))
                poses.append(poses[-1][-1] + _ease(n_back)[:, None, None] * (_rest_pose() - poses[-1][-1]))
                poses.append(_rest_pose()[None].repeat(int(rng.integers(4, 8)), 0))
                aa = np.concatenate(poses, 0)
                aa = aa + rng.normal(0, 0.01, aa.shape)  # estimator-like jitter
                glosses = [seg.gloss for seg in segments]
                out.append(Sequence(
                    features=_to_features(aa), layout=layout.name, fps=spec.fps, segments=tuple(segments),
                    text=("" if SPOKEN.get(language) == "zh" else " ").join(g.lower() for g in glosses), language=language, signer=signer,
                    id=f"{signer}_{c:03d}"))
    return out
