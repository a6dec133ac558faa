"""The segmenter model folder: a hostile or broken final.pt and a bad card are one-line errors."""

import json
import os
import pickle

import pytest
import torch

from signlib.errors import SignlibError
from signlib.segment.configs import FASTConfig
from signlib.segment.evaluation import load_segmenter, save_segmenter_card
from signlib.segment.fast import FAST
from signlib.segment.features import FEATURE_SPEC

SMALL = FASTConfig(d_model=16, layers=1, heads=2, ff=32)


class _Payload:
    def __reduce__(self):
        return os.system, ("touch pwned",)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # where a payload that ran would leave its file
    torch.save(FAST(SMALL).state_dict(), tmp_path / "final.pt")
    save_segmenter_card(tmp_path, FAST(SMALL))
    return tmp_path


def test_the_card_records_the_weights_it_was_saved_beside(folder):
    card = json.loads((folder / "model.json").read_text())
    assert set(card) == {"format", "config", "features", "weights_sha256"} and card["features"] == FEATURE_SPEC
    assert isinstance(load_segmenter(folder), FAST)


@pytest.mark.parametrize("data, message", [
    (pickle.dumps(_Payload()), "not a torch weights file"),
    (b"", "the file is empty"),
    (b"PK\x03\x04 truncated", "truncated or corrupt"),
])
def test_a_pickle_payload_or_broken_weights_never_load(folder, data, message):
    (folder / "model.json").write_text(json.dumps({k: v for k, v in json.loads((folder / "model.json").read_text())
                                                   .items() if k != "weights_sha256"}))
    (folder / "final.pt").write_bytes(data)
    with pytest.raises(SignlibError, match=f"final.pt: cannot load weights: {message}") as info:
        load_segmenter(folder)
    assert "\n" not in str(info.value)
    assert not (folder / "pwned").exists()


def test_weights_of_another_run_are_refused(folder):
    torch.manual_seed(1)
    torch.save(FAST(SMALL).state_dict(), folder / "final.pt")  # retrained, killed before its card
    with pytest.raises(SignlibError, match="final.pt: weights do not belong to this card"):
        load_segmenter(folder)


@pytest.mark.parametrize("change, message", [
    (lambda c: c.pop("features"), "the checkpoint expects features None"),
    (lambda c: c["config"].update(model=["fast"]), r"unknown segmenter \['fast'\]; known: fast, bilstm"),
    (lambda c: c["config"].pop("model"), "unknown segmenter None"),
    (lambda c: c["config"].update(heads="two"), "FASTConfig: heads='two' must be an integer"),
    (lambda c: c["config"].update(colour=1), "colour"),
    (lambda c: c.update(config=None), "field 'config' must be a mapping"),
])
def test_a_bad_card_names_the_card(folder, change, message):
    card = json.loads((folder / "model.json").read_text())
    change(card)
    (folder / "model.json").write_text(json.dumps(card))
    with pytest.raises(SignlibError, match=rf"model.json: bad card \(.*{message}") as info:
        load_segmenter(folder)
    assert "\n" not in str(info.value) and str(folder) in str(info.value)
