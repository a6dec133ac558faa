"""Stage ``signspark`` (notebook ``04_train_signspark``): what the trained generator does.

Reads the models ``train_text2gloss`` and ``train_signspark`` wrote, the curated corpus, the
keyframes file and (when the corpus has a dictionary) the tri-frame dictionary. Writes the
training curves (also as ``plots/train_loss.json``), the text-to-gloss table, a quick
keyframe-to-pose check against SLERP (whole clip and keyframed span, with and without text),
example panels per language and a retrieval T2P example.
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt

from signlib.data.corpus import Corpus
from signlib.evaluate.gloss_metrics import gloss_scores
from signlib.evaluate.production import evaluate_systems, summarize_rows
from signlib.evaluate.systems import kf2p_system, slerp_system
from signlib.generate import modes
from signlib.generate.model import SignSparK, load_signspark
from signlib.generate.text2gloss import Text2Gloss, Translator, load_text2gloss, translate
from signlib.io import read_json
from signlib.keyframes import Keyframes, clip_keyframes
from signlib.render.skeleton import plot_systems
from signlib.stages.common import Stage
from signlib.stages.train_signspark import training_keyframes
from signlib.text.glosses import GlossVocab
from signlib.triframe import TriframeDictionary

#: Test clips per language in the quick KF2P check (the full evaluation is the `evaluate` stage's).
CHECK_CLIPS = 16


@dataclass(frozen=True)
class Trained:
    """The stage's inputs: the corpus, the generator, text-to-gloss (and its glosses for every
    test sentence, which the table and the retrieval example both read), keyframes and dictionary."""

    corpus: Corpus
    model: SignSparK
    text2gloss: Text2Gloss
    vocab: GlossVocab
    test_glosses: list[list[str]]
    keyframes: dict[str, list[int]] | None
    triframe: TriframeDictionary | None


def load(stage: Stage) -> Trained:
    paths = stage.paths
    text2gloss, vocab = load_text2gloss(paths.model("signspark", "text2gloss"))
    triframe = TriframeDictionary.load(paths.triframe) if paths.triframe.exists() else None
    model = load_signspark(paths.model("signspark", "signspark"))
    corpus = Corpus(paths.curated)
    infos = corpus.select("test")
    test_glosses = translate(text2gloss, vocab, [c.text for c in infos], [c.language for c in infos])
    print(f"SignSparK: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters; keyframes: "
          f"{stage.params.signspark.keyframe_source}; sampler: {stage.params.signspark.sampler}")
    return Trained(corpus, model, text2gloss, vocab, test_glosses, training_keyframes(stage.params), triframe)


def training_curves(stage: Stage) -> tuple[object, list[dict]]:
    """The generator's loss terms over training (``plots/train_loss.json`` and a figure)."""
    keys = ("loss", "cfm", "recon", "vel", "length")
    rows = read_json(stage.paths.model("signspark", "signspark") / "metrics_rows.json")
    curve = [{k: r[k] for k in ("step", *keys) if k in r} for r in rows]
    stage.plot_data("train_loss", curve)
    fig, ax = plt.subplots(figsize=(6, 3))
    for key in ("loss", "cfm", "recon", "vel"):
        ax.plot([r["step"] for r in curve], [r[key] for r in curve], label=key)
    ax.set_xlabel("step")
    ax.set_yscale("log")
    ax.legend(fontsize=8)
    ax.set_title("SignSparK training losses (normalised feature units)", fontsize=9)
    fig.tight_layout()
    return stage.figure(fig, "training_curves"), curve


def text2gloss_table(stage: Stage, trained: Trained) -> tuple[object, dict]:
    infos = trained.corpus.select("test")
    rows = gloss_scores(trained.test_glosses, [list(c.glosses) for c in infos], [c.language for c in infos])
    md = stage.table(rows, "text2gloss", caption="Text-to-gloss on the test signers' sentences (greedy decoding): "
                     "exact sentence match and gloss error rate (edit distance / reference glosses).")
    return md, rows[-1]


def _check_clips(trained: Trained):
    test = [trained.corpus.load(c.id) for lang in trained.corpus.languages()
            for c in trained.corpus.select("test", lang)[:CHECK_CLIPS]]
    keys = [clip_keyframes(s, trained.keyframes) for s in test]
    kept = [(s, k) for s, k in zip(test, keys) if len(k)]
    return [s for s, _ in kept], [k for _, k in kept]


def kf2p_check(stage: Stage, trained: Trained) -> tuple[object, dict[str, dict]]:
    """SignSparK KF2P (with and without text) against SLERP on the first test clips per language."""
    test, keys = _check_clips(trained)
    if not test:
        print("no test clip has keyframes (FAST found no sign): the KF2P check is skipped")
        return None, {}
    sampler = stage.params.signspark.sampler
    rows = evaluate_systems({"SLERP": slerp_system, "SignSparK KF2P": kf2p_system(trained.model, sampler),
                             "SignSparK KF2P, no text": kf2p_system(trained.model, sampler, with_text=False)},
                            test, keys, progress=stage.interactive)
    table = summarize_rows(rows)
    md = stage.table(table, "kf2p_check", caption="KF2P vs SLERP on the test signers: DTW-JPE per step (metres; body = "
                     "upper-body joints, hand = 21 wrist-relative points per hand), whole clip and keyframed span "
                     "(inner_*), mean ± std over clips.")
    return md, {r["system"]: r for r in table if r["language"] == "all"}


def kf2p_verdict(overall: dict[str, dict]) -> tuple[str, dict[str, bool]]:
    """A sentence saying whether KF2P beats SLERP (whole clip, keyframed span), and the two answers."""
    if not overall:
        return "No keyframes, no KF2P check.", {}
    kf, sl, nt = overall["SignSparK KF2P"], overall["SLERP"], overall["SignSparK KF2P, no text"]
    wins = {span: kf[f"{span}body_mean"] < sl[f"{span}body_mean"] and kf[f"{span}hand_mean"] < sl[f"{span}hand_mean"]
            for span in ("", "inner_")}
    say = {True: "beats", False: "does NOT beat"}
    text = (f"**Whole clip: SignSparK KF2P {say[wins['']]} SLERP** (body {kf['body_mean'] * 100:.2f} vs "
            f"{sl['body_mean'] * 100:.2f} cm, hands {kf['hand_mean'] * 100:.2f} vs {sl['hand_mean'] * 100:.2f} cm per "
            f"DTW step). **Keyframed span only: KF2P {say[wins['inner_']]} SLERP** (body "
            f"{kf['inner_body_mean'] * 100:.2f} vs {sl['inner_body_mean'] * 100:.2f} cm, hands "
            f"{kf['inner_hand_mean'] * 100:.2f} vs {sl['inner_hand_mean'] * 100:.2f} cm). Text on vs off: body "
            f"{kf['body_mean'] * 100:.2f} vs {nt['body_mean'] * 100:.2f} cm.")
    return text, wins


def example_panels(stage: Stage, trained: Trained) -> list:
    """Truth, KF2P, T2P and SLERP side by side for the first test clips of every language."""
    sampler, images = stage.params.signspark.sampler, []
    for lang in trained.corpus.languages():
        for info in trained.corpus.select("test", lang)[: stage.params.sizes.figure_examples]:
            truth = trained.corpus.load(info.id)
            k = clip_keyframes(truth, trained.keyframes)
            if not len(k):
                continue
            kf2p = modes.kf2p(trained.model, [Keyframes.from_sequence(truth, k)], [truth.text], [lang], sampler)[0]
            t2p = modes.t2p(trained.model, [truth.text], [lang], sampler)[0]
            fig = plot_systems({"truth": truth, "KF2P": kf2p, "T2P": t2p, "SLERP": slerp_system([truth], [k])[0]},
                               num_frames=7, keyframes=k)
            images.append(stage.figure(fig, f"examples_{lang}_{info.id}", dpi=90))
    return images


def sr_t2p_example(stage: Stage, trained: Trained):
    """Retrieval T2P of the first test sentence with a predicted gloss in the dictionary (None,
    with a note, when there is no dictionary or no such sentence)."""
    if trained.triframe is None:
        print("no tri-frame dictionary (the corpus has no isolated signs): retrieval T2P skipped")
        return None
    infos = trained.corpus.select("test")
    candidates = [c for c, p in zip(infos, trained.test_glosses) if any(trained.triframe.has(c.language, g) for g in p)]
    if not candidates:  # a barely trained text-to-gloss model (the smoke profile) may find none
        print("no test sentence has a predicted gloss in the dictionary: skipped")
        return None
    info = candidates[0]
    seq = modes.sr_t2p(trained.model, Translator(trained.text2gloss, trained.vocab), trained.triframe, [info.text],
                       [info.language], stage.params.signspark.sampler)[0]
    print(f"{info.text!r} → {[s.gloss for s in seq.segments]} (reference {list(info.glosses)}), {seq.num_frames} frames")
    fig = plot_systems({"SR-T2P": seq}, num_frames=7, keyframes=seq.meta["keyframes"])
    return stage.figure(fig, f"sr_t2p_{info.id}", dpi=90)


def metrics(curve: list[dict], trained: Trained, overall: dict[str, dict], wins: dict[str, bool], t2g: dict) -> dict:
    cols = ("body_mean", "hand_mean", "inner_body_mean", "inner_hand_mean")
    return {"training": {"steps": curve[-1]["step"], "final_loss": curve[-1]["loss"],
                         "parameters": sum(p.numel() for p in trained.model.parameters())},
            "kf2p_check": {name.lower().replace("signspark ", "").replace(", ", "_").replace(" ", "_"):
                           {c: row[c] for c in cols if c in row} for name, row in overall.items()},
            "kf2p_beats_slerp": {"whole_clip": wins.get(""), "keyframed_span": wins.get("inner_")},
            "text2gloss": {"exact_match": t2g["exact match"], "gloss_error_rate": t2g["gloss error rate"]}}

