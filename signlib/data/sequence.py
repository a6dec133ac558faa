"""The sequence record (DESIGN §2): one clip of signing and everything known about it."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from signlib.data.bio import bio_to_segments, segments_to_bio
from signlib.errors import SignlibError
from signlib.pose.layout import Layout, get_layout

#: Longest clip a record accepts (10 minutes at 50 fps); longer input is almost surely a unit error.
MAX_FRAMES = 30_000


@dataclass(frozen=True)
class Segment:
    """A gloss occurrence: frames ``start`` (inclusive) to ``end`` (exclusive)."""

    start: int
    end: int
    gloss: str = ""


@dataclass(frozen=True)
class Sequence:
    """One clip.

    Attributes:
        features: ``(T, D)`` float32, never NaN; missing joints hold a fill value and are marked
            in ``valid``.
        layout: name of the :class:`~signlib.pose.layout.Layout` of ``features``.
        fps: frames per second.
        valid: ``(T, J)`` bool, True where the joint was observed (a hand not detected is False).
        bio: ``(T,)`` int8 FAST labels (O=0, I=1, B=2) or None when unlabelled.
        segments: gloss segments in frames.
        text: the spoken-language text.
        language: sign language code (e.g. ``"DGS"``).
        signer: signer id.
        id: clip id, unique within a corpus.
    """

    features: np.ndarray
    layout: str
    fps: float
    valid: np.ndarray | None = None
    bio: np.ndarray | None = None
    segments: tuple[Segment, ...] = ()
    text: str = ""
    language: str = ""
    signer: str = ""
    id: str = ""
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self):
        lay = get_layout(self.layout)
        feats = np.asarray(self.features, dtype=np.float32)
        name = self.id or "sequence"
        if feats.ndim != 2:
            raise SignlibError(f"{name}: features must be (T, D), got shape {feats.shape}")
        if feats.shape[0] == 0:
            raise SignlibError(f"{name}: empty sequence (0 frames)")
        if feats.shape[0] > MAX_FRAMES:
            raise SignlibError(f"{name}: {feats.shape[0]} frames is over the limit of {MAX_FRAMES}")
        lay.check(feats, f"{name}: features")
        if not np.isfinite(feats).all():
            raise SignlibError(f"{name}: features contain NaN or inf; mark missing joints in `valid` instead")
        if not (np.isfinite(self.fps) and self.fps > 0):
            raise SignlibError(f"{name}: fps must be positive, got {self.fps}")
        object.__setattr__(self, "features", feats)
        T = feats.shape[0]
        if self.valid is not None:
            valid = np.asarray(self.valid, dtype=bool)
            if valid.shape != (T, lay.num_joints):
                raise SignlibError(f"{name}: valid mask must be {(T, lay.num_joints)}, got {valid.shape}")
            object.__setattr__(self, "valid", valid)
        if self.bio is not None:
            bio = np.asarray(self.bio, dtype=np.int8)
            if bio.shape != (T,) or not np.isin(bio, (0, 1, 2)).all():
                raise SignlibError(f"{name}: bio must be ({T},) with values O=0, I=1, B=2")
            object.__setattr__(self, "bio", bio)
        segs = tuple(s if isinstance(s, Segment) else Segment(int(s[0]), int(s[1]), str(s[2]) if len(s) > 2 else "")
                     for s in self.segments)
        for s in segs:
            if not 0 <= s.start < s.end <= T:
                raise SignlibError(f"{name}: segment {s} is outside the {T} frames of the clip")
        object.__setattr__(self, "segments", segs)

    @property
    def num_frames(self) -> int:
        return self.features.shape[0]

    @property
    def duration(self) -> float:
        return self.num_frames / self.fps

    @property
    def glosses(self) -> list[str]:
        return [s.gloss for s in self.segments]

    def get_layout(self) -> Layout:
        return get_layout(self.layout)

    def valid_or_all(self) -> np.ndarray:
        """``(T, J)`` bool: ``valid``, or all True when no mask was given."""
        if self.valid is not None:
            return self.valid
        return np.ones((self.num_frames, get_layout(self.layout).num_joints), dtype=bool)

    def labels(self) -> np.ndarray:
        """``(T,)`` FAST BIO labels: stored ones, else derived from the gloss segments."""
        if self.bio is not None:
            return self.bio
        return segments_to_bio([(s.start, s.end) for s in self.segments], self.num_frames)

    def with_bio_segments(self, glosses=None) -> "Sequence":
        """A copy whose segments come from ``bio`` (``glosses`` names them in order)."""
        spans = bio_to_segments(self.labels())
        glosses = list(glosses) if glosses is not None else [""] * len(spans)
        if len(glosses) != len(spans):
            raise SignlibError(f"{self.id}: {len(glosses)} glosses for {len(spans)} BIO segments")
        return replace(self, segments=tuple(Segment(a, b, g) for (a, b), g in zip(spans, glosses)))

    def replace(self, **changes) -> "Sequence":
        return replace(self, **changes)


def mask_missing(features: np.ndarray, layout: Layout | str, fill: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Turn NaN-marked missing joints into a fill value and a ``(T, J)`` valid mask.

    Args:
        features: ``(T, D)`` with NaN where a joint was not observed.
    Returns:
        ``(features (T, D) without NaN, valid (T, J) bool)``; a joint is invalid if any channel is NaN.
    """
    lay = get_layout(layout)
    x = np.asarray(features, dtype=np.float32).reshape(len(features), lay.num_joints, lay.channels)
    valid = np.isfinite(x).all(-1)
    x = np.where(valid[..., None], x, np.float32(fill))
    return x.reshape(len(features), lay.dim), valid
