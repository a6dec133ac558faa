"""Stage ``fast`` (notebook ``02_train_fast``): score the trained segmenters, Table 1a and Fig 4a.

Reads the model folders ``train_fast`` wrote and the test split of the curated corpus (unseen
signers). Writes Table 1a (FAST vs single-stream FAST vs the BiLSTM tagger), the boundary table
(precision, recall and F1 at each tolerance of ``fast.boundary_tolerances_s``, in seconds), the
Fig 4a ablation table and figure, the training curves (also as ``plots/train_loss.json``) and
inference speed.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from signlib.data.corpus import Corpus
from signlib.io import read_json
from signlib.segment.evaluation import frames_per_second, load_segmenter, predict_clips, score_predictions
from signlib.segment.metrics import tolerance_key
from signlib.segment.training import SegClip, prepare
from signlib.stages.common import Stage, slug
from signlib.stages.train_fast import STAGE, Segmenter, segmenters


@dataclass(frozen=True)
class Scored:
    """One segmenter, loaded and scored on the test split."""

    segmenter: Segmenter
    model: object
    scores: dict
    curve: list[dict]
    steps: int


def test_clips(stage: Stage) -> list[SegClip]:
    corpus = Corpus(stage.paths.curated)
    clips = prepare(corpus.load(c.id) for c in corpus.select("test"))
    print(f"{len(clips)} test clips of {len(corpus.signers('test'))} unseen signers")
    return clips


def score_all(stage: Stage, clips: list[SegClip]) -> dict[str, Scored]:
    """Every segmenter of :func:`~signlib.stages.train_fast.segmenters`, scored per video."""
    cfg, out = stage.params.fast, {}
    for seg in segmenters(stage.params):
        folder = stage.paths.model(STAGE, seg.folder)
        model = load_segmenter(folder)
        scores = score_predictions(predict_clips(model, clips, cfg.decode), clips, cfg.decode,
                                   tolerances_s=cfg.boundary_tolerances_s)
        scores["params"] = sum(p.numel() for p in model.parameters())
        curve = [{"model": seg.name, "step": r["step"], "loss": r["loss"]} for r in read_json(folder / "metrics_rows.json")]
        out[seg.name] = Scored(seg, model, scores, curve, seg.steps(stage.params))
        print(f"{seg.name:24s} F1 {scores['frame_f1']:.3f}  IoU {scores['inside_iou']:.3f}  "
              f"SR {scores['segment_ratio']:.2f}  boundary F1 {scores[_headline(stage)]:.3f}")
    return out


def _headline(stage: Stage) -> str:
    """The score key of Table 1a's boundary F1: the first tolerance of ``fast.boundary_tolerances_s``."""
    return f"boundary_f1@{tolerance_key(stage.params.fast.boundary_tolerances_s[0])}"


def _row(s: Scored, boundary: str) -> dict:
    return {"frame F1": s.scores["frame_f1"], "IoU": s.scores["inside_iou"], "SR": s.scores["segment_ratio"],
            "boundary F1": s.scores[boundary], "over-seg.": s.scores["over_segmentation"],
            "under-seg.": s.scores["under_segmentation"]}


def table_1a(stage: Stage, scored: dict[str, Scored]):
    cfg = stage.params.fast
    rows = [{"model": name, **_row(s, _headline(stage)), "params": s.scores["params"], "steps": s.steps}
            for name, s in scored.items() if not s.segmenter.ablation]
    return stage.table(rows, "table1a", caption="Table 1a: segmentation of the test split (unseen signers), "
                       "per-video means. SR = #predicted / #gold segments (1 is ideal); boundary F1 within "
                       f"±{cfg.boundary_tolerances_s[0]:g} s; over-seg. = share of gold signs split by two or more "
                       "predicted segments, under-seg. = share of predicted segments merging two or more signs; "
                       f"decoding convention {cfg.decode.convention}.")


def boundary_table(stage: Stage, scored: dict[str, Scored]):
    """Boundary precision, recall and F1 of the Table 1a models at every tolerance (seconds)."""
    rows = []
    for name, s in scored.items():
        if s.segmenter.ablation:
            continue
        for t in stage.params.fast.boundary_tolerances_s:
            key = tolerance_key(t)
            rows.append({"model": name, "tolerance (s)": t, **{m: s.scores[f"boundary_{m}@{key}"]
                                                              for m in ("precision", "recall", "f1")}})
    return stage.table(rows, "table1a_boundaries", caption="Sign boundaries of the test split: starts and ends "
                       "matched one-to-one within each tolerance (seconds, turned into frames at each clip's frame "
                       "rate), per-video means; precision is left out for a video with no predicted segment, "
                       "recall for one with no gold sign.")


def fig_4a(stage: Stage, scored: dict[str, Scored]) -> tuple[object, object]:
    """The ablation table and its bar chart."""
    rows = [{"variant": name, **_row(s, _headline(stage))} for name, s in scored.items() if s.segmenter.ablation]
    md = stage.table(rows, "fig4a", caption="Fig 4a data: FAST ablation on the test split (same training budget).")
    fig, ax = plt.subplots(figsize=(7, 3))
    x = np.arange(len(rows))
    for k, metric in enumerate(("frame F1", "IoU", "boundary F1")):
        ax.bar(x + (k - 1) * 0.27, [r[metric] for r in rows], 0.27, label=metric)
    ax.set_xticks(x, [r["variant"] for r in rows], rotation=20, ha="right")
    ax.set_ylim(0, 1)
    ax.legend(ncol=3, fontsize=8)
    ax.set_title("Fig 4a: segmenter ablation (test split)")
    fig.tight_layout()
    return md, stage.figure(fig, "fig4a_ablation", dpi=120)


def training_curves(stage: Stage, scored: dict[str, Scored]):
    """Training loss of every segmenter (log scale); the rows also go to ``plots/train_loss.json``."""
    stage.plot_data("train_loss", [row for s in scored.values() for row in s.curve])
    fig, ax = plt.subplots(figsize=(7, 3))
    for name, s in scored.items():
        ax.plot([r["step"] for r in s.curve], [r["loss"] for r in s.curve], label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("training loss")
    ax.set_yscale("log")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    return stage.figure(fig, "train_loss", dpi=120)


def throughput(scored: dict[str, Scored], clips: list[SegClip]) -> dict[str, float]:
    """Frames per second, one clip at a time, of FAST and the BiLSTM on the first 20 test clips
    (noisy; ``benchmarks/segment.py`` measures it properly)."""
    return {name: frames_per_second(scored[name].model, clips[:20]) for name in ("FAST", "BiLSTM tagger")}


def metrics(stage: Stage, scored: dict[str, Scored], speed: dict[str, float]) -> dict:
    """``metrics.json``: Table 1a's scores per model (boundary precision / recall / F1 per
    tolerance), Fig 4a's frame and boundary F1 per variant, throughput; the tables hold the rest."""
    head = _headline(stage)
    keys = ("frame_f1", "inside_iou", "segment_ratio", "over_segmentation", "under_segmentation")
    table = {}
    for n, s in scored.items():
        if s.segmenter.ablation:
            continue
        table[slug(n)] = {**{k: s.scores[k] for k in keys}, "boundary_f1": s.scores[head],
                          "boundary": {tolerance_key(t): {m: s.scores[f"boundary_{m}@{tolerance_key(t)}"]
                                                          for m in ("precision", "recall", "f1")}
                                       for t in stage.params.fast.boundary_tolerances_s},
                          "videos_without_gold": s.scores["num_videos_without_gold"],
                          "false_segments_without_gold": s.scores["false_segments_without_gold"]}
    return {"table1a": table,
            "fig4a": {slug(s.segmenter.folder.split("/")[-1]): {"frame_f1": s.scores["frame_f1"], "boundary_f1": s.scores[head]}
                      for s in scored.values() if s.segmenter.ablation},
            "throughput_frames_per_s": {slug(n): v for n, v in speed.items()},
            "target_f1_0_90_met": bool(scored["FAST"].scores["frame_f1"] >= 0.90)}
