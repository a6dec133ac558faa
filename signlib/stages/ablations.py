"""Stage ``ablations`` (notebook ``06_ablations``): score every generator variant, every seed.

Reads the variant models ``train_ablation@<variant>`` wrote (``models/ablations/<variant>/seed<k>``),
the curated corpus, the FAST keyframes (evaluation policy) and, for the ASL/BSL confusion, the
isolated-sign dictionary. Every variant is scored on the same test clips (the first
``ablations.clips`` per language that have keyframes) with the ``ablations.sampler`` settings;
the tables and figures are built by :mod:`signlib.stages.ablation_figures`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from signlib.baselines.stitching import load_citations
from signlib.data.corpus import Corpus
from signlib.data.sequence import Sequence
from signlib.evaluate import ablations as ab
from signlib.evaluate.confusion import nearest_language
from signlib.evaluate.guidance import guidance_grid, score_grid, validation_clips
from signlib.evaluate.systems import kf2p_system, slerp_system, track_system
from signlib.generate import modes
from signlib.generate.model import SignSparK, load_signspark
from signlib.keyframes import EVALUATION_POLICY, clip_keyframes, read_keyframes
from signlib.stages.common import Stage
from signlib.stages.train_ablation import model_folder, seeds
from signlib.triframe import TriframeDictionary

#: The variant every other one changes one thing of; the Fig 4b generators; the Fig 5a series.
REFERENCE, GENERATORS = "signspark", ("signspark", "plain_cfm", "ddpm")
LANGUAGE_SERIES = ("languages_1", "languages_2", "languages_3", "languages_4_no_token", "signspark")
#: The pair of sign languages that share English text.
CONFUSABLE = ("ASL", "BSL")


@dataclass(frozen=True)
class Inputs:
    """Test clips (``test``, and the smaller ``long`` subset for many-step sampling), validation
    clips for the guidance sweep, each with its FAST keyframes, and every variant's models (one per
    seed, in seed order)."""

    test: list[Sequence]
    test_keys: list[np.ndarray]
    long: list[Sequence]
    long_keys: list[np.ndarray]
    val: list[Sequence]
    val_keys: list[np.ndarray]
    models: dict[str, list[SignSparK]]
    triframe: TriframeDictionary | None
    citations: dict | None


def load(stage: Stage) -> Inputs:
    cfg, paths = stage.params.ablations, stage.paths
    corpus = Corpus(paths.curated)
    keyframes = read_keyframes(paths.keyframes, EVALUATION_POLICY)

    def subset(split, per_language):
        seqs = [corpus.load(c.id) for c in corpus.select(split)]
        return validation_clips(seqs, [clip_keyframes(s, keyframes) for s in seqs], per_language)

    test, test_keys = subset("test", cfg.clips)
    long, long_keys = subset("test", cfg.long_clips)
    val, val_keys = subset("val", cfg.guidance.clips)
    trained = [v for v in cfg.variants if (model_folder(stage.params, v, 0) / "final.pt").exists()]
    for v in cfg.variants:
        if v not in trained:
            print(f"variant {v} was not trained ({paths.model('ablations', v) / 'skipped.json'}): its rows stay empty")
    models = {v: [load_signspark(model_folder(stage.params, v, s)) for s in seeds(stage.params)] for v in trained}
    triframe = citations = None
    if paths.triframe.exists():
        triframe, citations = TriframeDictionary.load(paths.triframe), load_citations(Corpus(paths.dictionary))
    n = sum(p.numel() for p in models[next(iter(models))][0].parameters())
    print(f"{len(models)} variants × {len(seeds(stage.params))} seeds ({n / 1e6:.2f} M parameters each, "
          f"{stage.params.sizes.generator_ablation_steps} steps); {len(test)} test clips ({len(long)} for many-step "
          f"sampling), {len(val)} validation clips; sampler {stage.params.ablations.sampler}")
    return Inputs(test, test_keys, long, long_keys, val, val_keys, models, triframe, citations)


def _bar(stage: Stage, desc: str):
    return lambda items: tqdm(items, desc=desc, disable=not stage.interactive, leave=False)


def references(stage: Stage, inputs: Inputs) -> dict[str, dict[str, float]]:
    """SLERP and the keyframe track alone on the test clips (where the variants stand), and the
    reference variant sampled at temperature 0 (the setting the ``evaluate`` stage picked for the
    full model), per seed (``"... seed k"``)."""
    systems = {"SLERP": slerp_system, "Keyframe track": track_system(stage.params.signspark.model.easing)}
    cold = dataclasses.replace(stage.params.ablations.sampler, temperature=0.0)
    systems.update({f"SignSparK, temperature 0, seed {s}": kf2p_system(m, cold)
                    for s, m in enumerate(inputs.models[REFERENCE])})
    rows, _ = ab.run_and_score(systems, inputs.test, inputs.test_keys)
    return {name: ab.clip_means([r for r in rows if r["system"] == name]) for name in systems}


def score_variants(stage: Stage, inputs: Inputs) -> list[dict]:
    """KF2P (with text) of every variant and seed on the test clips: one row per clip with
    ``variant``, ``seed``, ``language`` and the :data:`~signlib.evaluate.ablations.SCORE_KEYS`."""
    sampler = stage.params.ablations.sampler
    systems = {f"{v}|{s}": kf2p_system(m, sampler) for v, per_seed in inputs.models.items() for s, m in enumerate(per_seed)}
    rows, _ = ab.run_and_score(systems, inputs.test, inputs.test_keys,
                               progress=_bar(stage, "variants"))
    return [{**r, "variant": r["system"].split("|")[0], "seed": int(r["system"].split("|")[1])} for r in rows]


def variant_scores(rows: list[dict], variant: str, language: str | None = None) -> list[dict[str, float]]:
    """Per seed, the clip means of ``variant`` (on ``language``'s clips only when given)."""
    seed_ids = sorted({r["seed"] for r in rows if r["variant"] == variant})
    return [ab.clip_means([r for r in rows if r["variant"] == variant and r["seed"] == s
                           and (language is None or r["language"] == language)]) for s in seed_ids]


def combined_spread(rows: list[dict], variant: str, span: str = "", language: str | None = None) -> ab.Spread:
    """Body + hands DTW-JPE (cm per step) of ``variant`` over its seeds."""
    return ab.Spread.of([ab.combined(m, span) for m in variant_scores(rows, variant, language)])


def step_sweep(stage: Stage, inputs: Inputs) -> list[dict]:
    """Fig 4b's rows: the three generators at every step count of the grid (up to the profile's limit)."""
    grid = [n for n in stage.params.ablations.step_grid if n <= stage.params.sizes.ablation_step_limit]
    left = [n for n in stage.params.ablations.step_grid if n not in grid]
    if left:
        print(f"step counts {left} are above this profile's limit ({stage.params.sizes.ablation_step_limit}) and left out")
    return ab.step_sweep({g: inputs.models[g] for g in GENERATORS if g in inputs.models}, inputs.test, inputs.test_keys, inputs.long,
                         inputs.long_keys, grid, stage.params.ablations.sampler,
                         progress=_bar(stage, "Fig 4b"))


def confusion(stage: Stage, inputs: Inputs) -> list[dict]:
    """T2P (text only, at the truth's length) of the four-language variants with and without the
    language token on the ASL and BSL test clips; one row per judged sentence and seed
    (:func:`signlib.evaluate.confusion.nearest_language`). Empty without a dictionary."""
    if inputs.citations is None or not {"languages_4_no_token", REFERENCE} <= set(inputs.models):
        print("no isolated-sign dictionary or no four-language variants: the ASL/BSL confusion is skipped")
        return []
    truths = [s for s in inputs.test if s.language in CONFUSABLE]
    rows = []
    for variant, token in (("languages_4_no_token", False), (REFERENCE, True)):
        for seed, model in enumerate(inputs.models[variant]):
            out = modes.t2p(model, [s.text for s in truths], [s.language for s in truths],
                            stage.params.ablations.sampler, num_frames=[s.num_frames for s in truths])
            rows += [{**r, "variant": variant, "token": token, "seed": seed}
                     for r in nearest_language(out, truths, inputs.citations, inputs.triframe, CONFUSABLE)]
    return rows


def guidance_sweep(stage: Stage, inputs: Inputs) -> list[dict]:
    """Every grid point of ``ablations.guidance`` for the reference variant (text scales; it has no
    keyframe guidance under the keyframe prior) and the standard-prior variant (keyframe × text
    scales), every seed, scored on the validation clips; on the test clips only the point each
    seed picked on validation and plain sampling (scales 1) run, which is what the sweep reports."""
    rows, search = [], stage.params.ablations.guidance
    plans = [(v, s, m) for v in (REFERENCE, "standard_prior") if v in inputs.models
             for s, m in enumerate(inputs.models[v])]
    for variant, seed, model in _bar(stage, "guidance")(plans):
        grid = guidance_grid(model, stage.params.ablations.sampler, search)
        val = score_grid(model, grid, inputs.val, inputs.val_keys)
        rows += [{**r, "variant": variant, "seed": seed, "split": "val"} for r in val]
        keep = []
        for mode in ("KF2P", "T2P"):
            scored = [(r["score"], k) for k, r in enumerate(val) if r["mode"] == mode]
            plain = [k for k, (m, cfg) in enumerate(grid) if m == mode and cfg.text_scale == 1.0
                     and cfg.key_scale == 1.0 and (mode == "T2P" or cfg.temperature == 1.0)]
            keep += sorted({min(scored)[1], *plain[:1]})
        rows += [{**r, "variant": variant, "seed": seed, "split": "test"}
                 for r in score_grid(model, [grid[k] for k in keep], inputs.test, inputs.test_keys)]
    return rows
