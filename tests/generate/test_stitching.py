"""Naive stitching: citation spans copied verbatim on the retrieval timeline, transitions interpolated."""

import numpy as np
import pytest

from signlib.data.corpus import write_corpus
from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.generate.modes import retrieval_keyframes
from signlib.generate.stitching import load_citations, naive_stitch
from signlib.pose.normalize import orthonormalize_rot6d
from signlib.triframe import build_triframe

from .conftest import smooth_clip


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
    out = naive_stitch(citations, dictionary.spans, ["A", "C", "A"], "ASL", padding=4, text="a c a")
    keys = retrieval_keyframes(dictionary, "ASL", ["A", "C", "A"], padding=4)
    assert out.num_frames == keys.num_frames
    assert [s.gloss for s in out.segments] == ["A", "C", "A"]
    for seg in out.segments:  # each sign is its citation span, bit for bit
        start, end = dictionary.spans[("ASL", seg.gloss)]
        np.testing.assert_array_equal(out.features[seg.start:seg.end], citations[("ASL", seg.gloss)].features[start:end])
    np.testing.assert_allclose(out.features[keys.frames], keys.features, atol=1e-6)
    # Ends: the first clip's opening pose and the last clip's closing pose.
    np.testing.assert_array_equal(out.features[0], citations[("ASL", "A")].features[0])
    np.testing.assert_array_equal(out.features[-1], citations[("ASL", "A")].features[-1])


def test_transitions_are_interpolated_between_the_neighbouring_signs(setup):
    citations, dictionary = setup
    out = naive_stitch(citations, dictionary.spans, ["A", "B"], "ASL", padding=6)
    a_end, b_start = out.segments[0].end, out.segments[1].start
    gap = out.features[a_end - 1:b_start + 1]
    # Interpolation moves monotonically between the end of A and the start of B: the distance to
    # A's last frame grows along the gap (and it is not a copy of either neighbour).
    d = np.linalg.norm(gap - gap[0], axis=1)
    assert np.all(np.diff(d) > 0)


def test_bad_input_is_a_clear_error(setup):
    citations, dictionary = setup
    with pytest.raises(SignlibError, match="no citation form of gloss 'Z' in ASL"):
        naive_stitch(citations, dictionary.spans, ["A", "Z"], "ASL")
    with pytest.raises(SignlibError, match="no glosses"):
        naive_stitch(citations, dictionary.spans, [], "ASL")
    with pytest.raises(SignlibError, match="padding"):
        naive_stitch(citations, dictionary.spans, ["A"], "ASL", padding=0)
    with pytest.raises(SignlibError, match="outside its 30-frame"):
        naive_stitch(citations, {("ASL", "A"): (10, 99)}, ["A"], "ASL")


def test_load_citations_keys_clips_by_language_and_gloss(tmp_path):
    clips = [_citation("A", 20, 0), _citation("B", 20, 1), _citation("A", 20, 2, language="DGS")]
    corpus = write_corpus(tmp_path / "dict", clips, {"informant": "train"})
    citations = load_citations(corpus)
    assert set(citations) == {("ASL", "A"), ("ASL", "B"), ("DGS", "A")}
    np.testing.assert_array_equal(citations[("DGS", "A")].features, clips[2].features)
