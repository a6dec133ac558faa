"""What :func:`signlib.train.train` needs to fit the back-translation model: batches and the loss.

Generated signing is judged by how well a model trained on real (here: ground-truth) poses
recovers the sentence from it (BLEU-4, :mod:`signlib.evaluate.bleu`); the same model on the true
test poses gives the upper bound. The network is :class:`~signlib.backtranslation.model.PoseToText`;
decoding and the model folder are in :mod:`signlib.backtranslation.translate`.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from signlib.backtranslation.model import PoseToText
from signlib.data.batching import length_mask, pad_stack
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.pose.normalize import feature_statistics, resample_time
from signlib.text.glosses import GlossVocab
from signlib.text.words import TextVocab


def check_sequences(sequences, layout: str, max_frames: int, what: str) -> list[Sequence]:
    """``sequences`` as a list, after checking each is in ``layout``, at most ``max_frames`` long and
    in a known sign language (errors name the sequence and ``what`` was being done)."""
    sequences = list(sequences)
    if not sequences:
        raise SignlibError(f"{what}: no sequences")
    for seq in sequences:
        name = seq.id or "sequence"
        if seq.layout != layout:
            raise SignlibError(f"{what}: {name} has layout {seq.layout!r} but the model reads {layout!r}")
        if seq.num_frames > max_frames:
            raise SignlibError(f"{what}: {name} has {seq.num_frames} frames, over max_frames={max_frames}; "
                               f"trim it or use a model with a larger max_frames")
        if not isinstance(seq.language, str) or f"<{seq.language}>" not in TextVocab.LANGUAGE_TOKENS:
            raise SignlibError(f"{what}: {name} has unknown sign language {seq.language!r}")
    return sequences


def sequence_statistics(sequences) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and std ``(D,)`` over the observed frames of ``sequences``."""
    return feature_statistics([s.features for s in sequences],
                              [np.repeat(s.valid_or_all(), s.get_layout().channels, 1) for s in sequences])


def build_model(sequences, config) -> PoseToText:
    """A fresh :class:`PoseToText` for ``sequences`` (their texts make the word vocabulary, their
    glosses the CTC vocabulary when ``config.ctc_weight > 0``), with their feature statistics."""
    sequences = check_sequences(sequences, config.layout, config.max_frames, "backtranslation")
    vocab = TextVocab.build(s.text for s in sequences)
    glosses = GlossVocab.build(s.glosses for s in sequences) if config.ctc_weight > 0 else None
    model = PoseToText(config, vocab, glosses)
    model.set_statistics(*sequence_statistics(sequences))
    return model


def make_sampler(sequences, vocab: TextVocab, batch_size: int, max_frames: int = 512, max_tokens: int = 32,
                 time_scale: tuple[float, float] = (0.8, 1.25), noise: float = 0.05, bucket: int = 4,
                 glosses: GlossVocab | None = None):
    """``sample_batch(step, rng) -> dict``: ``features (B, T, D)`` float32, ``mask (B, T)``,
    ``tokens_in`` (language token + words) and ``tokens_out`` (words + EOS) ``(B, L)``, PAD-padded;
    with ``glosses`` (for the CTC loss) also the gloss ids ``glosses (B, G)`` and ``gloss_lengths (B,)``.

    ``B = batch_size`` sequences drawn with replacement: a uniformly drawn anchor plus sequences
    from the ``bucket × batch_size`` nearest to it in length (``bucket = 0``: all uniform), so
    little of the compute goes to padding. Each is augmented the way generated motion differs
    from the training poses: its speed is changed by a factor drawn log-uniformly from
    ``time_scale`` (linear interpolation, capped at ``max_frames``) and Gaussian noise of ``noise``
    per-channel standard deviations is added. Texts are encoded here, once, so a text too long
    for ``max_tokens`` fails now, naming its sequence.
    """
    sequences = list(sequences)
    sequences = check_sequences(sequences, sequences[0].layout if sequences else "", max_frames, "make_sampler")
    lo, hi = time_scale
    if not 0 < lo <= hi or noise < 0:
        raise SignlibError(f"make_sampler: time_scale={time_scale} must be 0 < low <= high and noise={noise} >= 0")
    empty = next((s.id or "sequence" for s in sequences if not s.text.strip()), None)
    if empty is not None:
        raise SignlibError(f"make_sampler: {empty} has no text to learn")
    rows = [np.array(vocab.encode(s.text, s.language, eos=True), np.int64) for s in sequences]
    for seq, row in zip(sequences, rows):
        if len(row) - 1 > max_tokens:
            raise SignlibError(f"make_sampler: {seq.id or 'sequence'} has {len(row) - 2} tokens of text, over "
                               f"max_tokens - 1 = {max_tokens - 1}")
    if glosses is not None:
        bare = next((s.id or "sequence" for s in sequences if not s.glosses), None)
        if bare is not None:
            raise SignlibError(f"make_sampler: {bare} has no gloss segments, which the CTC loss needs "
                               f"(set ctc_weight=0 for a corpus without glosses)")
        gloss_rows = [np.array(glosses.encode(s.glosses), np.int64) for s in sequences]
    feats = [s.features for s in sequences]
    std = sequence_statistics(sequences)[1] * np.float32(noise)                                   # (D,)
    n = len(sequences)
    by_length = np.argsort([len(f) for f in feats], kind="stable")
    window = min(n, bucket * batch_size) if bucket > 0 else n

    def sample_batch(step: int, rng: np.random.Generator) -> dict:
        anchor = int(rng.integers(n))                                    # a rank in length order
        first = int(np.clip(anchor - window // 2, 0, n - window))
        picks = by_length[np.concatenate([[anchor], first + rng.integers(window, size=batch_size - 1)])]
        factors = np.exp(rng.uniform(np.log(lo), np.log(hi), size=batch_size))
        clips = [resample_time(feats[k], int(np.clip(round(len(feats[k]) * f), 1, max_frames)))
                 for k, f in zip(picks, factors)]
        x = pad_stack(clips, np.float32(0))                                                       # (B, T, D)
        mask = length_mask([len(c) for c in clips])                                               # (B, T)
        x += (rng.standard_normal(x.shape, dtype=np.float32) * std) * mask[..., None]
        tok = torch.from_numpy(pad_stack([rows[k] for k in picks], TextVocab.PAD))
        batch = {"features": torch.from_numpy(x), "mask": torch.from_numpy(mask),
                 "tokens_in": tok[:, :-1], "tokens_out": tok[:, 1:]}
        if glosses is not None:
            batch["glosses"] = torch.from_numpy(pad_stack([gloss_rows[k] for k in picks], GlossVocab.PAD))
            batch["gloss_lengths"] = torch.tensor([len(gloss_rows[k]) for k in picks])
        return batch

    return sample_batch


def make_loss(label_smoothing: float = 0.1):
    """``loss_fn(model, batch) -> (loss, logs)``: teacher-forced cross-entropy over non-PAD targets,
    plus ``ctc_weight`` × the gloss CTC loss when the model's config has one; logs ``ce``
    (unsmoothed), ``acc`` (next-token accuracy under teacher forcing) and ``ctc``."""

    def loss_fn(model, batch):
        weight = getattr(model, "module", model).config.ctc_weight   # model may be the DDP wrapper
        out = model(batch["features"], batch["mask"], batch["tokens_in"], with_glosses=weight > 0)
        logits = (out[0] if weight > 0 else out).transpose(1, 2)                                  # (B, V, L)
        target = batch["tokens_out"]
        loss = F.cross_entropy(logits, target, ignore_index=TextVocab.PAD, label_smoothing=label_smoothing)
        with torch.no_grad():
            ce = F.cross_entropy(logits, target, ignore_index=TextVocab.PAD)
            logs = {"ce": float(ce), "acc": float((logits.argmax(1) == target)[target != TextVocab.PAD].float().mean())}
        if weight > 0:
            if "glosses" not in batch:
                raise SignlibError("backtranslation loss: ctc_weight > 0 but the batch has no glosses")
            _, log_probs, memory_mask = out                                                       # (B, S, G)
            # zero_infinity: a clip sped up so much that it has fewer positions than glosses
            # cannot be aligned; it then adds nothing instead of an infinite loss.
            ctc = F.ctc_loss(log_probs.transpose(0, 1), batch["glosses"], memory_mask.sum(1), batch["gloss_lengths"],
                             blank=GlossVocab.PAD, zero_infinity=True)
            loss = loss + weight * ctc
            logs["ctc"] = float(ctc.detach())
        return loss, logs

    return loss_fn
