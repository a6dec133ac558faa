"""Model folders: the one on-disk format of every trained model in signlib.

A model folder holds ``final.pt`` (the weights, a plain state dict) beside ``model.json``, the
card that says how to rebuild the model::

    {"format": "signlib.<kind>/1", "config": {...the model's config...}, ...extra fields}

:func:`signlib.train.train` writes ``final.pt`` (EMA weights when EMA is on) and its own training
record ``config.json``; the code that builds the model writes the card with :func:`save_card`.
Loading (:func:`load_model`) reads the card first, lets the model's own ``build(card)`` make the
module, then loads the weights with ``weights_only=True``, so a data file never executes code.
Every failure (no card, a card of another kind, a card the model cannot be built from, missing
or foreign weights) is one line naming the file and what is wrong with it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

import torch
from torch import nn

from signlib.errors import SignlibError, file_error
from signlib.io import atomic_path, write_json

CARD = "model.json"
WEIGHTS = "final.pt"


def card_format(kind: str) -> str:
    """The ``format`` string of a model kind, e.g. ``"signlib.signspark/1"``."""
    return f"signlib.{kind}/1"


def save_card(folder: str | os.PathLike, kind: str, config: dict, **extra) -> None:
    """Write ``folder/model.json`` atomically: the format of ``kind``, the model ``config`` (a
    JSON-able dict) and any ``extra`` fields (vocabularies, what the model was trained on)."""
    write_json(Path(folder) / CARD, {"format": card_format(kind), "config": config, **extra})


def save_model(folder: str | os.PathLike, model: nn.Module, kind: str, config: dict, **extra) -> None:
    """Write the model's current weights as ``folder/final.pt`` and its card (:func:`save_card`).

    This replaces a ``final.pt`` that :func:`signlib.train.train` wrote, so load EMA weights into
    ``model`` first if you want those."""
    with atomic_path(Path(folder) / WEIGHTS) as tmp:
        torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, tmp)
    save_card(folder, kind, config, **extra)


def read_card(folder: str | os.PathLike, kind: str) -> dict:
    """The card of a ``kind`` model folder as a dict (with at least ``format`` and ``config``)."""
    path = Path(folder) / CARD
    try:
        card = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise file_error(path, f"not found: {folder} is not a {kind} model folder (train it first)") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise file_error(path, f"not valid JSON ({type(err).__name__})") from None
    if not isinstance(card, dict) or card.get("format") != card_format(kind):
        found = card.get("format") if isinstance(card, dict) else type(card).__name__
        raise file_error(path, f"not a {card_format(kind)} card (found {found!r})")
    if not isinstance(card.get("config"), dict):
        raise file_error(path, "bad card: 'config' must be a mapping")
    return card


def load_weights(model: nn.Module, folder: str | os.PathLike) -> nn.Module:
    """Load ``folder/final.pt`` into ``model`` (CPU, ``weights_only``); returns it in eval mode."""
    path = Path(folder) / WEIGHTS
    try:
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    except FileNotFoundError:
        raise file_error(path, "weights not found") from None
    except Exception as err:  # truncated zip, foreign pickle, shape mismatch: all the same to the user
        first = str(err).splitlines()[0] if str(err) else ""
        raise file_error(path, f"cannot load weights ({type(err).__name__}{': ' + first[:120] if first else ''})") from None
    return model.eval()


def load_model(folder: str | os.PathLike, kind: str, build: Callable[[dict], nn.Module]) -> nn.Module:
    """A model in eval mode from a ``kind`` folder: ``build(card)`` makes the module from the card,
    then the weights are loaded. A card ``build`` rejects is an error naming the card."""
    card = read_card(folder, kind)
    try:
        model = build(card)
    except (SignlibError, TypeError, KeyError, ValueError) as err:  # TypeError: unknown or missing config keys
        raise file_error(Path(folder) / CARD, f"bad card ({err})") from None
    return load_weights(model, folder)
