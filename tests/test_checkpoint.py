"""Model folders: a card and weights round trip, and every broken piece is a one-line error."""

import hashlib
import io
import json
import os
import pickle

import pytest
import torch
from torch import nn

from signlib.checkpoint import (FINGERPRINT, BadCard, card_field, card_format, load_model, load_weights, read_card,
                                save_card, save_model)
from signlib.errors import SignlibError


def _build(card: dict) -> nn.Module:
    return nn.Linear(card["config"]["size"], 2)


def _one_line(err) -> str:
    message = str(err.value)
    assert "\n" not in message
    return message


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_round_trip_and_errors(tmp_path):
    model = nn.Linear(3, 2)
    save_model(tmp_path / "m", model, "demo", {"size": 3}, note="extra")
    assert card_format("demo") == "signlib.demo/1"
    card = {"format": "signlib.demo/1", "config": {"size": 3}, "note": "extra",
            FINGERPRINT: _sha(tmp_path / "m" / "final.pt")}
    assert json.loads((tmp_path / "m" / "model.json").read_text()) == card
    assert read_card(tmp_path / "m", "demo") == card
    other = load_weights(nn.Linear(3, 2), tmp_path / "m")
    assert not other.training
    torch.testing.assert_close(other.weight, model.weight)
    with pytest.raises(SignlibError, match="model.json: not found: .* is not a demo model folder"):
        read_card(tmp_path / "none", "demo")
    with pytest.raises(SignlibError, match=r"not a signlib.other/1 card \(found 'signlib.demo/1'\)"):
        read_card(tmp_path / "m", "other")
    misfit = r"final.pt: cannot load weights: they do not fit this model \(RuntimeError: .*size mismatch"
    with pytest.raises(SignlibError, match=misfit):
        load_weights(nn.Linear(4, 2), tmp_path / "m")
    (tmp_path / "m" / "model.json").write_text("{oops")
    with pytest.raises(SignlibError, match=r"not valid JSON \(line 1"):
        read_card(tmp_path / "m", "demo")
    with pytest.raises(SignlibError, match="weights not found"):
        load_weights(nn.Linear(3, 2), tmp_path / "none")


def test_a_card_needs_a_config_mapping(tmp_path):
    (tmp_path / "model.json").write_text(json.dumps({"format": "signlib.demo/1", "config": [3]}))
    with pytest.raises(BadCard, match=r"model.json: bad card \(field 'config' must be a mapping, got \[3\]\)"):
        read_card(tmp_path, "demo")
    (tmp_path / "model.json").write_text(json.dumps({"format": "signlib.demo/1"}))
    with pytest.raises(BadCard, match=r"model.json: bad card \(missing field 'config'\)"):
        read_card(tmp_path, "demo")
    (tmp_path / "model.json").write_text(json.dumps(["signlib.demo/1"]))
    with pytest.raises(SignlibError, match=r"not a signlib.demo/1 card \(found 'list'\)"):
        read_card(tmp_path, "demo")


def test_a_card_that_is_not_utf8_or_not_a_file_names_the_card(tmp_path):
    (tmp_path / "model.json").write_bytes(b'{"format": "signlib.demo/1", "config": {"size": "\xff"}}')
    with pytest.raises(SignlibError, match=r"model.json: not UTF-8 text \(byte 49\)") as err:
        read_card(tmp_path, "demo")
    _one_line(err)
    (tmp_path / "model.json").unlink()
    (tmp_path / "model.json").mkdir()
    with pytest.raises(SignlibError, match="model.json: is a folder, not a file"):
        read_card(tmp_path, "demo")
    (tmp_path / "file").write_text("x")
    with pytest.raises(SignlibError, match="file is not a folder"):
        read_card(tmp_path / "file", "demo")


def test_load_model_builds_from_the_card_then_loads_the_weights(tmp_path):
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    torch.save(model.state_dict(), tmp_path / "final.pt")  # what training writes
    save_card(tmp_path, "demo", {"size": 3})
    assert read_card(tmp_path, "demo")[FINGERPRINT] == _sha(tmp_path / "final.pt")
    loaded = load_model(tmp_path, "demo", _build)
    assert not loaded.training
    torch.testing.assert_close(loaded.weight, model.weight)
    torch.testing.assert_close(loaded.bias, model.bias)


def test_a_card_saved_before_any_weights_records_no_fingerprint(tmp_path):
    save_card(tmp_path, "demo", {"size": 3})
    assert FINGERPRINT not in read_card(tmp_path, "demo")
    with pytest.raises(SignlibError, match=r"final.pt: weights not found"):
        load_model(tmp_path, "demo", _build)


@pytest.mark.parametrize("config, message", [
    ({}, r"bad card \(missing field 'size'\)"),                         # KeyError in build
    ({"size": "three"}, r"bad card \(TypeError: size must be an integer"),
    ({"size": 0}, r"bad card \(size=0 must be >= 1\)"),                 # a SignlibError keeps its own words
    ({"size": [1]}, r"bad card \(AttributeError: "),
])
def test_a_card_the_model_cannot_be_built_from_is_a_bad_card(tmp_path, config, message):
    torch.save(nn.Linear(3, 2).state_dict(), tmp_path / "final.pt")
    save_card(tmp_path, "demo", config)

    def build(card):
        size = card["config"]["size"]                    # KeyError when missing
        if isinstance(size, list):
            size.bit_length()                            # AttributeError: a field of the wrong shape
        if not isinstance(size, int):
            raise TypeError(f"size must be an integer, got {size!r}")
        if size < 1:
            raise SignlibError(f"size={size} must be >= 1")
        return nn.Linear(size, 2)

    with pytest.raises(SignlibError, match=rf"model.json: {message}") as err:
        load_model(tmp_path, "demo", build)
    _one_line(err)


def test_load_model_reports_a_missing_card_before_the_weights(tmp_path):
    torch.save(nn.Linear(3, 2).state_dict(), tmp_path / "final.pt")
    with pytest.raises(SignlibError, match="model.json: not found"):
        load_model(tmp_path, "demo", _build)


def _evil_payload() -> bytes:
    class Evil:  # what a hostile final.pt would hold: unpickling calls os.system
        def __reduce__(self):
            return os.system, ("touch pwned",)
    return pickle.dumps(Evil())


def _evil_zip() -> bytes:
    class Evil:
        def __reduce__(self):
            return os.system, ("touch pwned",)
    buffer = io.BytesIO()
    torch.save({"weight": Evil()}, buffer)
    return buffer.getvalue()


def _truncated() -> bytes:
    buffer = io.BytesIO()
    torch.save(nn.Linear(3, 2).state_dict(), buffer)
    return buffer.getvalue()[:-40]


def _not_a_state_dict() -> bytes:
    buffer = io.BytesIO()
    torch.save([torch.zeros(2)], buffer)
    return buffer.getvalue()


@pytest.mark.parametrize("data, message", [
    (b"", r"final.pt: cannot load weights: the file is empty \(an interrupted save\?\)"),
    (b"not a zip file", r"final.pt: cannot load weights: not a torch weights file"),
    (b"\n", r"final.pt: cannot load weights: not a torch weights file"),
    (_truncated(), r"final.pt: cannot load weights: truncated or corrupt \(RuntimeError: "),
    (_evil_payload(), r"final.pt: cannot load weights: not a torch weights file .*a bare pickle is never loaded"),
    (_evil_zip(), r"final.pt: cannot load weights: holds pickled objects, not plain tensors "
                  r"\(refused global posix.system\); not loaded"),
    (_not_a_state_dict(), r"final.pt: cannot load weights: holds a list, not a state dict"),
])
def test_broken_or_hostile_weights_are_refused_in_one_line(tmp_path, monkeypatch, data, message):
    monkeypatch.chdir(tmp_path)  # where the payload would create its file
    save_card(tmp_path, "demo", {"size": 3})  # no weights yet: no fingerprint, so the weights themselves are judged
    (tmp_path / "final.pt").write_bytes(data)
    with pytest.raises(SignlibError, match=message) as err:
        load_model(tmp_path, "demo", _build)
    _one_line(err)
    with pytest.raises(SignlibError, match=message):
        load_weights(nn.Linear(3, 2), tmp_path)
    assert not (tmp_path / "pwned").exists()


def test_new_weights_beside_an_old_card_are_refused(tmp_path):
    save_model(tmp_path, nn.Linear(3, 2), "demo", {"size": 3})
    old_card = (tmp_path / "model.json").read_bytes()
    # A second save killed between its two writes: whichever file it reached, the pair disagrees.
    torch.save(nn.Linear(3, 2).state_dict(), tmp_path / "final.pt")            # new weights, old card
    mismatch = (r"final.pt: weights do not belong to this card \(saved by another run, or a save was "
                r"interrupted\); retrain")
    with pytest.raises(SignlibError, match=mismatch) as err:
        load_model(tmp_path, "demo", _build)
    _one_line(err)
    with pytest.raises(SignlibError, match=mismatch):
        load_weights(nn.Linear(3, 2), tmp_path)             # the card in the folder is checked too
    save_card(tmp_path, "demo", {"size": 3})                 # the card written after the weights: they agree
    load_model(tmp_path, "demo", _build)
    (tmp_path / "model.json").write_bytes(old_card)
    with pytest.raises(SignlibError, match=mismatch):
        load_model(tmp_path, "demo", _build)


def test_a_truncated_copy_is_reported_as_truncated_not_as_another_run(tmp_path):
    save_model(tmp_path, nn.Linear(3, 2), "demo", {"size": 3})
    data = (tmp_path / "final.pt").read_bytes()
    (tmp_path / "final.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(SignlibError, match="final.pt: cannot load weights: truncated or corrupt"):
        load_model(tmp_path, "demo", _build)


def test_save_model_interrupted_after_the_card_is_detected(tmp_path, monkeypatch):
    save_model(tmp_path, nn.Linear(3, 2), "demo", {"size": 3})
    import signlib.checkpoint as checkpoint

    def killed(path, data):
        raise KeyboardInterrupt  # the process dies before the weights reach the disk
    monkeypatch.setattr(checkpoint, "write_bytes", killed)
    with pytest.raises(KeyboardInterrupt):
        save_model(tmp_path, nn.Linear(3, 2), "demo", {"size": 3})
    with pytest.raises(SignlibError, match="weights do not belong to this card"):
        load_model(tmp_path, "demo", _build)


def test_a_card_without_a_fingerprint_still_loads(tmp_path):
    model = nn.Linear(3, 2)
    torch.save(model.state_dict(), tmp_path / "final.pt")
    (tmp_path / "model.json").write_text(json.dumps({"format": "signlib.demo/1", "config": {"size": 3}}))
    torch.testing.assert_close(load_model(tmp_path, "demo", _build).weight, model.weight)


@pytest.mark.parametrize("value", [12, "abc", "A" * 64])
def test_a_malformed_fingerprint_is_a_bad_card(tmp_path, value):
    (tmp_path / "model.json").write_text(json.dumps({"format": "signlib.demo/1", "config": {}, FINGERPRINT: value}))
    with pytest.raises(BadCard, match=rf"model.json: bad card \(field '{FINGERPRINT}' must be"):
        read_card(tmp_path, "demo")


def test_save_card_refuses_what_it_cannot_write_and_keeps_the_old_card(tmp_path):
    save_card(tmp_path, "demo", {"size": 3})
    before = (tmp_path / "model.json").read_bytes()
    with pytest.raises(SignlibError, match=r"model.json: cannot write the card \(TypeError: .*not JSON serializable"):
        save_card(tmp_path, "demo", {"size": object()})
    with pytest.raises(SignlibError, match=r"model.json: cannot write the card \(UnicodeEncodeError"):
        save_card(tmp_path, "demo", {"name": "\ud800"})
    with pytest.raises(SignlibError, match="recorded by save_card itself"):
        save_card(tmp_path, "demo", {}, **{FINGERPRINT: "0" * 64})
    assert (tmp_path / "model.json").read_bytes() == before


def test_card_field_names_the_card_and_the_field(tmp_path):
    card = {"sizes": {"a": 1}, "n": True, "name": "x"}
    assert card_field(card, tmp_path, "sizes", dict) == {"a": 1}
    assert card_field(card, tmp_path, "absent", list, default=[]) == []
    with pytest.raises(BadCard, match=rf"^{tmp_path}/model.json: bad card \(missing field 'absent'\)$"):
        card_field(card, tmp_path, "absent", list)
    with pytest.raises(BadCard, match=r"field 'sizes' must be a list, got \{'a': 1\}"):
        card_field(card, tmp_path, "sizes", list)
    with pytest.raises(BadCard, match="field 'n' must be an integer, got True"):  # JSON true is no number
        card_field(card, tmp_path, "n", int)
    with pytest.raises(BadCard, match=r"^model.json: bad card"):  # a card not read from a folder
        card_field(card, None, "name", int)
