"""Naive stitching: citation spans copied verbatim on the retrieval timeline, transitions interpolated."""

import dataclasses

import numpy as np
import pytest

from signlib.baselines.stitching import load_citations, naive_stitch
from signlib.data.corpus import write_corpus
from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.pose.normalize import orthonormalize_rot6d
from signlib.triframe import RETRIEVAL_PADDING, build_triframe, retrieval_keyframes


def smooth_clip(T: int, seed: int, D: int = 240) -> np.ndarray:
    """``(T, D)`` smooth curves (a few sinusoids per channel)."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, T)[:, None]
    freq, phase, amp = rng.uniform(0.5, 2.0, D), rng.uniform(0, 2 * np.pi, D), rng.uniform(0.1, 0.5, D)
    return (amp * np.sin(2 * np.pi * freq * t + phase) + rng.normal(0, 0.3, D)).astype(np.float32)


def _citation(gloss: str, T: int, seed: int, language: str = "ASL") -> Sequence:
    feats = orthonormalize_rot6d(smooth_clip(T, seed=seed), "rot6d")
    return Sequence(feats, "rot6d", 25.0, segments=(Segment(5, T - 5, gloss),), text=gloss.lower(),
                    language=language, signer="informant", id=f"{language}_{gloss}".lower())


@pytest.fixture
def setup():
    clips = [_citation("A", 30, 0), _citation("B", 25, 1), _citation("C", 20, 2)]
    citations = {(c.language, c.segments[0].gloss): c for c in clips}
    dictionary = build_triframe(clips, {c.id: [(6, c.num_frames - 6)] for c in clips})
    return citations, dictionary


def test_stitch_copies_citation_spans_and_matches_the_retrieval_timeline(setup):
    citations, dictionary = setup
    out = naive_stitch(citations, dictionary, ["A", "C", "A"], "ASL", padding=4, text="a c a")
    keys = retrieval_keyframes(dictionary, "ASL", ["A", "C", "A"], padding=4)
    assert out.num_frames == keys.num_frames == 4 + (18 + 4) + (8 + 4) + (18 + 4)
    assert out.segments == keys.segments and [s.gloss for s in out.segments] == ["A", "C", "A"]
    assert (out.text, out.language, out.layout, out.fps) == ("a c a", "ASL", "rot6d", 25.0)
    for seg in out.segments:  # each sign is its citation span, bit for bit
        start, end = dictionary.spans[("ASL", seg.gloss)]
        np.testing.assert_array_equal(out.features[seg.start:seg.end], citations[("ASL", seg.gloss)].features[start:end])
    np.testing.assert_allclose(out.features[keys.frames], keys.features, atol=1e-6)
    # Ends: the first clip's opening pose and the last clip's closing pose.
    np.testing.assert_array_equal(out.features[0], citations[("ASL", "A")].features[0])
    np.testing.assert_array_equal(out.features[-1], citations[("ASL", "A")].features[-1])


def test_default_padding_is_the_retrieval_padding(setup):
    citations, dictionary = setup
    out = naive_stitch(citations, dictionary, ["B"], "ASL")
    assert out.segments[0].start == RETRIEVAL_PADDING and out.num_frames == 2 * RETRIEVAL_PADDING + 13


def test_transitions_are_interpolated_between_the_neighbouring_signs(setup):
    citations, dictionary = setup
    out = naive_stitch(citations, dictionary, ["A", "B"], "ASL", padding=6)
    a_end, b_start = out.segments[0].end, out.segments[1].start
    gap = out.features[a_end - 1:b_start + 1]
    # Interpolation moves monotonically between the end of A and the start of B: the distance to
    # A's last frame grows along the gap (and it is not a copy of either neighbour).
    d = np.linalg.norm(gap - gap[0], axis=1)
    assert np.all(np.diff(d) > 0)


def test_a_span_shorter_than_three_frames_is_held_to_fill_its_timeline_slot(setup):
    citations, dictionary = setup
    short = dataclasses.replace(dictionary, spans={**dictionary.spans, ("ASL", "B"): (10, 12)})
    out = naive_stitch(citations, short, ["B"], "ASL", padding=4)
    [seg] = out.segments
    assert seg.end - seg.start == 3                     # the timeline gives every sign at least 3 frames
    b = citations[("ASL", "B")].features
    np.testing.assert_array_equal(out.features[seg.start:seg.end], b[[10, 11, 11]])


def test_bad_input_is_a_clear_error(setup):
    citations, dictionary = setup
    with pytest.raises(SignlibError, match="no citation form of gloss 'Z' in ASL"):
        naive_stitch(citations, dictionary, ["A", "Z"], "ASL")
    with pytest.raises(SignlibError, match="no citation form of gloss 'A' in DGS"):
        naive_stitch(citations, dictionary, ["A"], "DGS")
    with pytest.raises(SignlibError, match="no glosses"):
        naive_stitch(citations, dictionary, [], "ASL")
    with pytest.raises(SignlibError, match="padding"):
        naive_stitch(citations, dictionary, ["A"], "ASL", padding=0)
    outside = dataclasses.replace(dictionary, spans={**dictionary.spans, ("ASL", "A"): (10, 99)})
    with pytest.raises(SignlibError, match=r"span \(10, 99\) of 'A' \(ASL\) lies outside its 30-frame citation clip"):
        naive_stitch(citations, outside, ["A"], "ASL")
    # A citation clip the dictionary does not know is as unusable as a missing clip.
    partial = dataclasses.replace(dictionary, frames={k: v for k, v in dictionary.frames.items() if k[1] != "C"})
    with pytest.raises(SignlibError, match="no citation form of gloss 'C' in ASL"):
        naive_stitch(citations, partial, ["C"], "ASL")
    xyz = {**citations, ("ASL", "B"): citations[("ASL", "B")].replace(
        features=np.zeros((25, 147), np.float32), layout="xyz_mediapipe")}
    with pytest.raises(SignlibError, match="citation clips mix layouts"):
        naive_stitch(xyz, dictionary, ["A", "B"], "ASL")


def test_load_citations_keys_clips_by_language_and_gloss(tmp_path):
    clips = [_citation("A", 20, 0), _citation("B", 20, 1), _citation("A", 20, 2, language="DGS")]
    corpus = write_corpus(tmp_path / "dict", clips, {"informant": "train"})
    citations = load_citations(corpus)
    assert set(citations) == {("ASL", "A"), ("ASL", "B"), ("DGS", "A")}
    np.testing.assert_array_equal(citations[("DGS", "A")].features, clips[2].features)


def test_load_citations_rejects_ambiguous_or_multi_sign_clips(tmp_path):
    twice = [_citation("A", 20, 0), _citation("A", 20, 1).replace(id="asl_a2")]
    with pytest.raises(SignlibError, match="two citation clips for 'A' in ASL"):
        load_citations(write_corpus(tmp_path / "twice", twice, {"informant": "train"}))
    two_signs = _citation("A", 20, 0).replace(segments=(Segment(2, 8, "A"), Segment(10, 16, "B")))
    with pytest.raises(SignlibError, match="citation clip 'asl_a' has 2 glosses, expected exactly one"):
        load_citations(write_corpus(tmp_path / "two", [two_signs], {"informant": "train"}))
