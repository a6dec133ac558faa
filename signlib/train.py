"""One training loop for every model: checkpoints, resume, EMA, progress, DDP.

Six lines on the user side::

    config = TrainConfig(steps=2000, lr=3e-4, ema_decay=0.999)
    result = train(model, loss_fn, sample_batch, config, "models/segment")
    result.load_ema(model)

Stages say how each model is optimised with an :class:`~signlib.optim.OptimConfig` (a
``params.yaml`` section per model) and get the whole run's :class:`~signlib.optim.TrainConfig`
from :meth:`~signlib.optim.OptimConfig.schedule`; :func:`fit` trains and leaves the EMA weights in
the model.

The batch of step ``s`` on rank ``r`` is ``sample_batch(s, numpy.random.default_rng([seed, s, r]))``
and torch is reseeded from ``(seed, s, r)`` before it, so every step is a pure function of the
weights, the optimizer state and ``(seed, s, r)``. That is why a run killed after a checkpoint and
resumed ends with exactly the weights of an uninterrupted run, and why eval or logging never
perturb training. Under ``torchrun`` (``WORLD_SIZE`` > 1) the model is wrapped in DDP and only
rank 0 writes files. Files in ``out_dir``: ``last.pt`` (resumable, ``weights_only``-loadable),
``final.pt`` (weights; EMA weights when EMA is on), ``config.json``, ``metrics_rows.json``.

Killing a run at any moment (``SIGKILL`` included) loses at most the steps since the last
checkpoint: every file is replaced atomically (:func:`signlib.io.atomic_path`; checkpoints also
fsynced), so ``last.pt`` is always a complete checkpoint or absent. Resuming trusts only
``last.pt``: ``config.json`` is rewritten and ``metrics_rows.json`` cut back to the checkpoint's
rows at the start of every run, ``final.pt`` is deleted when the run has steps left and
``last.pt`` when the run starts afresh (``resume=False``), so a folder never pairs an unfinished
run with the weights of an older one. One run per ``out_dir``: a run deletes the temporary
files that killed runs left there.
"""

from __future__ import annotations

import copy
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from signlib.errors import SignlibError, file_error
from signlib.io import remove_partials, write_json, write_torch
from signlib.optim import OptimConfig, TrainConfig, ema_update, lr_at, make_optimizer

__all__ = ["OptimConfig", "TrainConfig", "TrainResult", "fit", "is_main_process", "lr_at", "to_device", "train"]

CHECKPOINT_FORMAT = "signlib.train/1"
# Keys that may change between a run and its resumption: they do not alter the weights.
_FREE_KEYS = ("checkpoint_every", "log_every", "device")


@dataclass(frozen=True)
class TrainResult:
    """What :func:`train` did. ``ema_state`` is ``None`` when EMA is off."""

    step: int                               # steps completed (== config.steps)
    resumed_from: int                       # step the run started from (0 = fresh)
    logs: dict[str, float]                  # the last metrics row
    paths: dict[str, Path]                  # checkpoint, final, config, metrics
    wall_time: float                        # seconds spent in this call
    ema_state: dict[str, torch.Tensor] | None = field(default=None, repr=False)

    def load_ema(self, model: nn.Module) -> nn.Module:
        """Copy the EMA weights into ``model`` (in place) and return it."""
        if self.ema_state is None:
            raise SignlibError("TrainResult.load_ema: EMA is off (TrainConfig.ema_decay = 0)")
        model.load_state_dict(self.ema_state)
        return model

    def ema_model(self, model: nn.Module) -> nn.Module:
        """A deep copy of ``model`` holding the EMA weights; ``model`` keeps the raw ones."""
        return self.load_ema(copy.deepcopy(model))


def is_main_process() -> bool:
    """True on rank 0 of a distributed run, and always in a single-process run."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank() == 0
    return int(os.environ.get("RANK", "0")) == 0


def to_device(batch: Any, device: torch.device) -> Any:
    """Move a batch: its own ``.to`` if it has one, else tensors inside dicts, tuples and lists."""
    if hasattr(batch, "to") and callable(batch.to):
        return batch.to(device)
    if isinstance(batch, Mapping):
        return type(batch)({k: to_device(v, device) for k, v in batch.items()})
    if isinstance(batch, tuple) and hasattr(batch, "_fields"):  # namedtuple: positional constructor
        return type(batch)(*(to_device(v, device) for v in batch))
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def _step_seed(seed: int, step: int, rank: int) -> int:
    # SeedSequence mixes the triple well; Python's hash() would do too but is less obviously stable.
    return int(np.random.SeedSequence([seed, step, rank]).generate_state(1, dtype=np.uint64)[0] >> 1)


def _resolve_device(name: str, local_rank: int) -> torch.device:
    if name == "cuda" and not torch.cuda.is_available():
        raise SignlibError("TrainConfig: device='cuda' but CUDA is not available")
    if name == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    torch.cuda.set_device(local_rank)
    return torch.device("cuda", local_rank)


def _load_checkpoint(path: Path, config: TrainConfig) -> dict:
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, bad pickle, foreign class: all the same to the user
        raise file_error(path, f"unreadable checkpoint ({type(exc).__name__}); delete it or pass resume=False")
    needed = ("format", "step", "config", "model", "optimizer", "ema", "rows")
    if not isinstance(ckpt, dict) or any(k not in ckpt for k in needed) or ckpt["format"] != CHECKPOINT_FORMAT:
        raise file_error(path, f"not a {CHECKPOINT_FORMAT} checkpoint; delete it or pass resume=False")
    current = config.to_dict()
    for key, value in current.items():
        if key not in _FREE_KEYS and ckpt["config"].get(key) != value:
            raise file_error(path, f"saved config has {key}={ckpt['config'].get(key)!r} but this run has "
                                   f"{key}={value!r}; use another out_dir or pass resume=False")
    return ckpt


def _save_torch(path: Path, obj: Any) -> None:
    # durable: a checkpoint is what a crashed machine resumes from, so it must reach the disk.
    write_torch(path, obj, durable=True)


def train(model: nn.Module, loss_fn: Callable[[nn.Module, Any], tuple[torch.Tensor, Mapping[str, float]]],
          sample_batch: Callable[[int, np.random.Generator], Any], config: TrainConfig,
          out_dir: str | os.PathLike, *, eval_fn: Callable[[nn.Module], Mapping[str, float]] | None = None,
          eval_every: int = 0, progress: bool = True, resume: bool = True,
          model_info: Mapping[str, Any] | None = None) -> TrainResult:
    """Train ``model`` in place for ``config.steps`` AdamW steps; see the module docstring.

    ``loss_fn(model, batch) -> (scalar loss, {name: float})`` receives the DDP wrapper in a
    distributed run: call it (``model(x)``) so gradients are synchronised; reach other attributes
    through ``getattr(model, "module", model)``. ``eval_fn(model) -> {name: float}`` runs on rank 0
    every ``eval_every`` steps (and at the end) in eval mode without gradients; its values join that
    step's metrics row as ``eval/<name>``. ``model_info`` is stored in config.json.
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    out_dir = Path(out_dir)
    paths = {"checkpoint": out_dir / "last.pt", "final": out_dir / "final.pt",
             "config": out_dir / "config.json", "metrics": out_dir / "metrics_rows.json"}
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_available():
        raise SignlibError(f"train: WORLD_SIZE={world} but torch.distributed is not available")
    owns_group = world > 1 and not dist.is_initialized()  # a caller's own group is left to the caller
    device = _resolve_device(config.device, int(os.environ.get("LOCAL_RANK", "0")))
    if owns_group:
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    try:
        rank = dist.get_rank() if world > 1 else 0
        main = rank == 0
        model.to(device)
        optimizer = make_optimizer(model, config)
        start, rows, ema = 0, [], None
        # Read everything before writing anything: a bad last.pt must leave every file as it was.
        ckpt = _load_checkpoint(paths["checkpoint"], config) if resume and paths["checkpoint"].exists() else None
        if ckpt is not None:
            try:
                model.load_state_dict(ckpt["model"])
                optimizer.load_state_dict(ckpt["optimizer"])
            except (RuntimeError, ValueError, KeyError) as exc:
                first = (str(exc).splitlines() or [type(exc).__name__])[0]  # torch may give an empty message
                raise file_error(paths["checkpoint"], f"does not fit this model ({first})")
            start, rows = int(ckpt["step"]), [r for r in ckpt["rows"] if r["step"] <= ckpt["step"]]
        # DDP broadcasts rank 0's weights at construction, so ranks may start from different inits.
        wrapped = model if world == 1 else nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None)
        if config.ema_decay > 0:
            source = ckpt["ema"] if ckpt is not None and ckpt["ema"] is not None else model.state_dict()
            ema = {k: v.detach().to(device).clone() for k, v in source.items()}
        if main:
            info = dict(model_info or {"class": type(model).__name__,
                                       "parameters": sum(p.numel() for p in model.parameters())})
            write_json(paths["config"], {"train": config.to_dict(), "model": info, "world_size": world})
            # Rows past the checkpoint (a killed run logged them) would be duplicated; an older run's
            # final.pt beside an unfinished run would pass for its result, and its last.pt (when
            # resume=False starts over) would be resumed as if it were this run's.
            write_json(paths["metrics"], rows)
            stale = [paths["final"]] if start < config.steps else []
            stale += [paths["checkpoint"]] if ckpt is None else []
            for path in stale:
                path.unlink(missing_ok=True)
            for path in paths.values():
                remove_partials(path)

        def save_checkpoint(step: int) -> None:
            _save_torch(paths["checkpoint"], {
                "format": CHECKPOINT_FORMAT, "step": step, "config": config.to_dict(), "world_size": world,
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "ema": ema, "rows": rows})

        params = [p for group in optimizer.param_groups for p in group["params"]]
        bar = tqdm(total=config.steps, initial=start, disable=not (progress and main), desc=out_dir.name)
        wrapped.train()
        last_saved = start if ckpt is not None else -1
        for step in range(start, config.steps):  # step is 0-based; `done` counts completed steps
            torch.manual_seed(_step_seed(config.seed, step, rank))  # dropout & co. per (seed, step, rank)
            batch = to_device(sample_batch(step, np.random.default_rng([config.seed, step, rank])), device)
            lr = lr_at(step, config)
            for group in optimizer.param_groups:
                group["lr"] = lr
            loss, logs = loss_fn(wrapped, batch)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            # Clipping with an infinite bound still returns the norm (for the log) and scales by 1.
            grad_norm = nn.utils.clip_grad_norm_(params, config.grad_clip or math.inf)
            if not torch.isfinite(grad_norm):  # grads are synchronised, so every rank stops here
                raise SignlibError(f"{paths['checkpoint']}: non-finite loss or gradient at step {step}; "
                                   f"the last checkpoint is kept")
            optimizer.step()
            if ema is not None:
                ema_update(ema, model, config.ema_decay)
            done = step + 1
            bar.update(1)
            is_log = done % config.log_every == 0 or done == config.steps
            is_eval = eval_fn is not None and (done == config.steps or (eval_every > 0 and done % eval_every == 0))
            if is_log or is_eval:
                mean_loss = loss.detach().clone()
                if world > 1:  # gloo has no AVG reduction: sum, then divide
                    dist.all_reduce(mean_loss)
                    mean_loss /= world
                row = {"step": done, "loss": float(mean_loss), "lr": lr, "grad_norm": float(grad_norm),
                       **{k: float(v) for k, v in logs.items()}}
                if is_eval and main:
                    model.eval()
                    with torch.no_grad():
                        row.update({f"eval/{k}": float(v) for k, v in eval_fn(model).items()})
                    model.train()
                rows.append(row)
                bar.set_postfix(loss=f"{row['loss']:.4g}")
                if main:
                    write_json(paths["metrics"], rows)
            if main and config.checkpoint_every and done % config.checkpoint_every == 0:
                save_checkpoint(done)
                last_saved = done
        bar.close()
        if main:
            if last_saved != config.steps:
                save_checkpoint(config.steps)
            final = ema if ema is not None else model.state_dict()
            _save_torch(paths["final"], {k: v.detach().cpu() for k, v in final.items()})
            write_json(paths["metrics"], rows)
        if world > 1:
            dist.barrier()  # no rank leaves (and tears down) before rank 0 has written its files
        return TrainResult(step=config.steps, resumed_from=start, logs=rows[-1] if rows else {}, paths=paths,
                           wall_time=time.perf_counter() - started,
                           ema_state={k: v.detach().clone() for k, v in ema.items()} if ema is not None else None)
    finally:
        if owns_group and dist.is_initialized():
            dist.destroy_process_group()


def fit(model: nn.Module, loss_fn, sample_batch, config: TrainConfig, out_dir: str | os.PathLike,
        progress: bool = True, model_info: Mapping[str, Any] | None = None) -> TrainResult:
    """:func:`train`, then keep the EMA weights (when EMA is on) in ``model``, left in eval mode."""
    result = train(model, loss_fn, sample_batch, config, out_dir, progress=progress, model_info=model_info)
    if result.ema_state is not None:
        result.load_ema(model)
    model.eval()
    return result
