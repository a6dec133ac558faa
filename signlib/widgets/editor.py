"""The keyframe editor's logic: a plain-Python controller that the widget (and the tests) drive.

A session edits one sequence's keyframes and regenerates it with SignSparK keyframe-to-pose:

- **open** a test clip (:meth:`KeyframeEditor.open_clip`: its keyframes are the mined ones you
  pass, else the onset/mid/offset frames of its gold signs) or a typed text and language
  (:meth:`KeyframeEditor.open_text`: retrieval keyframes from the tri-frame dictionary when a
  text-to-gloss ``translate`` is given and finds known glosses, else text-to-pose followed by
  FAST segmentation of the result when a ``segmenter`` is given, else a keyframe every
  ``fallback_spacing`` frames of the text-to-pose output);
- **edit**: :meth:`move` a keyframe in time, :meth:`add` or :meth:`delete` one,
  :meth:`replace_with_sign` (the onset/mid/offset poses of a dictionary sign replace those of the
  sign the keyframe belongs to), :meth:`drag_wrist` (inverse kinematics through the differentiable
  forward kinematics, :func:`signlib.pose.ik.wrist_ik`);
- **regenerate**: SignSparK KF2P through the edited keyframes and, for comparison, SLERP through
  the same keyframes (:class:`Generated`).

Every edit is checked before it changes anything (a :class:`SignlibError` names what is wrong) and
bumps :attr:`KeyframeEditor.version`, so a view knows when its result is stale.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from signlib.baselines.slerp import slerp_sequence
from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.generate import modes
from signlib.generate.model import SignSparK
from signlib.generate.sampling import SamplerConfig
from signlib.keyframes import Keyframes, onset_mid_offset, segment_keyframes, true_keyframes
from signlib.pose.ik import wrist_ik, wrist_position
from signlib.triframe import TriframeDictionary, retrieval_keyframes

#: ``translate(texts, languages) -> [[gloss, ...], ...]``: the text-to-gloss model.
Translate = Callable[[list[str], list[str]], list[list[str]]]
#: ``segmenter(sequence) -> [(start, end), ...]``: FAST's signs in a sequence.
Segmenter = Callable[[Sequence], list[tuple[int, int]]]


@dataclass(frozen=True)
class Generated:
    """One regeneration: SignSparK KF2P and SLERP through the same keyframes.

    Attributes:
        kf2p, slerp: ``(T, D)`` sequences of the edited length.
        version: the editor version they were generated from.
        seconds: wall time of the KF2P call (the network's sampling).
    """

    kf2p: Sequence
    slerp: Sequence
    version: int
    seconds: float


class KeyframeEditor:
    """Edit the keyframes of one sequence and regenerate it (module docstring).

    Attributes:
        source: the sequence being edited: the clip, or the first generation of a typed text.
        frames: sorted keyframe frame indices.
        poses: ``{frame: (D,) features}``, one pose per keyframe.
        segments: the sign spans the keyframes were mined from (gold, retrieved or FAST).
        result: the last :class:`Generated`, or None.
    """

    def __init__(self, model: SignSparK, dictionary: TriframeDictionary | None = None,
                 translate: Translate | None = None, segmenter: Segmenter | None = None,
                 sampler: SamplerConfig = SamplerConfig(), seed: int = 0, fallback_spacing: int = 12):
        self.model, self.dictionary, self.translate, self.segmenter = model, dictionary, translate, segmenter
        self.sampler, self.seed, self.fallback_spacing = sampler, seed, fallback_spacing
        self.source: Sequence | None = None
        self.frames: list[int] = []
        self.poses: dict[int, np.ndarray] = {}
        self.segments: tuple[Segment, ...] = ()
        self.result: Generated | None = None
        self.version = 0

    # -- opening -------------------------------------------------------------------------------
    def _start(self, source: Sequence, frames, poses=None, segments=()) -> None:
        frames = sorted({int(f) for f in frames})
        if not frames:
            raise SignlibError(f"{source.id or 'sequence'}: no keyframes to edit")
        if frames[0] < 0 or frames[-1] >= source.num_frames:
            raise SignlibError(f"{source.id}: keyframes {frames} fall outside its {source.num_frames} frames")
        self.source, self.frames, self.segments = source, frames, tuple(segments)
        self.poses = {f: np.array(source.features[f] if poses is None else poses[i], np.float32)
                      for i, f in enumerate(frames)}
        self.result = None
        self.version += 1

    def open_clip(self, seq: Sequence, keyframes=None) -> None:
        """Edit clip ``seq`` from ``keyframes`` (default: onset/mid/offset of its gold signs)."""
        self._start(seq, true_keyframes(seq) if keyframes is None else keyframes, segments=seq.segments)

    def open_text(self, text: str, language: str) -> None:
        """Edit a typed ``text`` in ``language`` (module docstring: where its keyframes come from)."""
        if self.translate is not None and self.dictionary is not None:
            glosses = [g for g in self.translate([text], [language])[0] if self.dictionary.has(language, g)]
            if glosses:
                keys = retrieval_keyframes(self.dictionary, language, glosses)
                if keys.num_frames <= self.model.config.max_frames:
                    seq = modes.kf2p(self.model, [keys], [text], [language], self.sampler, self.seed)[0]
                    seq = seq.replace(id="typed text", segments=keys.segments)
                    return self._start(seq, keys.frames, keys.features, keys.segments)
        seq = modes.t2p(self.model, [text], [language], self.sampler, self.seed)[0].replace(id="typed text")
        spans = self.segmenter(seq) if self.segmenter is not None else []
        if spans:
            segments = tuple(Segment(int(s), int(e), "?") for s, e in spans)
            return self._start(seq, onset_mid_offset(spans, seq.num_frames), segments=segments)
        self._start(seq, range(0, seq.num_frames, self.fallback_spacing) or [0])

    # -- edits ---------------------------------------------------------------------------------
    def _opened(self) -> Sequence:
        if self.source is None:
            raise SignlibError("the editor has no sequence: call open_clip or open_text first")
        return self.source

    def _index(self, index: int) -> int:
        if not 0 <= index < len(self.frames):
            raise SignlibError(f"keyframe index {index} is out of range: there are {len(self.frames)} keyframes")
        return self.frames[index]

    def _free_frame(self, frame: int) -> int:
        frame = int(frame)
        if not 0 <= frame < self._opened().num_frames:
            raise SignlibError(f"frame {frame} is outside the sequence's {self.source.num_frames} frames")
        if frame in self.poses:
            raise SignlibError(f"frame {frame} already holds a keyframe")
        return frame

    def _changed(self) -> None:
        self.frames = sorted(self.poses)
        self.version += 1

    def move(self, index: int, frame: int) -> None:
        """Move keyframe ``index`` (in time order) to ``frame``, keeping its pose."""
        old = self._index(index)
        if int(frame) == old:
            return
        frame = self._free_frame(frame)  # checked before the pose leaves its old frame
        self.poses[frame] = self.poses.pop(old)
        self._changed()

    def add(self, frame: int, pose=None) -> None:
        """A keyframe at ``frame``: ``pose`` ``(D,)``, or the current KF2P result's (else the
        source's) pose at that frame."""
        frame = self._free_frame(frame)
        if pose is None:
            pose = (self.result.kf2p if self.result is not None else self.source).features[frame]
        pose = np.asarray(pose, np.float32)
        if pose.shape != (self.source.features.shape[1],) or not np.isfinite(pose).all():
            raise SignlibError(f"pose: expected {self.source.features.shape[1]} finite values, got shape {pose.shape}")
        self.poses[frame] = pose.copy()
        self._changed()

    def delete(self, index: int) -> None:
        """Remove keyframe ``index``; the last one stays (keyframe-to-pose needs at least one)."""
        frame = self._index(index)
        if len(self.frames) == 1:
            raise SignlibError("cannot delete the last keyframe: keyframe-to-pose needs at least one")
        del self.poses[frame]
        self._changed()

    def replace_with_sign(self, index: int, gloss: str) -> None:
        """Give the sign keyframe ``index`` belongs to the dictionary's onset/mid/offset poses of
        ``gloss`` (its three keyframes are set, added where missing). A keyframe outside every
        sign gets the sign's middle pose."""
        frame = self._index(index)
        if self.dictionary is None:
            raise SignlibError("no tri-frame dictionary was given to the editor")
        language = self.source.language
        if not self.dictionary.has(language, gloss):
            raise SignlibError(f"gloss {gloss!r} is not in the {language} dictionary")
        tri = np.asarray(self.dictionary.lookup(language, gloss), np.float32)  # (3, D)
        hits = [k for k, s in enumerate(self.segments) if s.start <= frame < s.end]
        if not hits:
            self.poses[frame] = tri[1].copy()
        else:
            seg = self.segments[hits[0]]
            for pose, f in zip(tri, segment_keyframes(seg.start, seg.end)):
                self.poses[int(f)] = pose.copy()
            self.segments = tuple(Segment(s.start, s.end, gloss) if k == hits[0] else s
                                  for k, s in enumerate(self.segments))
        self._changed()

    def wrist(self, index: int, side: str) -> np.ndarray:
        """``(3,)`` position of keyframe ``index``'s ``side`` wrist (FK coordinates)."""
        return wrist_position(self.poses[self._index(index)], self._opened().layout, side)

    def drag_wrist(self, index: int, side: str, target) -> float:
        """Solve keyframe ``index``'s arm so its ``side`` wrist reaches ``target`` ``(3,)``;
        returns the distance it stays from the target (0 when reachable)."""
        frame = self._index(index)
        solved = wrist_ik(self.poses[frame], self.source.layout, side, target)
        self.poses[frame] = solved.features
        self._changed()
        return solved.residual

    # -- generation ----------------------------------------------------------------------------
    def keyframes(self) -> Keyframes:
        """The edited keyframes as a keyframe-to-pose request."""
        src = self._opened()
        return Keyframes(np.array(self.frames), np.stack([self.poses[f] for f in self.frames]), src.num_frames,
                         self.segments)

    def regenerate(self) -> Generated:
        """SignSparK KF2P and SLERP through the edited keyframes (stored in :attr:`result`)."""
        src, keys = self._opened(), self.keyframes()
        start = time.perf_counter()
        kf2p = modes.kf2p(self.model, [keys], [src.text or None], [src.language], self.sampler, self.seed)[0]
        seconds = time.perf_counter() - start
        track = src.features.copy()
        track[keys.frames] = keys.features
        slerp = slerp_sequence(src.replace(features=track), keys.frames)
        kf2p = kf2p.replace(id=f"{src.id} (edited)", bio=None, segments=self.segments)
        self.result = Generated(kf2p, slerp.replace(segments=self.segments), self.version, seconds)
        return self.result

    @property
    def stale(self) -> bool:
        """Whether the keyframes changed since the last :meth:`regenerate`."""
        return self.result is None or self.result.version != self.version
