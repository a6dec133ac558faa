"""Back-translation at inference: greedy decoding of the overfitted clips, the model folder
(``final.pt`` + ``model.json``) round trip, and one-line errors for bad input and bad folders."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from signlib.backtranslation.translate import back_translate, load_backtranslation, save_backtranslation_card
from signlib.checkpoint import CARD, WEIGHTS, card_format
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError

from .conftest import GLOSSES, TEXTS, TINY, make_sequences, random_model, save_folder, smooth_clip


def test_tiny_model_decodes_the_texts_of_the_clips_it_overfitted(trained):
    model, _, _ = trained
    seqs = make_sequences()
    assert np.array_equal(seqs[0].features, seqs[1].features)           # ASL "cold", BSL "warm"
    assert back_translate(model, seqs, batch_size=3) == [t for t, _ in TEXTS]


def test_answers_come_in_input_order_whatever_the_batching(trained):
    model, _, _ = trained
    seqs = make_sequences()[::-1]                      # lengths 47, 33, 40, 40: not in length order
    assert back_translate(model, seqs, batch_size=1) == back_translate(model, seqs) == [t for t, _ in TEXTS[::-1]]


def test_decoding_leaves_the_training_mode_as_it_was():
    model = random_model().train()
    back_translate(model, make_sequences()[:1])
    assert model.training


def test_save_load_round_trip_gives_identical_decodes(trained, tmp_path):
    model, _, folder = trained
    card = json.loads((folder / CARD).read_text())
    assert card["format"] == card_format("backtranslation") and card["config"] == dataclasses.asdict(TINY)
    loaded = load_backtranslation(folder)                 # the folder fit + save_backtranslation_card wrote
    assert not loaded.training
    assert loaded.config == TINY and loaded.vocab.tokens == model.vocab.tokens
    assert loaded.glosses.tokens == model.glosses.tokens
    torch.testing.assert_close(loaded.std, model.std)
    torch.testing.assert_close(loaded.mean, model.mean)
    seqs = make_sequences()
    assert back_translate(loaded, seqs) == back_translate(model, seqs)
    save_folder(tmp_path, loaded)
    assert back_translate(load_backtranslation(tmp_path), seqs) == back_translate(model, seqs)


def test_gloss_head_and_vocabulary_survive_save_load(tmp_path):
    model = random_model(dataclasses.replace(TINY, ctc_weight=0.5))
    with torch.no_grad():
        model.gloss_head.weight.add_(1.0)                 # not the initial weights
    save_folder(tmp_path, model)
    loaded = load_backtranslation(tmp_path)
    assert loaded.glosses.tokens == model.glosses.tokens and loaded.glosses.decode(
        loaded.glosses.encode(GLOSSES[3])) == GLOSSES[3]
    torch.testing.assert_close(loaded.gloss_head.weight, model.gloss_head.weight)
    plain = random_model(dataclasses.replace(TINY, ctc_weight=0.0))
    save_folder(tmp_path / "plain", plain)
    card = json.loads((tmp_path / "plain" / CARD).read_text())
    assert card["glosses"] is None and load_backtranslation(tmp_path / "plain").glosses is None


def test_bad_inputs_give_clear_errors(trained):
    model, _, _ = trained
    other = Sequence(features=np.zeros((20, 246), np.float32), layout="rot6d_spine3", fps=25.0,
                     text="x", language="ASL", id="spine")
    with pytest.raises(SignlibError, match="back_translate: spine has layout 'rot6d_spine3' but the model reads 'rot6d'"):
        back_translate(model, [other])
    long = make_sequences()[0].replace(features=smooth_clip(65, 0), id="long")
    with pytest.raises(SignlibError, match="back_translate: long has 65 frames, over max_frames=64"):
        back_translate(model, [long])
    with pytest.raises(SignlibError, match="unknown sign language ''"):
        back_translate(model, [make_sequences()[0].replace(language="")])
    with pytest.raises(SignlibError, match="back_translate: no sequences"):
        back_translate(model, [])


def test_bad_model_folders_are_one_line_errors_naming_the_file(trained, tmp_path):
    model, _, _ = trained
    with pytest.raises(SignlibError, match="model.json: not found: .* is not a backtranslation model folder"):
        load_backtranslation(tmp_path)
    save_folder(tmp_path, model)
    weights = (tmp_path / WEIGHTS).read_bytes()
    (tmp_path / WEIGHTS).write_bytes(weights[: len(weights) // 2])
    with pytest.raises(SignlibError, match="final.pt: cannot load weights"):
        load_backtranslation(tmp_path)
    (tmp_path / WEIGHTS).unlink()
    with pytest.raises(SignlibError, match="final.pt: weights not found"):
        load_backtranslation(tmp_path)
    save_backtranslation_card(tmp_path, model)
    card = json.loads((tmp_path / CARD).read_text())
    (tmp_path / CARD).write_text(json.dumps({**card, "config": {**card["config"], "colour": "red"}}))
    with pytest.raises(SignlibError, match="model.json: bad card .*colour"):
        load_backtranslation(tmp_path)
    (tmp_path / CARD).write_text(json.dumps({**card, "config": {**card["config"], "heads": 5}}))
    with pytest.raises(SignlibError, match="model.json: bad card .*heads=5 must divide d_model=64"):
        load_backtranslation(tmp_path)
    (tmp_path / CARD).write_text(json.dumps({**card, "format": card_format("regression")}))
    with pytest.raises(SignlibError, match="not a signlib.backtranslation/1 card .*'signlib.regression/1'"):
        load_backtranslation(tmp_path)
    (tmp_path / CARD).write_text("{oops")
    with pytest.raises(SignlibError, match="model.json: not valid JSON"):
        load_backtranslation(tmp_path)
