"""The forced-choice preference study (the paper's Fig 5b): which of two videos looks more natural.

:func:`build_study` turns the render stage's ``results/render/study/study.json`` into a :class:`Study`
of :class:`Trial` s (one per clip and comparison "method vs X", order and sides drawn from a seed, plus
attention checks: truth against a frozen copy of itself). :func:`record` appends an answer to a JSONL
file atomically, :func:`read_answers` reads them, :func:`summary` gives preference rates with exact
(:mod:`~signlib.widgets.preference_stats`) intervals and attention pass rates. :class:`Session` is the controller behind
``preference_view.PreferenceView`` (current trial, answer, progress, resume); :func:`simulate` plays a
rater. An answers line holds ``study`` (id), ``index``, ``clip``, ``kind``, ``left``, ``right``,
``choice`` ("left" | "right"), ``chosen`` (a system), ``expected`` and ``correct`` (attention checks,
else null), ``rater``, ``seconds``, ``time`` (UTC).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import math
import numbers
import os
import re
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Mapping

import numpy as np

from signlib.errors import SignlibError, file_error
from signlib.io import read_json
from signlib.render.video import read_video, write_video
from signlib.widgets.preference_stats import Summary, opponent, ordered, summary

FROZEN = "truth (frozen)"  # the system name of an attention check's frozen copy
SIDES = ("left", "right")
KINDS = ("comparison", "attention")
_KEYS = ("index", "kind", "left", "right", "choice", "rater")  # what summary and resuming read of a line


@dataclasses.dataclass(frozen=True)
class Trial:
    """One screen: two videos of ``clip``, systems ``left``/``right`` (:data:`FROZEN` for a frozen
    copy). ``expected``: the correct side of an attention check, ``None`` for a comparison.
    ``study``: the id of the :class:`Study` it belongs to (answers carry it)."""

    index: int
    clip: str
    left: str
    right: str
    left_path: Path
    right_path: Path
    kind: str = "comparison"
    expected: str | None = None
    study: str = ""

    def __post_init__(self):
        if self.kind not in KINDS or self.expected not in ((None,) if self.kind == "comparison" else SIDES):
            raise SignlibError(f"Trial kind must be one of {KINDS}, with expected None for a comparison and "
                               f"'left' or 'right' for an attention check; got {self.kind!r}, {self.expected!r}")

    def system(self, side: str) -> str:
        return self.left if side == "left" else self.right


@dataclasses.dataclass(frozen=True)
class Study:
    """Trials in presentation order (``trials[i].index == i``); ``id`` hashes the method and each
    trial's clip, systems and kind, so another seed or manifest gives another id."""

    method: str
    trials: tuple[Trial, ...]
    id: str
    manifest: Path


def _other(side: str) -> str:
    return "right" if side == "left" else "left"


def _read_manifest(path: Path) -> tuple[str, list[dict]]:
    raw = read_json(path)
    method, clips = (raw.get("method"), raw.get("clips")) if isinstance(raw, dict) else (None, None)
    if not isinstance(method, str) or not isinstance(clips, list) or not clips:
        raise file_error(path, "must hold a 'method' string and a non-empty 'clips' list")
    for k, clip in enumerate(clips):
        if not (isinstance(clip, dict) and isinstance(clip.get("clip"), str) and isinstance(clip.get("videos"), dict)):
            raise file_error(path, f"clips[{k}] needs a 'clip' id and a 'videos' mapping")
        if method not in clip["videos"]:
            raise file_error(path, f"clip {clip['clip']!r} has no video of the method {method!r}")
    return method, clips


def _frozen_copy(truth: Path, out: Path) -> Path:
    """``out``: the first frame of ``truth`` held for as many frames; reused while newer than ``truth``."""
    import imageio.v2 as imageio

    for done in (out, out.with_suffix(".gif")):  # .gif: write_video's fallback where ffmpeg cannot run
        if done.is_file() and done.stat().st_mtime >= truth.stat().st_mtime:
            return done
    frames = read_video(truth)  # (T, H, W, 3) uint8
    with imageio.get_reader(truth, format="FFMPEG" if truth.suffix == ".mp4" else "GIF") as reader:
        meta = reader.get_meta_data()  # the same rate, so the copy lasts as long (GIF: ms per frame)
    fps = meta.get("fps") or (1000.0 / meta["duration"] if meta.get("duration") else 25.0)
    return write_video(out, (frames[0] for _ in range(len(frames))), fps)


def build_study(manifest_path: str | os.PathLike, seed: int, comparisons: Iterable[str] | None = None,
                attention_checks: int = 2, workdir: str | os.PathLike | None = None) -> Study:
    """The study of a render-stage manifest.

    Args:
        manifest_path: ``results/render/study/study.json``; its video paths are relative to
            ``results/render``, the manifest's grandparent folder.
        seed: seeds the ``numpy`` Generator that draws the trial order, the method's side in each
            comparison (balanced: as many left as right, ±1) and the attention checks' clips, sides
            and positions. The same seed and manifest give the same study.
        comparisons: systems compared with the method (default: every other system in the manifest,
            in the paper's order). A clip that lacks one skips that comparison.
        attention_checks: how many truth-vs-frozen-truth trials to insert (0: none).
        workdir: folder for the frozen copies (``<workdir>/<clip>/truth_frozen.mp4``, written once);
            needed when ``attention_checks > 0``. Keep it out of ``results/render``, which DVC owns.
    """
    manifest_path = Path(manifest_path)
    method, clips = _read_manifest(manifest_path)
    root = manifest_path.parent.parent
    present = ordered(s for clip in clips for s in clip["videos"] if s != method)
    chosen = present if comparisons is None else list(comparisons)
    for name in chosen:
        if name not in present:
            raise SignlibError(f"comparisons: {name!r} is not a system compared with {method!r} in "
                               f"{manifest_path} (there: {', '.join(present) or 'none'})")
    if isinstance(attention_checks, bool) or not isinstance(attention_checks, int) or attention_checks < 0:
        raise SignlibError(f"attention_checks must be an integer >= 0, got {attention_checks!r}")
    candidates = [clip for clip in clips if "truth" in clip["videos"]]
    if attention_checks and (workdir is None or not candidates):
        raise SignlibError("attention checks need a workdir (their frozen videos go there) and a clip with a "
                           f"truth video; workdir={workdir!r}, {len(candidates)} clips with truth in {manifest_path}")

    def video(clip: dict, system: str) -> Path:
        path = root / clip["videos"][system]
        if not path.is_file():
            raise file_error(manifest_path, f"clip {clip['clip']!r}: the {system} video {path} does not exist")
        return path

    pairs = [(clip, x) for clip in clips for x in chosen if x in clip["videos"]]
    rng = np.random.default_rng(seed)
    method_left = rng.permutation(np.arange(len(pairs)) % 2 == 0)  # balanced sides, shuffled
    screens = []  # (clip, left, right, left path, right path, kind, expected), in presentation order
    for k, i in enumerate(rng.permutation(len(pairs))):
        clip, x = pairs[i]
        left, right = (method, x) if method_left[k] else (x, method)
        screens.append((clip["clip"], left, right, video(clip, left), video(clip, right), "comparison", None))
    if attention_checks:
        picks = rng.choice(len(candidates), attention_checks, replace=attention_checks > len(candidates))
        truth_left = rng.permutation(np.arange(attention_checks) % 2 == 0)
        total = len(screens) + attention_checks
        slots = set(rng.choice(total, attention_checks, replace=False).tolist())
        checks = []
        for pick, on_left in zip(picks, truth_left):
            clip = candidates[pick]
            truth = video(clip, "truth")
            frozen = _frozen_copy(truth, Path(workdir) / re.sub(r"[^\w.-]", "_", clip["clip"]) / "truth_frozen.mp4")
            sides = ("truth", FROZEN, truth, frozen) if on_left else (FROZEN, "truth", frozen, truth)
            checks.append((clip["clip"], *sides, "attention", "left" if on_left else "right"))
        rest = iter(screens)
        screens = [checks.pop() if k in slots else next(rest) for k in range(total)]
    key = json.dumps([method, [(s[0], s[1], s[2], s[5]) for s in screens]])
    study_id = hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]
    return Study(method, tuple(Trial(k, *s, study=study_id) for k, s in enumerate(screens)), study_id, manifest_path)


def _check_rater(rater) -> None:
    if not isinstance(rater, str) or not rater.strip():
        raise SignlibError(f"rater must be a non-empty string, got {rater!r}")


def _write_durably(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data``: temp file beside it, flush, fsync, ``os.replace``, fsync the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if os.name == "posix":  # the rename itself survives a power cut only once the folder is synced
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def record(answers_path: str | os.PathLike, trial: Trial, choice: str, rater: str, seconds: float) -> dict:
    """Append ``rater``'s ``choice`` for ``trial`` (after ``seconds``) to the JSONL ``answers_path``;
    returns the answer. The whole new file goes to a temp file beside it and over the old one with
    ``os.replace``, so a crash leaves the old file or the new one, never half a line. One writer per
    file: two processes recording into one file at once could each drop the other's line.
    """
    if not isinstance(trial, Trial):
        raise SignlibError(f"trial must be a Trial, got {type(trial).__name__}")
    if choice not in SIDES:
        raise SignlibError(f"choice must be 'left' or 'right', got {choice!r}")
    _check_rater(rater)
    if isinstance(seconds, bool) or not isinstance(seconds, numbers.Real) or not 0 <= seconds < math.inf:
        raise SignlibError(f"seconds must be a finite number >= 0, got {seconds!r}")
    answer = {"study": trial.study, "index": trial.index, "clip": trial.clip, "kind": trial.kind,
              "left": trial.left, "right": trial.right, "choice": choice, "chosen": trial.system(choice),
              "expected": trial.expected, "correct": None if trial.expected is None else choice == trial.expected,
              "rater": rater, "seconds": round(float(seconds), 3),
              "time": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    path = Path(answers_path)
    old = path.read_bytes() if path.is_file() else b""
    old += b"\n" if old and not old.endswith(b"\n") else b""  # a hand-edited file without its last newline
    _write_durably(path, old + (json.dumps(answer, ensure_ascii=False) + "\n").encode("utf-8"))
    return answer


def read_answers(path: str | os.PathLike) -> list[dict]:
    """The answers of a JSONL file in file order (blank lines skipped); errors name file and line."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (FileNotFoundError, UnicodeDecodeError) as err:
        raise file_error(path, "not found" if isinstance(err, FileNotFoundError) else "not UTF-8 text") from None
    answers = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            answer = json.loads(line)
        except json.JSONDecodeError as err:
            raise file_error(path, f"line {n}: not valid JSON ({err.msg})") from None
        missing = [k for k in _KEYS if k not in answer] if isinstance(answer, dict) else list(_KEYS)
        if missing:
            raise file_error(path, f"line {n}: not an answer (missing {', '.join(missing)})")
        if answer["choice"] not in SIDES or answer["kind"] not in KINDS:
            raise file_error(path, f"line {n}: choice must be 'left' or 'right' and kind one of {KINDS}")
        answers.append(answer)
    return answers


class Session:
    """One rater working through ``study``, recording into ``answers_path`` (the widget's controller).
    On a file already holding answers of this rater to this study (same ``study.id``) it resumes at
    the first unanswered trial. ``answer`` records the current trial and moves on."""

    def __init__(self, study: Study, answers_path: str | os.PathLike, rater: str):
        _check_rater(rater)
        self.study, self.path, self.rater = study, Path(answers_path), rater
        old = read_answers(self.path) if self.path.exists() else []
        self._answered = {a["index"] for a in old if a["rater"] == rater and a.get("study") == study.id}
        self._shown = time.monotonic()  # when the current trial appeared: the default response time

    @property
    def current(self) -> Trial | None:
        """The first unanswered trial (``None`` when done)."""
        return next((t for t in self.study.trials if t.index not in self._answered), None)

    done = property(lambda self: self.current is None)

    @property
    def progress(self) -> tuple[int, int]:
        """(trials answered, trials in the study)."""
        return sum(t.index in self._answered for t in self.study.trials), len(self.study.trials)

    def answer(self, choice: str, seconds: float | None = None) -> dict:
        """Record ``choice`` ("left" | "right") for the current trial and advance; returns the answer."""
        trial = self.current
        if trial is None:
            raise SignlibError(f"{self.rater} has answered every trial of study {self.study.id}")
        answer = record(self.path, trial, choice, self.rater,
                        time.monotonic() - self._shown if seconds is None else seconds)
        self._answered.add(trial.index)
        self._shown = time.monotonic()
        return answer

    def summary(self) -> Summary:
        """The summary over every rater in the answers file."""
        return summary(read_answers(self.path) if self.path.exists() else [], self.study.method)


def simulate(study: Study, answers_path: str | os.PathLike, rater: str, prefer: Mapping[str, float],
             seed: int, attention: float = 1.0) -> Session:
    """Answer the rest of ``study`` as a simulated rater; returns the finished :class:`Session`.

    ``prefer[X]``: probability of picking the method over system X (needed for every compared X);
    ``attention``: probability of answering an attention check correctly. Response times are
    uniform in 2–8 s; every draw comes from ``numpy.random.default_rng(seed)``.
    """
    for x in {opponent(t.left, t.right, study.method) for t in study.trials if t.kind == "comparison"}:
        if not 0.0 <= prefer.get(x, math.nan) <= 1.0:
            raise SignlibError(f"prefer needs a probability in [0, 1] for {x!r}, got {prefer.get(x)!r}")
    if not 0.0 <= attention <= 1.0:
        raise SignlibError(f"attention must be a probability in [0, 1], got {attention!r}")
    rng = np.random.default_rng(seed)
    session = Session(study, answers_path, rater)
    while (trial := session.current) is not None:
        if trial.kind == "attention":
            side = trial.expected if rng.random() < attention else _other(trial.expected)
        else:
            method_side = "left" if trial.left == study.method else "right"
            wins = rng.random() < prefer[opponent(trial.left, trial.right, study.method)]
            side = method_side if wins else _other(method_side)
        session.answer(side, seconds=float(rng.uniform(2.0, 8.0)))
    return session
