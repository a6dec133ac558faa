"""The Progressive Transformers / Prompt2Sign text format: parallel line files per split.

A split is a prefix, e.g. ``data/train``, with one line per sample in each of:

- ``<prefix>.skels``: the pose sequence as whitespace-separated numbers, frame after frame; each frame
  is ``values_per_frame`` coordinates (150 = 50 joints × 3 in the published data: 8 upper-body
  points and 21 per hand) followed by the **counter**, the frame's progress through the sequence in
  ``[0, 1]`` (Progressive Transformers predicts it to decide when to stop);
- ``<prefix>.text``: the spoken sentence;
- ``<prefix>.files``: the sample's name;
- ``<prefix>.gloss`` (optional): its gloss sequence.

:func:`read_prompt2sign` returns :class:`SkelsSample` records; :func:`write_prompt2sign` writes
them (each file atomically), with the counter ``t / (T - 1)`` (0 for a one-frame sequence) unless a
sample carries its own. Bad input is one :class:`~signlib.errors.SignlibError` naming the file and
line: files of different lengths, a line whose length is not a whole number of frames, a token that
is not a number, NaN or infinity, a counter outside ``[0, 1]`` or going backwards, tabs or newlines
inside a text field on writing.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signlib.errors import SignlibError, file_error
from signlib.io import write_text

VALUES_PER_FRAME = 150
FIELDS = ("skels", "text", "files")


@dataclass(frozen=True)
class SkelsSample:
    """One sample: ``frames`` ``(T, V)`` float32 coordinates, ``counter`` ``(T,)`` float32 progress."""

    name: str
    text: str
    frames: np.ndarray
    counter: np.ndarray
    gloss: str | None = None

    @property
    def num_frames(self) -> int:
        return len(self.frames)


def _lines(path: Path) -> list[str]:
    if not path.is_file():
        raise file_error(path, "file not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as err:
        raise file_error(path, f"not UTF-8 text ({err.reason} at byte {err.start})") from None
    except OSError as err:
        raise file_error(path, f"cannot read file ({err.strerror or err})") from None
    return text.split("\n")[:-1] if text.endswith("\n") else text.split("\n") if text else []


def _parse_skels(line: str, path: Path, n: int, values_per_frame: int) -> tuple[np.ndarray, np.ndarray]:
    tokens = line.split()
    width = values_per_frame + 1
    if not tokens or len(tokens) % width:
        raise file_error(path, f"line {n}: {len(tokens)} numbers is not a whole number of frames of {width} "
                               f"({values_per_frame} coordinates + the counter)")
    try:
        values = np.array([float(t) for t in tokens], np.float64)
    except ValueError:
        bad = next(t for t in tokens if not _is_number(t))
        raise file_error(path, f"line {n}: {bad[:40]!r} is not a number") from None
    if not np.isfinite(values).all():
        raise file_error(path, f"line {n}: NaN or infinite values")
    values = values.reshape(-1, width)
    counter = values[:, -1]
    if counter.min() < 0 or counter.max() > 1 or np.any(np.diff(counter) < 0):
        raise file_error(path, f"line {n}: the counter (every {width}th value) must rise within [0, 1]")
    return values[:, :-1].astype(np.float32), counter.astype(np.float32)


def _is_number(token: str) -> bool:
    try:
        float(token)
        return True
    except ValueError:
        return False


def read_prompt2sign(prefix: str | os.PathLike, values_per_frame: int = VALUES_PER_FRAME) -> list[SkelsSample]:
    """The samples of split ``prefix`` (``<prefix>.skels``, ``.text``, ``.files``, optional ``.gloss``)."""
    prefix = Path(prefix)
    if isinstance(values_per_frame, bool) or not isinstance(values_per_frame, int) or values_per_frame < 1:
        raise SignlibError(f"{prefix}: values_per_frame must be a positive integer, got {values_per_frame!r}")
    paths = {f: prefix.with_name(f"{prefix.name}.{f}") for f in (*FIELDS, "gloss")}
    columns = {f: _lines(paths[f]) for f in FIELDS}
    if paths["gloss"].is_file():
        columns["gloss"] = _lines(paths["gloss"])
    counts = {f: len(c) for f, c in columns.items()}
    if len(set(counts.values())) != 1:
        raise file_error(prefix, "the files have different numbers of lines: "
                                 + ", ".join(f"{paths[f].name} {n}" for f, n in counts.items()))
    out = []
    for i in range(counts["skels"]):
        frames, counter = _parse_skels(columns["skels"][i], paths["skels"], i + 1, values_per_frame)
        out.append(SkelsSample(columns["files"][i].strip(), columns["text"][i].strip(), frames, counter,
                               columns["gloss"][i].strip() if "gloss" in columns else None))
    return out


def progress_counter(num_frames: int) -> np.ndarray:
    """``(T,)`` the counter ``t / (T - 1)`` (0 for a single frame)."""
    return np.linspace(0.0, 1.0, num_frames, dtype=np.float32) if num_frames > 1 else np.zeros(num_frames, np.float32)


def _one_line(value: str, what: str, k: int) -> str:
    if "\n" in value or "\r" in value:
        raise SignlibError(f"sample {k}: {what} {value[:40]!r} holds a line break (one line per sample)")
    return value


def write_prompt2sign(prefix: str | os.PathLike, samples: list[SkelsSample], digits: int = 5) -> list[Path]:
    """Write ``samples`` as split ``prefix`` (a ``.gloss`` file when every sample has a gloss);
    returns the files written. Coordinates keep ``digits`` decimals."""
    prefix = Path(prefix)
    if not samples:
        raise SignlibError(f"{prefix}: no samples to write")
    width = samples[0].frames.shape[1] if samples[0].frames.ndim == 2 else -1
    skels, text, files = [], [], []
    for k, s in enumerate(samples):
        frames = np.asarray(s.frames, np.float64)
        if frames.ndim != 2 or frames.shape[1] != width or len(frames) == 0:
            raise SignlibError(f"sample {k} ({s.name}): frames must be (T >= 1, {width}), got {frames.shape}")
        counter = progress_counter(len(frames)) if s.counter is None else np.asarray(s.counter, np.float64)
        if counter.shape != (len(frames),):
            raise SignlibError(f"sample {k} ({s.name}): counter must have one value per frame")
        rows = np.concatenate([frames, counter[:, None]], 1)
        if not np.isfinite(rows).all():
            raise SignlibError(f"sample {k} ({s.name}): NaN or infinite values")
        # Fixed decimals, trailing zeros dropped: "0.5", "12", never "1e-07" (some readers split on "e").
        skels.append(" ".join(f"{v:.{digits}f}".rstrip("0").rstrip(".") for v in rows.ravel()))
        text.append(_one_line(s.text, "text", k))
        files.append(_one_line(s.name, "name", k))
    columns = {"skels": skels, "text": text, "files": files}
    if all(s.gloss is not None for s in samples):
        columns["gloss"] = [_one_line(s.gloss, "gloss", k) for k, s in enumerate(samples)]
    written = []
    for field, lines in columns.items():
        path = prefix.with_name(f"{prefix.name}.{field}")
        write_text(path, "\n".join(lines) + "\n")
        written.append(path)
    return written
