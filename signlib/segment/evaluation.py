"""Apply a trained segmenter to clips, score it, time it, and keep it as a model folder.

A segmenter folder is the :mod:`signlib.checkpoint` format of kind ``segmenter``: ``final.pt``
and ``model.json`` holding the model's config and the input features it was trained on, so a
checkpoint is never applied to features it did not see.
"""

from __future__ import annotations

import os
import time

import torch

from signlib.checkpoint import load_model, save_card
from signlib.data.sequence import Sequence
from signlib.segment.decode import DecodeConfig
from signlib.segment.fast import build_segmenter
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
                      tolerance: int = 2) -> dict:
    """Frame macro-F1, inside IoU, segment ratio and boundary F1, averaged per clip."""
    return segmentation_scores([predictions[c.id]["labels"] for c in clips], [c.labels for c in clips],
                               tolerance=tolerance, convention=decode.convention, min_length=decode.min_length)


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


def _build(card: dict) -> torch.nn.Module:
    if card.get("features") != FEATURE_SPEC:
        raise ValueError(f"the checkpoint expects features {card.get('features')}, this signlib computes {FEATURE_SPEC}")
    return build_segmenter(card["config"])


def load_segmenter(folder: str | os.PathLike) -> torch.nn.Module:
    """A segmenter (eval mode) from its model folder; a checkpoint trained on other input
    features than this version of signlib computes is a one-line error naming the card."""
    return load_model(folder, KIND, _build)

