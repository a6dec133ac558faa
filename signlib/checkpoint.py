"""Model folders: the one on-disk format of every trained model in signlib.

A model folder holds ``final.pt`` (the weights, a plain state dict) beside ``model.json``, the
card that says how to rebuild the model::

    {"format": "signlib.<kind>/1", "config": {...the model's config...},
     "weights_sha256": "<sha256 of final.pt>", ...extra fields}

:func:`signlib.train.train` writes ``final.pt`` (EMA weights when EMA is on) and its own training
record ``config.json``; the code that builds the model writes the card with :func:`save_card`
*after* the weights. Loading (:func:`load_model`) reads the card first, lets the model's own
``build(card)`` make the module, then loads the weights with ``weights_only=True``, so a data file
never executes code.

Weights and card are two files, written one after the other, so a run killed in between (or a
folder assembled from two runs) pairs weights with a card they do not belong to. The card
therefore records the SHA-256 of the ``final.pt`` it was saved beside (``weights_sha256``), and
loading refuses weights whose bytes do not match. Cards written before the field existed have none
and still load.

Every failure (no card, a card of another kind, a card the model cannot be built from, a card
field missing or of the wrong type, missing, truncated, foreign or mismatched weights) is one
line naming the file and what is wrong with it. Loaders that read card fields themselves use
:func:`card_field`, so those errors name the card too.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import re
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from signlib.errors import SignlibError, file_error
from signlib.io import write_bytes, write_json

CARD = "model.json"
WEIGHTS = "final.pt"
#: The card field that binds a card to the bytes of its ``final.pt``.
FINGERPRINT = "weights_sha256"
#: What every ``torch.save`` file since torch 1.6 starts with: a zip archive.
_ZIP_MAGIC = b"PK\x03\x04"
_REQUIRED = object()


class BadCard(SignlibError):
    """A card whose fields do not describe a model; the message names the card file."""


def card_format(kind: str) -> str:
    """The ``format`` string of a model kind, e.g. ``"signlib.signspark/1"``."""
    return f"signlib.{kind}/1"


def bad_card(folder: str | os.PathLike | None, what: str) -> BadCard:
    """``"<folder>/model.json: bad card (<what>)"`` (``folder`` None: a card not read from disk)."""
    where = os.fspath(Path(folder) / CARD) if folder is not None else CARD
    return BadCard(f"{where}: bad card ({what})")


def _kind_name(kind) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {dict: "a mapping", list: "a list", str: "a string", int: "an integer", float: "a number",
             bool: "true or false", type(None): "null"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def card_field(card: dict, folder: str | os.PathLike | None, key: str, kind, default: Any = _REQUIRED) -> Any:
    """``card[key]``, checked to be an instance of ``kind`` (a type or a tuple of types).

    A missing field (unless ``default`` is given) or one of another type is a :class:`BadCard`
    naming the card file. ``bool`` is never accepted as a number: JSON ``true`` is no size."""
    if key not in card:
        if default is _REQUIRED:
            raise bad_card(folder, f"missing field {key!r}")
        return default
    value = card[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    numeric = any(k in (int, float) for k in kinds) and bool not in kinds
    if not isinstance(value, kinds) or (numeric and isinstance(value, bool)):
        raise bad_card(folder, f"field {key!r} must be {_kind_name(kind)}, got {value!r:.60}")
    return value


def _first_line(err: BaseException) -> str:
    """The informative start of a library's (often multi-line) message, at most 160 characters.

    torch's messages open with a header ("Error(s) in loading state_dict for X:") whose detail is
    on the next line, and may be empty (EOFError), so neither ``str(err)`` nor its first line will do."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    text = " ".join(lines[:2]) if len(lines) > 1 and lines[0].endswith(":") else (lines[0] if lines else "")
    text = f"{type(err).__name__}: {text}" if text else type(err).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_bytes(path: Path, missing: str) -> bytes:
    """The bytes of ``path``; a missing file, a folder or an unreadable file is an error naming it."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise file_error(path, missing) from None
    except IsADirectoryError:
        raise file_error(path, "is a folder, not a file") from None
    except NotADirectoryError:
        raise file_error(path, f"{path.parent} is not a folder") from None
    except OSError as err:
        raise file_error(path, f"cannot read ({err.strerror or type(err).__name__})") from None


def _write_card(folder: str | os.PathLike, kind: str, config: dict, fingerprint: str | None, extra: dict) -> None:
    if FINGERPRINT in extra:
        raise SignlibError(f"save_card: {FINGERPRINT!r} is recorded by save_card itself, not passed in")
    if not isinstance(config, dict):
        raise SignlibError(f"save_card: config must be a dict, got {type(config).__name__}")
    card = {"format": card_format(kind), "config": config, **extra}
    if fingerprint is not None:
        card[FINGERPRINT] = fingerprint
    try:
        write_json(Path(folder) / CARD, card)
    except (TypeError, ValueError) as err:  # not JSON-able, or text UTF-8 cannot hold; nothing was replaced
        raise file_error(Path(folder) / CARD, f"cannot write the card ({_first_line(err)})") from None


def save_card(folder: str | os.PathLike, kind: str, config: dict, **extra) -> None:
    """Write ``folder/model.json`` atomically: the format of ``kind``, the model ``config`` (a
    JSON-able dict), any ``extra`` fields (vocabularies, what the model was trained on) and the
    SHA-256 of the ``final.pt`` in ``folder`` (none while there is none).

    Call it after the weights are written (after :func:`signlib.train.train`): a card saved before
    training fingerprints the previous run's weights (or none), and the new weights will not load
    against it until the card is saved again."""
    path = Path(folder) / WEIGHTS
    fingerprint = _sha256(_read_bytes(path, "weights not found")) if path.is_file() else None
    _write_card(folder, kind, config, fingerprint, extra)


def save_model(folder: str | os.PathLike, model: nn.Module, kind: str, config: dict, **extra) -> None:
    """Write the model's current weights as ``folder/final.pt`` and its card.

    The weights are serialised first, in memory; then the card (with their fingerprint) and the
    weights file are each written atomically. Whichever write an interruption stops, the folder is
    either the old pair, or a new card whose fingerprint the old (or missing) weights do not match,
    which :func:`load_model` reports; never a silent mix. (Weights first would leave new weights
    beside the old card, which goes unnoticed when that card predates fingerprints.)

    This replaces a ``final.pt`` that :func:`signlib.train.train` wrote, so load EMA weights into
    ``model`` first if you want those."""
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in model.state_dict().items()}, buffer)
    data = buffer.getvalue()
    _write_card(folder, kind, config, _sha256(data), extra)
    write_bytes(Path(folder) / WEIGHTS, data)


def read_card(folder: str | os.PathLike, kind: str) -> dict:
    """The card of a ``kind`` model folder as a dict (with at least ``format`` and ``config``)."""
    path = Path(folder) / CARD
    data = _read_bytes(path, f"not found: {folder} is not a {kind} model folder (train it first)")
    try:
        card = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise file_error(path, f"not UTF-8 text (byte {err.start}); not a model card") from None
    except json.JSONDecodeError as err:
        raise file_error(path, f"not valid JSON (line {err.lineno}: {err.msg})") from None
    if not isinstance(card, dict) or card.get("format") != card_format(kind):
        found = card.get("format") if isinstance(card, dict) else type(card).__name__
        raise file_error(path, f"not a {card_format(kind)} card (found {found!r:.60})")
    card_field(card, folder, "config", dict)
    fingerprint = card_field(card, folder, FINGERPRINT, str, default=None)
    if fingerprint is not None and not re.fullmatch(r"[0-9a-f]{64}", fingerprint):
        raise bad_card(folder, f"field {FINGERPRINT!r} must be 64 lower-case hex digits, got {fingerprint!r:.70}")
    return card


def _state_dict(path: Path, data: bytes) -> dict:
    """The state dict in the bytes of ``path``, read with ``weights_only``; anything else is an error."""
    def refuse(what: str) -> SignlibError:
        return file_error(path, f"cannot load weights: {what}")

    if not data:
        raise refuse("the file is empty (an interrupted save?); retrain or copy the weights again")
    if not data.startswith(_ZIP_MAGIC):
        # torch.save has written zip archives since torch 1.6. Anything else (a bare pickle, text,
        # garbage) is refused before any unpickler sees it.
        raise refuse("not a torch weights file (torch.save writes a zip archive); a bare pickle is never "
                     "loaded, it could run code")
    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # weights_only refuses every global that is not a tensor type, so nothing named was called.
        named = re.search(r"GLOBAL (\S+)", str(err))
        what = f" (refused global {named.group(1)})" if named else ""
        raise refuse(f"holds pickled objects, not plain tensors{what}; not loaded, it could run code") from None
    except Exception as err:  # truncated zip, missing records: torch raises RuntimeError and others
        raise refuse(f"truncated or corrupt ({_first_line(err)})") from None
    if not isinstance(state, dict) or not all(isinstance(k, str) and isinstance(v, torch.Tensor)
                                              for k, v in state.items()):
        raise refuse(f"holds a {type(state).__name__}, not a state dict (parameter name -> tensor)")
    return state


def _check_fingerprint(path: Path, data: bytes, card: dict | None) -> None:
    expected = None if card is None else card.get(FINGERPRINT)
    if expected is not None and _sha256(data) != expected:
        raise file_error(path, "weights do not belong to this card (saved by another run, or a save was "
                               "interrupted); retrain")


def _folder_card(folder: Path) -> dict | None:
    """The card beside the weights as raw JSON, or None when there is no readable one (only its
    fingerprint is used here; :func:`read_card` reports a broken card)."""
    try:
        card = json.loads((folder / CARD).read_bytes().decode("utf-8"))
    except (OSError, ValueError):  # missing, unreadable, not UTF-8 or not JSON
        return None
    return card if isinstance(card, dict) and isinstance(card.get(FINGERPRINT), str) else None


def load_weights(model: nn.Module, folder: str | os.PathLike, card: dict | None = None) -> nn.Module:
    """Load ``folder/final.pt`` into ``model`` (CPU, ``weights_only``); returns it in eval mode.

    The weights must match the fingerprint of ``card`` (default: the card in ``folder``, when it
    has one). An empty, truncated or non-torch file, one that holds pickled objects, weights of
    another run and weights that do not fit ``model`` are errors naming ``final.pt``."""
    folder = Path(folder)
    path = folder / WEIGHTS
    data = _read_bytes(path, "weights not found")
    # What the bytes are comes first: a truncated copy is better reported as truncated than as
    # "another run's". Reading them is safe either way (a zip archive, weights_only).
    state = _state_dict(path, data)
    _check_fingerprint(path, data, _folder_card(folder) if card is None else card)
    try:
        model.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError) as err:  # missing or unexpected keys, shape mismatch
        raise file_error(path, f"cannot load weights: they do not fit this model ({_first_line(err)})") from None
    return model.eval()


def _build_error(err: Exception) -> str:
    """What a ``build`` callback's exception says about the card, in a few words."""
    if isinstance(err, KeyError):
        return f"missing field {err.args[0]!r}" if err.args else "a field is missing"
    return str(err) if isinstance(err, SignlibError) else _first_line(err)


def load_model(folder: str | os.PathLike, kind: str, build: Callable[[dict], nn.Module]) -> nn.Module:
    """A model in eval mode from a ``kind`` folder: ``build(card)`` makes the module from the card,
    then the weights are loaded and checked against the card's fingerprint. A card ``build``
    rejects (a missing key, a wrong type or value) is an error naming the card."""
    card = read_card(folder, kind)
    try:
        model = build(card)
    except BadCard:
        raise  # already names the card
    except (SignlibError, TypeError, KeyError, ValueError, AttributeError, IndexError, OverflowError) as err:
        # TypeError: unknown or missing config keys; AttributeError/IndexError: a field of the wrong shape.
        raise bad_card(folder, _build_error(err)) from None
    return load_weights(model, folder, card)
