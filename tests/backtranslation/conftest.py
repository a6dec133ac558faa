"""Four tiny clips in four sign languages, a tiny back-translation config, and one model trained to
overfit them through the shared training loop (shared by the back-translation tests)."""

import dataclasses

import numpy as np
import pytest
import torch

from signlib.backtranslation.configs import BackTranslationConfig
from signlib.backtranslation.model import PoseToText
from signlib.backtranslation.training import build_model, make_loss, make_sampler
from signlib.backtranslation.translate import KIND, save_backtranslation_card
from signlib.checkpoint import save_model
from signlib.data.sequence import Sequence
from signlib.text.glosses import GlossVocab
from signlib.text.words import TextVocab
from signlib.train import OptimConfig, fit

TEXTS = [("Her tea is cold.", "ASL"), ("Her tea is warm.", "BSL"),
         ("Braucht Sarah ein Ei?", "DGS"), ("周六汤姆在哪里出售球？", "CSL")]
GLOSSES = [["TEA", "HER", "COLD"], ["TEA", "HER", "WARM"], ["SARAH", "EI", "BRAUCHEN"], ["星期六", "汤姆", "卖", "球", "哪里"]]
TINY = BackTranslationConfig(layout="rot6d", max_frames=64, d_model=64, encoder_layers=1, decoder_layers=1,
                             heads=4, ff=128, dropout=0.0, downsample=4, max_tokens=16)


def smooth_clip(T: int, seed: int, D: int = 240) -> np.ndarray:
    """``(T, D)`` smooth curves (a few sinusoids per channel): signing-like, cheap to learn."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T)[:, None]
    freq, phase, amp = rng.uniform(0.5, 2.0, D), rng.uniform(0, 2 * np.pi, D), rng.uniform(0.1, 0.5, D)
    return (amp * np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.3, D)).astype(np.float32)


def make_sequences(lengths=(40, 40, 33, 47), seeds=(0, 0, 2, 3)) -> list[Sequence]:
    """The four texts; the ASL and the BSL clip have the same poses, so only the sign-language
    token can tell their texts apart."""
    return [Sequence(features=smooth_clip(T, seed), layout="rot6d", fps=25.0, text=text, language=lang, id=f"clip{k}",
                     segments=[(4 * i, 4 * i + 3, g) for i, g in enumerate(glosses)])
            for k, ((text, lang), T, seed, glosses) in enumerate(zip(TEXTS, lengths, seeds, GLOSSES))]


def random_model(config=TINY) -> PoseToText:
    """An untrained model (eval mode) with random but fixed weights and statistics."""
    torch.manual_seed(0)
    vocab = TextVocab.build(t for t, _ in TEXTS)
    model = PoseToText(config, vocab, GlossVocab.build(GLOSSES))
    model.set_statistics(torch.randn(config.dim) * 0.1, torch.rand(config.dim) + 0.5)
    return model.eval()


def save_folder(folder, model: PoseToText) -> None:
    """A model folder of ``model``'s current weights, as the training stage leaves it (``final.pt``
    plus the back-translation card)."""
    save_model(folder, model, KIND, dataclasses.asdict(model.config))
    save_backtranslation_card(folder, model)


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """``(model, TrainResult, folder)``: :data:`TINY` fitted to the four clips for 150 steps, the way
    the ``train_backtranslation`` stage does it (``fit`` + the card)."""
    folder = tmp_path_factory.mktemp("bt")
    sequences = make_sequences()
    # One thread: a model this small gains nothing from two, and when another process holds the
    # second core, two threads spin-wait on each other.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = build_model(sequences, TINY)
        sampler = make_sampler(sequences, model.vocab, 8, TINY.max_frames, TINY.max_tokens, glosses=model.glosses)
        schedule = OptimConfig(batch_size=8, lr=3e-3).schedule(150, seed=0, device="cpu")
        result = fit(model, make_loss(), sampler, schedule, folder, progress=False)
        save_backtranslation_card(folder, model)
    finally:
        torch.set_num_threads(threads)
    return model, result, folder
