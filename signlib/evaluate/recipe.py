"""From ``params.yaml`` and the earlier stages' outputs to what the ``evaluate`` stage compares:
the test set with its FAST keyframes, the trained models, and the two models evaluation trains
itself (back-translation and the regression baseline), so the notebook stays a few calls long.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signlib.config import Params
from signlib.data.corpus import Corpus
from signlib.data.sequence import Sequence
from signlib.evaluate.backtranslation import BackTranslationConfig, PoseToText, back_translate, train_backtranslation
from signlib.generate.data import clip_keyframes, load_keyframes
from signlib.generate.model import SignSparK, load_signspark
from signlib.generate.regression import ProgressiveTransformer
from signlib.generate.regression_train import train_regression
from signlib.generate.stitching import load_citations
from signlib.generate.text2gloss import GlossVocab, Text2Gloss, load_text2gloss
from signlib.segment.evaluation import load_segmenter
from signlib.train import TrainResult
from signlib.triframe import TriframeDictionary


@dataclass(frozen=True)
class EvaluationInputs:
    """Everything the earlier stages made that evaluation reads.

    Attributes:
        corpus: the curated corpus.
        test: the test split's sequences (unseen signers).
        test_keyframes: FAST onset/mid/offset frames of each test sequence (the ``keyframes``
            stage's default policy), the keyframes every KF2P system gets.
        model: the trained SignSparK (EMA weights, eval mode).
        text2gloss, vocab: the text-to-gloss model of retrieval T2P.
        triframe: the tri-frame dictionary; citations: the dictionary's citation clips by
            ``(language, gloss)``.
        segmenter, decode: FAST and its decoding settings (for the real-data check).
    """

    corpus: Corpus
    test: list[Sequence]
    test_keyframes: list[np.ndarray]
    model: SignSparK
    text2gloss: Text2Gloss
    vocab: GlossVocab
    triframe: TriframeDictionary
    citations: dict
    segmenter: object
    decode: dict


def load_inputs(params: Params) -> EvaluationInputs:
    """Read the outputs of the ``corpus``, ``fast``, ``keyframes`` and ``signspark`` stages."""
    build, models = Path(params.base.build_dir), Path(params.base.models_dir)
    corpus = Corpus(build / "corpus" / "curated")
    keyframes = load_keyframes(build / "keyframes" / "keyframes.json", "onset_mid_offset")
    test = [corpus.load(c.id) for c in corpus.select("test")]
    text2gloss, vocab = load_text2gloss(models / "signspark" / "text2gloss")
    f = params.fast
    decode = dict(convention=f.convention, b_threshold=f.b_threshold, inside_threshold=f.inside_threshold,
                  min_length=f.min_segment_frames)
    return EvaluationInputs(corpus, test, [clip_keyframes(s, keyframes) for s in test],
                            load_signspark(models / "signspark" / "signspark"), text2gloss, vocab,
                            TriframeDictionary.load(build / "keyframes" / "triframe.npz"),
                            load_citations(Corpus(build / "corpus" / "dictionary")),
                            load_segmenter(models / "fast" / "fast"), decode)


def train_backtranslator(params: Params, corpus: Corpus, out_dir: str | os.PathLike,
                         progress: bool = True) -> tuple[PoseToText, TrainResult]:
    """The pose-to-text model of back-translation, trained on the training split (its own
    ``final.pt`` + card in ``out_dir``; a killed run resumes)."""
    cfg = params.evaluate
    train_seqs = [corpus.load(c.id) for c in corpus.select("train")]
    config = BackTranslationConfig(layout=corpus.layout, max_frames=params.sizes.max_frames, d_model=cfg.bt_d_model,
                                   encoder_layers=cfg.bt_layers, decoder_layers=cfg.bt_layers, ff=2 * cfg.bt_d_model,
                                   downsample=cfg.bt_downsample)
    return train_backtranslation(train_seqs, out_dir, params.sizes.backtranslation_steps, seed=params.base.seed,
                                 device=params.base.device, lr=cfg.bt_lr, progress=progress, config=config)


def train_regression_baseline(params: Params, corpus: Corpus, out_dir: str | os.PathLike,
                              progress: bool = True) -> tuple[ProgressiveTransformer, TrainResult]:
    """The regression text-to-pose baseline, trained on the training split."""
    cfg = params.evaluate
    train_seqs = [corpus.load(c.id) for c in corpus.select("train")]
    return train_regression(train_seqs, out_dir, params.sizes.regression_steps, seed=params.base.seed,
                            device=params.base.device, lr=cfg.regression_lr, progress=progress,
                            layout=corpus.layout, max_frames=params.sizes.max_frames, fps=corpus.fps,
                            d_model=cfg.regression_d_model,
                            layers=cfg.regression_layers, ff=2 * cfg.regression_d_model,
                            input_noise=cfg.regression_noise)


def back_translate_all(model: PoseToText, outputs: dict[str, list[Sequence]], truths: list[Sequence] | None = None,
                       progress: bool = False) -> dict[str, tuple[list[str], list[str], list[str]]]:
    """``{system: (hypotheses, references, languages)}``, ready for
    :func:`signlib.evaluate.bleu.bleu_rows`. References are the texts of ``truths`` (default: of
    the outputs themselves, which keep their truth's text)."""
    out = {}
    for name, seqs in outputs.items():
        refs = truths if truths is not None else seqs
        out[name] = (back_translate(model, seqs, progress=progress), [s.text for s in refs],
                     [s.language for s in refs])
    return out
