"""Handshapes, lexicons and performed signs of the generated corpus."""

from types import SimpleNamespace

import numpy as np
import pytest

from signlib.data.synthetic import handshapes
from signlib.data.synthetic.lexicon import (BSL_SHARED_WITH_ASL, HANDS, LOCATIONS, MOVEMENTS, build_lexicons, draw_sign,
                                            frequency_ranks, zipf_weights)
from signlib.errors import SignlibError
from signlib.data.synthetic.performance import Style, draw_style, perform
from signlib.pose.skeleton import forward_kinematics_np

CONCEPTS = [SimpleNamespace(key=f"c{i}", pos="noun") for i in range(300)] + [SimpleNamespace(key="i", pos="pron")]
LABELS = {lang: {c.key: c.key.upper() for c in CONCEPTS} for lang in ("ASL", "BSL", "DGS", "CSL")}
STEADY = Style(1.0, 1.0, False, (0.0, 0.0, 0.0), 0.0, 0.0, 0.0)  # no jitter, no dropped frames


def test_inventory_has_at_least_20_distinct_handshapes_within_joint_limits():
    inv = handshapes.inventory()
    assert len(inv) >= 20
    flat = inv.reshape(len(inv), -1)
    assert len({tuple(np.round(r, 3)) for r in flat}) == len(inv)  # all distinct
    assert (np.linalg.norm(inv, axis=-1) <= 1.8).all()  # no finger joint rotates more than ~100°
    assert (inv[:, :12, 2] >= 0).all()  # long fingers never hyperextend


def test_lexicons_use_every_phonological_parameter_and_bsl_borrows_a_minority_from_asl():
    lex = build_lexicons(CONCEPTS, LABELS, ("ASL", "BSL", "DGS", "CSL"), seed=0)
    asl, bsl, dgs = lex["ASL"], lex["BSL"], lex["DGS"]
    assert {s.movement for s in asl.values()} == set(MOVEMENTS)
    assert {s.hands for s in asl.values()} == set(HANDS)
    assert {s.location for s in asl.values()} == set(LOCATIONS)
    assert len({s.handshape for s in asl.values()}) >= 20
    assert any(s.handshape != s.handshape_end for s in asl.values())  # handshape changes exist
    same = lambda a, b: {**a.__dict__, "gloss": ""} == {**b.__dict__, "gloss": ""}  # noqa: E731
    shared_bsl = np.mean([same(asl[k], bsl[k]) for k in asl if k != "i"])
    assert 0.1 < shared_bsl < 0.5 and abs(shared_bsl - BSL_SHARED_WITH_ASL) < 0.1
    assert np.mean([same(asl[k], dgs[k]) for k in asl if k != "i"]) < 0.02


def test_same_seed_same_lexicon():
    a = build_lexicons(CONCEPTS[:20], LABELS, ("ASL", "DGS"), seed=3)
    b = build_lexicons(CONCEPTS[:20], LABELS, ("ASL", "DGS"), seed=3)
    assert a == b


def test_frequency_ranks_are_a_seeded_permutation_with_pointing_signs_first():
    ranks = frequency_ranks(CONCEPTS, "DGS", seed=0)
    assert sorted(ranks.values()) == list(range(1, len(CONCEPTS) + 1)) and set(ranks) == {c.key for c in CONCEPTS}
    assert ranks["i"] == 1  # the only pronoun here
    assert ranks == frequency_ranks(CONCEPTS, "DGS", seed=0)
    assert ranks != frequency_ranks(CONCEPTS, "DGS", seed=1)


def test_frequency_ranks_differ_between_languages_but_correlate():
    order = lambda lang: np.array([frequency_ranks(CONCEPTS, lang, 0)[c.key] for c in CONCEPTS])  # noqa: E731
    asl, bsl = order("ASL"), order("BSL")
    spearman = np.corrcoef(asl, bsl)[0, 1]  # ranks already: Pearson of ranks is Spearman's rho
    assert (asl != bsl).mean() > 0.9 and 0.3 < spearman < 0.95


def test_zipf_weights_fall_as_a_power_of_the_rank():
    w = zipf_weights({"a": 1, "b": 2, "c": 4}, 2.0)
    assert w == {"a": 1.0, "b": 0.25, "c": 0.0625}
    assert set(zipf_weights({"a": 1, "b": 7}, 0.0).values()) == {1.0}  # exponent 0: the uniform draw
    with pytest.raises(SignlibError, match="Zipf exponent"):
        zipf_weights({"a": 1}, -1.0)


@pytest.mark.parametrize("seed", range(3))
def test_performance_is_finite_labelled_and_deterministic(seed):
    rng = np.random.default_rng(seed)
    signs = [draw_sign(f"k{i}", f"G{i}", "noun", rng) for i in range(5)]
    style = draw_style(np.random.default_rng(seed))
    f1, v1, spans = perform(signs, style, np.random.default_rng(seed))
    f2, v2, _ = perform(signs, style, np.random.default_rng(seed))
    np.testing.assert_array_equal(f1, f2)
    assert np.isfinite(f1).all() and f1.shape == (len(f1), 240) and v1.shape == (len(f1), 40)
    assert len(spans) == 5 and all(a < b for a, b in spans) and spans[0][0] > 0 and spans[-1][1] < len(f1)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(spans, spans[1:]))  # in order, not overlapping
    assert v1[:, :10].all()  # only hands drop out


def test_a_citation_form_is_longer_than_the_same_sign_in_context():
    rng = np.random.default_rng(0)
    for _ in range(10):
        sign = draw_sign("k", "G", "noun", rng)
        _, _, [in_context] = perform([sign], STEADY, np.random.default_rng(1))
        feats, _, [citation] = perform([sign], STEADY, np.random.default_rng(1), citation=True)
        assert citation[1] - citation[0] > in_context[1] - in_context[0]


def test_dropped_hand_frames_are_masked_and_hold_the_last_observed_value():
    style = Style(1.0, 1.0, False, (0.0, 0.0, 0.0), 0.0, 0.005, 6.0)  # many drop-outs
    rng = np.random.default_rng(0)
    feats, valid, _ = perform([draw_sign(f"k{i}", "G", "noun", rng) for i in range(4)], style, rng)
    missing = ~valid[:, 25:].all(1)
    assert missing.any() and np.isfinite(feats).all()
    t = int(np.flatnonzero(missing)[0])
    np.testing.assert_array_equal(feats[t, 150:], feats[t - 1, 150:])


def test_left_dominant_signer_is_the_mirror_image():
    rng = np.random.default_rng(0)
    signs = [draw_sign(f"k{i}", "G", "noun", rng) for i in range(3)]
    right = forward_kinematics_np(perform(signs, STEADY, np.random.default_rng(5))[0], "rot6d")
    lefty = Style(**{**STEADY.__dict__, "left_dominant": True})
    left = forward_kinematics_np(perform(signs, lefty, np.random.default_rng(5))[0], "rot6d")
    swap = [0, 2, 1, 3, 5, 4, 7, 6, 9, 8] + list(range(31, 52)) + list(range(10, 31))
    np.testing.assert_allclose(left[:, swap] * [-1, 1, 1], right, atol=1e-4)
