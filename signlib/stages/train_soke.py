"""Stage ``train_soke``: the SOKE-style tokenised text-to-pose baseline of Table 2.

``python -m signlib.stages.train_soke``. Trains, on the training split, the decoupled VQ-VAE
tokenizer (``models/evaluate/soke_tokenizer/``; its card records the validation reconstruction
error per part and the codes used), then two text-to-token generators on its codes: the plain one
(``models/evaluate/soke/``) and the retrieval-enhanced one (``models/evaluate/soke_retrieval/``),
which reads the isolated-sign dictionary and the tri-frame dictionary's sign spans and is skipped,
with a note, for a corpus without them (:mod:`signlib.baselines.soke`).
"""

from __future__ import annotations

import dataclasses
import sys

import torch

from signlib.baselines.soke import SignBank, SokeTokenizer, build_generator, save_generator_card, save_tokenizer_card
from signlib.baselines.soke_training import (codes_used, generator_loss, generator_sampler, reconstruction_errors,
                                             reconstruction_unit, tokenise_clips, tokenizer_loss, tokenizer_sampler)
from signlib.baselines.stitching import load_citations
from signlib.config import Params
from signlib.data.corpus import Corpus
from signlib.errors import SignlibError
from signlib.generate.data import clip_statistics, to_genclip
from signlib.io import write_json
from signlib.stages.paths import Paths
from signlib.stages.training import run_main
from signlib.train import fit
from signlib.triframe import TriframeDictionary

STAGE = "evaluate"
TOKENIZER, PLAIN, RETRIEVAL = "soke_tokenizer", "soke", "soke_retrieval"


def train_tokenizer(params: Params, config, train, val) -> tuple[SokeTokenizer, list]:
    """Fit the tokenizer on ``train`` and write its folder, with its report in the card;
    returns it with the tokenised training clips."""
    cfg, paths = params.evaluate.soke, Paths(params.base)
    torch.manual_seed(params.base.seed)
    tokenizer = SokeTokenizer(config)
    tokenizer.set_statistics(*clip_statistics([to_genclip(s, keyframes=[]) for s in train]))
    folder = paths.model(STAGE, TOKENIZER)
    info = {"class": "SokeTokenizer", "parameters": sum(p.numel() for p in tokenizer.parameters()),
            "config": config.to_dict(), "train_clips": len(train)}
    fit(tokenizer, tokenizer_loss(), tokenizer_sampler(train, cfg.tokenizer_train.batch_size, config.crop_frames),
        cfg.tokenizer_train.schedule(params.sizes.soke_tokenizer_steps, params.base.seed, params.base.device),
        folder, model_info=info)
    tokenizer.cpu().eval()
    split = "validation" if val else "training"     # a corpus without a validation split reports on training
    errors, unit = reconstruction_errors(tokenizer, val or train), reconstruction_unit(tokenizer.layout)
    clips = tokenise_clips(tokenizer, train)
    used = codes_used(clips)
    print(f"{TOKENIZER}: reconstruction error on the {split} split ({unit}): "
          + ", ".join(f"{p} {e:.2f}" for p, e in errors.items()) + "; codes used on the training clips: "
          + ", ".join(f"{p} {n}/{tokenizer.sizes[p]}" for p, n in used.items()), file=sys.stderr)
    save_tokenizer_card(folder, tokenizer, reconstruction=errors, reconstruction_unit=unit,
                        reconstruction_split=split, codes_used=used, train_clips=len(train))
    return tokenizer, clips


def train_generator(params: Params, config, tokenizer: SokeTokenizer, clips, name: str, spans=None) -> None:
    """Fit one text-to-token generator on the tokenised ``clips`` and write its folder."""
    cfg, paths = params.evaluate.soke, Paths(params.base)
    torch.manual_seed(params.base.seed)
    generator = build_generator(config, tokenizer.sizes)
    folder = paths.model(STAGE, name)
    info = {"class": "MultiHeadTokenGenerator", "parameters": sum(p.numel() for p in generator.parameters()),
            "config": config.to_dict(), "train_clips": len(clips)}
    fit(generator, generator_loss(), generator_sampler(clips, cfg.train.batch_size),
        cfg.train.schedule(params.sizes.soke_steps, params.base.seed, params.base.device), folder, model_info=info)
    extra = {"train_clips": len(clips)}
    if config.retrieval:
        extra["mean_retrieved_signs"] = sum(c.signs for c in clips) / len(clips)
    save_generator_card(folder, generator.cpu(), config, tokenizer, spans=spans, **extra)


def main(params: Params) -> None:
    cfg, paths = params.evaluate.soke, Paths(params.base)
    corpus = Corpus(paths.curated)
    train = [corpus.load(c.id) for c in corpus.select("train")]
    val = [corpus.load(c.id) for c in corpus.select("val")]
    if not train:
        raise SignlibError(f"{paths.curated}: no training clips")
    config = dataclasses.replace(cfg.model, layout=corpus.layout, max_frames=params.sizes.max_frames,
                                 fps=corpus.fps, retrieval=False)
    tokenizer, plain = train_tokenizer(params, config, train, val)
    train_generator(params, config, tokenizer, plain, PLAIN)
    if not (paths.triframe.exists() and paths.dictionary.exists()):
        note = (f"{RETRIEVAL}: no isolated-sign dictionary ({paths.dictionary}) or tri-frame dictionary "
                f"({paths.triframe}): the retrieval variant is not trained")
        print(note, file=sys.stderr)
        # The folder is a declared output: it holds the reason instead of a model (no model.json).
        write_json(paths.model(STAGE, RETRIEVAL) / "skipped.json", {"skipped": note})
        return
    citations = load_citations(Corpus(paths.dictionary))
    triframe = TriframeDictionary.load(paths.triframe)
    spans = {k: v for k, v in triframe.spans.items() if k in citations}
    retrieved = tokenise_clips(tokenizer, train, SignBank(tokenizer, citations, spans))
    train_generator(params, dataclasses.replace(config, retrieval=True), tokenizer, retrieved, RETRIEVAL, spans)


if __name__ == "__main__":
    sys.exit(run_main("train_soke", main))
