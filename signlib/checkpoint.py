"""Model folders: the weights (``final.pt``) beside a JSON card that says how to rebuild the model.

:func:`signlib.train.train` writes ``final.pt``; models that need more than their config to be
rebuilt (a vocabulary, say) write a card beside it with :func:`save_model`. Loading reads the card
first (:func:`read_card`), builds the model from it, then loads the weights (:func:`load_weights`)
with ``weights_only=True``, so a data file never executes code. Every failure is one line naming
the file and what is wrong with it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
from torch import nn

from signlib.errors import file_error
from signlib.io import atomic_path, write_json

WEIGHTS = "final.pt"


def save_model(folder: str | os.PathLike, model: nn.Module, card_name: str, card: dict) -> None:
    """Write ``folder/final.pt`` (the model's current weights; this replaces the one
    :func:`signlib.train.train` wrote, so load EMA weights into ``model`` first if you want those)
    and ``folder/<card_name>``, both atomically."""
    with atomic_path(Path(folder) / WEIGHTS) as tmp:
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)
    write_json(Path(folder) / card_name, card)


def read_card(folder: str | os.PathLike, card_name: str, fmt: str, what: str) -> dict:
    """The card ``folder/<card_name>`` as a dict whose ``format`` is ``fmt``; ``what`` names the
    kind of model folder in the error when the card is missing."""
    path = Path(folder) / card_name
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise file_error(path, f"not found: not a {what} model folder") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise file_error(path, f"not valid JSON ({type(err).__name__})") from None
    if not isinstance(card, dict) or card.get("format") != fmt:
        raise file_error(path, f"bad card (not a {fmt} card)")
    return card


def load_weights(model: nn.Module, folder: str | os.PathLike) -> nn.Module:
    """Load ``folder/final.pt`` into ``model`` (CPU, ``weights_only``); returns it in eval mode."""
    path = Path(folder) / WEIGHTS
    try:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except FileNotFoundError:
        raise file_error(path, "weights not found") from None
    except Exception as err:  # truncated zip, foreign pickle, shape mismatch: all the same to the user
        raise file_error(path, f"cannot load weights ({type(err).__name__})") from None
    return model.eval()
