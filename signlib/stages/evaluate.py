"""Stage ``evaluate`` (notebook ``05_evaluate``): the paper's Tables 1b, 2 and 3, back-translation,
regression to the mean, the paper's claims, and the real DGS check.

Reads every earlier product: the curated corpus (test split, unseen signers) with its FAST
keyframes (always :data:`~signlib.keyframes.EVALUATION_POLICY`), SignSparK and text-to-gloss, the
tri-frame dictionary and citation clips (stitching and retrieval T2P, skipped with a note when the
corpus has no isolated-sign dictionary), and the models ``train_backtranslation``,
``train_regression``, ``train_soke``, ``train_signllm`` and ``train_realdata`` wrote (the tokenised
and SignLLM baselines through :mod:`signlib.stages.t2p_baselines`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np

from signlib.backtranslation.model import PoseToText
from signlib.backtranslation.translate import back_translate, load_backtranslation
from signlib.baselines.regression import ProgressiveTransformer, load_regression
from signlib.baselines.stitching import load_citations
from signlib.data.corpus import Corpus
from signlib.data.sequence import Sequence
from signlib.evaluate import systems as sy
from signlib.evaluate.bleu import bleu_rows
from signlib.evaluate.claims import Metric, claim_row, claim_row_every_language, pose_metrics
from signlib.evaluate.frequency import bin_summary, sign_rows, training_counts
from signlib.evaluate.guidance import GuidancePick, pick_guidance, validation_clips
from signlib.evaluate.motion import mean_speed, speed_profile
from signlib.evaluate.paper_tables import DTW, INNER, TABLE_1B, TABLE_2, TABLE_3, overall, paper_table
from signlib.evaluate.production import run_systems, score_outputs, summarize_rows
from signlib.generate.model import SignSparK, load_signspark
from signlib.generate.text2gloss import Translator, load_text2gloss
from signlib.keyframes import EVALUATION_POLICY, clip_keyframes, read_keyframes
from signlib.segment.evaluation import load_segmenter
from signlib.stages.common import Stage, slug
from signlib.stages import t2p_baselines as tb
from signlib.stages.realdata import kf2p_sentences, load_real_sentences
from signlib.triframe import TriframeDictionary

GT, SLERP, KF2P = "GT", "SLERP", "SignSparK"
#: The keyframe track SignSparK's prior is centred on, alone: what the network adds is KF2P minus this.
TRACK = "Keyframe track (prior alone)"
REGRESSION, T2P, SR_T2P = "Regression (PT-like)", "SignSparK T2P (no keyframes)", "SignSparK SR-T2P (retrieved keyframes)"
#: The same systems sampled plainly (guidance scales 1, temperature 1), reported beside the
#: validation-picked settings.
KF2P_1, T2P_1 = "SignSparK plain sampling", "SignSparK T2P plain sampling (no keyframes)"
NAIVE, STITCH = "Naive stitching", "SignSparK stitching"


@dataclass(frozen=True)
class Inputs:
    """Everything evaluation reads. ``triframe`` and ``citations`` are None for a corpus without an
    isolated-sign dictionary; ``test_keyframes[i]`` are FAST's keyframes of ``test[i]``."""

    corpus: Corpus
    test: list[Sequence]
    test_keyframes: list[np.ndarray]
    val: list[Sequence]
    val_keyframes: list[np.ndarray]
    model: SignSparK
    translator: Translator
    triframe: TriframeDictionary | None
    citations: dict | None
    backtranslator: PoseToText
    regression: ProgressiveTransformer
    baselines: dict                      # {name: system} of the SOKE-style and SignLLM baselines


def load(stage: Stage) -> Inputs:
    paths = stage.paths
    corpus = Corpus(paths.curated)
    keyframes = read_keyframes(paths.keyframes, EVALUATION_POLICY)
    test = [corpus.load(c.id) for c in corpus.select("test")]
    triframe = citations = None
    if paths.triframe.exists():
        triframe, citations = TriframeDictionary.load(paths.triframe), load_citations(Corpus(paths.dictionary))
    else:
        print("no isolated-sign dictionary: Table 1b (stitching) and retrieval T2P are skipped")
    val = [corpus.load(c.id) for c in corpus.select("val")]
    val, val_keys = validation_clips(val, [clip_keyframes(s, keyframes) for s in val],
                                     stage.params.evaluate.guidance.clips)
    translator = Translator(*load_text2gloss(paths.model("signspark", "text2gloss")))
    inputs = Inputs(corpus, test, [clip_keyframes(s, keyframes) for s in test], val, val_keys,
                    load_signspark(paths.model("signspark", "signspark")), translator, triframe, citations,
                    load_backtranslation(paths.model("evaluate", "backtranslation")),
                    load_regression(paths.model("evaluate", "regression")),
                    tb.load_systems(paths, translator, citations, stage.params.evaluate.batch_size))
    print(f"profile {stage.params.base.profile}: {len(test)} test clips of {len(corpus.signers('test'))} unseen signers; "
          f"sampler: {stage.params.signspark.sampler}")
    return inputs


def back_translations(inputs: Inputs, outputs: dict[str, list[Sequence]], truths: list[Sequence],
                      progress: bool = False) -> dict[str, list[dict]]:
    """BLEU rows (per language and ``all``) of every system's outputs, against the truths' texts."""
    refs, langs = [s.text for s in truths], [s.language for s in truths]
    return {name: bleu_rows(back_translate(inputs.backtranslator, seqs, progress=progress), refs, langs)
            for name, seqs in outputs.items()}


def upper_bound(stage: Stage, inputs: Inputs) -> tuple[object, list[dict]]:
    """Back-translation of the ground-truth test poses: the BLEU every system is read against."""
    rows = back_translations(inputs, {GT: inputs.test}, inputs.test, stage.interactive)[GT]
    md = stage.table(rows, "backtranslation_upper_bound", caption="Back-translation of the ground-truth test poses: "
                     "BLEU-4 (sacreBLEU; Chinese by character). The upper bound every generated sequence is read against.")
    return md, rows


def choose_guidance(stage: Stage, inputs: Inputs) -> tuple[object, GuidancePick]:
    """Guidance scales for KF2P (also stitching and SR-T2P, which have keyframes) and T2P, picked
    on validation signers (:mod:`signlib.evaluate.guidance`)."""
    pick = pick_guidance(inputs.model, inputs.val, inputs.val_keyframes, stage.params.signspark.sampler,
                         stage.params.evaluate.guidance, stage.params.evaluate.batch_size, stage.interactive)
    md = stage.table(pick.rows, "guidance_validation", caption=f"Guidance scales on {len(inputs.val)} validation "
                     "clips (unseen signers, not the test set), with the KF2P sampling temperature: DTW-JPE per step in cm, summed "
                     "over body and hands (KF2P: whole clip plus keyframed span). The lowest score of each mode is "
                     "picked for the test tables.")
    return md, pick


@dataclass(frozen=True)
class Task:
    """One table's systems run on its test clips (KF2P uses only clips that have keyframes)."""

    truths: list[Sequence]
    keyframes: list[np.ndarray]
    outputs: dict[str, list[Sequence]]
    bleu: dict[str, list[dict]]


def run_tasks(stage: Stage, inputs: Inputs, guidance: GuidancePick) -> dict[str, Task]:
    """Generate every system of every table on the test set, and back-translate the outputs.

    SignSparK samples with the ``guidance`` settings; where they are not plain sampling (scales 1,
    temperature 1), the same system sampled plainly runs beside it."""
    m, base, cfg = inputs.model, stage.params.signspark.sampler, stage.params.evaluate
    sampler, t2p_sampler = guidance.kf2p, guidance.t2p
    keyed = [(s, k) for s, k in zip(inputs.test, inputs.test_keyframes) if len(k)]
    if len(keyed) < len(inputs.test):
        print(f"{len(inputs.test) - len(keyed)} test clips without FAST keyframes are left out of KF2P")
    plans = {"T2P": (inputs.test, inputs.test_keyframes,
                     {REGRESSION: sy.regression_system(inputs.regression), **inputs.baselines,
                      T2P: sy.t2p_system(m, t2p_sampler)})}
    if t2p_sampler != base:
        plans["T2P"][2][T2P_1] = sy.t2p_system(m, base)
    if keyed:
        plans["KF2P"] = ([s for s, _ in keyed], [k for _, k in keyed],
                         {GT: sy.ground_truth_system, SLERP: sy.slerp_system,
                          TRACK: sy.track_system(m.config.easing), KF2P: sy.kf2p_system(m, sampler)})
        if sampler != base:
            plans["KF2P"][2][KF2P_1] = sy.kf2p_system(m, base)
    else:
        print("FAST found no sign in any test clip: Table 3 (keyframe-to-pose) is skipped")
    if inputs.triframe is not None:
        plans["T2P"][2][SR_T2P] = sy.sr_t2p_system(m, inputs.translator, inputs.triframe, sampler)
        plans["stitching"] = (inputs.test, inputs.test_keyframes,
                              {NAIVE: sy.naive_stitch_system(inputs.citations, inputs.triframe),
                               STITCH: sy.stitch_system(m, inputs.triframe, sampler)})
    tasks = {}
    for task, (truths, keys, systems) in plans.items():
        outputs = run_systems(systems, truths, keys, batch_size=cfg.batch_size, progress=stage.interactive)
        tasks[task] = Task(truths, keys, outputs, back_translations(inputs, outputs, truths, stage.interactive))
    if SR_T2P in tasks["T2P"].outputs:
        share = np.mean([s.meta["retrieved"] for s in tasks["T2P"].outputs[SR_T2P]])
        print(f"SR-T2P: {share:.0%} of the test texts had at least one predicted gloss in the dictionary "
              "(the rest fell back to T2P)")
    return tasks


def table_3(stage: Stage, task: Task | None) -> tuple[object | None, list[dict]]:
    if task is None:
        return None, []
    rows = score_outputs(task.outputs, task.truths, task.keyframes, inner=True, equal_length=True,
                         progress=stage.interactive, workers=stage.params.evaluate.workers)
    display, numeric, summary = paper_table(rows, TABLE_3, task.bleu, reference=GT)
    md = stage.table(display, "table3_kf2p", csv_rows=numeric, caption="Table 3. Keyframe-to-pose on the test signers "
                     "(FAST keyframes). DTW-JPE per step (cm) and accumulated path cost (m), the keyframed span, MPJPE / "
                     "PA-MPJPE (cm); mean ± std over test sequences. B-T BLEU-4 and its drop relative to the ground truth.")
    return md, summary


def table_3_by_frequency(stage: Stage, inputs: Inputs, task: Task | None) -> tuple[object | None, list[dict]]:
    """KF2P vs SLERP inside the gold span of each test sign, by the sign's training frequency."""
    if task is None:
        return None, []
    outputs = {name: task.outputs[name] for name in (SLERP, TRACK, KF2P, KF2P_1) if name in task.outputs}
    rows = bin_summary(sign_rows(outputs, task.truths, training_counts(inputs.corpus.clips), stage.interactive))
    shown = [{"bin": r["bin"], "system": r["system"], "signs": r["signs"], "body (cm/step)": 100 * r["body_mean"],
              "hand (cm/step)": 100 * r["hand_mean"]} for r in rows]
    md = stage.table(shown, "table3_by_frequency", caption="Keyframe-to-pose inside the gold span of every test sign, "
                     "by how often the sign occurs in its language's training split: DTW-JPE per step (cm), mean over signs.")
    return md, rows


def table_2(stage: Stage, task: Task) -> tuple[object, list[dict]]:
    rows = score_outputs(task.outputs, task.truths, task.keyframes, procrustes=True, progress=stage.interactive,
                         workers=stage.params.evaluate.workers)
    display, numeric, summary = paper_table(rows, TABLE_2, task.bleu, reference=None)
    md = stage.table(display, "table2_t2p", csv_rows=numeric, caption="Table 2. Text-to-pose on the test signers, per "
                     "language. DTW-PA-JPE and DTW-JPE, body and wrist-relative hands, per step (cm) and accumulated "
                     "path cost (m); mean ± std over test sequences. B-T BLEU-4 (ground-truth upper bound above).")
    return md, summary


def tokenizer_table(stage: Stage) -> tuple[object | None, list[dict]]:
    """The SOKE-style tokenizer's codebooks and validation reconstruction error, per part."""
    rows = tb.tokenizer_rows(stage.paths)
    if not rows:
        return None, []
    md = stage.table(rows, "soke_tokenizer", caption="The SOKE-style decoupled tokenizer (one VQ-VAE per part, 4x "
                     "temporal downsampling): codebook size, codes used on the validation clips, and the reconstruction "
                     "error of encoding and decoding the validation clips (what no generator using these tokens can beat).")
    return md, rows


def table_1b(stage: Stage, task: Task | None) -> tuple[object | None, list[dict]]:
    if task is None:
        return None, []
    rows = score_outputs(task.outputs, task.truths, task.keyframes, progress=stage.interactive,
                         workers=stage.params.evaluate.workers)
    display, numeric, summary = paper_table(rows, TABLE_1B, task.bleu, reference=None, by_language=False)
    md = stage.table(display, "table1b_stitching", csv_rows=numeric, caption="Table 1b. Sign stitching from gold "
                     "glosses on the test sentences: DTW-JPE per step (cm) and accumulated path cost (m), mean ± std "
                     "over test sequences; B-T BLEU-4.")
    return md, summary


def regression_to_the_mean(stage: Stage, tasks: dict[str, Task]) -> tuple[object, dict[str, float]]:
    """Mean wrist speed over normalised time of the truth and the text-to-pose systems."""
    bins, t2p = stage.params.evaluate.speed_bins, tasks["T2P"]
    curves = {"truth": t2p.truths, **t2p.outputs}
    fig, ax = plt.subplots(figsize=(6.5, 3.2))
    rows, x = [], np.linspace(0, 1, bins)
    for name, seqs in curves.items():
        mean, std = speed_profile(seqs, bins)
        ax.plot(x, mean, label=f"{name.split(' (')[0]} (mean {mean_speed(seqs):.2f} m/s)")
        ax.fill_between(x, mean - std, mean + std, alpha=0.12)
        rows += [{"system": name, "t": float(t), "speed": float(v)} for t, v in zip(x, mean)]
    ax.set_xlabel("normalised time")
    ax.set_ylabel("wrist speed (m/s)")
    ax.legend(fontsize=7)
    ax.set_title("Regression to the mean: wrist speed over time (test set, mean ± std)", fontsize=9)
    fig.tight_layout()
    stage.plot_data("wrist_speed", rows)
    return stage.figure(fig, "regression_to_mean"), {name: mean_speed(seqs) for name, seqs in curves.items()}


def claims(stage: Stage, summaries: dict[str, list[dict]]) -> tuple[object, list[dict]]:
    """The paper's claims: the better system must win on every listed metric (all languages)."""
    o3, o2, o1b = (overall(summaries.get(t, [])) for t in ("3", "2", "1b"))
    bleu = [Metric("B-T BLEU-4", "bleu4", lower_is_better=False)]
    rows = []
    if o3:
        rows += [claim_row("KF2P beats SLERP (whole clip)", "3", KF2P, SLERP, o3, pose_metrics() + bleu),
                 claim_row("KF2P beats SLERP (keyframed span)", "3", KF2P, SLERP, o3, pose_metrics("inner_")),
                 claim_row_every_language("KF2P beats SLERP (keyframed span, every language)", "3", KF2P, SLERP,
                                          summaries["3"], pose_metrics("inner_")),
                 claim_row("KF2P beats its keyframe track (keyframed span)", "3", KF2P, TRACK, o3,
                           pose_metrics("inner_"))]
    if SR_T2P in o2:
        rows.append(claim_row("Retrieval T2P beats gloss-free T2P", "2", SR_T2P, T2P, o2,
                              pose_metrics(procrustes=True)))
    rows.append(claim_row("Gloss-free T2P beats regression", "2", T2P, REGRESSION, o2, pose_metrics(procrustes=True)))
    rows += tb.claims(o2, T2P, SR_T2P, (REGRESSION,))
    if o1b:
        rows.append(claim_row("Keyframe stitching beats naive stitching", "1b", STITCH, NAIVE, o1b,
                              pose_metrics() + bleu))
    md = stage.table(rows, "claims", caption="The paper's claims on this corpus (test signers): holds = wins on every "
                     "listed metric.")
    return md, rows


def realdata_check(stage: Stage, inputs: Inputs) -> tuple[object | None, dict[str, dict]]:
    """KF2P on the real DGS test sentences (SLERP, the minimum-jerk keyframe track, the real-data
    SignSparK) and the folder's naive stitching, in shoulder widths; ``(None, {})`` when skipped.
    The track row tests on real signing the timing profile that the synthetic corpus's transitions
    were built with."""
    folder = stage.paths.model("evaluate", "realdata_signspark")
    real = load_real_sentences(load_segmenter(stage.paths.model("fast", "fast")), stage.params.fast.decode) \
        if stage.params.evaluate.realdata else []
    test, left_out = kf2p_sentences(real)
    if not test or not (folder / "model.json").exists():
        print("real data folder not found, evaluate.realdata off, or FAST found no sign in the real sentences: skipped")
        return None, {}
    print(f"{len(test)} real test sentences with FAST keyframes ({left_out} without any left out)")
    truths, keys = [s.original for s in test], [s.keyframes for s in test]
    model = load_signspark(folder)
    outputs = run_systems({"SLERP": sy.slerp_system, TRACK: sy.track_system(model.config.easing),
                           "SignSparK KF2P": sy.kf2p_system(model, stage.params.signspark.sampler)},
                          truths, keys, progress=stage.interactive)
    outputs["Naive stitching (updated.pose)"] = [s.stitched for s in test]
    rows = score_outputs(outputs, truths, keys, inner=True, progress=stage.interactive)
    columns = {k.replace("(cm/step)", "(shoulder widths/step)"): (key, 1.0)
               for k, (key, _) in {**DTW, **INNER}.items() if "cm" in k}
    display, numeric, _ = paper_table(rows, columns, by_language=False)
    md = stage.table(display, "realdata_dgs", csv_rows=numeric, digits=3, caption="Real DGS test sentences (16; tiny, "
                     "out of domain): DTW-JPE per step in shoulder widths, whole sentence and keyframed span, against "
                     "the real signing.")
    summary = summarize_rows(rows, ("body_mean", "hand_mean", "inner_body_mean", "inner_hand_mean"), by_language=False)
    return md, overall(summary)


def _columns(row: dict) -> dict:
    """The headline numbers of a system's all-language row: per-step DTW means (metres), the
    keyframed span, DTW-PA and PCK where the table has them, back-translation BLEU-4."""
    keys = ("body_mean", "hand_mean", "pa_body_mean", "pa_hand_mean", "inner_body_mean", "inner_hand_mean",
            "pck_body", "pck_hand", "bleu4")
    return {k: row[k] for k in keys if k in row and math.isfinite(row[k])}


def metrics(inputs: Inputs, tasks: dict[str, Task], upper: list[dict], summaries: dict[str, list[dict]],
            speeds: dict[str, float], claim_rows: list[dict], real: dict[str, dict], guidance: GuidancePick,
            by_frequency: list[dict], tokenizer: list[dict] = ()) -> dict:
    """``metrics.json``, nested by table: ``table3.signspark.body_mean`` and so on (headline numbers;
    path totals, MPJPE, the std and the per-language rows are in the tables)."""
    out = {"test_clips": len(inputs.test), "kf2p_clips": len(tasks["KF2P"].truths) if "KF2P" in tasks else 0,
           "backtranslation": {"bleu4_ground_truth": next(r["bleu4"] for r in upper if r["language"] == "all")},
           "wrist_speed": {slug(name): v for name, v in speeds.items()},
           "claims": {slug(c["claim"], keep_parenthesis=True): c["holds"] == "yes" for c in claim_rows},
           "guidance": {"kf2p_key_scale": guidance.kf2p.key_scale, "kf2p_text_scale": guidance.kf2p.text_scale,
                        "kf2p_temperature": guidance.kf2p.temperature, "t2p_text_scale": guidance.t2p.text_scale}}
    if by_frequency:
        out["table3_by_frequency"] = {r["key"]: {} for r in by_frequency}
        for r in by_frequency:
            out["table3_by_frequency"][r["key"]][slug(r["system"])] = {
                "signs": r["signs"], "body_mean": r["body_mean"], "hand_mean": r["hand_mean"]}
    for table, summary in summaries.items():
        if not summary:  # a table this corpus cannot have (1b without an isolated-sign dictionary)
            continue
        out[f"table{table}"] = {slug(name): _columns(row) for name, row in overall(summary).items()}
    if SR_T2P in tasks["T2P"].outputs:
        out["table2"]["sr_t2p_retrieved_fraction"] = float(np.mean([s.meta["retrieved"]
                                                                     for s in tasks["T2P"].outputs[SR_T2P]]))
    if tokenizer:
        out["soke_tokenizer"] = {r["part"]: {k: v for k, v in r.items() if k != "part"} for r in tokenizer}
    if real:
        out["realdata"] = {slug(name): {k: row[k] for k in ("body_mean", "hand_mean") if k in row}
                           for name, row in real.items()}
    return out
