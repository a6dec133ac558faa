"""Stage ``train_backtranslation``: the pose-to-text model that scores generated signing by BLEU.

``python -m signlib.stages.train_backtranslation``. Trains on the training split's poses and texts
(the same split as every generator) and writes ``models/evaluate/backtranslation/``. A corpus whose
clips have no gloss segments trains without the gloss CTC head.
"""

from __future__ import annotations

import dataclasses
import sys

import torch

from signlib.backtranslation.training import build_model, make_loss, make_sampler
from signlib.backtranslation.translate import save_backtranslation_card
from signlib.config import Params
from signlib.data.corpus import Corpus
from signlib.stages.paths import Paths
from signlib.stages.training import run_main
from signlib.train import fit

STAGE, NAME = "evaluate", "backtranslation"


def main(params: Params) -> None:
    cfg, paths = params.evaluate.backtranslation, Paths(params.base)
    corpus = Corpus(paths.curated)
    sequences = [corpus.load(c.id) for c in corpus.select("train")]
    config = dataclasses.replace(cfg.model, layout=corpus.layout, max_frames=params.sizes.max_frames)
    if config.ctc_weight > 0 and not all(s.glosses for s in sequences):
        print("training clips without gloss segments: back-translation trains without its gloss CTC head",
              file=sys.stderr)
        config = dataclasses.replace(config, ctc_weight=0.0)
    torch.manual_seed(params.base.seed)  # the initial weights, like every later step, follow the seed
    model = build_model(sequences, config)
    folder = paths.model(STAGE, NAME)
    sampler = make_sampler(sequences, model.vocab, cfg.train.batch_size, config.max_frames, config.max_tokens,
                           glosses=model.glosses)
    info = {"class": "PoseToText", "words": len(model.vocab.words), "config": dataclasses.asdict(config),
            "parameters": sum(p.numel() for p in model.parameters())}
    fit(model, make_loss(), sampler, cfg.train.schedule(params.sizes.backtranslation_steps, params.base.seed,
                                                        params.base.device), folder, model_info=info)
    save_backtranslation_card(folder, model)


if __name__ == "__main__":
    sys.exit(run_main("train_backtranslation", main))
