"""The tri-frame sign dictionary: spans of citation clips, keyframes, save/load."""

import numpy as np
import pytest

from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.triframe import TriframeDictionary, build_triframe, citation_span


def test_citation_span_joins_the_pieces_of_a_split_sign():
    assert citation_span([(26, 39), (41, 62)], 85) == ((26, 62), True)
    assert citation_span([(10, 20)], 30) == ((10, 20), True)


def test_citation_span_falls_back_to_the_middle_third():
    assert citation_span([], 30) == ((10, 20), False)


def _citation(lang, gloss, T=30, seed=0):
    feats = np.random.default_rng(seed).normal(size=(T, 240)).astype(np.float32)
    return Sequence(features=feats, layout="rot6d", fps=25, segments=[Segment(8, 20, gloss)], language=lang,
                    id=f"{lang}_{gloss}")


def test_build_keeps_onset_mid_offset_rows_and_round_trips(tmp_path):
    cites = [_citation("DGS", "HAUS", seed=1), _citation("CSL", "房子", seed=2)]
    tri = build_triframe(cites, {"DGS_HAUS": [(5, 9), (11, 17)]})
    np.testing.assert_array_equal(tri.lookup("DGS", "HAUS"), cites[0].features[[5, 10, 16]])
    assert tri.found[("CSL", "房子")] is False  # nothing predicted: middle third
    tri.save(tmp_path / "t.npz")
    back = TriframeDictionary.load(tmp_path / "t.npz")
    assert back.spans == tri.spans and back.found == tri.found and back.layout == "rot6d"
    np.testing.assert_array_equal(back.lookup("CSL", "房子"), tri.lookup("CSL", "房子"))


def test_errors_name_what_is_missing(tmp_path):
    tri = build_triframe([_citation("DGS", "HAUS")], {})
    with pytest.raises(SignlibError, match="no dictionary entry for gloss 'AUTO' in DGS"):
        tri.lookup("DGS", "AUTO")
    with pytest.raises(SignlibError, match="run the `keyframes` stage"):
        TriframeDictionary.load(tmp_path / "missing.npz")
    two = _citation("DGS", "HAUS").replace(segments=(Segment(1, 3, "A"), Segment(5, 9, "B")))
    with pytest.raises(SignlibError, match="exactly one gloss"):
        build_triframe([two], {})
