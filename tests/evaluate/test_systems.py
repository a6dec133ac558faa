"""The evaluated systems share one signature; scoring rows, MPJPE and summaries behave as defined."""

import math

import numpy as np
import pytest
import torch

from signlib.baselines.configs import RegressionConfig
from signlib.baselines.regression import ProgressiveTransformer, generate_regression
from signlib.baselines.stitching import naive_stitch
from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.evaluate import production
from signlib.evaluate.production import crop, run_systems, score, score_outputs, summarize_rows
from signlib.evaluate.systems import (ground_truth_system, kf2p_system, naive_stitch_system, regression_system,
                                      slerp_system, sr_t2p_system, stitch_system, t2p_system,
                                      text_system)
from signlib.generate import modes
from signlib.generate.configs import TextEncoderConfig
from signlib.generate.sampling import SamplerConfig
from signlib.keyframes import Keyframes
from signlib.pose.normalize import orthonormalize_rot6d
from signlib.triframe import build_triframe

from ..generate.conftest import perturbed_model, smooth_clip, tiny_config

FAST = SamplerConfig(steps=2)


@pytest.fixture(scope="module")
def model():
    return perturbed_model(tiny_config(max_frames=128))


def _seq(T, seed, glosses=("A", "B"), language="ASL", text="Her tea is cold.", sid=None):
    feats = orthonormalize_rot6d(smooth_clip(T, seed=seed), "rot6d")
    step = T // (len(glosses) + 1)
    segs = tuple(Segment(step * i + 2, step * (i + 1), g) for i, g in enumerate(glosses))
    return Sequence(feats, "rot6d", 25.0, segments=segs, text=text, language=language, id=sid or f"c{seed}")


@pytest.fixture(scope="module")
def dictionary():
    cits = [_seq(24, 10 + i, (g,), text=g, sid=f"asl_{g}") for i, g in enumerate("ABC")]
    return {(c.language, c.segments[0].gloss): c for c in cits}, build_triframe(cits, {c.id: [(4, 18)] for c in cits})


def test_every_system_returns_one_sequence_per_truth_in_order(model, dictionary):
    citations, triframe = dictionary
    truths = [_seq(30, 0), _seq(40, 1, ("C",)), _seq(25, 2, ("B", "A", "C"))]
    keys = [np.array([2, 10, 20]), np.array([5, 30]), np.array([0, 24])]
    systems = {"GT": ground_truth_system, "SLERP": slerp_system, "KF2P": kf2p_system(model, FAST),
               "T2P": t2p_system(model, FAST), "SR-T2P": sr_t2p_system(model, lambda t, l: [["A", "nope"]] * len(t),
                                                                    triframe, FAST),
               "stitch": stitch_system(model, triframe, FAST), "naive": naive_stitch_system(citations, triframe)}
    out = run_systems(systems, truths, keys, batch_size=2, progress=False)
    assert set(out) == set(systems) and all(len(v) == 3 for v in out.values())
    for name in ("GT", "SLERP", "KF2P"):  # keyframe-to-pose keeps the truth's length and hits its keyframes
        for truth, gen, k in zip(truths, out[name], keys):
            assert gen.num_frames == truth.num_frames
            np.testing.assert_allclose(gen.features[k], truth.features[k], atol=1e-5)
    for truth, a, b in zip(truths, out["stitch"], out["naive"]):  # same retrieval timeline, same signs
        assert a.num_frames == b.num_frames and [s.gloss for s in b.segments] == truth.glosses
    assert all(s.meta["retrieved"] for s in out["SR-T2P"])  # "A" is in the dictionary, "nope" skipped


def _assert_same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.num_frames == y.num_frames and x.language == y.language
        np.testing.assert_allclose(x.features, y.features, atol=1e-5)


def test_systems_are_the_batched_modes_called_with_the_truths_inputs(model, dictionary):
    citations, triframe = dictionary
    truths = [_seq(30, 0), _seq(40, 1, ("C",), language="DGS", text="Der Tee ist kalt.")]
    keys = [np.array([2, 10, 20]), np.array([5, 30])]
    texts, languages = [s.text for s in truths], [s.language for s in truths]
    frames = [Keyframes.from_sequence(s, k) for s, k in zip(truths, keys)]
    _assert_same(kf2p_system(model, FAST, seed=5)(truths, keys), modes.kf2p(model, frames, texts, languages, FAST, 5))
    _assert_same(kf2p_system(model, FAST, with_text=False)(truths, keys),
                 modes.kf2p(model, frames, [None, None], languages, FAST))
    _assert_same(t2p_system(model, FAST, seed=2)(truths, keys), modes.t2p(model, texts, languages, FAST, 2))
    asl = [truths[0], _seq(25, 2, ("B", "A", "C"))]
    _assert_same(stitch_system(model, triframe, FAST, with_text=False, seed=3)(asl, keys),
                 modes.stitch(model, triframe, [s.glosses for s in asl], ["ASL", "ASL"], None, FAST, 3))
    naive = naive_stitch_system(citations, triframe)(asl, keys)
    _assert_same(naive, [naive_stitch(citations, triframe, s.glosses, "ASL", text=s.text) for s in asl])
    assert [s.text for s in naive] == [s.text for s in asl]


def test_request_i_of_a_batch_is_seeded_by_seed_plus_i(model):
    truths = [_seq(30, 0), _seq(40, 1, ("C",))]
    keys = [np.array([2, 10, 20]), np.array([5, 30])]
    together = kf2p_system(model, FAST, seed=0)(truths, keys)
    alone = kf2p_system(model, FAST, seed=1)(truths[1:], keys[1:])
    _assert_same(alone, together[1:])
    other = kf2p_system(model, FAST, seed=0)(truths[1:], keys[1:])      # index 0 now: another draw
    assert not np.allclose(other[0].features, together[1].features, atol=1e-4)


def test_regression_system_is_generate_regression_on_the_truths_texts_and_languages():
    torch.manual_seed(0)
    net = ProgressiveTransformer(RegressionConfig(max_frames=48, text=TextEncoderConfig(d_model=16, layers=1, heads=2,
                                                                                       ff=32, dropout=0.0),
                                                  d_model=16, layers=1, heads=2, ff=32, dropout=0.0)).eval()
    truths = [_seq(30, 0), _seq(20, 1, language="DGS", text="Der Tee ist kalt.")]
    out = regression_system(net, batch_size=1)(truths, [np.array([3]), np.array([4])])
    _assert_same(out, generate_regression(net, [s.text for s in truths], [s.language for s in truths]))
    assert [s.text for s in out] == [s.text for s in truths]


def test_text_system_passes_only_texts_and_languages_and_checks_the_count():
    seen = []

    def generate(texts, languages):
        seen.append((texts, languages))
        return [_seq(12, i, text=t, language=l) for i, (t, l) in enumerate(zip(texts, languages))]

    truths = [_seq(30, 0), _seq(20, 1, language="DGS", text="Der Tee ist kalt.")]
    out = text_system(generate)(truths, [np.array([3]), np.array([4])])
    assert seen == [(["Her tea is cold.", "Der Tee ist kalt."], ["ASL", "DGS"])]
    assert [s.language for s in out] == ["ASL", "DGS"]
    with pytest.raises(SignlibError, match="returned 1 sequences for 2 texts"):
        text_system(lambda t, l: generate(t, l)[:1])(truths, [np.array([3])] * 2)


def test_sr_t2p_falls_back_to_t2p_when_no_gloss_is_known(model, dictionary):
    out = run_systems({"SR": sr_t2p_system(model, lambda t, l: [["nope"]] * len(t), dictionary[1], FAST)},
                      [_seq(30, 0)], [np.array([3])], progress=False)["SR"][0]
    assert out.meta["retrieved"] is False and out.num_frames >= 8


def test_a_system_returning_the_wrong_count_is_an_error():
    with pytest.raises(SignlibError, match="returned 0 sequences for a batch of 1"):
        run_systems({"bad": lambda t, k: []}, [_seq(20, 0)], [np.array([1])], progress=False)


def test_score_of_the_truth_is_zero_and_mpjpe_needs_equal_lengths():
    truth = _seq(30, 0)
    row = score(truth, truth, procrustes=True, equal_length=True)
    for key in ("body_total", "hand_mean", "pa_body_mean", "mpjpe_body", "pa_mpjpe_hand"):
        assert row[key] == pytest.approx(0.0, abs=1e-7)
    with pytest.raises(SignlibError, match="equal lengths"):
        score(_seq(20, 1), truth, procrustes=False, equal_length=True)


def test_score_outputs_and_summaries():
    truths = [_seq(30, 0), _seq(30, 1, language="DGS")]
    keys = [np.array([5, 20]), np.array([3, 25])]
    outputs = {"GT": truths, "SLERP": slerp_system(truths, keys)}
    rows = score_outputs(outputs, truths, keys, inner=True, progress=False)
    assert [(r["system"], r["language"]) for r in rows] == [("GT", "ASL"), ("GT", "DGS"), ("SLERP", "ASL"),
                                                          ("SLERP", "DGS")]
    assert rows[2]["body_mean"] > 0 and rows[2]["inner_body_mean"] > 0
    # Rows are scored from positions computed once per sequence; they equal scoring each
    # sequence, and each crop to the keyframed span, from scratch.
    pred = outputs["SLERP"][1]
    assert rows[3] == {"id": truths[1].id, "language": "DGS", "system": "SLERP", **score(pred, truths[1], False),
                       **{f"inner_{k}": v for k, v in score(crop(pred, 3, 26), crop(truths[1], 3, 26), False).items()}}
    summary = summarize_rows(rows, ("body_mean",))
    assert [(r["language"], r["system"]) for r in summary][-2:] == [("all", "GT"), ("all", "SLERP")]
    slerp_all = summary[-1]
    vals = [r["body_mean"] for r in rows if r["system"] == "SLERP"]
    assert slerp_all["body_mean"] == pytest.approx(np.mean(vals)) and slerp_all["body_mean_std"] == pytest.approx(np.std(vals))
    assert slerp_all["clips"] == 2


def test_summaries_skip_nan_scores():
    rows = [{"language": "ASL", "system": "S", "x": 1.0}, {"language": "ASL", "system": "S", "x": math.nan}]
    assert summarize_rows(rows, ("x",), by_language=False)[0]["x"] == 1.0


def test_scoring_in_worker_processes_gives_the_same_rows(monkeypatch):
    monkeypatch.setattr(production, "MIN_TASKS_PER_WORKER", 1)  # six rows would otherwise stay in-process
    truths = [_seq(30, i, language=("ASL", "DGS")[i % 2]) for i in range(6)]
    keys = [np.array([4, 20])] * 6
    outputs = {"SLERP": slerp_system(truths, keys)}
    one = score_outputs(outputs, truths, keys, procrustes=True, inner=True, progress=False)
    torch.ones(256, 256) @ torch.ones(256, 256)  # torch's thread pool is running, as after generation
    two = score_outputs(outputs, truths, keys, procrustes=True, inner=True, progress=False, workers=2)
    assert one == two
