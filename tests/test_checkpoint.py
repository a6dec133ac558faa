"""Model folders: a card and weights round trip, and every broken piece is a one-line error."""

import json

import pytest
import torch
from torch import nn

from signlib.checkpoint import card_format, load_model, load_weights, read_card, save_card, save_model
from signlib.errors import SignlibError


def _build(card: dict) -> nn.Module:
    return nn.Linear(card["config"]["size"], 2)


def test_round_trip_and_errors(tmp_path):
    model = nn.Linear(3, 2)
    save_model(tmp_path / "m", model, "demo", {"size": 3}, note="extra")
    assert card_format("demo") == "signlib.demo/1"
    assert json.loads((tmp_path / "m" / "model.json").read_text()) == \
        {"format": "signlib.demo/1", "config": {"size": 3}, "note": "extra"}
    assert read_card(tmp_path / "m", "demo") == {"format": "signlib.demo/1", "config": {"size": 3}, "note": "extra"}
    other = load_weights(nn.Linear(3, 2), tmp_path / "m")
    assert not other.training
    torch.testing.assert_close(other.weight, model.weight)
    with pytest.raises(SignlibError, match="model.json: not found: .* is not a demo model folder"):
        read_card(tmp_path / "none", "demo")
    with pytest.raises(SignlibError, match=r"not a signlib.other/1 card \(found 'signlib.demo/1'\)"):
        read_card(tmp_path / "m", "other")
    with pytest.raises(SignlibError, match="cannot load weights"):  # shape mismatch
        load_weights(nn.Linear(4, 2), tmp_path / "m")
    (tmp_path / "m" / "model.json").write_text("{oops")
    with pytest.raises(SignlibError, match="not valid JSON"):
        read_card(tmp_path / "m", "demo")
    (tmp_path / "m" / "final.pt").write_bytes(b"not a zip file")
    with pytest.raises(SignlibError, match="final.pt: cannot load weights"):
        load_weights(nn.Linear(3, 2), tmp_path / "m")
    with pytest.raises(SignlibError, match="weights not found"):
        load_weights(nn.Linear(3, 2), tmp_path / "none")


def test_a_card_needs_a_config_mapping(tmp_path):
    (tmp_path / "model.json").write_text(json.dumps({"format": "signlib.demo/1", "config": [3]}))
    with pytest.raises(SignlibError, match="model.json: bad card: 'config' must be a mapping"):
        read_card(tmp_path, "demo")
    (tmp_path / "model.json").write_text(json.dumps(["signlib.demo/1"]))
    with pytest.raises(SignlibError, match=r"not a signlib.demo/1 card \(found 'list'\)"):
        read_card(tmp_path, "demo")


def test_load_model_builds_from_the_card_then_loads_the_weights(tmp_path):
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    torch.save(model.state_dict(), tmp_path / "final.pt")  # what training writes
    save_card(tmp_path, "demo", {"size": 3})
    loaded = load_model(tmp_path, "demo", _build)
    assert not loaded.training
    torch.testing.assert_close(loaded.weight, model.weight)
    torch.testing.assert_close(loaded.bias, model.bias)


@pytest.mark.parametrize("config", [{}, {"size": "three"}, {"size": 0}])
def test_a_card_the_model_cannot_be_built_from_is_a_bad_card(tmp_path, config):
    torch.save(nn.Linear(3, 2).state_dict(), tmp_path / "final.pt")
    save_card(tmp_path, "demo", config)

    def build(card):
        size = card["config"]["size"]                    # KeyError when missing
        if not isinstance(size, int):
            raise TypeError(f"size must be an integer, got {size!r}")
        if size < 1:
            raise SignlibError(f"size={size} must be >= 1")
        return nn.Linear(size, 2)

    with pytest.raises(SignlibError, match=r"model.json: bad card \("):
        load_model(tmp_path, "demo", build)


def test_load_model_reports_a_missing_card_before_the_weights(tmp_path):
    torch.save(nn.Linear(3, 2).state_dict(), tmp_path / "final.pt")
    with pytest.raises(SignlibError, match="model.json: not found"):
        load_model(tmp_path, "demo", _build)
