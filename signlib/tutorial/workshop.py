"""The real SignSparK at workshop size (tutorial notebook 03): a handful of generated clips and a
tiny generator trained in seconds, or a trained model folder loaded instead.

- :func:`build_corpus`: the package's own synthetic corpus at the ``smoke`` profile's sizes (4
  signers × 3 sentences per language, 60 signs) for the chosen languages, read back through the
  real readers, curated and split by signer (a quarter of each language's signers held out for
  test), written to ``<workdir>/curated`` → :class:`~signlib.data.corpus.Corpus`.
- :func:`workshop_config`: a ~0.4 M-parameter :class:`~signlib.generate.configs.SignSparKConfig`
  (UNet widths 32/64, a one-layer 32-wide byte text encoder) with every other choice as in
  ``params.yaml`` (keyframe prior, minimum-jerk track, ``recon_cfm``).
- :func:`train_model`: that model trained on the training clips with their true onset/mid/offset
  keyframes, through the same loss, batches and training loop as the ``train_signspark`` stage,
  into a model folder (``final.pt`` + ``model.json``) that :func:`load_model` (and
  :func:`signlib.generate.model.load_signspark`) reads back.
- :func:`load_or_train`: the model at ``model_path`` when one is given, else :func:`train_model`;
  :func:`training_rows`: the loss rows the training loop logged.
- :func:`test_clips`: the first test clips of every language, each with its true keyframes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from signlib.data import curate
from signlib.data.corpus import Corpus, split_signers, write_corpus
from signlib.data.sequence import Sequence
from signlib.data.sources import SourceSizes, load_source
from signlib.data.synthetic.generate import SynthSpec, generate_corpus
from signlib.errors import SignlibError, file_error
from signlib.generate.configs import BatchConfig, FlowLossConfig, SignSparKConfig, TextEncoderConfig, UNetConfig
from signlib.generate.data import clip_statistics, make_loss, make_sampler, to_genclip
from signlib.generate.flow import part_weights
from signlib.generate.model import SignSparK, load_signspark, save_signspark_card
from signlib.io import read_json
from signlib.keyframes import true_keyframes
from signlib.profiles import PROFILES
from signlib.text.counts import count
from signlib.train import TrainConfig, train

#: Where the corpus sizes come from: the profile the tests and CI run.
PROFILE = "smoke"
#: Gaps of missing hand frames up to this long are filled, as ``params.yaml``'s ``corpus`` does.
FILL_GAP_FRAMES = 5


def build_corpus(workdir: str | os.PathLike, languages=("ASL", "DGS"), seed: int = 0, progress: bool = True) -> Corpus:
    """Generate, read back, curate and split the workshop corpus under ``workdir``."""
    sizes = PROFILES[PROFILE]
    work = Path(workdir)
    spec = SynthSpec(sizes.corpus_signers, sizes.corpus_sentences, sizes.corpus_signs, languages=tuple(languages),
                     zipf_exponent=sizes.corpus_zipf, seed=seed)
    source = generate_corpus(work / "source", spec, progress=progress)
    raw, _ = load_source(source, work, seed=seed, sizes=SourceSizes(), progress=progress)
    clips, _ = curate.curate_all(raw, max_gap=FILL_GAP_FRAMES, max_frames=sizes.max_frames)
    # No validation split: nothing is tuned here. One signer in four per language is held out.
    splits = split_signers([c.signer for c in clips], 0.0, 0.25, seed, groups={c.signer: c.language for c in clips})
    return write_corpus(work / "curated", clips, splits)


def workshop_config(corpus: Corpus) -> SignSparKConfig:
    """The tiny generator for ``corpus``'s layout, frame rate and the profile's length limit."""
    return SignSparKConfig(
        text=TextEncoderConfig(d_model=32, layers=1, heads=2, ff=64, dropout=0.0),
        unet=UNetConfig(channels=(32, 64), patch=2, blocks=1, heads=2, cond_dim=64),
    ).for_data(corpus.layout, corpus.fps, PROFILES[PROFILE].max_frames)


@dataclass(frozen=True)
class Trained:
    """A generator ready to sample, where it lives, and how it got there."""

    model: SignSparK
    folder: Path
    how: str  # "trained for N steps in S s" or "loaded from PATH"


def train_model(corpus: Corpus, folder: str | os.PathLike, steps: int = 300, batch_size: int = 8, lr: float = 2e-3,
                seed: int = 0, progress: bool = True) -> Trained:
    """Train :func:`workshop_config` on ``corpus``'s training clips (true keyframes) into ``folder``.

    The run always starts fresh (an old ``last.pt`` in ``folder`` is overwritten, not resumed): a
    workshop reruns cells with other settings, which a resumed run would refuse."""
    clips = [to_genclip(corpus.load(c.id)) for c in corpus.select("train")]
    if not clips:
        raise SignlibError(f"{corpus.root}: no training clips")
    config = workshop_config(corpus)
    torch.manual_seed(seed)
    model = SignSparK(config)
    model.set_statistics(*clip_statistics(clips))
    model.set_prior_scales([c.features for c in clips], [c.keyframes for c in clips])
    # EMA stays off: over a few hundred steps the average would still remember the random init.
    schedule = TrainConfig(steps=steps, batch_size=batch_size, lr=lr, warmup_steps=max(1, steps // 20),
                           log_every=max(1, min(10, steps // 20)), seed=seed)
    result = train(model, make_loss(part_weights(config.layout), FlowLossConfig()),
                   make_sampler(clips, batch_size, BatchConfig()), schedule, folder, progress=progress, resume=False)
    # The card goes last: it records the fingerprint of the final.pt just written, so a rerun
    # stopped half-way never leaves this run's card beside another run's weights unnoticed.
    save_signspark_card(folder, config, keyframe_source="true", train_clips=len(clips))
    return Trained(model.eval(), Path(folder), f"trained for {steps} steps in {result.wall_time:.0f} s")


def load_model(folder: str | os.PathLike) -> Trained:
    """A model folder written by :func:`train_model` or by the ``train_signspark`` stage."""
    return Trained(load_signspark(folder), Path(folder), f"loaded from {folder}")


def load_or_train(model_path: str, corpus: Corpus, workdir: str | os.PathLike, steps: int = 300,
                  progress: bool = True) -> Trained:
    """The model at ``model_path`` when it is not empty, else one trained into ``<workdir>/model``."""
    if model_path:
        trained = load_model(model_path)
        if trained.model.config.layout != corpus.layout:
            raise SignlibError(f"{model_path}: a model of layout {trained.model.config.layout!r}; "
                               f"the corpus is {corpus.layout!r}")
        return trained
    return train_model(corpus, Path(workdir) / "model", steps, progress=progress)


def training_rows(folder: str | os.PathLike) -> list[dict]:
    """The loss rows the training loop logged into ``folder`` (empty for a model without them)."""
    path = Path(folder) / "metrics_rows.json"
    if not path.exists():
        return []
    rows = read_json(path)
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise file_error(path, f"must be a list of rows (JSON objects), got {type(rows).__name__}")
    return rows


def test_clips(corpus: Corpus, per_language: int = 3) -> tuple[list[Sequence], list[np.ndarray]]:
    """The first ``per_language`` test clips of every language and their true onset/mid/offset
    keyframes (clips without any sign are skipped)."""
    per_language = count(per_language, "test_clips: per_language")
    clips = [corpus.load(c.id) for lang in corpus.languages() for c in corpus.select("test", lang)[:per_language]]
    keys = [true_keyframes(c) for c in clips]
    kept = [(c, k) for c, k in zip(clips, keys) if len(k)]
    if not kept:
        raise SignlibError(f"{corpus.root}: no test clip has a gold sign")
    return [c for c, _ in kept], [k for _, k in kept]
