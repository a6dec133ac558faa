"""Stage ``train_ablation@<variant>``: one generator variant of the ablations, trained per seed.

``python -m signlib.stages.train_ablation VARIANT [--params FILE]``. A variant
(``ablations.variants.<name>``) is ``params.yaml`` with ``ablations.common`` (the reduced ablation
budget: a narrower UNet and text encoder, half-size batches) and then its own ``overrides`` set,
trained on its ``languages`` (all when empty) for ``generator_ablation_steps`` steps through the
same :func:`~signlib.stages.train_signspark.fit_signspark` as the full model, once per seed
``0 .. ablation_seeds − 1`` (``base.seed`` is the seed). Because every variant is its own DVC
stage (a ``foreach`` over the variants), editing one variant retrains only it; any variant also
trains under ``torchrun`` (the one training loop handles DDP). Writes
``models/ablations/<variant>/seed<k>/``; a killed run resumes seed by seed.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys

import torch

from signlib.config import SECTIONS, Params, load_params, parse_section, read_params, set_key
from signlib.data.corpus import Corpus
from signlib.errors import SignlibError
from signlib.io import write_json
from signlib.stages.paths import Paths, trace_reads
from signlib.stages.train_signspark import fit_signspark, training_clips, training_keyframes

STAGE = "ablations"
#: Seeds train side by side only when each run is at least this many steps (see train_variant).
MIN_PARALLEL_STEPS = 50


def variant_params(params_path: str | os.PathLike, variant: str, seed: int) -> Params:
    """``params.yaml`` as ``variant`` with ``seed`` sees it: ``ablations.common`` and then the
    variant's overrides applied, ``base.seed`` set; every value is checked as ``params.yaml`` is."""
    params = load_params(params_path)
    if variant not in params.ablations.variants:
        raise SignlibError(f"ablation variant {variant!r} is not in ablations.variants; known: "
                           f"{', '.join(params.ablations.variants)}")
    raw = read_params(params_path)
    changes = {**params.ablations.common, **params.ablations.variants[variant].overrides, "base.seed": seed}
    for key, value in changes.items():
        if key.split(".")[0] == "ablations":
            raise SignlibError(f"ablations.variants.{variant}.overrides: {key} cannot change the ablations section")
        try:
            set_key(raw, key, value)
        except SignlibError as err:
            raise SignlibError(f"ablations.variants.{variant}.overrides: {err}") from None
    return Params(**{s: parse_section(s, raw[s]) for s in SECTIONS})


def seeds(params: Params) -> list[int]:
    """The seeds every variant is trained with (``ablation_seeds`` of the profile)."""
    return list(range(params.sizes.ablation_seeds))


def model_folder(params: Params, variant: str, seed: int):
    return Paths(params.base).model(STAGE, f"{variant}/seed{seed}")


def train_seed(params_path: str | os.PathLike, variant: str, seed: int, threads: int = 0) -> None:
    """Train ``variant`` with one seed (``threads`` > 0 caps torch's CPU threads)."""
    if threads > 0:
        torch.set_num_threads(threads)
    params = variant_params(params_path, variant, seed)
    languages = params.ablations.variants[variant].languages
    corpus = Corpus(Paths(params.base).curated)
    unknown = sorted(set(languages) - set(corpus.languages()))
    if unknown:
        raise SignlibError(f"ablations.variants.{variant}.languages: {', '.join(unknown)} not in the corpus "
                           f"({', '.join(corpus.languages())})")
    clips = [c for c in training_clips(corpus, training_keyframes(params)) if not languages or c.language in languages]
    print(f"variant {variant} seed {seed}: {len(clips)} training clips", file=sys.stderr)
    fit_signspark(params, clips, corpus.layout, corpus.fps, model_folder(params, variant, seed),
                  params.sizes.generator_ablation_steps, variant=variant, seed=seed,
                  languages=list(languages) or corpus.languages(), policy=params.keyframes.policy,
                  overrides={**params.ablations.common, **params.ablations.variants[variant].overrides})


def _train_seed(job: tuple) -> None:
    trace_reads("train_ablation")  # a spawned child starts without the parent's audit hook
    train_seed(*job)


def train_variant(params_path: str | os.PathLike, variant: str) -> None:
    """Train ``variant`` once per seed (see the module docstring).

    On a CPU the seeds train side by side, one process and ``cpus / seeds`` threads each: these
    models are too small to keep two threads busy, and two one-thread runs did 1.5 times the steps
    per second of one two-thread run on the 2-core machine. Under ``torchrun``, on a GPU, or for runs shorter than
    :data:`MIN_PARALLEL_STEPS` the seeds train one after the other."""
    params = variant_params(params_path, variant, 0)  # checks the variant before anything starts
    languages = params.ablations.variants[variant].languages
    corpus_languages = Corpus(Paths(params.base).curated).languages()
    missing = sorted(set(languages) - set(corpus_languages))
    if missing:  # a real corpus of other languages: the variant cannot exist there, and says why
        why = f"the corpus has no {', '.join(missing)} (it has {', '.join(corpus_languages)})"
        print(f"ablation variant {variant} not trained: {why}", file=sys.stderr)
        write_json(Paths(params.base).model(STAGE, variant) / "skipped.json", {"skipped": why})
        return
    runs = seeds(params)
    cpus = os.cpu_count() or 1
    # A spawned process spends about 5 s importing torch, so runs shorter than that (the smoke
    # profile's) stay in this process.
    parallel = (params.base.device == "cpu" and int(os.environ.get("WORLD_SIZE", "1")) == 1 and cpus > 1
                and len(runs) > 1 and params.sizes.generator_ablation_steps >= MIN_PARALLEL_STEPS)
    if not parallel:
        for seed in runs:
            train_seed(params_path, variant, seed)
        return
    workers = min(len(runs), cpus)
    # spawn, not fork: a child forked after torch started its thread pool can deadlock.
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        pool.map(_train_seed, [(str(params_path), variant, seed, max(1, cpus // workers)) for seed in runs], chunksize=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m signlib.stages.train_ablation")
    parser.add_argument("variant", help="a name under ablations.variants in the params file")
    parser.add_argument("--params", default="params.yaml", help="params file (default: params.yaml)")
    args = parser.parse_args(argv)
    trace_reads("train_ablation")  # the dvc.yaml name of every variant's stage (a foreach)
    train_variant(args.params, args.variant)
    return 0


if __name__ == "__main__":
    sys.exit(main())

