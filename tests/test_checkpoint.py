"""Model folders: a card and weights round trip, and every broken piece is a one-line error."""

import pytest
import torch
from torch import nn

from signlib.checkpoint import load_weights, read_card, save_model
from signlib.errors import SignlibError


def test_round_trip_and_errors(tmp_path):
    model = nn.Linear(3, 2)
    save_model(tmp_path / "m", model, "card.json", {"format": "demo/1", "size": 3})
    assert read_card(tmp_path / "m", "card.json", "demo/1", "demo") == {"format": "demo/1", "size": 3}
    other = load_weights(nn.Linear(3, 2), tmp_path / "m")
    assert not other.training
    torch.testing.assert_close(other.weight, model.weight)
    with pytest.raises(SignlibError, match="card.json: not found: not a demo model folder"):
        read_card(tmp_path / "none", "card.json", "demo/1", "demo")
    with pytest.raises(SignlibError, match="not a other/1 card"):
        read_card(tmp_path / "m", "card.json", "other/1", "demo")
    (tmp_path / "m" / "card.json").write_text("{oops")
    with pytest.raises(SignlibError, match="not valid JSON"):
        read_card(tmp_path / "m", "card.json", "demo/1", "demo")
    with pytest.raises(SignlibError, match="cannot load weights"):  # shape mismatch
        load_weights(nn.Linear(4, 2), tmp_path / "m")
    (tmp_path / "m" / "final.pt").write_bytes(b"not a zip file")
    with pytest.raises(SignlibError, match="final.pt: cannot load weights"):
        load_weights(nn.Linear(3, 2), tmp_path / "m")
    with pytest.raises(SignlibError, match="weights not found"):
        load_weights(nn.Linear(3, 2), tmp_path / "none")
