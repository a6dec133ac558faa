"""What :func:`signlib.train.train` needs to fit SignLLM's pose decoders (:mod:`signlib.baselines.signllm`):
the reinforcement-style loss and the priority learning channel, re-implemented from the abstract.

**Trainee.** :class:`SignLLMTrainee` wraps a :class:`ProgressiveTransformer` with two persistent
buffers: ``priority (N,)``, one per training item (1.0 at first), and the reward baseline
(``baseline``, ``updates``). Being module state, they go into every checkpoint, so a resumed run
continues exactly where the killed one stopped. Only the inner model is kept after training
(:func:`signlib.baselines.signllm.save_pose_folder`); an EMA of the trainee averages the buffers
too, which is harmless, since the inner model reads neither.

**Priority learning channel** (:func:`make_priority_sampler`): item ``i`` is drawn (with
replacement) with probability ``p_i ∝ (priority_i + priority_eps) ** priority_alpha``, and carries
the importance weight ``(N p_i) ** -importance_beta`` divided by the largest such weight over all
items (so weights are at most 1). Batches are padded to their longest clip: unlike the regression
baseline's sampler, draws are not bucketed by length, since that would override the priorities.
The batch is a pure function of ``(step, rng)`` and the trainee's ``priority`` buffer.

**Reinforcement-style loss** (:func:`make_rl_loss`): the teacher-forced error of item ``i`` is
``e_i = mse_i + counter_weight · counter_i``, each term masked as the regression loss masks it
(observed joints of real frames; real frames for the counter, in frames). Its reward is ``r_i =
−e_i``; the baseline ``b`` is an EMA (``baseline_decay``, bias-corrected so the first batch's mean
is the first baseline) of the batch mean reward, updated with the batch before use; the advantage
``A_i = (b − r_i) / std_batch(r)``, clipped to ``[−1, 1]``, is positive for items worse than the
baseline. The item weight ``w_i = (1 + rl_weight · A_i) · importance_i`` is detached (the reward
is not differentiated through the weight). The loss weights each item's squared errors by ``w_i``
and pools them as the regression loss pools (a frame-weighted ``mean_i(w_i e_i)``), so with
``rl_weight = 0`` and equal priorities it is exactly the regression baseline's loss. Each drawn
item's ``e_i`` becomes its new priority (the mean over its copies when drawn twice).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch
from torch import nn

from signlib.baselines.configs import SignLLMConfig
from signlib.baselines.regression import ProgressiveTransformer
from signlib.baselines.regression_training import as_clips, teacher_forced
from signlib.baselines.signllm import pose_text, prompt, tagged_glosses
from signlib.data.batching import length_mask, pad_stack
from signlib.errors import SignlibError
from signlib.generate.data import GenClip


class SignLLMTrainee(nn.Module):
    """A pose decoder with the priority channel's and the baseline's state; ``forward`` is the
    decoder's (so DDP sees one module)."""

    def __init__(self, model: ProgressiveTransformer, n_items: int):
        super().__init__()
        if isinstance(n_items, bool) or not isinstance(n_items, int) or n_items < 1:
            raise SignlibError(f"SignLLMTrainee: n_items={n_items!r} must be a positive integer")
        self.model = model
        self.register_buffer("priority", torch.ones(n_items))
        self.register_buffer("baseline", torch.zeros(()))                     # raw EMA of the batch mean reward
        self.register_buffer("updates", torch.zeros((), dtype=torch.long))    # its bias correction

    def forward(self, *args, **kwargs):
        return self.model(*args, **kwargs)


def sampling_probabilities(priority, alpha: float, eps: float) -> np.ndarray:
    """``p_i ∝ (priority_i + eps) ** alpha`` (float64, summing to 1)."""
    p = (np.asarray(priority, np.float64) + eps) ** alpha
    return p / p.sum()


def importance_weights(p: np.ndarray, beta: float) -> np.ndarray:
    """``(N p_i) ** -beta`` over the largest of them: 1 for the least likely item, less for the others."""
    w = (len(p) * p) ** -beta
    return w / w.max()


def make_priority_sampler(trainee: SignLLMTrainee, clips, batch_size: int, config: SignLLMConfig,
                          max_frames: int | None = None):
    """``sample_batch(step, rng) -> dict``: the regression batch (``x1``, ``valid``, ``length_mask``,
    ``lengths``, ``texts``, ``languages``) of ``batch_size`` clips drawn by the trainee's current
    priorities, plus ``index (B,)`` (the clips drawn) and ``importance (B,)``."""
    clips = as_clips(clips)
    if len(clips) != trainee.priority.numel():
        raise SignlibError(f"SignLLM sampler: {len(clips)} clips but the trainee holds {trainee.priority.numel()} "
                           f"priorities")
    if max_frames is not None and max(len(c.features) for c in clips) > max_frames:
        longest = max(clips, key=lambda c: len(c.features))
        raise SignlibError(f"clip {longest.id!r}: {len(longest.features)} frames, over max_frames={max_frames}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise SignlibError(f"SignLLM sampler: batch_size={batch_size!r} must be a positive integer")

    def sample_batch(step: int, rng: np.random.Generator) -> dict:
        p = sampling_probabilities(trainee.priority.detach().cpu().numpy(), config.priority_alpha, config.priority_eps)
        picks = rng.choice(len(clips), size=batch_size, p=p)
        weights = importance_weights(p, config.importance_beta)[picks]
        lengths = np.array([len(clips[k].features) for k in picks], np.int64)
        return {"x1": torch.from_numpy(pad_stack([clips[k].features for k in picks], np.float32(0))),
                "valid": torch.from_numpy(pad_stack([clips[k].valid for k in picks], False)),
                "length_mask": torch.from_numpy(length_mask(lengths)), "lengths": torch.from_numpy(lengths),
                "texts": [clips[k].text for k in picks], "languages": [clips[k].language for k in picks],
                "index": torch.from_numpy(picks.astype(np.int64)),
                "importance": torch.from_numpy(weights.astype(np.float32))}

    return sample_batch


@torch.no_grad()
def rl_weights(trainee: SignLLMTrainee, errors: torch.Tensor, importance: torch.Tensor, config: SignLLMConfig
               ) -> torch.Tensor:
    """Item weights ``(1 + rl_weight · A_i) · importance_i`` of per-item ``errors (B,)``; updates
    the trainee's baseline with this batch first (see the module docstring)."""
    reward = -errors.detach().to(trainee.baseline.dtype)
    decay = config.baseline_decay
    trainee.baseline.mul_(decay).add_(reward.mean(), alpha=1 - decay)
    trainee.updates.add_(1)
    b = trainee.baseline / (1 - decay ** int(trainee.updates))
    std = reward.std(unbiased=False) if len(reward) > 1 else torch.zeros((), dtype=reward.dtype)
    advantage = ((b - reward) / (std + 1e-8)).clamp(-1.0, 1.0)
    return (1 + config.rl_weight * advantage) * importance.to(reward.dtype)


def make_rl_loss(config: SignLLMConfig, input_noise: float | None = None, counter_weight: float | None = None):
    """``loss_fn(trainee, batch) -> (loss, logs)``: the reinforcement-style loss (module docstring);
    ``input_noise`` and ``counter_weight`` default to the pose decoder's config. Logs ``mse`` and
    ``counter`` unweighted (as the regression loss logs them), the ``baseline`` reward and the
    spread of the item weights. Writes each drawn item's error into the trainee's priorities."""

    def loss_fn(model, batch):
        trainee = getattr(model, "module", model)
        net = trainee.model
        weight = net.config.counter_weight if counter_weight is None else counter_weight
        x, frames, counter, counter_target = teacher_forced(model, net, batch, input_noise, "SignLLM loss")
        lengths, real = batch["lengths"], batch["length_mask"]
        w = (batch["valid"] & real[..., None]).to(x.dtype)
        sq, n_sq = ((frames - x) ** 2 * w).sum((1, 2)), w.sum((1, 2))               # (B,), (B,)
        m = real.to(x.dtype)
        err = (counter - counter_target) * lengths.to(x.dtype)[:, None]
        cnt, n_cnt = (err ** 2 * m).sum(1), m.sum(1)
        errors = sq / n_sq.clamp_min(1.0) + weight * cnt / n_cnt.clamp_min(1.0)    # e_i
        item = rl_weights(trainee, errors, batch["importance"], config).to(x.dtype)
        loss = ((item * sq).sum() / n_sq.sum().clamp_min(1.0)
                + weight * (item * cnt).sum() / n_cnt.sum().clamp_min(1.0))
        with torch.no_grad():
            trainee.priority.scatter_reduce_(0, batch["index"], errors.detach().to(trainee.priority.dtype),
                                             reduce="mean", include_self=False)
            mse = sq.sum() / n_sq.sum().clamp_min(1.0)
            counter_mse = cnt.sum() / n_cnt.sum().clamp_min(1.0)
        b = trainee.baseline / (1 - config.baseline_decay ** int(trainee.updates))
        return loss, {"loss": float(loss.detach()), "mse": float(mse), "counter": float(counter_mse),
                      "baseline": float(b), "weight_min": float(item.min()), "weight_max": float(item.max())}

    return loss_fn


def priority_summary(priority: torch.Tensor) -> dict:
    """What the card records of the final priorities: how many items were never drawn (still at
    their initial 1.0) and, over the drawn ones (their latest errors), the mean, median and max
    and the share above twice the median (the tail the channel keeps resampling)."""
    p = priority.detach().cpu().double()
    drawn = p[p != 1.0]
    out = {"items": len(p), "never_drawn": len(p) - len(drawn)}
    if len(drawn):
        median = float(drawn.median())
        out.update(mean=float(drawn.mean()), median=median, max=float(drawn.max()),
                   share_over_2x_median=float((drawn > 2 * median).double().mean()))
    return out


def mlsf_clips(clips) -> dict[str, list[GenClip]]:
    """MLSF's training clips: ``{language: its clips}``, in the order given."""
    out: dict[str, list[GenClip]] = {}
    for c in as_clips(clips):
        out.setdefault(c.language, []).append(c)
    return dict(sorted(out.items()))


def p2lg_pose_clips(clips, glosses) -> list[GenClip]:
    """Prompt2LangGloss's pose training clips: each clip's text replaced by its tagged gold glosses."""
    clips, glosses = as_clips(clips), list(glosses)
    if len(clips) != len(glosses):
        raise SignlibError(f"p2lg_pose_clips: {len(clips)} clips but {len(glosses)} gloss lists")
    return [dataclasses.replace(c, text=pose_text(g, c.language)) for c, g in zip(clips, glosses)]


def prompt_pairs(texts, languages, glosses) -> list[tuple[str, str, list[str]]]:
    """``(prompt, language, [<LANG>, gloss, ...])`` training triples of the prompt-to-gloss model."""
    texts, languages, glosses = list(texts), list(languages), list(glosses)
    if not len(texts) == len(languages) == len(glosses):
        raise SignlibError(f"prompt_pairs: {len(texts)} texts, {len(languages)} languages, {len(glosses)} gloss lists")
    return [(prompt(t, x), x, tagged_glosses(g, x)) for t, x, g in zip(texts, languages, glosses)]
