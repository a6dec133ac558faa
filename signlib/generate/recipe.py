"""From ``params.yaml`` to a trained SignSparK: the configs of every part, and the training run the
``signspark`` stage performs (so the notebook stays a few calls long).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from signlib.config import Params, SignSparKStageConfig
from signlib.data.corpus import Corpus
from signlib.generate.data import (GenClip, feature_statistics, load_keyframes, make_loss, make_sampler,
                                   prepare_clips)
from signlib.generate.flow import FlowLossConfig, part_weights
from signlib.generate.model import SignSparK, SignSparKConfig, save_signspark
from signlib.generate.sampling import SamplerConfig
from signlib.generate.text import TextEncoderConfig
from signlib.generate.text2gloss import (GlossVocab, Text2Gloss, Text2GlossConfig, make_loss as text2gloss_loss,
                                        make_sampler as text2gloss_sampler, save_text2gloss)
from signlib.generate.unet import UNetConfig
from signlib.io import read_json
from signlib.train import TrainConfig, TrainResult, train


def model_config(cfg: SignSparKStageConfig, layout: str, max_frames: int, fps: float) -> SignSparKConfig:
    text = TextEncoderConfig(kind=cfg.text_encoder, d_model=cfg.text_d_model, layers=cfg.text_layers,
                             language_token=cfg.language_token, pretrained_path=cfg.pretrained_text_path)
    unet = UNetConfig(channels=tuple(cfg.channels), blocks=cfg.blocks, heads=cfg.heads, cond_dim=cfg.cond_dim)
    return SignSparKConfig(layout=layout, max_frames=max_frames, fps=fps, text=text, unet=unet)


def train_config(cfg: SignSparKStageConfig, steps: int, seed: int, device: str) -> TrainConfig:
    return TrainConfig(steps=steps, batch_size=cfg.batch_size, lr=cfg.lr, weight_decay=cfg.weight_decay,
                       warmup_steps=max(1, steps // 20), ema_decay=cfg.ema_decay,
                       checkpoint_every=max(1, steps // 5), log_every=max(1, min(25, steps // 20)),
                       seed=seed, device=device)


def loss_config(cfg: SignSparKStageConfig) -> FlowLossConfig:
    return FlowLossConfig(cfg.cfm_weight, cfg.recon_weight, cfg.velocity_weight, cfg.acceleration_weight)


def sampler_config(cfg: SignSparKStageConfig, **overrides) -> SamplerConfig:
    """The stage's sampler; ``overrides`` change single fields (e.g. ``steps=50``)."""
    values = dict(steps=cfg.sampler_steps, solver=cfg.solver, text_scale=cfg.text_scale, key_scale=cfg.key_scale)
    return SamplerConfig(**{**values, **overrides})


def training_keyframes(params: Params, keyframes_path: str | os.PathLike) -> dict[str, list[int]] | None:
    """Mined keyframes (FAST, the ``keyframes`` stage's default policy) or None for the true ones."""
    if params.signspark.keyframe_source == "true":
        return None
    return load_keyframes(keyframes_path, params.keyframes.policy)


def train_signspark(params: Params, corpus: Corpus, keyframes: dict[str, list[int]] | None,
                    out_dir: str | os.PathLike, steps: int | None = None, progress: bool = True,
                    eval_fn=None, eval_every: int = 0) -> tuple[SignSparK, TrainResult]:
    """Train on the corpus's training split; returns the EMA model (eval mode) and the run.

    Writes ``out_dir/{last.pt, final.pt, config.json, metrics_rows.json, signspark.json}``; a
    killed run resumes from ``last.pt`` with the same final weights.
    """
    steps = params.sizes.signspark_steps if steps is None else steps
    clips = prepare_clips(corpus, "train", keyframes)
    extra = {"keyframe_source": params.signspark.keyframe_source, "policy": params.keyframes.policy}
    return fit_signspark(params, clips, corpus.layout, corpus.fps, out_dir, steps, progress, extra,
                         eval_fn=eval_fn, eval_every=eval_every)


def fit_signspark(params: Params, clips: list[GenClip], layout: str, fps: float, out_dir: str | os.PathLike,
                  steps: int, progress: bool = True, extra: dict | None = None, eval_fn=None,
                  eval_every: int = 0) -> tuple[SignSparK, TrainResult]:
    """Train a SignSparK of the ``signspark`` section's architecture on any clips (of any layout,
    e.g. the real ``xyz`` sentences); see :func:`train_signspark`."""
    cfg, base = params.signspark, params.base
    config = model_config(cfg, layout, params.sizes.max_frames, fps)
    torch.manual_seed(base.seed)  # the initial weights, like every later step, follow the seed
    model = SignSparK(config)
    mean, std = feature_statistics(clips)
    model.set_statistics(torch.from_numpy(mean), torch.from_numpy(std))
    save_signspark(out_dir, config, {**(extra or {}), "train_clips": len(clips)})
    sampler = make_sampler(clips, cfg.batch_size, cfg.text_drop, cfg.key_drop)
    loss_fn = make_loss(part_weights(layout), loss_config(cfg), cfg.length_weight)
    info = {"class": "SignSparK", "parameters": sum(p.numel() for p in model.parameters()),
            "config": config.to_dict()}
    result = train(model, loss_fn, sampler, train_config(cfg, steps, base.seed, base.device), Path(out_dir),
                   eval_fn=eval_fn, eval_every=eval_every, progress=progress, model_info=info)
    if result.ema_state is not None:
        result.load_ema(model)
    return model.eval(), result


def frames_statistics(clips) -> dict[str, float]:
    """Sizes of a clip list for reports: clips, frames, mean keyframes per clip."""
    return {"clips": len(clips), "frames": int(sum(len(c.features) for c in clips)),
            "keyframes_per_clip": float(np.mean([len(c.keyframes) for c in clips]))}


def train_text2gloss(params: Params, corpus: Corpus, out_dir: str | os.PathLike, steps: int | None = None,
                     progress: bool = True) -> tuple[Text2Gloss, GlossVocab, TrainResult]:
    """The text-to-gloss transformer of retrieval T2P, trained on the training split's
    (text, language, glosses) triples; saved in ``out_dir`` (EMA weights)."""
    steps = params.sizes.text2gloss_steps if steps is None else steps
    train_infos = corpus.select("train")
    pairs = [(c.text, c.language, list(c.glosses)) for c in train_infos]
    vocab = GlossVocab.build([p[2] for p in pairs])
    config = Text2GlossConfig()
    torch.manual_seed(params.base.seed)
    model = Text2Gloss(config, vocab)
    tcfg = TrainConfig(steps=steps, batch_size=32, lr=3e-3, weight_decay=0.01, warmup_steps=max(1, steps // 20),
                       ema_decay=0.99 if steps >= 200 else 0.0, checkpoint_every=max(1, steps // 5),
                       log_every=max(1, min(25, steps // 10)), seed=params.base.seed, device=params.base.device)
    result = train(model, text2gloss_loss(), text2gloss_sampler(pairs, vocab, tcfg.batch_size), tcfg, out_dir,
                   progress=progress, model_info={"class": "Text2Gloss", "glosses": len(vocab)})
    if result.ema_state is not None:
        result.load_ema(model)
    save_text2gloss(out_dir, model, vocab, config)
    return model.eval(), vocab, result


def edit_distance(a: list[str], b: list[str]) -> int:
    """Levenshtein distance between two token lists (one row of the table at a time)."""
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, y in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (x != y))
    return row[-1]


def gloss_scores(predicted: list[list[str]], reference: list[list[str]], languages: list[str]) -> list[dict]:
    """Per language (and ``all``): sentences, exact-match rate and gloss error rate (edit
    distance summed over sentences / reference glosses summed)."""
    rows = []
    for lang in sorted(set(languages)) + ["all"]:
        sel = [k for k, l in enumerate(languages) if lang in ("all", l)]
        errors = sum(edit_distance(predicted[k], reference[k]) for k in sel)
        rows.append({"language": lang, "sentences": len(sel),
                     "exact match": float(np.mean([predicted[k] == reference[k] for k in sel])),
                     "gloss error rate": errors / max(1, sum(len(reference[k]) for k in sel))})
    return rows


def training_curve(folder: str | os.PathLike, keys=("loss", "cfm", "recon", "vel", "length")) -> list[dict]:
    """The metrics rows :func:`signlib.train.train` wrote, reduced to ``step`` + ``keys``."""
    rows = read_json(Path(folder) / "metrics_rows.json")
    return [{k: r[k] for k in ("step", *keys) if k in r} for r in rows]
