"""Back-translation at inference: greedy decoding of poses to text, and the model folder.

A trained model is a :mod:`signlib.checkpoint` folder of kind ``backtranslation``: ``final.pt``
(weights, feature statistics included) and a card with the config and both vocabularies.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import torch

from signlib.backtranslation.model import BackTranslationConfig, PoseToText
from signlib.backtranslation.training import check_sequences
from signlib.checkpoint import card_field, load_model, save_card
from signlib.data.batching import length_mask, pad_stack
from signlib.text.counts import count
from signlib.text.glosses import GlossVocab
from signlib.text.words import TextVocab

KIND = "backtranslation"


@torch.no_grad()
def back_translate(model: PoseToText, sequences, batch_size: int = 64, progress: bool = False) -> list[str]:
    """Greedy sentences of ``sequences`` (any lengths, each with its ``language``), in eval mode.

    Sequences are batched in length order (little padding) and answered in input order. A
    sequence in another layout than the model's, or longer than ``max_frames``, is an error
    naming it: resampling it down would change its signing speed beyond what training covered.
    PAD, BOS, UNK and language tokens are never emitted; decoding stops at EOS or ``max_tokens``.
    """
    from tqdm.auto import tqdm

    c = model.config
    sequences = check_sequences(sequences, c.layout, c.max_frames, "back_translate")
    batch_size = count(batch_size, "back_translate: batch_size")
    device, was_training = next(model.parameters()).device, model.training
    vocab, out = model.vocab, [""] * len(sequences)
    banned = torch.zeros(len(vocab), dtype=torch.bool, device=device)
    banned[[TextVocab.PAD, TextVocab.BOS, TextVocab.UNK, *range(len(TextVocab.SPECIALS), vocab.first_word_id)]] = True
    order = sorted(range(len(sequences)), key=lambda k: sequences[k].num_frames)
    model.eval()
    try:
        for start in tqdm(range(0, len(order), batch_size), disable=not progress, desc="back-translate"):
            picks = order[start:start + batch_size]
            x = torch.from_numpy(pad_stack([sequences[k].features for k in picks], np.float32(0))).to(device)
            mask = torch.from_numpy(length_mask([sequences[k].num_frames for k in picks])).to(device)
            memory, memory_mask = model.encode(x, mask)
            seq = torch.tensor([[vocab.language_id(sequences[k].language)] for k in picks], device=device)
            done = torch.zeros(len(picks), dtype=torch.bool, device=device)
            for _ in range(c.max_tokens):  # re-decoding the prefix is quadratic, but texts are short
                logits = model.decode(memory, memory_mask, seq)[:, -1].masked_fill(banned, -torch.inf)
                nxt = logits.argmax(-1).masked_fill(done, TextVocab.PAD)
                seq, done = torch.cat([seq, nxt[:, None]], 1), done | (nxt == TextVocab.EOS)
                if done.all():
                    break
            for k, row in zip(picks, seq.cpu().tolist()):
                out[k] = vocab.decode(row)
        return out
    finally:
        model.train(was_training)



def save_backtranslation_card(folder: str | os.PathLike, model: PoseToText) -> None:
    """Write the card (config and vocabularies) beside the weights :func:`signlib.train.train` wrote."""
    save_card(folder, KIND, dataclasses.asdict(model.config), vocab=model.vocab.to_dict(),
              glosses=None if model.glosses is None else model.glosses.to_dict())


def _build(card: dict, folder: str | os.PathLike) -> PoseToText:
    glosses = card_field(card, folder, "glosses", (dict, type(None)), default=None)
    vocab = TextVocab.from_dict(card_field(card, folder, "vocab", dict))
    return PoseToText(BackTranslationConfig(**card["config"]), vocab,
                      None if glosses is None else GlossVocab.from_dict(glosses))


def load_backtranslation(folder: str | os.PathLike) -> PoseToText:
    """The model (eval mode) from its folder; its config is ``model.config``, its vocabulary
    ``model.vocab`` (and ``model.glosses`` with CTC). A card field that is missing or of the wrong
    type is an error naming the card (:func:`signlib.checkpoint.load_model`)."""
    return load_model(folder, KIND, lambda card: _build(card, folder))
