"""Reference scores of a corpus: mean sequence, SLERP between true keyframes, ground truth."""

import numpy as np

from signlib.data.corpus import write_corpus
from signlib.data.sequence import Segment, Sequence
from signlib.data.synthetic.lexicon import draw_sign
from signlib.data.synthetic.performance import draw_style, perform
from signlib.evaluate.hardness import hardness, mean_sequence, resample, slerp_baseline


def test_resample_keeps_endpoints_and_is_linear():
    x = np.arange(5, dtype=float)[:, None, None] * np.ones((1, 2, 3))
    y = resample(x, 9)
    np.testing.assert_allclose(y[:, 0, 0], np.linspace(0, 4, 9))


def test_mean_sequence_of_identical_clips_is_the_clip():
    x = np.random.default_rng(0).normal(size=(10, 4, 3))
    np.testing.assert_allclose(mean_sequence([x, x, x]), x)


def test_slerp_baseline_matches_the_clip_on_its_keyframes():
    rng = np.random.default_rng(0)
    feats, valid, spans = perform([draw_sign("a", "A", "noun", rng)], draw_style(rng), rng)
    seq = Sequence(features=feats, layout="rot6d", fps=25, segments=[Segment(a, b, "A") for a, b in spans], id="s")
    filled = slerp_baseline(seq)
    for k in (spans[0][0], (spans[0][0] + spans[0][1] - 1) // 2, spans[0][1] - 1):
        np.testing.assert_allclose(filled[k], feats[k], atol=1e-5)


def test_hardness_gives_zero_for_ground_truth_and_more_for_the_baselines(tmp_path):
    rng = np.random.default_rng(1)
    signs = [draw_sign(f"k{i}", f"G{i}", "noun", rng) for i in range(6)]
    clips = []
    for s in range(4):
        style = draw_style(rng)
        for k in range(2):
            pick = [signs[i] for i in rng.choice(6, 3, replace=False)]
            f, v, spans = perform(pick, style, rng)
            clips.append(Sequence(features=f, layout="rot6d", fps=25, valid=v, language="DGS", signer=f"s{s}",
                                  segments=[Segment(a, b, p.gloss) for (a, b), p in zip(spans, pick)], id=f"s{s}_{k}"))
    corpus = write_corpus(tmp_path, clips, {"s0": "train", "s1": "train", "s2": "test", "s3": "test"})
    rows, table = hardness(corpus, progress=False)
    assert len(rows) == 3 * 4
    by_ref = {r["reference"]: r for r in table if r["language"] == "all"}
    assert by_ref["ground truth"]["body_total"] == 0 and by_ref["ground truth"]["hand_total"] == 0
    for part in ("body_mean", "hand_mean"):
        assert by_ref["SLERP keyframes"][part] > 0
        assert by_ref["mean sequence"][part] > by_ref["SLERP keyframes"][part]
