"""Input corpora: what ``base.data_dir`` points at, described by its ``corpus.yaml``.

A corpus folder holds a ``corpus.yaml`` with these keys (unknown or missing keys are errors):

``format``
    ``synthetic`` (the embedded default: the multilingual corpus of
    :mod:`signlib.data.synthetic` is generated at the profile's sizes, written as SignSparK
    records and read back through the same reader a real corpus uses),
    ``signspark`` (SignSparK database ``.npz`` records), ``pose`` (pose-format ``.pose`` files,
    with an optional ELAN ``.eaf`` of the same name for gloss segments) or ``signlib``
    (signlib clip ``.npz`` files).
``files``
    glob of the clip files relative to the folder (e.g. ``clips/*.npz``); ignored by ``synthetic``.
``fps``
    frame rate for formats that do not store one (SignSparK records).
``language``
    sign language of clips whose files do not say (``.pose``).
``signers``
    optional CSV ``clip,signer`` relative to the folder ("" when absent: every file is its own
    signer, which keeps test signers unseen but makes splits per clip).
``eaf_tier``
    ELAN tier with the sign glosses (``pose`` format).
``text_tier``
    optional: ELAN tier whose annotation is the clip's spoken-language text (``pose`` format;
    the annotations of the tier are joined with spaces). Without it, ``.pose`` clips have no text.
``synthetic``
    overrides of :class:`signlib.data.synthetic.generate.SynthSpec` (``synthetic`` format), e.g.
    ``languages: [DGS, CSL]``; sizes otherwise come from :class:`SourceSizes` (the stage takes them
    from ``base.profile``).

To use a real corpus, write such a file next to it and set ``base.data_dir`` to that folder.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
import warnings
from pathlib import Path

from tqdm.auto import tqdm

from signlib.data.sequence import Sequence
from signlib.errors import SignlibError, file_error
from signlib.io import read_yaml_mapping

FORMATS = ("synthetic", "signspark", "pose", "signlib")
_KEYS = ("format", "files", "fps", "language", "signers", "eaf_tier", "synthetic")
_OPTIONAL = {"text_tier": ""}


@dataclasses.dataclass(frozen=True)
class SourceSizes:
    """How much of the input to read or generate."""

    max_clips: int = 0          # real corpora: clips kept per language (0 = all)
    signers: int = 10           # generated corpus: signers per language
    sentences: int = 30         # generated corpus: sentences per signer
    signs: int = 0              # generated corpus: signs per language (0 = the whole vocabulary)
    zipf: float = 2.0           # generated corpus: Zipf exponent of the concept draws (synthetic.lexicon)


@dataclasses.dataclass(frozen=True)
class SourceSpec:
    format: str
    files: str
    fps: float
    language: str
    signers: str
    eaf_tier: str
    synthetic: dict
    text_tier: str = ""


#: A corpus.yaml is a dozen lines; anything this large is some other file (and slow to parse).
MAX_SPEC_BYTES = 64 * 1024


def _spec_mapping(path: Path) -> dict:
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # missing: read_yaml_mapping says so, with the hint
    if size > MAX_SPEC_BYTES:
        raise file_error(path, f"{size} bytes is far too large for a corpus spec (limit {MAX_SPEC_BYTES})")
    try:
        return read_yaml_mapping(path, "no corpus.yaml: base.data_dir must point to a corpus folder (see README)")
    # read_yaml_mapping reports missing files and YAML syntax; these come from the bytes or the OS.
    except SignlibError:
        raise
    except UnicodeDecodeError as e:
        raise file_error(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except (ValueError, OverflowError, RecursionError) as e:  # PyYAML: e.g. a "\U" escape beyond unicode
        raise file_error(path, f"not valid YAML ({type(e).__name__}: {str(e)[:80]})") from None
    except OSError as e:
        raise file_error(path, f"cannot read file ({e.strerror or e})") from None


def _text(raw: dict, key: str, path: Path) -> str:
    """A string value; ``null`` is "". YAML reads ``no`` as False and ``1.0`` as a number, so only
    real strings are accepted and the error says to quote the value."""
    value = raw[key]
    if value is None:
        return ""
    if not isinstance(value, str):
        raise file_error(path, f"key {key!r} must be a string (quote it), got {type(value).__name__} {str(value)[:40]}")
    return value


def read_spec(data_dir: str | os.PathLike) -> SourceSpec:
    """Parse ``<data_dir>/corpus.yaml``; every key is checked for presence and type."""
    path = Path(data_dir) / "corpus.yaml"
    raw = _spec_mapping(path)
    for key in raw:
        if key not in _KEYS and key not in _OPTIONAL:
            raise file_error(path, f"unknown key {str(key)[:40]!r}; known keys: {', '.join((*_KEYS, *_OPTIONAL))}")
    for key in _KEYS:
        if key not in raw:
            raise file_error(path, f"missing key {key!r}")
    if raw["format"] not in FORMATS:
        raise file_error(path, f"format {str(raw['format'])[:40]!r} is not one of {', '.join(FORMATS)}")
    fps = raw["fps"]
    try:
        ok = isinstance(fps, (int, float)) and not isinstance(fps, bool) and math.isfinite(fps) and fps > 0
    except OverflowError:  # an integer too large for a float
        ok = False
    if not ok:
        raise file_error(path, f"fps must be a positive number, got {str(fps)[:40]}")
    synthetic = raw["synthetic"] if raw["synthetic"] is not None else {}
    if not isinstance(synthetic, dict):
        raise file_error(path, f"key 'synthetic' must be a mapping of generator settings, got {type(synthetic).__name__}")
    return SourceSpec(format=raw["format"], files=_text(raw, "files", path), fps=float(fps),
                      language=_text(raw, "language", path), signers=_text(raw, "signers", path),
                      eaf_tier=_text(raw, "eaf_tier", path), synthetic=dict(synthetic),
                      text_tier=_text(raw, "text_tier", path) if "text_tier" in raw else "")


def _signers(data_dir: Path, spec: SourceSpec) -> dict[str, str]:
    if not spec.signers:
        return {}
    path = data_dir / spec.signers
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            rows = [(reader.line_num, r) for r in reader]
            header = reader.fieldnames or []
    except FileNotFoundError:
        raise file_error(path, "signers file not found") from None
    except OSError as e:
        raise file_error(path, f"cannot read file ({e.strerror or e})") from None
    except UnicodeDecodeError as e:
        raise file_error(path, f"not UTF-8 text ({e.reason} at byte {e.start})") from None
    except csv.Error as e:  # DictReader's own line_num lags a row behind while the row fails
        raise file_error(path, f"line {reader.reader.line_num}: not a valid CSV row ({e})") from None
    if rows and not {"clip", "signer"} <= set(header):
        raise file_error(path, "needs columns 'clip' and 'signer'")
    for line, row in rows:
        if row.get("clip") is None or row.get("signer") is None or None in row:
            raise file_error(path, f"line {line}: {len(header)} columns expected")
    return {r["clip"]: r["signer"] for _, r in rows}


def _visible(root: Path, paths) -> list[Path]:
    """``paths`` under ``root``, sorted, without hidden ones. pathlib's glob matches names that
    start with "." (unlike a shell), and that is how signlib's atomic writers name their temporary
    files (``.clip.npz.x1y2.npz``): one left by a killed writer must not be read as a clip."""
    return sorted(p for p in paths if not any(part.startswith(".") for part in p.relative_to(root).parts))


def synth_spec(settings: dict, sizes: SourceSizes, seed: int):
    """The generator's :class:`SynthSpec`: sizes from the profile, ``settings`` override them."""
    from signlib.data.synthetic.generate import SynthSpec

    fields = {f.name for f in dataclasses.fields(SynthSpec)} - {"seed"}
    for key in settings:
        if key not in fields:
            raise SignlibError(f"corpus.yaml: unknown synthetic key {key!r}; known keys: {', '.join(sorted(fields))}")
    values = dict(signers_per_language=sizes.signers, sentences_per_signer=sizes.sentences,
                  signs_per_language=sizes.signs, zipf_exponent=sizes.zipf)
    values.update({k: tuple(v) if isinstance(v, list) else v for k, v in settings.items()})
    return SynthSpec(**values, seed=seed)


def load_source(data_dir: str | os.PathLike, work_dir: str | os.PathLike, seed: int, sizes: SourceSizes,
                progress: bool = True) -> tuple[list[Sequence], Path]:
    """Read every clip of the input corpus at ``data_dir``.

    A ``synthetic`` corpus is first generated into ``work_dir/source`` (at the sizes of
    ``sizes``) and then read like any SignSparK corpus. Real corpora keep at most
    ``sizes.max_clips`` clips per language (0 = all).

    Returns:
        the clips, and the folder they were read from (for a generated corpus it also holds the
        isolated-sign ``dictionary/``).
    """
    from signlib.data.formats.signspark import read_signspark
    from signlib.data.store import read_clip

    data_dir, work_dir = Path(data_dir), Path(work_dir)
    spec = read_spec(data_dir)
    cap = sizes.max_clips
    if spec.format == "synthetic":
        from signlib.data.synthetic.generate import generate_corpus

        data_dir = generate_corpus(work_dir / "source", synth_spec(spec.synthetic, sizes, seed), progress=progress)
        spec, cap = read_spec(data_dir), 0
    signers = _signers(data_dir, spec)
    files = _visible(data_dir, data_dir.glob(spec.files)) if spec.files else []
    if not files:
        raise file_error(data_dir, f"no files match {spec.files!r}")
    out, per_language = [], {}
    for path in tqdm(files, desc="reading clips", leave=False, disable=not progress):
        clip_id = path.stem
        if spec.format == "signspark":
            seq = read_signspark(path, fps=spec.fps)
        elif spec.format == "signlib":
            seq = read_clip(path)
        else:
            seq = _read_pose_clip(path, spec)
        seq = seq.replace(id=clip_id, signer=signers.get(clip_id, seq.signer or clip_id),
                          language=seq.language or spec.language)
        if cap and per_language.get(seq.language, 0) >= cap:
            continue
        per_language[seq.language] = per_language.get(seq.language, 0) + 1
        out.append(seq)
    return out, data_dir


def _read_pose_clip(path: Path, spec: SourceSpec) -> Sequence:
    from signlib.data.formats.elan import eaf_segments, read_eaf
    from signlib.data.formats.pose_file import pose_to_sequence, read_pose

    seq = pose_to_sequence(read_pose(path), id=path.stem, language=spec.language)
    eaf = path.with_suffix(".eaf")
    if eaf.exists():
        seq = seq.replace(segments=tuple(_fit_segments(eaf, eaf_segments(eaf, spec.eaf_tier, seq.fps), seq.num_frames)))
        if spec.text_tier:
            text = " ".join(a[2] for a in read_eaf(eaf, [spec.text_tier])[spec.text_tier] if a[2].strip())
            seq = seq.replace(text=text)
    return seq


def _fit_segments(eaf: Path, segments, num_frames: int) -> list:
    """``segments`` of ``eaf`` that fit a clip of ``num_frames`` frames. An annotation that ends past
    the last frame (ELAN times rounded up, or a pose file cut short) is clipped to it; one that
    starts at or after the end has no frames to label and is left out with a warning naming the
    file and its glosses, never silently."""
    kept, dropped = [], []
    for seg in segments:
        if seg.start >= num_frames:
            dropped.append(seg.gloss or "?")
        else:
            kept.append(dataclasses.replace(seg, end=min(seg.end, num_frames)))
    if dropped:
        warnings.warn(f"{eaf}: {len(dropped)} annotation(s) start at or after the pose file's last frame "
                      f"({num_frames} frames) and are left out: {', '.join(dropped)}", stacklevel=2)
    return kept


def load_dictionary(source_dir: str | os.PathLike, fps: float = 25.0) -> list[Sequence]:
    """Isolated citation forms under ``<source_dir>/dictionary/<LANG>/*.npz`` (SignSparK records),
    as written by the generator; an empty list when the corpus has no dictionary. Each clip's
    signer is ``<lang>_informant`` and its id ``<lang>_<file stem>``."""
    from signlib.data.formats.signspark import read_signspark

    out = []
    for path in _visible(Path(source_dir), Path(source_dir).glob("dictionary/*/*.npz")):
        seq = read_signspark(path, fps=fps)
        lang = seq.language or path.parent.name
        out.append(seq.replace(id=f"{lang.lower()}_{path.stem}", signer=f"{lang.lower()}_informant", language=lang))
    return out
