"""The workspace's interactive notebook (``notebooks/explore.ipynb``, not a DVC stage): what it loads
and the widgets it builds, so the notebook stays a list of calls.

:func:`open_workspace` reads what ``dvc repro`` built (the curated corpus, the FAST keyframes of
the evaluation policy, SignSparK, the text-to-gloss model, the tri-frame dictionary, FAST and the
preference study's manifest); each part that is missing is ``None`` and its widget says so,
instead of the notebook failing on its first cell. :func:`editor` and :func:`study` build the
keyframe editor and the preference study on top.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from signlib.config import load_params
from signlib.data.corpus import Corpus
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.generate.model import SignSparK, load_signspark
from signlib.generate.text2gloss import Translator, load_text2gloss
from signlib.keyframes import EVALUATION_POLICY, clip_keyframes, read_keyframes
from signlib.segment.evaluation import load_segmenter, sequence_segments
from signlib.stages.paths import Paths
from signlib.triframe import TriframeDictionary
from signlib.widgets.editor import KeyframeEditor
from signlib.widgets.editor_view import KeyframeEditorView
from signlib.widgets.preference import Session, build_study
from signlib.widgets.preference_view import PreferenceView


@dataclass(frozen=True)
class Workspace:
    """What the interactive notebook works on; a part the pipeline has not built is None."""

    params_path: Path
    corpus: Corpus
    keyframes: dict[str, list[int]] | None
    model: SignSparK | None
    translate: Translator | None
    dictionary: TriframeDictionary | None
    segmenter: object | None
    study_manifest: Path | None


def _optional(what: str, load, path: Path):
    if not Path(path).exists():
        print(f"{what}: not built yet ({path}); run `dvc repro`")
        return None
    return load(path)


def find_params(params_path: str | os.PathLike) -> Path:
    """``params_path`` as given, or (relative and not here) in the nearest folder above that has it:
    JupyterLab starts a notebook's kernel in the notebook's folder, ``notebooks/``, not the root."""
    path = Path(params_path)
    here = Path.cwd()
    for folder in ([] if path.is_absolute() else [here, *here.parents]):
        if (folder / path).is_file():
            return (folder / path).resolve()
    if path.is_file():
        return path.resolve()
    raise SignlibError(f"{params_path}: not found in {here} or any folder above it; pass the workspace's params.yaml")


def open_workspace(params_path: str | os.PathLike = "params.yaml") -> Workspace:
    """Load the built parts of the workspace that ``params_path`` describes. The workspace's paths
    (``build/``, ``models/``, ``results/``) are relative to the folder of its ``params.yaml``, so that
    folder becomes the working directory (the notebook says so)."""
    params_path = find_params(params_path)
    if Path.cwd() != params_path.parent:
        print(f"working in {params_path.parent} (the workspace root)")
        os.chdir(params_path.parent)
    params = load_params(params_path)
    paths = Paths(params.base)
    if not paths.curated.exists():
        raise SignlibError(f"{paths.curated}: no curated corpus; run `dvc repro corpus` first")
    manifest = paths.results("render") / "study" / "study.json"
    return Workspace(
        params_path, Corpus(paths.curated),
        _optional("keyframes", partial(read_keyframes, policy=EVALUATION_POLICY), paths.keyframes),
        _optional("SignSparK", load_signspark, paths.model("signspark", "signspark")),
        _optional("text-to-gloss", lambda p: Translator(*load_text2gloss(p)), paths.model("signspark", "text2gloss")),
        _optional("tri-frame dictionary", TriframeDictionary.load, paths.triframe),
        _optional("FAST", load_segmenter, paths.model("fast", "fast")),
        manifest if manifest.exists() else None)


def test_clips(ws: Workspace, per_language: int = 2) -> list[tuple[Sequence, object]]:
    """The first ``per_language`` test clips of every language with their mined keyframes (gold
    onset/mid/offset where the keyframes stage has not run)."""
    out = []
    for lang in ws.corpus.languages():
        for info in ws.corpus.select("test", lang)[:per_language]:
            seq = ws.corpus.load(info.id)
            out.append((seq, clip_keyframes(seq, ws.keyframes)))
    return out


def editor(ws: Workspace, per_language: int = 2, size: int = 200) -> KeyframeEditorView:
    """The keyframe editor over the workspace's test clips and models."""
    if ws.model is None:
        raise SignlibError("the keyframe editor needs the SignSparK model: run `dvc repro signspark`")
    segmenter = None if ws.segmenter is None else partial(sequence_segments, ws.segmenter)
    params = load_params(ws.params_path)
    control = KeyframeEditor(ws.model, ws.dictionary, ws.translate, segmenter, params.signspark.sampler,
                             seed=params.base.seed)
    return KeyframeEditorView(control, test_clips(ws, per_language), size)


def study(ws: Workspace, answers: str | os.PathLike, rater: str, seed: int = 0) -> PreferenceView:
    """The preference study over the render stage's videos; answers go to ``answers`` (JSONL)."""
    if ws.study_manifest is None:
        raise SignlibError("the preference study needs the render stage's videos: run `dvc repro render`")
    answers = Path(answers)
    built = build_study(ws.study_manifest, seed, workdir=answers.parent / "study_work")
    return PreferenceView(Session(built, answers, rater))
