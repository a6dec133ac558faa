"""Back-translation: training, greedy decoding and saving of the pose-to-text model.

Generated signing is judged by how well a model trained on real (here: ground-truth) poses
recovers the sentence from it (BLEU-4, :mod:`signlib.evaluate.bleu`); the same model on the true
test poses gives the upper bound. The network is :class:`~signlib.evaluate.pose2text.PoseToText`;
:func:`make_sampler` and :func:`make_loss` feed :func:`signlib.train.train`;
:func:`back_translate` decodes greedily; a trained model is a folder with ``final.pt`` (weights,
feature statistics included) and ``backtranslation.json`` (config and vocabularies).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from signlib.checkpoint import load_weights, read_card, save_model
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError, file_error
from signlib.evaluate.pose2text import BackTranslationConfig, PoseToText, pose_statistics
from signlib.evaluate.textvocab import TextVocab
from signlib.generate.text2gloss import GlossVocab
from signlib.train import TrainConfig, TrainResult, train

__all__ = ["BackTranslationConfig", "PoseToText", "back_translate", "load_backtranslation", "make_loss",
           "make_sampler", "pose_statistics", "resample_time", "save_backtranslation", "train_backtranslation"]

FORMAT = "signlib.backtranslation/1"
CARD = "backtranslation.json"


def resample_time(features: np.ndarray, length: int) -> np.ndarray:
    """``(length, D)``: ``features (T, D)`` linearly interpolated to ``length`` frames (same start
    and end, uniform speed change). Neighbouring frames differ little, so blending their 6D
    rotations channel by channel stays close to SLERP."""
    T = len(features)
    pos = np.linspace(0.0, T - 1, length)
    i0 = np.floor(pos).astype(np.int64)
    i1, w = np.minimum(i0 + 1, T - 1), (pos - i0)[:, None].astype(np.float32)
    return features[i0] * (1 - w) + features[i1] * w


def _check_sequences(sequences, layout: str, max_frames: int, what: str) -> list[Sequence]:
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


def _pad(arrays: list[np.ndarray], value) -> np.ndarray:
    out = np.full((len(arrays), max(map(len, arrays)), *arrays[0].shape[1:]), value, dtype=arrays[0].dtype)
    for i, a in enumerate(arrays):
        out[i, :len(a)] = a
    return out


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
    sequences = _check_sequences(sequences, sequences[0].layout if sequences else "", max_frames, "make_sampler")
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
    std = pose_statistics(sequences)[1] * np.float32(noise)                                       # (D,)
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
        x = _pad(clips, np.float32(0))                                                            # (B, T, D)
        mask = _pad([np.ones(len(c), bool) for c in clips], False)                                # (B, T)
        x += (rng.standard_normal(x.shape, dtype=np.float32) * std) * mask[..., None]
        tok = torch.from_numpy(_pad([rows[k] for k in picks], TextVocab.PAD))
        batch = {"features": torch.from_numpy(x), "mask": torch.from_numpy(mask),
                 "tokens_in": tok[:, :-1], "tokens_out": tok[:, 1:]}
        if glosses is not None:
            batch["glosses"] = torch.from_numpy(_pad([gloss_rows[k] for k in picks], GlossVocab.PAD))
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


def train_backtranslation(sequences, out_dir: str | os.PathLike, steps: int, seed: int = 0, device: str = "cpu",
                          batch_size: int = 32, lr: float = 3e-3, progress: bool = True,
                          config: BackTranslationConfig | None = None) -> tuple[PoseToText, TrainResult]:
    """Train on ``sequences`` (text, language and poses each); returns the model (EMA weights
    when ``steps >= 200``, eval mode) and the run, and saves it in ``out_dir`` (see
    :func:`save_backtranslation`). ``config`` defaults to the standard size for the sequences'
    layout. A killed run resumes from ``out_dir/last.pt``."""
    sequences = list(sequences)
    config = config or BackTranslationConfig(layout=sequences[0].layout if sequences else "rot6d")
    sequences = _check_sequences(sequences, config.layout, config.max_frames, "train_backtranslation")
    vocab = TextVocab.build(s.text for s in sequences)
    glosses = GlossVocab.build(s.glosses for s in sequences) if config.ctc_weight > 0 else None
    torch.manual_seed(seed)  # the initial weights, like every later step, follow the seed
    model = PoseToText(config, vocab, glosses)
    model.set_statistics(*pose_statistics(sequences))
    tcfg = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, weight_decay=0.01, warmup_steps=max(1, steps // 20),
                       ema_decay=0.99 if steps >= 200 else 0.0, checkpoint_every=max(1, steps // 5),
                       log_every=max(1, min(25, steps // 10)), seed=seed, device=device)
    sampler = make_sampler(sequences, vocab, batch_size, config.max_frames, config.max_tokens, glosses=glosses)
    info = {"class": "PoseToText", "words": len(vocab.words), "config": dataclasses.asdict(config),
            "parameters": sum(p.numel() for p in model.parameters())}
    result = train(model, make_loss(), sampler, tcfg, out_dir, progress=progress, model_info=info)
    if result.ema_state is not None:
        result.load_ema(model)
    save_backtranslation(out_dir, model)
    return model.eval(), result


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
    sequences = _check_sequences(sequences, c.layout, c.max_frames, "back_translate")
    device, was_training = next(model.parameters()).device, model.training
    vocab, out = model.vocab, [""] * len(sequences)
    banned = torch.zeros(len(vocab), dtype=torch.bool, device=device)
    banned[[TextVocab.PAD, TextVocab.BOS, TextVocab.UNK, *range(len(TextVocab.SPECIALS), vocab.first_word_id)]] = True
    order = sorted(range(len(sequences)), key=lambda k: sequences[k].num_frames)
    model.eval()
    try:
        for start in tqdm(range(0, len(order), batch_size), disable=not progress, desc="back-translate"):
            picks = order[start:start + batch_size]
            x = torch.from_numpy(_pad([sequences[k].features for k in picks], np.float32(0))).to(device)
            mask = torch.from_numpy(_pad([np.ones(sequences[k].num_frames, bool) for k in picks], False)).to(device)
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


def save_backtranslation(folder: str | os.PathLike, model: PoseToText) -> None:
    """Write ``final.pt`` (the model's current weights and feature statistics: this replaces the
    one :func:`train` wrote, so load EMA weights into ``model`` first if you want those) and
    ``backtranslation.json``."""
    save_model(folder, model, CARD, {"format": FORMAT, "config": dataclasses.asdict(model.config),
                                     "vocab": model.vocab.to_dict(),
                                     "glosses": None if model.glosses is None else model.glosses.to_dict()})


def load_backtranslation(folder: str | os.PathLike) -> PoseToText:
    """The model (eval mode) from a folder written by :func:`save_backtranslation`; its config
    is ``model.config``, its vocabulary ``model.vocab`` (and ``model.glosses`` with CTC)."""
    card = read_card(folder, CARD, FORMAT, "back-translation")
    try:
        glosses = None if card.get("glosses") is None else GlossVocab.from_dict(card["glosses"])
        model = PoseToText(BackTranslationConfig(**card["config"]), TextVocab.from_dict(card.get("vocab")), glosses)
    except (SignlibError, TypeError, KeyError) as err:  # TypeError: unknown or missing config keys
        raise file_error(Path(folder) / CARD, f"bad card ({err})") from None
    return load_weights(model, folder)
