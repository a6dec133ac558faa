"""What :func:`signlib.train.train` needs to fit the SOKE-style baseline (:mod:`signlib.baselines.soke`),
and the tokenizer's report.

Tokenizer: batches of random ``crop_frames`` windows of the training clips (a clip is drawn with
probability proportional to its length, so every frame is about equally likely; a shorter clip
is padded by repeating its last frame and the padding is masked). The loss is smooth-L1
reconstruction over the observed channels of real frames, in the tokenizer's standardised units,
plus the quantisers' commitment; the codebooks follow their EMA updates.

Standardisation: one scale per channel, not per part as the generators use. Measured on the
default corpus (rot6d, 720 training clips; 300 steps of batch 32, crop 64; every second validation
clip; mean joint error with only that part reconstructed, two seeds): per channel gave body / left
hand / right hand 1.23 / 0.35 / 0.39 cm, per part 1.49 / 0.41 / 0.43 cm. A rotation channel that
varies little can still swing a whole limb, so equal weight per channel suits positions better here
than equal weight per part (presumably: we did not test why).

Generator: the training clips are tokenised once by the trained tokenizer (:func:`tokenise_clips`,
with each clip's retrieved sign tokens for the retrieval variant); batches are whole clips' token
sequences, and the loss is the three heads' teacher-forced cross-entropy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from signlib.baselines.soke import SignBank, SokeTokenizer
from signlib.baselines.token_generator import PARTS
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.pose.layout import Layout, xyz_layout_for
from signlib.pose.skeleton import forward_kinematics


def _valid_channels(seq: Sequence) -> np.ndarray:
    """``(T, D)`` bool: the sequence's joint mask repeated over each joint's channels."""
    return np.repeat(seq.valid_or_all(), seq.get_layout().channels, axis=1)


def tokenizer_sampler(sequences: list[Sequence], batch_size: int, crop_frames: int):
    """``sample_batch(step, rng) -> {"x" (B, crop, D) raw, "valid" (B, crop, D), "mask" (B, crop)}``,
    a pure function of ``(step, rng)`` (module docstring)."""
    if not sequences:
        raise SignlibError("tokenizer_sampler: sequences: no training clips")
    clips = [(s.features, _valid_channels(s)) for s in sequences]
    lengths = np.array([len(f) for f, _ in clips], np.float64)
    p = lengths / lengths.sum()
    D = clips[0][0].shape[1]

    def sample_batch(step: int, rng: np.random.Generator) -> dict:
        x = np.zeros((batch_size, crop_frames, D), np.float32)
        valid = np.zeros((batch_size, crop_frames, D), bool)
        mask = np.zeros((batch_size, crop_frames), bool)
        for b, k in enumerate(rng.choice(len(clips), size=batch_size, p=p)):
            f, v = clips[k]
            start = int(rng.integers(len(f) - crop_frames + 1)) if len(f) > crop_frames else 0
            n = min(crop_frames, len(f))
            x[b, :n], valid[b, :n], mask[b, :n] = f[start:start + n], v[start:start + n], True
            x[b, n:], valid[b, n:] = f[start + n - 1], v[start + n - 1]  # as the tokenizer pads at inference
        return {"x": torch.from_numpy(x), "valid": torch.from_numpy(valid), "mask": torch.from_numpy(mask)}

    return sample_batch


def tokenizer_loss():
    """``loss_fn(model, batch) -> (loss, {"loss", "recon", "commitment", "perplexity"})``;
    ``perplexity`` is the mean over the three parts of the batch's code perplexity."""

    def loss_fn(model, batch):
        net = getattr(model, "module", model)
        x = net.prepare(batch["x"], batch["valid"])
        out = model(x, batch["mask"])
        w = (batch["valid"] & batch["mask"][..., None]).to(x.dtype)
        recon = (F.smooth_l1_loss(out.reconstruction, x, reduction="none") * w).sum() / w.sum().clamp_min(1.0)
        loss = recon + out.commitment
        perplexity = sum(float(v) for v in out.perplexity.values()) / len(out.perplexity)
        return loss, {"loss": float(loss.detach()), "recon": float(recon.detach()),
                      "commitment": float(out.commitment.detach()), "perplexity": perplexity}

    return loss_fn


def reconstruction_unit(layout: Layout) -> str:
    """The unit of :func:`reconstruction_errors`: cm for rot6d (forward kinematics in metres)
    and metric keypoints, the features' own units for image keypoints."""
    return "cm" if layout.kind == "rot6d" or layout.y_up else "feature units"


def _points(x: torch.Tensor, layout: Layout) -> torch.Tensor:
    """``(T, D)`` features → ``(T, J_xyz, C)`` joint positions (forward kinematics for rot6d)."""
    if layout.kind == "rot6d":
        return forward_kinematics(x, layout)
    return x.view(len(x), layout.num_joints, layout.channels)


@torch.no_grad()
def reconstruction_errors(tokenizer: SokeTokenizer, sequences: list[Sequence], progress: bool = False
                          ) -> dict[str, float]:
    """Mean joint position error per part after tokenising and decoding each sequence, in
    :func:`reconstruction_unit` units.

    Each part is judged with only its own features reconstructed (the others kept as they were),
    so the left hand's error is its tokenizer's alone, not the arm's that carries it. The mean is
    over the part's points (rot6d: the layout's body joints; each hand's 21 points, whose wrist is the
    body's and so adds zeros) and over the frames where every joint of the part was observed."""
    if not sequences:
        raise SignlibError("reconstruction_errors: sequences: none given")
    layout, points = tokenizer.layout, xyz_layout_for(tokenizer.layout)
    scale = 100.0 if reconstruction_unit(layout) == "cm" else 1.0
    total, count = dict.fromkeys(PARTS, 0.0), dict.fromkeys(PARTS, 0)
    was_training = tokenizer.training
    tokenizer.eval()
    try:
        for seq in tqdm(sequences, desc="reconstruction", disable=not progress):
            if seq.layout != layout.name:
                raise SignlibError(f"reconstruction_errors: sequence {seq.id!r} has layout {seq.layout!r}, "
                                   f"the tokenizer {layout.name!r}")
            x = torch.from_numpy(seq.features)
            recon = tokenizer.detokenize(tokenizer.tokenize(x[None], torch.from_numpy(_valid_channels(seq))[None]))
            recon, truth = recon[0, :len(x)], _points(x, layout)
            for part in PARTS:
                mixed = x.clone()
                mixed[:, layout.feature_slice(part)] = recon[:, layout.feature_slice(part)]
                observed = torch.from_numpy(seq.valid_or_all()[:, layout.joint_slice(part)].all(1))
                sel = points.joint_slice(part)
                d = (_points(mixed, layout)[:, sel] - truth[:, sel]).norm(dim=-1)[observed]
                total[part] += float(d.sum())
                count[part] += d.numel()
    finally:
        tokenizer.train(was_training)
    return {p: scale * total[p] / count[p] if count[p] else float("nan") for p in PARTS}


def codes_used(clips: list["TokenClip"]) -> dict[str, int]:
    """Distinct codes per part over the clips' token sequences."""
    return {p: len(set(np.concatenate([c.tokens[p] for c in clips]).tolist())) if clips else 0 for p in PARTS}


@dataclass(frozen=True)
class TokenClip:
    """A training clip as the generator sees it: ``tokens`` ``{part: (L,)}`` int64, its text and
    language, and (retrieval) ``retrieved`` ``{part: (R,)}`` tokens of ``signs`` dictionary signs."""

    id: str
    text: str
    language: str
    tokens: dict[str, np.ndarray]
    retrieved: dict[str, np.ndarray] | None = None
    signs: int = 0


@torch.no_grad()
def tokenise_clips(tokenizer: SokeTokenizer, sequences: list[Sequence], bank: SignBank | None = None,
                   progress: bool = False) -> list[TokenClip]:
    """Every sequence's tokens (and, with a ``bank``, the tokens of its gold glosses' dictionary
    signs, at most ``max_retrieved`` of them). A clip longer than the generator holds is an error."""
    c, out = tokenizer.config, []
    tokenizer.eval()
    for seq in tqdm(sequences, desc="tokenise", disable=not progress):
        if -(-seq.num_frames // 4) + 1 > c.max_tokens:
            raise SignlibError(f"tokenise_clips: clip {seq.id!r} has {seq.num_frames} frames, "
                               f"over max_frames={c.max_frames}")
        tokens = tokenizer.tokenize(torch.from_numpy(seq.features)[None], torch.from_numpy(_valid_channels(seq))[None])
        retrieved, signs = None, 0
        if bank is not None:
            r, signs = bank.retrieve(seq.glosses, seq.language, c.max_retrieved, c.max_tokens)
            retrieved = {p: t.numpy() for p, t in r.items()}
        out.append(TokenClip(seq.id, seq.text, seq.language, {p: t[0].numpy() for p, t in tokens.items()},
                             retrieved, signs))
    return out


def generator_sampler(clips: list[TokenClip], batch_size: int):
    """``sample_batch(step, rng) -> dict``: ``tokens`` ``{part: (B, L)}`` right-padded, ``lengths``
    ``(B,)``, ``texts``, ``languages`` and ``retrieved`` (a ``{part: (R_i,)}`` per clip, or None
    when the clips carry none); ``B`` clips drawn uniformly, a pure function of ``(step, rng)``."""
    if not clips:
        raise SignlibError("generator_sampler: clips: no training clips")
    retrieval = clips[0].retrieved is not None
    if any((c.retrieved is not None) != retrieval for c in clips):
        raise SignlibError("generator_sampler: clips: some carry retrieved tokens and some do not")

    def sample_batch(step: int, rng: np.random.Generator) -> dict:
        picks = [clips[k] for k in rng.integers(len(clips), size=batch_size)]
        lengths = np.array([len(c.tokens["body"]) for c in picks], np.int64)
        tokens = {p: np.zeros((batch_size, lengths.max()), np.int64) for p in PARTS}
        for b, c in enumerate(picks):
            for p in PARTS:
                tokens[p][b, :lengths[b]] = c.tokens[p]
        retrieved = [{p: torch.from_numpy(c.retrieved[p]) for p in PARTS} for c in picks] if retrieval else None
        return {"tokens": {p: torch.from_numpy(t) for p, t in tokens.items()}, "lengths": torch.from_numpy(lengths),
                "texts": [c.text for c in picks], "languages": [c.language for c in picks], "retrieved": retrieved}

    return sample_batch


def generator_loss():
    """``loss_fn(model, batch) -> (loss, {"loss", "accuracy"})``: the heads' mean cross-entropy
    (teacher forcing; the model is called, so a DDP wrapper synchronises) and the share of
    next tokens (codes and EOS) every head predicts right."""

    def loss_fn(model, batch):
        net = getattr(model, "module", model)
        inputs, targets = net.teacher_batch(batch["tokens"], batch["lengths"])
        logits = model(batch["texts"], batch["languages"], inputs, batch["retrieved"])
        loss = net.cross_entropy(logits, targets)
        real = targets["body"] != -100
        right = torch.stack([logits[p].argmax(-1) == targets[p] for p in PARTS]).all(0)
        accuracy = float((right & real).sum()) / max(int(real.sum()), 1)
        return loss, {"loss": float(loss.detach()), "accuracy": accuracy}

    return loss_fn
