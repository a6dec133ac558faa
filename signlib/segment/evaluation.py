"""Apply a trained segmenter to clips, score it, and load it back from its checkpoint folder."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import torch

from signlib.errors import file_error
from signlib.segment.decode import decode_segments, probs_to_labels
from signlib.segment.fast import build_segmenter
from signlib.segment.features import FEATURE_SPEC
from signlib.segment.metrics import segmentation_scores
from signlib.segment.training import SegClip, predict_probs


def predict_clips(model: torch.nn.Module, clips: list[SegClip], b_threshold: float = 0.5,
                  inside_threshold: float = 0.5, convention: str = "signspark", min_length: int = 1) -> dict:
    """``{clip id: {"probs": (T, 3), "labels": (T,), "segments": [(start, end)]}}``."""
    out = {}
    for c in clips:
        probs = predict_probs(model, c.left, c.right)
        out[c.id] = {"probs": probs, "labels": probs_to_labels(probs, b_threshold, inside_threshold),
                     "segments": decode_segments(probs, convention, b_threshold, inside_threshold, min_length)}
    return out


def score_predictions(predictions: dict, clips: list[SegClip], convention: str = "signspark",
                      tolerance: int = 2, min_length: int = 1) -> dict:
    """Frame macro-F1, inside IoU, segment ratio and boundary F1, averaged per clip."""
    return segmentation_scores([predictions[c.id]["labels"] for c in clips], [c.labels for c in clips],
                               tolerance=tolerance, convention=convention, min_length=min_length)


def frames_per_second(model: torch.nn.Module, clips: list[SegClip], repeats: int = 1) -> float:
    """Inference throughput, one clip at a time (what segmenting a corpus costs)."""
    frames = sum(len(c.labels) for c in clips) * repeats
    start = time.perf_counter()
    for _ in range(repeats):
        for c in clips:
            predict_probs(model, c.left, c.right)
    return frames / (time.perf_counter() - start)


def save_model_card(folder: str | os.PathLike, model_spec: dict) -> None:
    """Write ``model.json`` beside a checkpoint: what to build and what input it expects."""
    from signlib.io import write_json

    write_json(Path(folder) / "model.json", {"model": model_spec, "features": FEATURE_SPEC})


def load_segmenter(folder: str | os.PathLike) -> torch.nn.Module:
    """Rebuild a segmenter from ``model.json`` + ``final.pt`` (weights only, safe to load).

    Raises a one-line error when the checkpoint expects other input features than this version
    of signlib computes (a different layout or feature set)."""
    folder = Path(folder)
    card_path = folder / "model.json"
    try:
        card = json.loads(card_path.read_text())
    except FileNotFoundError:
        raise file_error(card_path, "no model card: not a segmenter folder") from None
    except json.JSONDecodeError:
        raise file_error(card_path, "not valid JSON") from None
    if card.get("features") != FEATURE_SPEC:
        raise file_error(card_path, f"checkpoint expects features {card.get('features')}, "
                                    f"this signlib computes {FEATURE_SPEC}")
    model = build_segmenter(card["model"])
    try:
        state = torch.load(folder / "final.pt", map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"] if "model" in state else state)
    except FileNotFoundError:
        raise file_error(folder / "final.pt", "checkpoint not found") from None
    except (RuntimeError, KeyError, EOFError, OSError) as err:
        raise file_error(folder / "final.pt", f"cannot load weights ({type(err).__name__})") from None
    return model.eval()
