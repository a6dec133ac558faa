"""Apply a trained segmenter to clips, score it, time it, and keep it as a model folder.

A segmenter folder is the :mod:`signlib.checkpoint` format of kind ``segmenter``: ``final.pt``
and ``model.json`` holding the model's config and the input features it was trained on, so a
checkpoint is never applied to features it did not see.
"""

from __future__ import annotations

import os
import time

import torch

from signlib.checkpoint import bad_card, load_model, save_card
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.segment.decode import DecodeConfig
from signlib.segment.fast import SEGMENTERS, build_segmenter
from signlib.segment.features import FEATURE_SPEC
from signlib.segment.metrics import segmentation_scores
from signlib.segment.training import SegClip, predict_probs, segment_sequence

KIND = "segmenter"


def predict_clips(model: torch.nn.Module, clips: list[SegClip], decode: DecodeConfig = DecodeConfig()) -> dict:
    """``{clip id: {"probs": (T, 3), "labels": (T,), "segments": [(start, end)]}}``."""
    out = {}
    for c in clips:
        probs = predict_probs(model, c.left, c.right)
        out[c.id] = {"probs": probs, "labels": decode.labels(probs), "segments": decode.segments(probs)}
    return out


def score_predictions(predictions: dict, clips: list[SegClip], decode: DecodeConfig = DecodeConfig(),
                      tolerance: int = 2, tolerances_s=()) -> dict:
    """Every metric of :func:`~signlib.segment.metrics.segmentation_scores`, averaged per clip:
    boundary scores at ``tolerance`` frames and at each of ``tolerances_s`` seconds (turned into
    frames at each clip's own frame rate, which ``tolerances_s`` then needs)."""
    fps = [c.fps for c in clips] if tolerances_s else None
    if tolerances_s and any(f is None for f in fps):
        raise SignlibError("score_predictions: tolerances in seconds need every clip's fps "
                           "(SegClip.fps; prepare() sets it from the sequence)")
    return segmentation_scores([predictions[c.id]["labels"] for c in clips], [c.labels for c in clips],
                               tolerance=tolerance, convention=decode.convention, min_length=decode.min_length,
                               fps=fps, tolerances_s=tolerances_s)


def sequence_segments(model: torch.nn.Module, seq: Sequence, decode: DecodeConfig = DecodeConfig()
                      ) -> list[tuple[int, int]]:
    """The sign segments the segmenter finds in ``seq``."""
    return decode.segments(segment_sequence(model, seq))


def frames_per_second(model: torch.nn.Module, clips: list[SegClip], repeats: int = 1) -> float:
    """Inference throughput, one clip at a time (what segmenting a corpus costs)."""
    frames = sum(len(c.labels) for c in clips) * repeats
    start = time.perf_counter()
    for _ in range(repeats):
        for c in clips:
            predict_probs(model, c.left, c.right)
    return frames / (time.perf_counter() - start)


def save_segmenter_card(folder: str | os.PathLike, model: torch.nn.Module) -> None:
    """Write the card beside the weights :func:`signlib.train.train` wrote: the model's config and
    the input features it expects."""
    save_card(folder, KIND, model.config.to_dict(), features=FEATURE_SPEC)


def _build(card: dict, folder: str | os.PathLike) -> torch.nn.Module:
    features = card.get("features")
    if features != FEATURE_SPEC:
        raise bad_card(folder, f"the checkpoint expects features {features!r:.80}, "
                               f"this signlib computes {FEATURE_SPEC}")
    name = card["config"].get("model")
    # Checked here: build_segmenter's KeyError would read as a missing card field.
    if not isinstance(name, str) or name not in SEGMENTERS:
        raise bad_card(folder, f"unknown segmenter {name!r:.40}; known: {', '.join(SEGMENTERS)}")
    return build_segmenter(card["config"])


def load_segmenter(folder: str | os.PathLike) -> torch.nn.Module:
    """A segmenter (eval mode) from its model folder; a checkpoint trained on other input
    features than this version of signlib computes is a one-line error naming the card, and
    weights that are not a plain state dict (a pickle payload, a truncated file) or not the card's
    are refused naming ``final.pt`` (:func:`signlib.checkpoint.load_weights`)."""
    return load_model(folder, KIND, lambda card: _build(card, folder))
