"""Stage ``keyframes`` (notebook ``03_mine_keyframes``): FAST segments and keyframes of every clip.

Segments every clip of the curated corpus with the trained FAST and keeps its onset/mid/offset
frames (and the other policies', for training ablations). Writes to ``build/keyframes/``:
``segments.pt`` (FAST's format), one ELAN ``.eaf`` per clip, the keyframes file
(:mod:`signlib.keyframes`) and, when the corpus has an isolated-sign dictionary, the tri-frame
dictionary. Reports keyframe agreement with the true keyframes, boundaries, and FAST on the real
DGS sentences.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

from signlib.data.corpus import Corpus
from signlib.data.formats.elan import write_segments_eaf
from signlib.data.formats.fast_segments import write_segments
from signlib.data.realdata import checked_realdata_dir, dgs_fluent_sentences
from signlib.keyframes import (EVALUATION_POLICY, POLICIES, keyframe_agreement, onset_mid_offset, select_keyframes,
                               true_keyframes, write_keyframes_file)
from signlib.render.skeleton import draw_timeline
from signlib.segment.evaluation import load_segmenter, sequence_segments
from signlib.stages.common import Stage
from signlib.triframe import TriframeDictionary, build_triframe


@dataclass(frozen=True)
class Mined:
    """Segments and keyframes of every clip, and one agreement row per clip."""

    segments: dict[str, list[tuple[int, int]]]
    keyframes: dict[str, dict[str, list[int]]]
    rows: list[dict]


def segmenter(stage: Stage):
    return load_segmenter(stage.paths.model("fast", "fast"))


def mine(stage: Stage, corpus: Corpus, model) -> Mined:
    """Segment every clip, select keyframes under every policy, and write the segments, the
    ELAN files and the keyframes file."""
    cfg, decode, work = stage.params.keyframes, stage.params.fast.decode, stage.paths.build("keyframes")
    segments, keyframes, rows, stored = {}, {p: {} for p in POLICIES}, [], {}
    for k, info in enumerate(tqdm(corpus.clips, desc="segmenting", disable=not stage.interactive)):
        seq = corpus.load(info.id)
        pred = sequence_segments(model, seq, decode)
        segments[info.id] = pred
        stored[info.id] = {"segments": torch.tensor(pred, dtype=torch.int64).reshape(-1, 2), "fps": seq.fps}
        write_segments_eaf(work / "eaf" / f"{info.id}.eaf", [(a, b, "SIGN") for a, b in pred], seq.fps, tier="SIGN")
        for p in POLICIES:
            rng = np.random.default_rng([stage.params.base.seed, k])
            keyframes[p][info.id] = select_keyframes(p, pred, seq.num_frames, rng, cfg.mask_p).tolist()
        true = true_keyframes(seq)
        rows.append({"id": info.id, "split": info.split, "language": info.language, "true_signs": len(seq.segments),
                     "predicted_signs": len(pred),
                     "agreement": keyframe_agreement(keyframes[EVALUATION_POLICY][info.id], true, cfg.agreement_tolerance),
                     "random_agreement": keyframe_agreement(keyframes["random"][info.id], true, cfg.agreement_tolerance)})
    write_segments(work / "segments.pt", stored)
    write_keyframes_file(stage.paths.keyframes, keyframes, cfg.mask_p, cfg.agreement_tolerance)
    return Mined(segments, keyframes, rows)


def agreement_table(stage: Stage, corpus: Corpus, mined: Mined) -> tuple[object, dict]:
    """Agreement per split and language; returns the Markdown and the test/all row."""
    table = []
    for split in ("train", "val", "test"):
        for lang in corpus.languages() + ["all"]:
            sel = [r for r in mined.rows if r["split"] == split and (lang == "all" or r["language"] == lang)]
            if not sel:
                continue
            table.append({"split": split, "language": lang, "clips": len(sel),
                          "agreement": float(np.mean([r["agreement"] for r in sel])),
                          "random policy": float(np.mean([r["random_agreement"] for r in sel])),
                          "segment ratio": sum(r["predicted_signs"] for r in sel)
                          / max(1, sum(r["true_signs"] for r in sel))})
    md = stage.table(table, "agreement", caption="Keyframe agreement: share of true keyframes with a FAST keyframe "
                     f"within ±{stage.params.keyframes.agreement_tolerance} frames (random policy = chance level).")
    return md, next(r for r in table if r["split"] == "test" and r["language"] == "all")


def boundaries_figure(stage: Stage, corpus: Corpus, mined: Mined, count: int = 4):
    """True BIO, FAST segments and mined keyframes of the first test clips."""
    examples = corpus.select("test")[:count]
    fig, axes = plt.subplots(len(examples), 1, figsize=(10, 1.3 * len(examples)), squeeze=False)
    for ax, info in zip(axes[:, 0], examples):
        draw_timeline(ax, corpus.load(info.id), marks=mined.keyframes[EVALUATION_POLICY][info.id])
        for a, b in mined.segments[info.id]:
            ax.plot([a, b], [0.08, 0.08], color="crimson", lw=4, solid_capstyle="butt")
        ax.set_title(f"{info.id}: true BIO (blue), FAST segments (red), mined keyframes (lines)", fontsize=8)
        ax.set_xlabel("")
    fig.tight_layout()
    return stage.figure(fig, "boundaries")


def triframe(stage: Stage, model) -> TriframeDictionary | None:
    """The tri-frame dictionary from the isolated citation forms (None, with a note, without them)."""
    if not (stage.paths.dictionary / "index.json").exists():
        print("no isolated-sign dictionary in this corpus: no tri-frame dictionary (stitching and retrieval "
              "T2P are skipped downstream)")
        return None
    dictionary = Corpus(stage.paths.dictionary)
    citations = [dictionary.load(c.id) for c in dictionary.clips]
    predicted = {seq.id: sequence_segments(model, seq, stage.params.fast.decode)
                 for seq in tqdm(citations, desc="citations", disable=not stage.interactive)}
    result = build_triframe(citations, predicted)
    result.save(stage.paths.triframe)
    return result


def triframe_agreement(stage: Stage, result: TriframeDictionary) -> dict[str, float]:
    """Entries, share of citation clips where FAST found the sign, and keyframe agreement of the
    dictionary's spans with the true citation spans."""
    dictionary = Corpus(stage.paths.dictionary)
    true_spans = {(c.language, c.glosses[0]): (s.start, s.end)
                  for c in dictionary.clips for s in dictionary.load(c.id).segments}
    tolerance = stage.params.keyframes.agreement_tolerance
    agree = np.mean([keyframe_agreement(onset_mid_offset([result.spans[k]], 10**6),
                                        onset_mid_offset([true_spans[k]], 10**6), tolerance) for k in result.frames])
    return {"entries": len(result), "found": float(np.mean(list(result.found.values()))), "agreement": float(agree)}


def realdata_table(stage: Stage, model) -> tuple[object | None, dict]:
    """FAST segments against the metadata glosses of the real DGS sentences (tiny, out of domain);
    ``(None, {})`` when the real-data folder is absent."""
    root = checked_realdata_dir()
    rows = []
    for seq, ann in dgs_fluent_sentences(root):
        pred = sequence_segments(model, seq, stage.params.fast.decode)
        rows.append({"glosses": len(ann.glosses), "segments": len(pred), "ratio": len(pred) / len(ann.glosses)})
    if not rows:
        print("real data folder not found: skipped")
        return None, {}
    summary = {"sentences": len(rows), "glosses": sum(r["glosses"] for r in rows),
               "FAST segments": sum(r["segments"] for r in rows),
               "mean per-sentence ratio": float(np.mean([r["ratio"] for r in rows])),
               "pooled ratio": sum(r["segments"] for r in rows) / sum(r["glosses"] for r in rows)}
    md = stage.table([summary], "realdata_dgs", caption="Real DGS sentences (tiny, out of domain): FAST segments vs "
                     "metadata glosses.")
    return md, summary


def metrics(test: dict, triframe_stats: dict, real: dict) -> dict:
    return {"test": {"keyframe_agreement": test["agreement"], "random_agreement": test["random policy"],
                     "segment_ratio": test["segment ratio"]},
            "triframe": triframe_stats,
            "realdata": {"sentences": real.get("sentences", 0), "pooled_ratio": real.get("pooled ratio")}}
