"""The four SignSparK inference modes, batched, all built on :func:`generate_batch`.

Every mode takes lists (one entry per sequence to generate) and returns one
:class:`~signlib.data.sequence.Sequence` per entry, in order; request ``i`` samples its noise from
``seed + i``, and a request gives the same sequence alone or in any batch.

- :func:`kf2p` keyframe-to-pose: given keyframes (and optionally text), fill in the motion.
- :func:`t2p` text-to-pose: no keyframes; the length comes from the model's length head.
- :func:`sr_t2p` retrieval text-to-pose: text → glosses (the text-to-gloss model, passed as
  ``translate``) → tri-frame dictionary keyframes on a timeline → generate. **When retrieval finds
  nothing** (no predicted gloss is in the dictionary, or the timeline is longer than the model's
  ``max_frames``) that entry falls back to :func:`t2p` with the length head's length, and its
  ``meta["retrieved"]`` is False (True otherwise), so every text gets a sequence and the share of
  retrieved ones can be reported.
- :func:`stitch` sign stitching: glosses → dictionary keyframes → generate (text optional).

Bad input (keyframes outside the sequence, lengths of zero, above the trained maximum or not whole
numbers, an unknown language, text that is empty, not ``str`` or not encodable as UTF-8, a seed or
batch size that is not an integer) is a :class:`SignlibError` naming the argument (``texts[2]``,
``num_frames[0]``), raised before the network runs. Sequences longer than the model's
``max_frames`` are refused rather than windowed: the UNet never saw them.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from signlib.data.sequence import Sequence
from signlib.errors import SignlibError
from signlib.generate.diffusion import ddim_sample, ddim_times
from signlib.generate.model import SignSparK
from signlib.generate.sampling import SamplerConfig, flow_times, sample
from signlib.keyframes import Keyframes
from signlib.text.counts import count
from signlib.text.tokens import check_language, check_text
from signlib.triframe import TriframeDictionary, retrieval_keyframes


@dataclass(frozen=True)
class Request:
    """One sequence to generate: keyframes and/or text in a language, and a length."""

    language: str
    text: str | None = None
    keyframes: Keyframes | None = None
    num_frames: int | None = None       # required when there are no keyframes (see t2p)
    seed: int = 0


def _check(model: SignSparK, req: Request, where: str = "request") -> int:
    """The length of request ``req`` (``where`` names it in errors), after checking every field."""
    if not isinstance(req, Request):
        raise SignlibError(f"{where}: expected a Request, got {type(req).__name__}")
    check_language(req.language)
    if req.text is not None:
        check_text(req.text, f"{where}.text")
    count(req.seed, f"{where}.seed", 0, 2 ** 63 - 1)
    if req.keyframes is not None and not isinstance(req.keyframes, Keyframes):
        raise SignlibError(f"{where}.keyframes: expected Keyframes, got {type(req.keyframes).__name__}")
    name = f"{where}.keyframes.num_frames" if req.keyframes is not None else f"{where}.num_frames"
    T = req.keyframes.num_frames if req.keyframes is not None else req.num_frames
    if T is None:
        raise SignlibError("num_frames is required when no keyframes are given")
    T = count(T, name, 1, model.config.max_frames, " (the trained maximum)")
    if req.keyframes is not None and req.keyframes.features.shape[1] != model.dim:
        raise SignlibError(f"keyframes have {req.keyframes.features.shape[1]} channels; the model's layout "
                           f"{model.config.layout!r} has {model.dim}")
    return T


def _check_sampler(sampler) -> None:
    if not isinstance(sampler, SamplerConfig):  # a dict or a step count would fail deep in the sampler
        raise SignlibError(f"sampler: expected a SamplerConfig, got {type(sampler).__name__}")


@torch.no_grad()
def generate_batch(model: SignSparK, requests: list[Request], sampler: SamplerConfig = SamplerConfig()) -> list[Sequence]:
    """Generate every request in one padded batch (ODE steps for the flow generators, DDIM steps
    for ``generator: ddpm``). Each request's noise depends only on its own
    seed and length, and the network ignores padding, so a request gives the same sequence alone
    or in any batch."""
    if isinstance(requests, Request) or not requests:
        raise SignlibError("generate_batch: requests: expected a non-empty list of Request")
    _check_sampler(sampler)
    lengths = [_check(model, r, f"requests[{i}]") for i, r in enumerate(requests)]
    if model.config.prior != "standard" and sampler.key_scale != 1.0:
        raise SignlibError(f"key_scale={sampler.key_scale}: keyframe guidance needs a keyframe-blind branch in the "
                           "same flow coordinates, which exists only for a model trained with prior: standard")
    model.eval()
    device = model.mean.device
    B, T, D = len(requests), max(lengths), model.dim
    x0 = torch.zeros(B, T, D)
    keys, key_mask = torch.zeros(B, T, D), torch.zeros(B, T, dtype=torch.bool)
    for b, (req, n) in enumerate(zip(requests, lengths)):
        # int(): a numpy seed passed _check, but manual_seed takes only a Python int.
        x0[b, :n] = sampler.temperature * torch.randn(n, D, generator=torch.Generator().manual_seed(int(req.seed)))
        if req.keyframes is not None and len(req.keyframes.frames):
            f = torch.from_numpy(req.keyframes.frames)
            keys[b, f] = model.normalise(torch.from_numpy(req.keyframes.features))
            key_mask[b, f] = True
    length_mask = torch.arange(T)[None] < torch.tensor(lengths)[:, None]
    x0, keys, key_mask, length_mask = (z.to(device) for z in (x0, keys, key_mask, length_mask))
    texts = [r.text for r in requests]
    languages = [r.language for r in requests]
    texts_by_rows: dict[tuple, object] = {}
    prior = model.prior(keys, key_mask)
    contexts: dict[tuple, tuple] = {}
    ddpm = model.config.generator == "ddpm"
    times = ddim_times(sampler.steps, model.config.diffusion_steps) if ddpm else flow_times(sampler)

    def network(control, t, masks, text_on):
        rows, layout = tuple(text_on.tolist()), tuple(masks.any(1).tolist())
        if rows not in texts_by_rows:  # the text encoder runs once per branch layout, not once per step
            texts_by_rows[rows] = model.encode_text([texts[i % B] if on else None for i, on in enumerate(rows)],
                                                    [languages[i % B] for i in range(len(rows))])
        if (rows, layout) not in contexts:
            # A keyframe-blind branch sees the track of no keyframes. What stays fixed over the steps
            # (masks, track, text keys, the time inputs of every step) enters the UNet once per run
            # (SignSparK.condition).
            n = len(control) // B
            track, lengths = model.prior(keys.repeat(n, 1, 1), masks).track, length_mask.repeat(n, 1)
            contexts[rows, layout] = (lengths, track, model.condition(masks, lengths, texts_by_rows[rows], track, times))
        lengths, track, context = contexts[rows, layout]
        # Flow generators give the velocity; the diffusion generator its clean estimate (for DDIM).
        net = model.predict_clean if ddpm else model.velocity
        return net(control, t, masks, lengths, texts_by_rows[rows], track, context)

    z_keys, has_text = prior.to_flow(keys) * key_mask[..., None], torch.tensor([s is not None for s in texts])
    if ddpm:
        z = ddim_sample(network, x0, z_keys, key_mask, has_text, sampler, model.config.diffusion_steps)
    else:
        z = sample(network, x0, z_keys, key_mask, has_text, sampler)
    feats = model.denormalise(prior.from_flow(z)).cpu().numpy()
    out = []
    for b, (req, n) in enumerate(zip(requests, lengths)):
        f = feats[b, :n].copy()
        kf = req.keyframes
        if kf is not None and len(kf.frames):
            f[kf.frames] = kf.features  # exact, not up to float round-off of (x − μ)/σ·σ + μ
        out.append(Sequence(f, model.config.layout, model.config.fps, text=req.text or "", language=req.language,
                            segments=kf.segments if kf is not None else (), id=f"generated_{b}",
                            meta={"keyframes": [] if kf is None else kf.frames.tolist()}))
    return out


def generate(model: SignSparK, requests: list[Request], sampler: SamplerConfig = SamplerConfig(),
             batch_size: int = 16, progress: bool = False) -> list[Sequence]:
    """:func:`generate_batch` over ``requests`` in chunks of ``batch_size``, in order."""
    if isinstance(requests, Request):
        raise SignlibError("generate: requests: expected a list of Request, got one Request")
    requests = list(requests)
    if not requests:
        raise SignlibError("generate: no requests")
    batch_size = count(batch_size, "batch_size")
    out: list[Sequence] = []
    for start in tqdm(range(0, len(requests), batch_size), desc="generate", disable=not progress, leave=False):
        chunk = generate_batch(model, requests[start:start + batch_size], sampler)
        out += [s.replace(id=f"generated_{start + b}") for b, s in enumerate(chunk)]
    return out


def _lists(n: int, **named) -> None:
    for name, values in named.items():
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or len(values) != n:
            raise SignlibError(f"{name}: expected a list of {n} entries, got {values!r:.60}")


def _list(mode: str, name: str, values) -> list:
    """``values`` as a list; a bare string (one text, not a list of them) or a non-sequence is refused."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise SignlibError(f"{mode}: {name}: expected a list (one entry per sequence), got {values!r:.60}")
    return list(values)


def _check_common(mode: str, texts, languages, seed, batch_size, optional_text: bool = False) -> tuple[int, int]:
    """The checks every mode shares: texts (``None`` allowed with ``optional_text``), languages,
    the seed and the batch size, each error naming ``mode`` and the argument. Returns the seed and
    the batch size as Python ints."""
    for i, (text, lang) in enumerate(zip(texts, languages)):
        if text is not None or not optional_text:
            check_text(text, f"{mode}: texts[{i}]")
        try:
            check_language(lang)
        except SignlibError as err:
            raise SignlibError(f"{mode}: languages[{i}]: {err}") from None
    return count(seed, f"{mode}: seed", 0, 2 ** 63 - 1), count(batch_size, f"{mode}: batch_size")


def kf2p(model: SignSparK, keyframes: list[Keyframes], texts: list[str | None], languages: list[str],
         sampler: SamplerConfig = SamplerConfig(), seed: int = 0, batch_size: int = 16) -> list[Sequence]:
    """Keyframe-to-pose: one ``k.num_frames``-long sequence through each ``k`` of ``keyframes``
    (``texts`` entries may be None: keyframes alone)."""
    keyframes = _list("kf2p", "keyframes", keyframes)
    _lists(len(keyframes), texts=texts, languages=languages)
    seed, batch_size = _check_common("kf2p", texts, languages, seed, batch_size, optional_text=True)
    for i, k in enumerate(keyframes):
        if not isinstance(k, Keyframes):
            raise SignlibError(f"kf2p: keyframes[{i}]: expected Keyframes, got {type(k).__name__}")
        count(k.num_frames, f"kf2p: keyframes[{i}].num_frames", 1, model.config.max_frames, " (the trained maximum)")
    requests = [Request(lang, text, k, seed=seed + i) for i, (k, text, lang) in enumerate(zip(keyframes, texts, languages))]
    return generate(model, requests, sampler, batch_size)


def t2p(model: SignSparK, texts: list[str], languages: list[str], sampler: SamplerConfig = SamplerConfig(),
        seed: int = 0, num_frames: list[int] | None = None, batch_size: int = 16) -> list[Sequence]:
    """Text-to-pose without keyframes; ``num_frames`` default to the length head's predictions."""
    texts = _list("t2p", "texts", texts)
    _lists(len(texts), languages=languages)
    seed, batch_size = _check_common("t2p", texts, languages, seed, batch_size)
    if num_frames is None:
        num_frames = [int(n) for n in model.predict_length(texts, languages)]
    _lists(len(texts), num_frames=num_frames)
    num_frames = [count(n, f"t2p: num_frames[{i}]", 1, model.config.max_frames, " (the trained maximum)")
                  for i, n in enumerate(num_frames)]
    requests = [Request(lang, text, None, n, seed + i)
                for i, (text, lang, n) in enumerate(zip(texts, languages, num_frames))]
    return generate(model, requests, sampler, batch_size)


def stitch(model: SignSparK, dictionary: TriframeDictionary, glosses: list[list[str]], languages: list[str],
           texts: list[str | None] | None = None, sampler: SamplerConfig = SamplerConfig(), seed: int = 0,
           batch_size: int = 16) -> list[Sequence]:
    """Sign stitching: the dictionary keyframes of each gloss list, joined by generated signs and
    transitions (with the sentence's text where ``texts`` gives one). A gloss missing from the
    dictionary is an error naming it."""
    glosses = _list("stitch", "glosses", glosses)
    texts = [None] * len(glosses) if texts is None else texts
    _lists(len(glosses), languages=languages, texts=texts)
    seed, batch_size = _check_common("stitch", texts, languages, seed, batch_size, optional_text=True)
    for i, g in enumerate(glosses):
        if not isinstance(g, (list, tuple)) or not all(isinstance(x, str) for x in g):
            raise SignlibError(f"stitch: glosses[{i}]: expected a list of gloss strings, got {g!r:.60}")
    keys = [retrieval_keyframes(dictionary, check_language(lang), g) for g, lang in zip(glosses, languages)]
    return kf2p(model, keys, texts, languages, sampler, seed, batch_size)


def sr_t2p(model: SignSparK, translate, dictionary: TriframeDictionary, texts: list[str], languages: list[str],
           sampler: SamplerConfig = SamplerConfig(), seed: int = 0, batch_size: int = 16) -> list[Sequence]:
    """Retrieval text-to-pose. ``translate(texts, languages) -> [[gloss, ...]]`` is the
    text-to-gloss model; predicted glosses missing from the dictionary are skipped, and an entry
    with none left falls back to text-to-pose (module docstring)."""
    texts = _list("sr_t2p", "texts", texts)
    _lists(len(texts), languages=languages)
    seed, batch_size = _check_common("sr_t2p", texts, languages, seed, batch_size)
    predicted = translate(list(texts), list(languages))
    if len(predicted) != len(texts):
        raise SignlibError(f"sr_t2p: translate returned {len(predicted)} gloss lists for {len(texts)} texts")
    lengths = model.predict_length(texts, languages)
    requests = []
    for i, (text, lang, glosses, n) in enumerate(zip(texts, languages, predicted, lengths)):
        known = [g for g in glosses if dictionary.has(lang, g)]
        keys = retrieval_keyframes(dictionary, lang, known) if known else None
        if keys is not None and keys.num_frames > model.config.max_frames:
            keys = None
        requests.append(Request(lang, text, keys, None if keys is not None else int(n), seed=seed + i))
    out = generate(model, requests, sampler, batch_size)
    return [s.replace(meta={**s.meta, "retrieved": r.keyframes is not None}) for s, r in zip(out, requests)]
