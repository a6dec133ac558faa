"""Corpus annotation tables → :class:`Annotation` records (one per sentence or lexicon entry).

Formats (times are converted to seconds; every reader names the file and column on error):

- **Phoenix-2014T** ``PHOENIX-2014-T.<split>.corpus.csv``: ``|``-separated, header
  ``name|video|start|end|speaker|orth|translation``; ``orth`` is space-separated glosses. ``start``
  and ``end`` are frame indices, ``-1`` meaning the whole video (always so in the release); other
  values are converted at 25 fps.
- **How2Sign** realigned CSV: tab-separated, header ``VIDEO_ID VIDEO_NAME SENTENCE_ID SENTENCE_NAME
  START_REALIGNED END_REALIGNED SENTENCE`` (seconds). The un-realigned ``START``/``END`` columns are
  accepted when the realigned ones are absent. How2Sign has no glosses.
- **CSL-Daily** ``video_map.txt``: ``|``-separated, header ``index|name|length|gloss|char|word|postag``;
  ``gloss``, ``char`` and ``word`` are space-separated, ``length`` is frames. The text is the
  characters joined. The signer is read from the ``_P<n>_`` part of the name
  (``S000000_P0000_T00`` → ``P0000``), an inference from the naming scheme.
- **spoken-to-signed lexicon** ``index.csv``: header ``path,spoken_language,signed_language,start,
  end,words,glosses,priority``; ``start``/``end`` in milliseconds, ``end == 0`` meaning "to the end of
  the file". The ``glosses`` cell is one gloss.
- **DGS fluent** ``*_metadata.json`` (fluent-pose-synthesis sample data): ``document_id``, ``id``,
  ``sentence`` {``id``, ``start``, ``end``, ``english``, ``german``, ``glosses`` {``gloss``, ``start``,
  ``end``}}, times in milliseconds of corpus time. Text is the German translation.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from signlib.errors import file_error
from signlib.io import write_text

PHOENIX_COLUMNS = ("name", "video", "start", "end", "speaker", "orth", "translation")
HOW2SIGN_COLUMNS = ("VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID", "SENTENCE_NAME", "START_REALIGNED",
                    "END_REALIGNED", "SENTENCE")
CSL_DAILY_COLUMNS = ("index", "name", "length", "gloss", "char", "word", "postag")
LEXICON_COLUMNS = ("path", "spoken_language", "signed_language", "start", "end", "words", "glosses", "priority")
PHOENIX_FPS = 25.0


@dataclass(frozen=True)
class Annotation:
    """One annotated clip, sentence or lexicon entry.

    Attributes:
        id: clip / sentence id, unique within its table.
        text: spoken-language text.
        glosses: gloss sequence (empty when the corpus has none).
        start, end: span in seconds within the source video, or None when the whole file.
        signer: signer id ("" when unknown).
        language: sign language code (``DGS``, ``ASL``, ``CSL``, or the lexicon's ISO 639-3 code).
        extras: source-specific columns (e.g. the video path, per-gloss times).
    """

    id: str
    text: str = ""
    glosses: tuple[str, ...] = ()
    start: float | None = None
    end: float | None = None
    signer: str = ""
    language: str = ""
    extras: dict = field(default_factory=dict, hash=False)


def _rows(path, delimiter: str, required) -> list[tuple[int, dict[str, str]]]:
    """``(line number, row)`` for each row of a delimited file, after checking the header and every
    row's width; a file that is not UTF-8 or that the csv module cannot parse is one error."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as e:
        raise file_error(path, f"cannot read file ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise file_error(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = []
    try:
        header = reader.fieldnames
        if not header:
            raise file_error(path, "empty file (no header row)")
        for col in required:
            # A tuple lists alternative names for one column; the first is the one the error names.
            names = col if isinstance(col, tuple) else (col,)
            if not any(n in header for n in names):
                also = f" (nor {', '.join(map(repr, names[1:]))})" if len(names) > 1 else ""
                raise file_error(path, f"missing column {names[0]!r}{also}; columns are "
                                       f"{', '.join(h[:40] for h in header)}")
        for row in reader:
            # DictReader puts surplus cells under None and fills short rows with None.
            if None in row or None in row.values():
                raise file_error(path, f"line {reader.line_num}: {len(header)} columns expected")
            rows.append((reader.line_num, row))
    except csv.Error as e:  # e.g. a field over csv.field_size_limit()
        # DictReader's own line_num lags a row behind while the row fails; the inner reader's does not.
        raise file_error(path, f"line {reader.reader.line_num}: not a valid table row ({e})") from None
    return rows


def _number(value: str, column: str, path, line: int, kind=float, minimum: float | None = None):
    """A cell as a finite number (``kind``), at least ``minimum`` when given."""
    try:
        number = kind(value)
    except ValueError:
        raise file_error(path, f"line {line}: column {column!r} is not a number: {value[:40]!r}") from None
    # Integers beyond 2**53 are no frame or millisecond count and would overflow the float maths.
    if not (math.isfinite(number) if kind is float else abs(number) < 2**53):
        raise file_error(path, f"line {line}: column {column!r} is {value.strip()[:40]}, not a finite number")
    if minimum is not None and number < minimum:
        raise file_error(path, f"line {line}: column {column!r} is {value.strip()[:40]}; it must be at least {minimum}")
    return number


def _span(start, end, path, line: int, what: str = "start and end"):
    """Refuse a span that ends before it starts (None means open)."""
    if start is not None and end is not None and end < start:
        raise file_error(path, f"line {line}: {what} give a span that ends ({end}) before it starts ({start})")
    return start, end


def _write_table(path, delimiter: str, columns, rows) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    write_text(path, buf.getvalue())


# -- Phoenix-2014T ---------------------------------------------------------------------------------

def read_phoenix_csv(path: str | os.PathLike) -> list[Annotation]:
    """Read a Phoenix-2014T ``*.corpus.csv``; ``extras = {"video": <frame glob>}``."""
    out = []
    for line, row in _rows(path, "|", PHOENIX_COLUMNS):
        # -1 is the release's "whole video"; any other negative frame is an error, not "whole".
        start, end = (_number(row[c], c, path, line, int, minimum=-1) for c in ("start", "end"))
        start, end = _span(None if start < 0 else start / PHOENIX_FPS, None if end < 0 else end / PHOENIX_FPS,
                           path, line)
        out.append(Annotation(
            id=row["name"], text=row["translation"], glosses=tuple(row["orth"].split()), start=start, end=end,
            signer=row["speaker"], language="DGS", extras={"video": row["video"]}))
    return out


def write_phoenix_csv(path: str | os.PathLike, annotations) -> None:
    """Write Phoenix-2014T format atomically (times back to frames, ``None`` → ``-1``)."""
    def frames(t):
        return -1 if t is None else round(t * PHOENIX_FPS)
    _write_table(path, "|", PHOENIX_COLUMNS, [
        (a.id, a.extras.get("video", f"{a.id}/1/*.png"), frames(a.start), frames(a.end), a.signer,
         " ".join(a.glosses), a.text) for a in annotations])


# -- How2Sign -------------------------------------------------------------------------------------

def read_how2sign_csv(path: str | os.PathLike) -> list[Annotation]:
    """Read a How2Sign (realigned) CSV; ``extras`` holds VIDEO_ID, VIDEO_NAME and SENTENCE_ID."""
    required = HOW2SIGN_COLUMNS[:4] + (("START_REALIGNED", "START"), ("END_REALIGNED", "END"), "SENTENCE")
    out = []
    for line, row in _rows(path, "\t", required):
        keys = [c if c in row else c.split("_")[0] for c in ("START_REALIGNED", "END_REALIGNED")]
        times = _span(*(_number(row[k], k, path, line, minimum=0) for k in keys), path, line)
        out.append(Annotation(
            id=row["SENTENCE_NAME"], text=row["SENTENCE"], start=times[0], end=times[1], language="ASL",
            extras={k: row[k] for k in ("VIDEO_ID", "VIDEO_NAME", "SENTENCE_ID")}))
    return out


def write_how2sign_csv(path: str | os.PathLike, annotations) -> None:
    """Write the How2Sign realigned format atomically."""
    _write_table(path, "\t", HOW2SIGN_COLUMNS, [
        (a.extras.get("VIDEO_ID", ""), a.extras.get("VIDEO_NAME", ""), a.extras.get("SENTENCE_ID", ""), a.id,
         repr(float(a.start or 0.0)), repr(float(a.end or 0.0)), a.text) for a in annotations])


# -- CSL-Daily ------------------------------------------------------------------------------------

_SIGNER = re.compile(r"_(P\d+)_")


def read_csl_daily(path: str | os.PathLike) -> list[Annotation]:
    """Read CSL-Daily ``video_map.txt``; ``extras`` = index, length (frames), char, word, postag."""
    out = []
    for line, row in _rows(path, "|", CSL_DAILY_COLUMNS):
        signer = _SIGNER.search(row["name"])
        out.append(Annotation(
            id=row["name"], text="".join(row["char"].split()), glosses=tuple(row["gloss"].split()),
            signer=signer.group(1) if signer else "", language="CSL",
            extras={"index": _number(row["index"], "index", path, line, int, minimum=0),
                    "length": _number(row["length"], "length", path, line, int, minimum=0),
                    "char": row["char"], "word": row["word"], "postag": row["postag"]}))
    return out


def write_csl_daily(path: str | os.PathLike, annotations) -> None:
    """Write CSL-Daily ``video_map.txt`` format atomically."""
    _write_table(path, "|", CSL_DAILY_COLUMNS, [
        (a.extras.get("index", i), a.id, a.extras.get("length", 0), " ".join(a.glosses),
         a.extras.get("char", " ".join(a.text)), a.extras.get("word", ""), a.extras.get("postag", ""))
        for i, a in enumerate(annotations)])


# -- spoken-to-signed lexicon ---------------------------------------------------------------------

def read_lexicon_index(path: str | os.PathLike) -> list[Annotation]:
    """Read a spoken-to-signed lexicon ``index.csv``; ``id`` is the pose path relative to it.

    ``extras`` = path, spoken_language, priority (int).
    """
    out = []
    for line, row in _rows(path, ",", LEXICON_COLUMNS):
        start = _number(row["start"], "start", path, line, minimum=0)
        end = _number(row["end"], "end", path, line, minimum=0)
        start, end = _span(start / 1000, end / 1000 if end > 0 else None, path, line)
        out.append(Annotation(
            id=row["path"], text=row["words"], glosses=(row["glosses"],) if row["glosses"] else (),
            start=start, end=end, language=row["signed_language"],
            extras={"path": row["path"], "spoken_language": row["spoken_language"],
                    "priority": _number(row["priority"], "priority", path, line, int)}))
    return out


# -- DGS fluent sample metadata -------------------------------------------------------------------

def _get(obj, key: str, path, where: str = ""):
    if not isinstance(obj, dict) or key not in obj:
        raise file_error(path, f"missing key {where + key!r}")
    return obj[key]


def _scalar(obj, key: str, path, where: str = "") -> str:
    """``obj[key]`` as text; ids may be JSON numbers, but a list or object there is a broken file."""
    value = _get(obj, key, path, where)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise file_error(path, f"{where + key!r} must be a string, got {type(value).__name__}")
    return str(value)


def _ms_span(start, end, path, what: str) -> tuple[float, float]:
    """``(start, end)`` milliseconds → seconds: finite, non-negative, not ending before the start."""
    try:
        seconds = float(start) / 1000, float(end) / 1000
    except (TypeError, ValueError, OverflowError):
        raise file_error(path, "gloss and sentence times must be numbers (milliseconds); "
                               f"{what} has {str(start)[:20]!r}-{str(end)[:20]!r}") from None
    if not all(math.isfinite(t) and t >= 0 for t in seconds) or seconds[1] < seconds[0]:
        raise file_error(path, f"{what}: times {start}-{end} ms must be finite, non-negative and in order")
    return seconds


def read_dgs_fluent_metadata(path: str | os.PathLike) -> Annotation:
    """Read one ``*_metadata.json`` sentence.

    ``extras``: document_id, sentence_id, english, german, and ``gloss_spans``: a tuple of
    ``(start, end)`` seconds per gloss (corpus time, like ``start``/``end``).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise file_error(path, f"cannot read file ({e.strerror or e})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise file_error(path, f"not valid JSON ({e})") from None
    except RecursionError:
        raise file_error(path, "not valid JSON (nested too deeply)") from None
    sent = _get(data, "sentence", path)
    gl = _get(sent, "glosses", path, "sentence.")
    names, starts, ends = (_get(gl, k, path, "sentence.glosses.") for k in ("gloss", "start", "end"))
    if not (isinstance(names, list) and isinstance(starts, list) and isinstance(ends, list)
            and len(names) == len(starts) == len(ends)):
        raise file_error(path, "sentence.glosses gloss/start/end must be lists of equal length")
    spans = tuple(_ms_span(a, b, path, f"sentence.glosses[{i}]") for i, (a, b) in enumerate(zip(starts, ends)))
    start, end = _ms_span(_get(sent, "start", path, "sentence."), _get(sent, "end", path, "sentence."), path,
                          "sentence")
    if not all(isinstance(g, str) for g in names):
        raise file_error(path, "sentence.glosses.gloss must be a list of strings")
    german = _scalar(sent, "german", path, "sentence.")
    return Annotation(
        id=_scalar(data, "id", path), text=german, glosses=tuple(names), start=start, end=end, language="DGS",
        extras={"document_id": _scalar(data, "document_id", path), "sentence_id": _scalar(sent, "id", path, "sentence."),
                "english": _scalar(sent, "english", path, "sentence.") if "english" in sent else "",
                "german": german, "gloss_spans": spans})


def read_dgs_fluent_folder(folder: str | os.PathLike) -> list[Annotation]:
    """Every ``*_metadata.json`` under ``folder`` (recursively), sorted by path."""
    # Hidden names are temporary files of interrupted writers (pathlib's glob matches them).
    files = sorted(f for f in Path(folder).rglob("*_metadata.json")
                   if not any(part.startswith(".") for part in f.relative_to(folder).parts))
    if not files:
        raise file_error(folder, "no *_metadata.json files")
    return [read_dgs_fluent_metadata(f) for f in files]
