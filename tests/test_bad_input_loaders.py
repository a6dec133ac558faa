"""Every model-folder loader, fed broken folders: each failure is one SignlibError line naming the folder.

One tiny folder per loader is built once (untrained weights: only the files matter). Then every
field of every card the loader reads is deleted or replaced by values of the wrong type (nested
configs and vocabularies included), the card is made non-UTF-8, not an object, truncated; and
every weights file is emptied, truncated, replaced by a pickle payload, or replaced by another
run's weights (a save interrupted between weights and card). A loader may load a mutated card
that still describes the same model, but it may fail only with a one-line
:class:`~signlib.errors.SignlibError` that names the broken folder, and never run the payload.
"""

import copy
import dataclasses
import io
import json
import os
import pickle
import shutil
from pathlib import Path

import pytest
import torch

from signlib.backtranslation.configs import BackTranslationConfig
from signlib.backtranslation.model import PoseToText
from signlib.backtranslation.translate import KIND as BT_KIND
from signlib.backtranslation.translate import load_backtranslation, save_backtranslation_card
from signlib.baselines import signllm, soke
from signlib.baselines.configs import RegressionConfig, SignLLMConfig, SokeConfig
from signlib.baselines.regression import ProgressiveTransformer, load_regression, save_regression_card
from signlib.checkpoint import CARD, WEIGHTS, read_card, save_model
from signlib.errors import SignlibError
from signlib.generate.configs import SignSparKConfig, Text2GlossConfig, TextEncoderConfig, UNetConfig
from signlib.generate.model import SignSparK, load_signspark, save_signspark_card
from signlib.generate.text2gloss import Text2Gloss, load_text2gloss, save_text2gloss_card
from signlib.segment.configs import FASTConfig
from signlib.segment.evaluation import load_segmenter, save_segmenter_card
from signlib.segment.fast import FAST
from signlib.text.glosses import GlossVocab
from signlib.text.words import TextVocab
from signlib.tutorial import workshop

TEXT = TextEncoderConfig(d_model=16, layers=1, heads=2, ff=32, dropout=0.0)
SIGNSPARK = SignSparKConfig(layout="rot6d", max_frames=32, text=TEXT,
                            unet=UNetConfig(channels=(16, 24), blocks=1, heads=2, cond_dim=16, patch=2))
T2G = Text2GlossConfig(d_model=16, encoder_layers=1, decoder_layers=1, heads=2, ff=32, dropout=0.0, max_bytes=64,
                       max_glosses=8, ngram_buckets=64)
POSE = RegressionConfig(layout="rot6d", max_frames=32, text=TEXT, d_model=16, layers=1, heads=2, ff=32, dropout=0.0)
SOKE = SokeConfig(layout="rot6d", max_frames=32, tokenizer_width=8, code_dim=4, crop_frames=16, text=TEXT,
                  d_model=16, layers=1, heads=2, ff=32, max_retrieved=2, retrieval=True)
BT = BackTranslationConfig(layout="rot6d", max_frames=32, d_model=16, encoder_layers=1, decoder_layers=1, heads=2,
                           ff=32, dropout=0.0, downsample=4, max_tokens=8)


def _weights_then(folder: Path, model: torch.nn.Module) -> None:
    """``final.pt`` as training writes it (the card is saved after, by the caller)."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), folder / WEIGHTS)


def _build_folders(root: Path) -> dict:
    """``{loader name: (load(root), card folders, weights folders)}`` with folders under ``root``."""
    torch.manual_seed(0)
    _weights_then(root / "segmenter", FAST(FASTConfig(d_model=16, layers=1, heads=2, ff=32)))
    save_segmenter_card(root / "segmenter", FAST(FASTConfig(d_model=16, layers=1, heads=2, ff=32)))

    _weights_then(root / "signspark", SignSparK(SIGNSPARK))
    save_signspark_card(root / "signspark", SIGNSPARK, train_clips=3)

    vocab = GlossVocab(["<ASL>", "CAT", "DOG"])
    t2g = Text2Gloss(T2G, vocab)
    _weights_then(root / "text2gloss", t2g)
    save_text2gloss_card(root / "text2gloss", t2g, vocab)

    bt = PoseToText(BT, TextVocab.build(["One cat.", "Zwei Hunde."]), GlossVocab(["CAT", "HUND"]))
    save_model(root / "backtranslation", bt, BT_KIND, dataclasses.asdict(BT))
    save_backtranslation_card(root / "backtranslation", bt)

    pose = ProgressiveTransformer(POSE)
    _weights_then(root / "regression", pose)
    save_regression_card(root / "regression", pose, train_clips=2)

    tokenizer = soke.SokeTokenizer(SOKE)
    _weights_then(root / "soke_tok", tokenizer)
    soke.save_tokenizer_card(root / "soke_tok", tokenizer, reconstruction={p: 1.0 for p in tokenizer.sizes},
                             reconstruction_unit="cm", codes_used={p: 2 for p in tokenizer.sizes})
    generator = soke.build_generator(SOKE, tokenizer.sizes)
    _weights_then(root / "soke_gen", generator)
    soke.save_generator_card(root / "soke_gen", generator, SOKE, tokenizer, spans={("ASL", "CAT"): (0, 8)})

    signllm.save_pose_folder(root / "mlsf" / "ASL", ProgressiveTransformer(POSE))
    signllm.save_mlsf_card(root / "mlsf", SignLLMConfig(pose=POSE, prompt=T2G), ["ASL"])
    shutil.copytree(root / "text2gloss", root / "p2lg" / signllm.PROMPT_DIR)
    signllm.save_pose_folder(root / "p2lg" / signllm.POSE_DIR, ProgressiveTransformer(POSE))
    signllm.save_p2lg_card(root / "p2lg", SignLLMConfig(pose=POSE, prompt=T2G))

    def report(r):
        return soke.tokenizer_report(read_card(r / "soke_tok", soke.TOKENIZER_KIND), r / "soke_tok")

    return {
        "load_segmenter": (lambda r: load_segmenter(r / "segmenter"), ["segmenter"], ["segmenter"]),
        "load_signspark": (lambda r: load_signspark(r / "signspark"), ["signspark"], ["signspark"]),
        "workshop.load_model": (lambda r: workshop.load_model(r / "signspark"), [], ["signspark"]),
        "load_text2gloss": (lambda r: load_text2gloss(r / "text2gloss"), ["text2gloss"], ["text2gloss"]),
        "load_backtranslation": (lambda r: load_backtranslation(r / "backtranslation"), ["backtranslation"],
                                 ["backtranslation"]),
        "load_regression": (lambda r: load_regression(r / "regression"), ["regression"], ["regression"]),
        "load_soke": (lambda r: soke.load_soke(r / "soke_tok", r / "soke_gen"), ["soke_tok", "soke_gen"],
                      ["soke_tok", "soke_gen"]),
        "tokenizer_report": (report, ["soke_tok"], []),
        "load_mlsf": (lambda r: signllm.load_mlsf(r / "mlsf"), ["mlsf", "mlsf/ASL"], ["mlsf/ASL"]),
        "load_p2lg": (lambda r: signllm.load_p2lg(r / "p2lg"), ["p2lg", "p2lg/prompt", "p2lg/pose"],
                      ["p2lg/prompt", "p2lg/pose"]),
    }


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp("folders")
    return root, _build_folders(root)


@pytest.fixture
def folders(pristine, tmp_path):
    """A fresh copy of every folder (tests break them) and the loaders."""
    root, loaders = pristine
    shutil.copytree(root, tmp_path / "m")
    return tmp_path / "m", loaders


def test_every_pristine_folder_loads(folders):
    root, loaders = folders
    for name, (load, _, _) in loaders.items():
        assert load(root) is not None, name


# ------------------------------------------------------------------ cards

WRONG = [None, -1, 2.5, True, "x", "\ud800", [], {}, [["nested"]]]  # "\ud800": JSON can spell a lone surrogate


def _mutations(card: dict):
    """``(label, card)`` pairs: each field at any depth deleted or given each value of :data:`WRONG`
    (the first entry of each list too), plus one unknown field per mapping."""
    def walk(node, path):
        if isinstance(node, dict):
            keys = list(node)
            yield path + ["<extra>"], "add"
            for key in keys:
                yield path + [key], "delete"
                yield from walk(node[key], path + [key])
        elif isinstance(node, list) and node:
            yield from walk(node[0], path + [0])
        if path:
            yield path, "replace"

    for path, action in walk(card, []):
        if path == ["format"]:
            continue  # another format is another kind of card: read_card's own test covers it
        values = WRONG if action == "replace" else [None]
        for value in values:
            mutated = copy.deepcopy(card)
            parent = mutated
            for step in path[:-1]:
                parent = parent[step]
            last = path[-1]
            if action == "delete":
                del parent[last]
            elif action == "add":
                parent["unknown_field"] = 1
            else:
                parent[last] = value
            yield f"{action} {'.'.join(map(str, path))}" + (f" = {value!r}" if action == "replace" else ""), mutated


def _check_failure(name: str, label: str, load, root: Path, broken: Path, problems: list) -> None:
    """Run ``load``: success or a one-line SignlibError naming ``broken``; anything else is a problem."""
    try:
        load(root)
    except SignlibError as err:
        message = str(err)
        if "\n" in message or str(broken) not in message:
            problems.append(f"{name}: {label}: message does not name {broken}: {message}")
    except Exception as err:  # noqa: BLE001 -- the point of the test
        problems.append(f"{name}: {label}: {type(err).__name__}: {str(err)[:200]}")


LOADER_NAMES = ["load_segmenter", "load_signspark", "load_text2gloss", "load_backtranslation", "load_regression",
                "load_soke", "tokenizer_report", "load_mlsf", "load_p2lg"]


@pytest.mark.parametrize("name", LOADER_NAMES)
def test_every_card_field_missing_extra_or_mistyped_is_one_line_naming_the_card(folders, name):
    root, loaders = folders
    load, cards, _ = loaders[name]
    problems = []
    for sub in cards:
        path = root / sub / CARD
        original = path.read_bytes()
        for label, mutated in _mutations(json.loads(original)):
            path.write_text(json.dumps(mutated))
            _check_failure(name, f"{sub}: {label}", load, root, root / sub, problems)
        path.write_bytes(original)
    assert not problems, f"{len(problems)} escaped:\n" + "\n".join(problems[:30])


@pytest.mark.parametrize("content, message", [
    (b'{"format": "\xff"}', "not UTF-8 text"),
    (b'["a", "list"]', "card \\(found 'list'\\)"),
    (b"", "not valid JSON"),
    (b'{"format": "signlib.', "not valid JSON"),
    (b"null", "card \\(found 'NoneType'\\)"),
])
@pytest.mark.parametrize("name", LOADER_NAMES)
def test_a_card_that_is_not_a_json_object_names_it(folders, name, content, message):
    root, loaders = folders
    load, cards, _ = loaders[name]
    for sub in cards:
        original = (root / sub / CARD).read_bytes()
        (root / sub / CARD).write_bytes(content)
        with pytest.raises(SignlibError, match=message) as err:
            load(root)
        assert str(root / sub / CARD) in str(err.value) and "\n" not in str(err.value)
        (root / sub / CARD).write_bytes(original)


# ------------------------------------------------------------------ weights

class _Payload:
    """What a hostile final.pt holds: unpickling it would call os.system."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _zip_payload(marker: Path) -> bytes:
    buffer = io.BytesIO()
    torch.save({"weight": _Payload(marker)}, buffer)
    return buffer.getvalue()


def _other_run(path: Path) -> bytes:
    """The same model's weights from another run: same keys and shapes, other values."""
    state = torch.load(path, weights_only=True)
    buffer = io.BytesIO()
    torch.save({k: v + 1 if v.is_floating_point() else v for k, v in state.items()}, buffer)
    return buffer.getvalue()


BREAKS = {
    "empty": (lambda path, marker: b"", "is empty"),
    "truncated": (lambda path, marker: path.read_bytes()[:-100], "truncated or corrupt"),
    "bare pickle": (lambda path, marker: pickle.dumps(_Payload(marker)), "not a torch weights file"),
    "zip pickle": (lambda path, marker: _zip_payload(marker), "holds pickled objects"),
    "another run": (lambda path, marker: _other_run(path), "weights do not belong to this card"),
    "a folder": (None, "is a folder"),
}


@pytest.mark.parametrize("kind", list(BREAKS))
@pytest.mark.parametrize("name", [n for n in LOADER_NAMES if n != "tokenizer_report"] + ["workshop.load_model"])
def test_broken_hostile_or_foreign_weights_are_refused_naming_them(folders, name, kind):
    root, loaders = folders
    load, _, weights = loaders[name]
    make, message = BREAKS[kind]
    marker = root / "pwned"
    for sub in weights:
        path = root / sub / WEIGHTS
        original = path.read_bytes()
        if make is None:
            path.unlink()
            path.mkdir()
        else:
            path.write_bytes(make(path, marker))
        with pytest.raises(SignlibError, match=message) as err:
            load(root)
        assert str(path) in str(err.value) and "\n" not in str(err.value), str(err.value)
        assert not marker.exists()
        if make is None:
            path.rmdir()
        path.write_bytes(original)
    load(root)  # restored: loads again


def test_workshop_training_rows_must_be_a_list_of_rows(tmp_path):
    assert workshop.training_rows(tmp_path) == []
    (tmp_path / "metrics_rows.json").write_text('[{"step": 1, "loss": 0.5}]')
    assert workshop.training_rows(tmp_path) == [{"step": 1, "loss": 0.5}]
    (tmp_path / "metrics_rows.json").write_text('{"step": 1}')
    with pytest.raises(SignlibError, match=r"metrics_rows.json: must be a list of rows \(JSON objects\), got dict"):
        workshop.training_rows(tmp_path)
