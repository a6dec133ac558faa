"""The ASL/BSL confusion judge: a sentence signed with one lexicon's citation forms is nearest that
lexicon; the matrix rows are shares; sentences a lexicon cannot render are left out."""

import numpy as np
import pytest

from signlib.baselines.stitching import naive_stitch
from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.evaluate.confusion import confusion_matrix, confusion_rate, nearest_language
from signlib.pose.normalize import orthonormalize_rot6d
from signlib.triframe import build_triframe

from ..generate.conftest import smooth_clip


def _citation(gloss, language, seed):
    feats = orthonormalize_rot6d(smooth_clip(20, seed=seed), "rot6d")
    return Sequence(feats, "rot6d", 25.0, segments=(Segment(3, 17, gloss),), language=language, id=f"{language}_{gloss}")


@pytest.fixture(scope="module")
def lexicons():
    cites = [_citation(g, lang, seed=10 * k + j) for k, lang in enumerate(("ASL", "BSL"))
             for j, g in enumerate(("CUP", "TEA", "HOT"))]
    citations = {(c.language, c.segments[0].gloss): c for c in cites}
    dictionary = build_triframe(cites, {c.id: [(3, 17)] for c in cites})
    return citations, dictionary


def _truth(language, glosses=("CUP", "TEA"), sid="s"):
    return Sequence(np.zeros((40, 240), np.float32), "rot6d", 25.0, language=language, id=sid,
                    segments=tuple(Segment(5 + 10 * i, 12 + 10 * i, g) for i, g in enumerate(glosses)))


def test_a_sentence_signed_in_a_lexicon_is_nearest_that_lexicon(lexicons):
    citations, dictionary = lexicons
    truths = [_truth("ASL", sid="a"), _truth("BSL", sid="b")]
    # both sentences generated from the ASL citation forms: the BSL one is confused
    generated = [naive_stitch(citations, dictionary, t.glosses, "ASL") for t in truths]
    rows = nearest_language(generated, truths, citations, dictionary)
    assert [r["nearest"] for r in rows] == ["ASL", "ASL"]
    assert rows[0]["margin"] > 0 > rows[1]["margin"] and rows[0]["dist_ASL"] == pytest.approx(0.0, abs=1e-6)
    assert confusion_rate(rows) == 0.5
    assert np.array_equal(confusion_matrix(rows), np.array([[1.0, 0.0], [1.0, 0.0]]))


def test_sentences_a_lexicon_cannot_render_are_left_out_and_foreign_languages_refused(lexicons):
    citations, dictionary = lexicons
    truth = _truth("ASL", glosses=("CUP", "UNKNOWN"))
    assert nearest_language([truth], [truth], citations, dictionary) == []
    assert np.isnan(confusion_rate([]))
    with pytest.raises(SignlibError, match="DGS"):
        nearest_language([truth], [_truth("DGS")], citations, dictionary)
