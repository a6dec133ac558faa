"""Stage ``train_text2gloss``: the text-to-gloss model of retrieval text-to-pose.

``python -m signlib.stages.train_text2gloss``. Trains on the training split's (text, language,
glosses) triples and writes ``models/signspark/text2gloss/`` (EMA weights, the card with the
config and the gloss vocabulary).
"""

from __future__ import annotations

import sys

import torch

from signlib.config import Params
from signlib.data.corpus import Corpus
from signlib.generate.text2gloss import Text2Gloss, make_loss, make_sampler, save_text2gloss_card
from signlib.stages.paths import Paths
from signlib.stages.training import run_main
from signlib.text.glosses import GlossVocab
from signlib.train import fit

STAGE, NAME = "signspark", "text2gloss"


def main(params: Params) -> None:
    cfg, paths = params.signspark.text2gloss, Paths(params.base)
    corpus = Corpus(paths.curated)
    pairs = [(c.text, c.language, list(c.glosses)) for c in corpus.select("train")]
    vocab = GlossVocab.build([p[2] for p in pairs])
    torch.manual_seed(params.base.seed)
    model = Text2Gloss(cfg.model, vocab)
    folder = paths.model(STAGE, NAME)
    fit(model, make_loss(), make_sampler(pairs, vocab, cfg.train.batch_size, cfg.model.max_bytes, cfg.model.max_glosses),
        cfg.train.schedule(params.sizes.text2gloss_steps, params.base.seed, params.base.device), folder,
        model_info={"class": "Text2Gloss", "glosses": len(vocab)})
    save_text2gloss_card(folder, model, vocab)


if __name__ == "__main__":
    sys.exit(run_main("train_text2gloss", main))
