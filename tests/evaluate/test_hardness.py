"""Reference scores of a corpus: mean sequence, SLERP between true keyframes, naive stitching of
citation forms, ground truth."""

import numpy as np

from signlib.baselines.slerp import slerp_sequence
from signlib.data.corpus import write_corpus
from signlib.data.sequence import Segment, Sequence
from signlib.data.synthetic.lexicon import draw_sign
from signlib.data.synthetic.performance import Style, draw_style, perform
from signlib.evaluate.hardness import gold_stitcher, hardness, mean_sequence
from signlib.keyframes import true_keyframes
from signlib.pose.normalize import resample_time


def test_mean_sequence_of_identical_clips_is_the_clip():
    x = np.random.default_rng(0).normal(size=(10, 4, 3))
    np.testing.assert_allclose(mean_sequence([x, x, x]), x)


def test_mean_sequence_resamples_to_the_median_length():
    clips = [np.full((n, 2, 3), float(n)) for n in (4, 6, 11)]
    mean = mean_sequence(clips)
    assert mean.shape == (6, 2, 3)
    np.testing.assert_allclose(mean, 7.0)
    ramp = np.arange(11.0)[:, None, None] * np.ones((1, 2, 3))
    np.testing.assert_allclose(mean_sequence([ramp[:6], ramp, ramp[:3]]),
                               np.mean([ramp[:6], resample_time(ramp, 6), resample_time(ramp[:3], 6)], axis=0))


def test_slerp_reference_matches_the_clip_on_its_true_keyframes():
    rng = np.random.default_rng(0)
    feats, valid, spans = perform([draw_sign("a", "A", "noun", rng)], draw_style(rng), rng)
    seq = Sequence(features=feats, layout="rot6d", fps=25, segments=[Segment(a, b, "A") for a, b in spans], id="s")
    keys = true_keyframes(seq)
    assert keys.tolist() == [spans[0][0], (spans[0][0] + spans[0][1] - 1) // 2, spans[0][1] - 1]
    filled = slerp_sequence(seq, keys).features
    for k in keys:
        np.testing.assert_allclose(filled[k], feats[k], atol=1e-5)


def _signs():
    rng = np.random.default_rng(1)
    return [draw_sign(f"k{i}", f"G{i}", "noun", rng) for i in range(6)]


def _dictionary(tmp_path, missing: str | None = None):
    """Citation forms of :func:`_signs` by a right-handed informant, one clip each (as generated)."""
    rng = np.random.default_rng(2)
    informant = Style(1.0, 1.0, False, (0.0, 0.0, 0.0), 0.0, 0.006, 0.0, reduction=0.0)
    clips = []
    for sign in _signs():
        if sign.gloss == missing:
            continue
        f, v, [(a, b)] = perform([sign], informant, rng, citation=True)
        clips.append(Sequence(features=f, layout="rot6d", fps=25, valid=v, language="DGS", signer="informant",
                              segments=[Segment(a, b, sign.gloss)], id=f"dgs_{sign.key}"))
    return write_corpus(tmp_path / "dictionary", clips, {"informant": "train"})


def _corpus(tmp_path, unsegmented_test_clip: bool = False):
    rng = np.random.default_rng(1)
    signs = [draw_sign(f"k{i}", f"G{i}", "noun", rng) for i in range(6)]  # = _signs()
    clips = []
    for s in range(4):
        style = draw_style(rng)
        for k in range(2):
            pick = [signs[i] for i in rng.choice(6, 3, replace=False)]
            f, v, spans = perform(pick, style, rng)
            clips.append(Sequence(features=f, layout="rot6d", fps=25, valid=v, language="DGS", signer=f"s{s}",
                                  segments=[Segment(a, b, p.gloss) for (a, b), p in zip(spans, pick)], id=f"s{s}_{k}"))
    if unsegmented_test_clip:
        clips[-1] = clips[-1].replace(segments=())
    return write_corpus(tmp_path, clips, {"s0": "train", "s1": "train", "s2": "test", "s3": "test"})


def test_hardness_gives_zero_for_ground_truth_and_more_for_the_baselines(tmp_path):
    rows, table = hardness(_corpus(tmp_path), progress=False)
    assert len(rows) == 3 * 4
    by_ref = {r["reference"]: r for r in table if r["language"] == "all"}
    assert by_ref["ground truth"]["body_total"] == 0 and by_ref["ground truth"]["hand_total"] == 0
    for part in ("body_mean", "hand_mean"):
        assert by_ref["SLERP keyframes"][part] > 0
        assert by_ref["mean sequence"][part] > by_ref["SLERP keyframes"][part]
    assert {r["clips"] for r in table} == {4}


def test_clips_without_gold_segments_have_no_slerp_row(tmp_path):
    rows, table = hardness(_corpus(tmp_path, unsegmented_test_clip=True), progress=False)
    refs = {(r["id"], r["reference"]) for r in rows}
    assert ("s3_1", "SLERP keyframes") not in refs
    assert ("s3_1", "mean sequence") in refs and ("s3_1", "ground truth") in refs
    assert len(rows) == 3 * 4 - 1
    clips = {(r["language"], r["reference"]): r["clips"] for r in table}
    assert clips[("all", "SLERP keyframes")] == 3 and clips[("all", "ground truth")] == 4
    assert clips[("DGS", "SLERP keyframes")] == 3


def test_naive_stitching_copies_the_citation_spans_of_the_glosses(tmp_path):
    dictionary = _dictionary(tmp_path)
    stitched = gold_stitcher(dictionary)(["G2", "G0"], "DGS")
    assert [seg.gloss for seg in stitched.segments] == ["G2", "G0"]
    for seg in stitched.segments:
        info = next(c for c in dictionary.clips if c.glosses == (seg.gloss,))
        citation = dictionary.load(info.id)
        [span] = citation.segments
        np.testing.assert_array_equal(stitched.features[seg.start:seg.end], citation.features[span.start:span.end])
    assert gold_stitcher(dictionary)(["G2", "NOPE"], "DGS") is None
    assert gold_stitcher(dictionary)(["G2"], "ASL") is None


def test_with_a_dictionary_hardness_adds_naive_stitching_between_truth_and_the_mean(tmp_path):
    corpus = _corpus(tmp_path / "corpus")
    rows, table = hardness(corpus, progress=False, dictionary=_dictionary(tmp_path))
    assert len(rows) == 4 * 4
    by_ref = {r["reference"]: r for r in table if r["language"] == "all"}
    assert by_ref["naive stitching"]["clips"] == 4
    for part in ("body_mean", "hand_mean"):
        # in-context forms differ from citation forms, yet copying them beats the mean sequence
        assert 0 < by_ref["naive stitching"][part] < by_ref["mean sequence"][part]


def test_clips_with_a_sign_missing_from_the_dictionary_have_no_stitching_row(tmp_path):
    corpus = _corpus(tmp_path / "corpus")
    missing = next(g for c in corpus.select("test") for g in c.glosses)
    rows, _ = hardness(corpus, progress=False, dictionary=_dictionary(tmp_path, missing=missing))
    stitched = {r["id"] for r in rows if r["reference"] == "naive stitching"}
    assert stitched == {c.id for c in corpus.select("test") if missing not in c.glosses}
    assert len(stitched) < 4
