"""Stage ``train_regression``: the regression text-to-pose baseline of Table 2.

``python -m signlib.stages.train_regression``. Trains the Progressive-Transformer-like model
(:mod:`signlib.baselines.regression`) on the training split and writes ``models/evaluate/regression/``.
"""

from __future__ import annotations

import dataclasses
import sys

import torch

from signlib.baselines.regression import ProgressiveTransformer, save_regression_card
from signlib.baselines.regression_training import as_clips, check_clips, make_loss, make_sampler
from signlib.config import Params
from signlib.data.corpus import Corpus
from signlib.generate.data import clip_statistics
from signlib.stages.paths import Paths
from signlib.stages.training import run_main
from signlib.train import fit

STAGE, NAME = "evaluate", "regression"


def main(params: Params) -> None:
    cfg, paths = params.evaluate.regression, Paths(params.base)
    corpus = Corpus(paths.curated)
    clips = as_clips(corpus.load(c.id) for c in corpus.select("train"))
    config = dataclasses.replace(cfg.model, layout=corpus.layout, max_frames=params.sizes.max_frames, fps=corpus.fps)
    check_clips(clips, config)
    torch.manual_seed(params.base.seed)  # the initial weights, like every later step, follow the seed
    model = ProgressiveTransformer(config)
    model.set_statistics(*clip_statistics(clips))
    folder = paths.model(STAGE, NAME)
    info = {"class": "ProgressiveTransformer", "parameters": sum(p.numel() for p in model.parameters()),
            "config": config.to_dict(), "train_clips": len(clips)}
    fit(model, make_loss(), make_sampler(clips, cfg.train.batch_size, config.max_frames),
        cfg.train.schedule(params.sizes.regression_steps, params.base.seed, params.base.device), folder,
        model_info=info)
    save_regression_card(folder, model, train_clips=len(clips))


if __name__ == "__main__":
    sys.exit(run_main("train_regression", main))
