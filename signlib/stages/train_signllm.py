"""Stage ``train_signllm``: SignLLM's two modes, MLSF and Prompt2LangGloss, as Table 2 baselines.

``python -m signlib.stages.train_signllm``. Re-implemented from the paper's abstract
(:mod:`signlib.baselines.signllm`). Writes

- ``models/evaluate/signllm_mlsf/``: one pose decoder per training language (``<LANG>/``, each a
  regression-kind folder trained on that language's clips for ``signllm_steps // n_languages``
  steps) and the index card;
- ``models/evaluate/signllm_p2lg/``: the prompt-to-gloss model (``prompt/``, ``signllm_prompt_steps``
  steps), the shared pose decoder on tagged gold glosses (``pose/``, ``signllm_steps`` steps) and
  the card.

Every pose decoder is trained with the reinforcement-style loss and the priority learning channel
(:mod:`signlib.baselines.signllm_training`); its card records the final priorities and ``train_clips``.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import torch

from signlib.baselines import signllm
from signlib.baselines.configs import RegressionConfig
from signlib.baselines.regression import ProgressiveTransformer
from signlib.baselines.regression_training import as_clips, check_clips
from signlib.baselines.signllm_training import (SignLLMTrainee, make_priority_sampler, make_rl_loss, mlsf_clips,
                                                p2lg_pose_clips, priority_summary, prompt_pairs)
from signlib.config import Params, SignLLMSection
from signlib.data.corpus import Corpus
from signlib.generate.data import GenClip, clip_statistics
from signlib.generate.text2gloss import Text2Gloss, make_loss as gloss_loss, make_sampler as gloss_sampler
from signlib.generate.text2gloss import save_text2gloss_card
from signlib.stages.paths import Paths
from signlib.stages.training import run_main
from signlib.text.glosses import GlossVocab
from signlib.train import train

STAGE, MLSF, P2LG = "evaluate", "signllm_mlsf", "signllm_p2lg"


def train_pose(clips: list[GenClip], config: RegressionConfig, cfg: SignLLMSection, steps: int, seed: int,
               device: str, folder: Path, progress: bool = True) -> tuple[ProgressiveTransformer, dict]:
    """Fit one pose decoder with the RL loss and the priority channel; leave a regression-kind
    folder (the inner model's weights, EMA when on) and return the model (eval mode) and the
    summary of its final priorities."""
    check_clips(clips, config)
    torch.manual_seed(seed)
    model = ProgressiveTransformer(config)
    model.set_statistics(*clip_statistics(clips))
    trainee = SignLLMTrainee(model, len(clips))
    info = {"class": "SignLLMTrainee(ProgressiveTransformer)", "config": config.to_dict(), "train_clips": len(clips),
            "parameters": sum(p.numel() for p in model.parameters()), "signllm": cfg.model.to_dict()}
    sampler = make_priority_sampler(trainee, clips, cfg.train.batch_size, cfg.model, config.max_frames)
    result = train(trainee, make_rl_loss(cfg.model), sampler, cfg.train.schedule(steps, seed, device), folder,
                   progress=progress, model_info=info)
    summary = priority_summary(trainee.priority)  # the raw priorities, before the EMA replaces them
    if result.ema_state is not None:
        result.load_ema(trainee)
    trainee.eval()
    signllm.save_pose_folder(folder, model, train_clips=len(clips), steps=steps, priorities=summary)
    return model, summary


def main(params: Params) -> None:
    cfg, paths, seed, device = params.evaluate.signllm, Paths(params.base), params.base.seed, params.base.device
    corpus = Corpus(paths.curated)
    infos = corpus.select("train")
    clips = as_clips(corpus.load(c.id) for c in infos)
    pose = dataclasses.replace(cfg.model.pose, layout=corpus.layout, max_frames=params.sizes.max_frames, fps=corpus.fps)
    model_config = dataclasses.replace(cfg.model, pose=pose)

    # MLSF: one decoder per language, the steps of one shared model split between them.
    by_language = mlsf_clips(clips)
    steps = max(1, params.sizes.signllm_steps // len(by_language))
    folder = paths.model(STAGE, MLSF)
    summaries = {lang: train_pose(lang_clips, pose, cfg, steps, seed, device, folder / lang)[1]
                 for lang, lang_clips in by_language.items()}
    signllm.save_mlsf_card(folder, model_config, by_language, steps_per_language=steps,
                           train_clips={lang: len(c) for lang, c in by_language.items()}, priorities=summaries)

    # Prompt2LangGloss: prompt -> <LANG> + glosses, then tagged gold glosses -> pose.
    folder = paths.model(STAGE, P2LG)
    pairs = prompt_pairs([c.text for c in infos], [c.language for c in infos], [list(c.glosses) for c in infos])
    vocab = GlossVocab.build([p[2] for p in pairs])
    torch.manual_seed(seed)
    prompter = Text2Gloss(cfg.model.prompt, vocab)
    sampler = gloss_sampler(pairs, vocab, cfg.prompt_train.batch_size, cfg.model.prompt.max_bytes,
                            cfg.model.prompt.max_glosses)
    schedule = cfg.prompt_train.schedule(params.sizes.signllm_prompt_steps, seed, device)
    result = train(prompter, gloss_loss(), sampler, schedule, folder / signllm.PROMPT_DIR,
                   model_info={"class": "Text2Gloss", "glosses": len(vocab), "prompt": signllm.PROMPT_TEMPLATE})
    if result.ema_state is not None:
        result.load_ema(prompter)
    prompter.eval()
    save_text2gloss_card(folder / signllm.PROMPT_DIR, prompter, vocab)
    _, summary = train_pose(p2lg_pose_clips(clips, [c.glosses for c in infos]), pose, cfg, params.sizes.signllm_steps,
                         seed, device, folder / signllm.POSE_DIR)
    signllm.save_p2lg_card(folder, model_config, languages=sorted(by_language), train_clips=len(clips),
                           prompt_glosses=len(vocab), priorities=summary)


if __name__ == "__main__":
    sys.exit(run_main("train_signllm", main))
