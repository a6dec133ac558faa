"""Stage ``corpus`` (notebook ``01_curate_poses``): read or generate the input, curate it, split it.

Reads ``base.data_dir`` (its ``corpus.yaml`` says the format; the default generates the synthetic
corpus at the profile's sizes and reads it back through the real readers), fills short gaps,
normalises, drops over-long clips and splits by signer within each language. Writes the curated
corpus and, when the input has one, the isolated-sign dictionary to ``build/corpus/``; statistics,
sign frequencies (how often test signs were seen in training), curation quality, example figures
and the hardness table to ``results/corpus/``.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt

from signlib.data.corpus import Corpus, split_signers, write_corpus
from signlib.data import curate
from signlib.data.sources import SourceSizes, load_dictionary, load_source, read_spec
from signlib.data.stats import language_stats, sign_frequency
from signlib.evaluate.hardness import hardness
from signlib.render.skeleton import plot_sequence_strip
from signlib.stages.common import Stage


@dataclass(frozen=True)
class CorpusBuild:
    """What :func:`build` made: the curated corpus, the dictionary (None without one) and reports."""

    corpus: Corpus
    dictionary: Corpus | None
    source_format: str
    quality: list[dict]
    stats: list[dict]
    frequency: list[dict]


def build(stage: Stage) -> CorpusBuild:
    """Read (or generate) the input, curate, split by signer, and write both corpora."""
    base, cfg, sizes = stage.params.base, stage.params.corpus, stage.params.sizes
    fmt = read_spec(base.data_dir).format
    amount = SourceSizes(max_clips=sizes.max_clips, signers=sizes.corpus_signers, sentences=sizes.corpus_sentences,
                         signs=sizes.corpus_signs, zipf=sizes.corpus_zipf)
    raw, source_dir = load_source(base.data_dir, stage.paths.build("corpus"), seed=base.seed, sizes=amount,
                                  progress=stage.interactive)
    citations = load_dictionary(source_dir)
    print(f"{len(raw)} clips read from {source_dir} ({fmt}), layout {raw[0].layout}, {raw[0].fps:g} fps; "
          f"{len(citations)} dictionary entries")
    clips, report = curate.curate_all(raw, max_gap=cfg.fill_gap_frames, max_frames=sizes.max_frames)
    splits = split_signers([c.signer for c in clips], cfg.val_signer_fraction, cfg.test_signer_fraction, base.seed,
                           groups={c.signer: c.language for c in clips})
    corpus = write_corpus(stage.paths.curated, clips, splits)
    if set(corpus.signers("train")) & set(corpus.signers("test")):
        raise AssertionError("a test signer leaked into training")
    dictionary = None
    if citations:
        citations, _ = curate.curate_all(citations, max_gap=cfg.fill_gap_frames, max_frames=sizes.max_frames)
        dictionary = write_corpus(stage.paths.dictionary, citations, {c.signer: "train" for c in citations})
    else:
        print("no isolated-sign dictionary in this corpus: stitching, retrieval T2P and the tri-frame "
              "dictionary are skipped downstream")
    for split in ("train", "val", "test"):
        print(f"{split:5s}: {len(corpus.signers(split))} signers, {len(corpus.select(split))} clips")
    return CorpusBuild(corpus, dictionary, fmt, curate.quality_table(report), language_stats(corpus, dictionary),
                       sign_frequency(corpus.clips))


def quality_table(stage: Stage, build: CorpusBuild):
    return stage.table(build.quality, "quality", caption="Curation: share of missing joint-frames (dropped hand "
                       f"frames) before and after filling gaps of up to {stage.params.corpus.fill_gap_frames} frames.")


def stats_table(stage: Stage, build: CorpusBuild):
    return stage.table(build.stats, "stats", caption="Curated corpus per language: clips (sentences), signers, "
                       f"frames and minutes at {build.corpus.fps:g} fps, sign tokens, vocabulary (sign types), split "
                       "sizes, dictionary entries.")


def frequency_table(stage: Stage, build: CorpusBuild):
    return stage.table(build.frequency, "frequency", digits=1, caption="Sign frequencies per language: sign "
                       "tokens and types (all splits), training and test tokens, the median number of times a test "
                       "token's sign occurs in its language's training split, and the % of test tokens seen fewer "
                       "than 3 times (unseen included) and never.")


def lengths_figure(stage: Stage, corpus: Corpus):
    """Histograms of clip lengths and of sign lengths in context, per language."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3))
    for lang in corpus.languages():
        infos = corpus.select(language=lang)
        axes[0].hist([c.num_frames for c in infos], bins=20, alpha=0.5, label=lang)
        durations = [s.end - s.start for c in infos[:200] for s in corpus.load(c.id).segments]
        if durations:
            axes[1].hist(durations, bins=20, alpha=0.5, label=lang)
    axes[0].set_xlabel("clip length (frames)")
    axes[1].set_xlabel("sign length in context (frames)")
    axes[0].legend()
    fig.tight_layout()
    return stage.figure(fig, "lengths", dpi=120)


def example_figures(stage: Stage, build: CorpusBuild) -> list:
    """Skeleton strips over the BIO timeline: test examples per language and a dictionary entry."""
    images = []
    for lang in build.corpus.languages():
        for info in build.corpus.select(split="test", language=lang)[: stage.params.sizes.figure_examples]:
            fig = plot_sequence_strip(build.corpus.load(info.id), num_frames=8)
            images.append(stage.figure(fig, f"example_{info.id}", dpi=100))
    if build.dictionary is not None:
        info = build.dictionary.clips[0]
        fig = plot_sequence_strip(build.dictionary.load(info.id), num_frames=8,
                                  title=f"dictionary: {info.id} (citation form)")
        images.append(stage.figure(fig, "dictionary_example", dpi=100))
    return images


def hardness_table(stage: Stage, build: CorpusBuild) -> tuple[object, dict[str, dict]]:
    """The hardness table on the test split (naive stitching too when there is a dictionary), and
    its all-language rows by reference."""
    _, table = hardness(build.corpus, "test", progress=stage.interactive, dictionary=build.dictionary)
    md = stage.table(table, "hardness", digits=4, caption="Hardness of the corpus: DTW-JPE on the test split, mean "
                     "and std over clips (total = accumulated path cost, mean = per step; metres). Naive stitching "
                     "lays the dictionary's citation forms (gold spans) end to end.")
    overall = {r["reference"]: r for r in table if r["language"] == "all"}
    truth = overall["ground truth"]
    if truth["body_total"] != 0 or truth["hand_total"] != 0:
        raise AssertionError("ground truth against itself must score zero")
    return md, overall


def metrics(build: CorpusBuild, overall: dict[str, dict]) -> dict:
    """``metrics.json``: the corpus, its sign frequencies, its curation and its hardness (per-step
    means in metres), nested; the tables hold the rest."""
    corpus, total, quality = build.corpus, build.stats[-1], build.quality[-1]
    return {
        "corpus": {"clips": len(corpus), "frames": sum(c.num_frames for c in corpus.clips),
                   "languages": len(corpus.languages()), "vocabulary": total["vocabulary"],
                   "dictionary_entries": 0 if build.dictionary is None else len(build.dictionary),
                   "signers": {split: len(corpus.signers(split)) for split in ("train", "val", "test")}},
        "frequency": {row["language"]: {k: v for k, v in row.items() if k != "language"} for row in build.frequency},
        "curation": {"clips_dropped": quality["dropped"], "missing_before_pct": quality["missing_before_pct"],
                     "missing_after_pct": quality["missing_after_pct"]},
        "hardness": {ref.split()[0].lower(): {k: row[k] for k in ("body_mean", "hand_mean")}
                     for ref, row in overall.items() if ref != "ground truth"},
    }
