"""Stage ``train_signspark``: the SignSparK generator.

``python -m signlib.stages.train_signspark``. Trains on the training split with the keyframes the
``keyframes`` stage mined under ``keyframes.policy`` (``signspark.keyframe_source: mined``) or with
the true keyframes from the corpus (``true``), and writes ``models/signspark/signspark/`` (EMA
weights; the card with the architecture and what it was trained on). A killed run resumes from its
``last.pt`` with the same final weights.
"""

from __future__ import annotations

import os
import sys

import torch

from signlib.config import Params
from signlib.data.corpus import Corpus
from signlib.errors import SignlibError
from signlib.generate.data import GenClip, clip_statistics, make_loss, make_sampler, to_genclip
from signlib.generate.flow import part_weights
from signlib.generate.model import SignSparK, save_signspark_card
from signlib.keyframes import clip_keyframes, read_keyframes
from signlib.stages.paths import Paths
from signlib.stages.training import run_main
from signlib.train import TrainResult, fit

STAGE, NAME = "signspark", "signspark"


def training_keyframes(params: Params) -> dict[str, list[int]] | None:
    """Mined keyframes under ``keyframes.policy``, or None for the true ones."""
    if params.signspark.keyframe_source == "true":
        return None
    return read_keyframes(Paths(params.base).keyframes, params.keyframes.policy)


def training_clips(corpus: Corpus, keyframes: dict[str, list[int]] | None, split: str = "train") -> list[GenClip]:
    """The clips of ``split`` with the keyframes the generator gets (see :func:`training_keyframes`)."""
    out = []
    for info in corpus.select(split):
        seq = corpus.load(info.id)
        out.append(to_genclip(seq, clip_keyframes(seq, keyframes)))
    if not out:
        raise SignlibError(f"{corpus.root}: no clips in split {split!r}")
    return out


def fit_signspark(params: Params, clips: list[GenClip], layout: str, fps: float, folder: str | os.PathLike,
                  steps: int, **extra) -> tuple[SignSparK, TrainResult]:
    """A SignSparK of the ``signspark`` section's architecture, objective and optimiser, trained on
    ``clips`` (any layout: the real-data check trains one on keypoints); ``extra`` goes on the card."""
    cfg, base = params.signspark, params.base
    config = cfg.model.for_data(layout, fps, params.sizes.max_frames)
    torch.manual_seed(base.seed)  # the initial weights, like every later step, follow the seed
    model = SignSparK(config)
    model.set_statistics(*clip_statistics(clips))
    model.set_prior_scales([c.features for c in clips], [c.keyframes for c in clips])
    info = {"class": "SignSparK", "parameters": sum(p.numel() for p in model.parameters()), "config": config.to_dict()}
    result = fit(model, make_loss(part_weights(layout), cfg.loss), make_sampler(clips, cfg.train.batch_size, cfg.data),
                 cfg.train.schedule(steps, base.seed, base.device), folder, model_info=info)
    # After the weights: the card records their fingerprint, so a card never vouches for weights
    # another (or an interrupted) run left in the folder.
    save_signspark_card(folder, config, **extra, train_clips=len(clips))
    return model, result


def main(params: Params) -> None:
    corpus = Corpus(Paths(params.base).curated)
    clips = training_clips(corpus, training_keyframes(params))
    fit_signspark(params, clips, corpus.layout, corpus.fps, Paths(params.base).model(STAGE, NAME),
                  params.sizes.signspark_steps, keyframe_source=params.signspark.keyframe_source,
                  policy=params.keyframes.policy)


if __name__ == "__main__":
    sys.exit(run_main("train_signspark", main))
