"""The tri-frame sign dictionary: spans of citation clips, keyframes, save/load, and laying
retrieved signs out on one timeline."""

import numpy as np
import pytest

from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.triframe import RETRIEVAL_PADDING, TriframeDictionary, build_triframe, citation_span, retrieval_keyframes


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


def _dictionary():
    rng = np.random.default_rng(0)
    frames = {("DGS", g): rng.normal(size=(3, 240)).astype(np.float32) for g in ("SARAH", "EI", "BRAUCHEN")}
    spans = {("DGS", "SARAH"): (10, 22), ("DGS", "EI"): (5, 14), ("DGS", "BRAUCHEN"): (0, 2)}
    return TriframeDictionary("rot6d", frames, spans, {k: True for k in frames})


def test_has_answers_per_language_and_gloss():
    d = _dictionary()
    assert d.has("DGS", "EI") and not d.has("DGS", "UNBEKANNT") and not d.has("ASL", "EI")


def test_retrieval_lays_signs_out_with_fixed_padding():
    keys = retrieval_keyframes(_dictionary(), "DGS", ["SARAH", "EI", "BRAUCHEN"])
    p = RETRIEVAL_PADDING
    assert p == 8  # the paper's fixed padding
    # SARAH lasts 12 frames, EI 9, BRAUCHEN 2 (< 3, widened to 3 so its keyframes stay distinct).
    assert keys.frames.tolist() == [p, p + 5, p + 11, 2 * p + 12, 2 * p + 16, 2 * p + 20, 3 * p + 21, 3 * p + 22, 3 * p + 23]
    assert keys.num_frames == 4 * p + 24
    assert keys.segments == (Segment(p, p + 12, "SARAH"), Segment(2 * p + 12, 2 * p + 21, "EI"),
                             Segment(3 * p + 21, 3 * p + 24, "BRAUCHEN"))
    np.testing.assert_array_equal(keys.features[3:6], _dictionary().lookup("DGS", "EI"))   # (3, 240)
    other = retrieval_keyframes(_dictionary(), "DGS", ["EI"], padding=2)
    assert other.frames.tolist() == [2, 6, 10] and other.num_frames == 13


def test_retrieval_refuses_unknown_glosses_no_glosses_and_bad_padding():
    with pytest.raises(SignlibError, match="no dictionary entry for gloss 'UNBEKANNT' in DGS"):
        retrieval_keyframes(_dictionary(), "DGS", ["EI", "UNBEKANNT"])
    with pytest.raises(SignlibError, match="no glosses to retrieve"):
        retrieval_keyframes(_dictionary(), "DGS", [])
    for padding in (0, 2.5, True):
        with pytest.raises(SignlibError, match="padding"):
            retrieval_keyframes(_dictionary(), "DGS", ["EI"], padding=padding)
