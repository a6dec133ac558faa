"""The regression text-to-pose baseline of Table 2, in the style of Progressive Transformers
(Saunders et al. 2020).

A byte-level text encoder (sign-language token in front, :class:`~signlib.generate.text.ByteTextEncoder`)
and an autoregressive transformer decoder that regresses continuous pose frames. Decoder position
``k`` of a ``T``-frame clip reads frame ``k − 1`` (a learned start frame at ``k = 0``) joined with
the counter ``k / T``, and predicts frame ``k`` joined with the counter ``(k + 1) / T``. The counter
runs from 0 to 1, so the model chooses the length: generation stops where the predicted counter
first reaches 1. Training is teacher-forced MSE (:mod:`signlib.baselines.regression_training`) with
Gaussian noise on the input frames, so the decoder learns to cope with its own imperfect outputs.

One change to the original: the predicted counter is the input counter plus a positive step
(softplus), rather than a free output. With a free output, a decoder drifting on its own frames
let the counter stall below 1 (overfitting three clips, it settled near 0.8 and two of the three
sequences ran to ``max_frames``); with a positive step it always advances, and the step ``1 / T`` it learns is
still what sets the length.

Its known failure is regression to the mean: MSE rewards the average of the plausible motions,
which is small and damped. This module is the model, greedy generation with a key/value cache and
the model folder (a :mod:`signlib.checkpoint` folder of kind ``regression``).
"""

from __future__ import annotations

import math
import os

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from signlib.baselines.configs import RegressionConfig
from signlib.checkpoint import load_model, save_card
from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.generate.text import build_text_encoder
from signlib.layers import DecoderStack, Standardised, select_cache, sinusoid
from signlib.pose.layout import get_layout
from signlib.text.counts import count
from signlib.text.tokens import text_requests

KIND = "regression"


class ProgressiveTransformer(Standardised, nn.Module):
    """Text encoder + causal decoder over ``[frame ⊕ counter]``, in normalised feature units.

    ``forward(frames_in (B, T, D), counter_in (B, T), texts, languages) -> (frames (B, T, D),
    counter (B, T))``: output ``k`` depends only on inputs ``0..k`` and the text. Use
    :func:`teacher_inputs` to build the inputs from a clip, :func:`generate_regression` to generate.
    """

    def __init__(self, config: RegressionConfig = RegressionConfig()):
        super().__init__()
        c = self.config = config
        self.dim = D = get_layout(c.layout).dim
        self.text = build_text_encoder(c.text)
        self.memory_proj = nn.Identity() if c.text.d_model == c.d_model else nn.Linear(c.text.d_model, c.d_model)
        self.start = nn.Parameter(torch.zeros(D))            # frame "−1", learned, normalised units
        self.embed = nn.Linear(D + 1, c.d_model)
        self.decoder = DecoderStack(c.d_model, c.heads, c.ff, c.layers, c.dropout)
        self.head = nn.Linear(c.d_model, D + 1)
        with torch.no_grad():  # a first counter step of 1/100: sequences of about 100 frames
            self.head.bias[-1] = math.log(math.expm1(0.01))
        self.register_buffer("pe", sinusoid(c.max_frames, c.d_model), persistent=False)
        groups = get_layout(c.layout).feature_slices() if c.standardise == "part" else None
        self.init_statistics(D, groups)  # mean/std of the training frames: set_statistics

    def encode_text(self, texts, languages) -> tuple[torch.Tensor, torch.Tensor]:
        """``(memory (B, L, d_model), mask (B, L) bool)`` of ``B`` texts in their sign languages."""
        enc = self.text(list(texts), list(languages))
        return self.memory_proj(enc.tokens), enc.mask

    def _inputs(self, frames: torch.Tensor, counter: torch.Tensor, offset: int) -> torch.Tensor:
        T = frames.shape[1]
        if offset + T > self.config.max_frames:
            raise SignlibError(f"ProgressiveTransformer: {offset + T} frames, over max_frames={self.config.max_frames}")
        return self.embed(torch.cat([frames, counter[..., None]], -1)) + self.pe[offset:offset + T]

    def _outputs(self, h: torch.Tensor, counter_in: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.head(h)
        # The counter advances by a positive step: a drifting decoder still counts up and stops.
        return out[..., :-1], counter_in + F.softplus(out[..., -1])

    def decode(self, frames_in, counter_in, memory, memory_mask) -> tuple[torch.Tensor, torch.Tensor]:
        """Teacher-forced pass over every position at once (causal); shapes as in :meth:`forward`."""
        return self._outputs(self.decoder(self._inputs(frames_in, counter_in, 0), memory, memory_mask), counter_in)

    def forward(self, frames_in, counter_in, texts, languages) -> tuple[torch.Tensor, torch.Tensor]:
        return self.decode(frames_in, counter_in, *self.encode_text(texts, languages))

    def start_cache(self, memory, memory_mask, length: int) -> list[dict]:
        """Key/value cache for :meth:`step`, for up to ``length`` positions."""
        return self.decoder.start_cache(memory, memory_mask, length)

    def step(self, frame: torch.Tensor, counter: torch.Tensor, cache: list[dict]) -> tuple[torch.Tensor, torch.Tensor]:
        """One incremental position: input ``frame (B, D)``, ``counter (B,)`` → next frame ``(B, D)``
        and counter ``(B,)``, as :meth:`decode` gives at that position (inference only)."""
        h = self.decoder.step(self._inputs(frame[:, None], counter[:, None], cache[0]["len"]), cache)
        f, c = self._outputs(h, counter[:, None])
        return f[:, 0], c[:, 0]


def teacher_inputs(model: ProgressiveTransformer, x: torch.Tensor, lengths: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Teacher forcing for normalised clips ``x (B, T, D)`` of ``lengths (B,)`` frames:
    ``frames_in (B, T, D)`` (start frame, then ``x`` shifted right by one), ``counter_in (B, T)``
    = ``k / n`` and the counter target ``(B, T)`` = ``(k + 1) / n`` (padding positions hold
    values past 1 that the loss masks)."""
    B, T, D = x.shape
    frames_in = torch.cat([model.start.expand(B, 1, D), x[:, :-1]], 1)
    k = torch.arange(T, device=x.device, dtype=x.dtype)[None]
    n = lengths.to(x.dtype).clamp_min(1)[:, None]
    return frames_in, k / n, (k + 1) / n


def _check_requests(model: ProgressiveTransformer, texts, languages, max_frames: int | None
                    ) -> tuple[list, list, int]:
    texts, languages = text_requests("generate_regression", texts, languages)
    limit = count(model.config.max_frames if max_frames is None else max_frames, "generate_regression: max_frames",
                  1, model.config.max_frames, " (the trained maximum)")
    return texts, languages, limit


@torch.no_grad()
def _generate_chunk(model: ProgressiveTransformer, texts, languages, limit: int
                    ) -> tuple[torch.Tensor, list[int], list[bool]]:
    """``(frames (B, limit, D) normalised, lengths, stopped by the counter)``: greedy decoding, each
    row until its counter reaches 1 (length ``k + 1`` at the first step ``k`` with counter >= 1) or
    ``limit`` frames."""
    memory, mask = model.encode_text(texts, languages)
    B, device = len(texts), memory.device
    cache = model.start_cache(memory, mask, limit)
    frames = torch.zeros(B, limit, model.dim, device=device)
    lengths, by_counter = [limit] * B, [False] * B
    rows = torch.arange(B, device=device)             # the batch rows still being generated
    frame, counter = model.start.expand(B, -1), torch.zeros(B, device=device)
    for k in range(limit):
        frame, counter = model.step(frame, counter, cache)
        frames[rows, k] = frame
        done = counter >= 1
        if bool(done.any()):
            for r in rows[done].tolist():
                lengths[r], by_counter[r] = k + 1, True
            keep = ~done
            if not bool(keep.any()):
                break
            # Finished rows leave the batch (and the cache), so only the longest text pays for its tail.
            rows, frame, counter, cache = rows[keep], frame[keep], counter[keep], select_cache(cache, keep)
    return frames, lengths, by_counter


def generate_regression(model: ProgressiveTransformer, texts, languages, max_frames: int | None = None,
                        batch_size: int = 64, progress: bool = False) -> list[Sequence]:
    """Greedy autoregressive generation of one sequence per text, in the model's layout.

    Each sequence ends at the first frame whose predicted counter reaches 1, or after
    ``max_frames`` (default: the model's); ``meta["stopped_by"]`` says which (``"counter"`` or
    ``"max_frames"``). The model's own outputs (frame and counter) are fed back. There is no
    sampling and rows never interact, so a text gives the same sequence alone or in any batch.
    """
    texts, languages, limit = _check_requests(model, texts, languages, max_frames)
    batch_size = count(batch_size, "generate_regression: batch_size")
    was_training, out = model.training, []
    model.eval()
    try:
        for start in tqdm(range(0, len(texts), batch_size), desc="regression", disable=not progress):
            chunk_t, chunk_l = texts[start:start + batch_size], languages[start:start + batch_size]
            frames, lengths, by_counter = _generate_chunk(model, chunk_t, chunk_l, limit)
            feats = model.denormalise(frames).cpu().numpy()
            for b, (text, lang, n, stop) in enumerate(zip(chunk_t, chunk_l, lengths, by_counter)):
                out.append(Sequence(feats[b, :n].copy(), model.config.layout, model.config.fps, text=text,
                                    language=lang, id=f"generated_{start + b}",
                                    meta={"stopped_by": "counter" if stop else "max_frames"}))
    finally:
        model.train(was_training)
    return out


def save_regression_card(folder: str | os.PathLike, model: ProgressiveTransformer, **extra) -> None:
    """Write the card (the config) beside the weights :func:`signlib.train.train` wrote."""
    save_card(folder, KIND, model.config.to_dict(), **extra)


def load_regression(folder: str | os.PathLike) -> ProgressiveTransformer:
    """The model in eval mode (on the CPU) from its model folder."""
    return load_model(folder, KIND, lambda card: ProgressiveTransformer(RegressionConfig.from_dict(card["config"])))
