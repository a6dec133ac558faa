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


def _rows(path, delimiter: str, required) -> list[dict[str, str]]:
    """The rows of a delimited file as dicts, after checking the header and every row's width."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except OSError as e:
        raise file_error(path, f"cannot read file ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise file_error(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = reader.fieldnames
    if not header:
        raise file_error(path, "empty file (no header row)")
    for col in required:
        # A tuple lists alternative names for one column; the first is the one the error names.
        names = col if isinstance(col, tuple) else (col,)
        if not any(n in header for n in names):
            also = f" (nor {', '.join(map(repr, names[1:]))})" if len(names) > 1 else ""
            raise file_error(path, f"missing column {names[0]!r}{also}; columns are {', '.join(header)}")
    rows = []
    for row in reader:
        # DictReader puts surplus cells under None and fills short rows with None.
        if None in row or None in row.values():
            raise file_error(path, f"line {reader.line_num}: {len(header)} columns expected")
        rows.append(row)
    return rows


def _number(value: str, column: str, path, line: int, kind=float):
    try:
        return kind(value)
    except ValueError:
        raise file_error(path, f"line {line}: column {column!r} is not a number: {value!r}") from None


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
    for line, row in enumerate(_rows(path, "|", PHOENIX_COLUMNS), start=2):
        start, end = (_number(row[c], c, path, line, int) for c in ("start", "end"))
        out.append(Annotation(
            id=row["name"], text=row["translation"], glosses=tuple(row["orth"].split()),
            start=None if start < 0 else start / PHOENIX_FPS, end=None if end < 0 else end / PHOENIX_FPS,
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
    for line, row in enumerate(_rows(path, "\t", required), start=2):
        keys = [c if c in row else c.split("_")[0] for c in ("START_REALIGNED", "END_REALIGNED")]
        times = [_number(row[k], k, path, line) for k in keys]
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
    for line, row in enumerate(_rows(path, "|", CSL_DAILY_COLUMNS), start=2):
        signer = _SIGNER.search(row["name"])
        out.append(Annotation(
            id=row["name"], text="".join(row["char"].split()), glosses=tuple(row["gloss"].split()),
            signer=signer.group(1) if signer else "", language="CSL",
            extras={"index": _number(row["index"], "index", path, line, int),
                    "length": _number(row["length"], "length", path, line, int),
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
    for line, row in enumerate(_rows(path, ",", LEXICON_COLUMNS), start=2):
        start = _number(row["start"], "start", path, line)
        end = _number(row["end"], "end", path, line)
        out.append(Annotation(
            id=row["path"], text=row["words"], glosses=(row["glosses"],) if row["glosses"] else (),
            start=start / 1000, end=end / 1000 if end > 0 else None, language=row["signed_language"],
            extras={"path": row["path"], "spoken_language": row["spoken_language"],
                    "priority": _number(row["priority"], "priority", path, line, int)}))
    return out


# -- DGS fluent sample metadata -------------------------------------------------------------------

def _get(obj, key: str, path, where: str = ""):
    if not isinstance(obj, dict) or key not in obj:
        raise file_error(path, f"missing key {where + key!r}")
    return obj[key]


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
    sent = _get(data, "sentence", path)
    gl = _get(sent, "glosses", path, "sentence.")
    names, starts, ends = (_get(gl, k, path, "sentence.glosses.") for k in ("gloss", "start", "end"))
    if not (isinstance(names, list) and isinstance(starts, list) and isinstance(ends, list)
            and len(names) == len(starts) == len(ends)):
        raise file_error(path, "sentence.glosses gloss/start/end must be lists of equal length")
    try:
        spans = tuple((float(a) / 1000, float(b) / 1000) for a, b in zip(starts, ends))
        start, end = (float(_get(sent, k, path, "sentence.")) / 1000 for k in ("start", "end"))
    except (TypeError, ValueError):
        raise file_error(path, "gloss and sentence times must be numbers (milliseconds)") from None
    return Annotation(
        id=str(_get(data, "id", path)), text=str(_get(sent, "german", path, "sentence.")),
        glosses=tuple(str(g) for g in names), start=start, end=end, language="DGS",
        extras={"document_id": str(_get(data, "document_id", path)),
                "sentence_id": str(_get(sent, "id", path, "sentence.")),
                "english": str(sent.get("english", "")), "german": str(sent["german"]), "gloss_spans": spans})


def read_dgs_fluent_folder(folder: str | os.PathLike) -> list[Annotation]:
    """Every ``*_metadata.json`` under ``folder`` (recursively), sorted by path."""
    files = sorted(Path(folder).rglob("*_metadata.json"))
    if not files:
        raise file_error(folder, "no *_metadata.json files")
    return [read_dgs_fluent_metadata(f) for f in files]
