"""Signs in running signing: reduced, coarticulated in-context forms versus citation forms."""

import dataclasses

import numpy as np
import pytest

from signlib.data.synthetic import handshapes
from signlib.data.synthetic.context import CONTACT, cycles, in_context, location_shift, reduction_degree
from signlib.data.synthetic.lexicon import LOCATIONS, SignSpec, draw_sign
from signlib.data.synthetic.motion import sign_tracks
from signlib.data.synthetic.performance import Style, perform
from signlib.pose.layout import UPPER_BODY_10
from signlib.pose.skeleton import forward_kinematics_np

STEADY = Style(1.0, 1.0, False, (0.0, 0.0, 0.0), 0.0, 0.0, 0.0)  # no jitter, no dropped frames


def _sign(**changes) -> SignSpec:
    base = SignSpec("k", "G", "one", "B", "B", "B", "neutral", "repeated", "down_forward", (0.0, 1.0, 0.0),
                    0.12, 3, False, 20)
    return dataclasses.replace(base, **changes)


def test_reduction_grows_with_the_signers_degree_and_the_signing_rate():
    def mean(reduction, rate):
        rng = np.random.default_rng(0)
        return np.mean([reduction_degree(reduction, rate, rng) for _ in range(200)])

    assert mean(0.0, 1.0) == 0.0
    assert mean(0.3, 1.0) < mean(0.6, 1.0) < mean(0.6, 1.25)
    assert mean(0.3, 0.8) < mean(0.3, 1.0)
    rng = np.random.default_rng(1)
    assert all(0.0 <= reduction_degree(0.9, 1.3, rng) <= 1.0 for _ in range(100))


def test_three_cycles_become_two_usually_and_one_occasionally_never_more():
    rng = np.random.default_rng(0)
    typical = [cycles(3, 0.5, rng) for _ in range(2000)]
    share = {k: typical.count(k) / len(typical) for k in (1, 2, 3)}
    assert share[2] > 0.5 and 0.02 < share[1] < 0.2 and share[3] < 0.45
    assert set(typical) <= {1, 2, 3}
    fast = [cycles(3, 1.0, rng) for _ in range(2000)]
    assert np.mean(fast) < np.mean(typical)                       # faster, more reduced signing drops more
    assert {cycles(1, 1.0, rng) for _ in range(50)} == {1}        # a single movement stays


def test_location_moves_toward_both_neighbours_and_contact_signs_move_less():
    chest, forehead = _sign(location="chest"), _sign(location="forehead")
    here = np.array(LOCATIONS["neutral"])
    shift = location_shift(_sign(), chest, forehead, r=0.8)
    target = (np.array(LOCATIONS["chest"]) + np.array(LOCATIONS["forehead"])) / 2
    assert np.linalg.norm(here + shift - target) < np.linalg.norm(here - target)
    only_prev = location_shift(_sign(), chest, None, r=0.8)
    assert np.dot(only_prev, np.array(LOCATIONS["chest"]) - here) > 0
    assert np.allclose(location_shift(_sign(), chest, forehead, r=0.0), 0.0)
    # the same pull, on a body-contact location, is halved (Ormel et al. 2013)
    assert "stomach" in CONTACT and "neutral" not in CONTACT
    far = _sign(location="side")
    free = np.linalg.norm(location_shift(_sign(location="neutral_low"), far, far, r=0.6))
    touching = np.linalg.norm(location_shift(_sign(location="stomach"), far, far, r=0.6))
    assert touching < free


def test_high_signs_are_lowered_and_more_so_when_more_reduced():
    alone = [location_shift(_sign(location="forehead"), None, None, r)[1] for r in (0.0, 0.5, 1.0)]
    assert alone[0] == 0.0 and alone[2] < alone[1] < 0.0
    assert location_shift(_sign(location="stomach"), None, None, 1.0)[1] == 0.0


def test_in_context_form_is_smaller_shorter_and_anticipates_a_different_next_handshape():
    rng = np.random.default_rng(0)
    sign, nxt = _sign(), _sign(handshape="S", handshape_end="S")
    forms = [in_context(sign, None, nxt, 0.8, rng) for _ in range(200)]
    assert all(f.spec.size < sign.size and f.spec.repeats <= sign.repeats for f in forms)
    assert all(f.duration < 1.0 and f.extent < 1.0 for f in forms)
    assert all(f.next_handshape == "S" and f.anticipation > 0 for f in forms)
    assert np.mean([f.hold > 0 for f in forms]) < 0.1                # holds mostly dropped
    same = in_context(sign, None, _sign(), 0.8, rng)                 # the next sign starts with this handshape
    assert same.anticipation == 0.0
    assert in_context(sign, None, None, 0.8, rng).next_handshape is None


def test_sign_tracks_defaults_are_the_citation_form_and_anticipation_blends_the_last_frames():
    sign = _sign(movement="straight")
    citation = sign_tracks(sign, 20, 1.0, np.random.default_rng(3))
    default = sign_tracks(sign, 20, 1.0, np.random.default_rng(3), shift=(0, 0, 0), extent=1.0)
    for a, b in zip(citation, default):
        np.testing.assert_array_equal(a.target, b.target)
        np.testing.assert_array_equal(a.hand, b.hand)
    dom, _ = sign_tracks(sign, 20, 1.0, np.random.default_rng(3), shift=(0.0, -0.02, 0.01), next_handshape="S",
                         anticipation=0.5)
    np.testing.assert_allclose(dom.target - citation[0].target, np.tile([0.0, -0.02, 0.01], (20, 1)), atol=1e-12)
    h_b, h_s = handshapes.handshape_pose("B"), handshapes.handshape_pose("S")
    np.testing.assert_allclose(dom.hand[-1], h_b + 0.5 * (h_s - h_b), atol=1e-9)
    np.testing.assert_allclose(dom.hand[:12], citation[0].hand[:12])     # the first 60% is untouched


def test_a_base_hand_moves_with_the_displaced_sign():
    sign = _sign(hands="base", location="base_hand")
    _, still_base = sign_tracks(sign, 10, 1.0, np.random.default_rng(0))
    _, moved = sign_tracks(sign, 10, 1.0, np.random.default_rng(0), shift=(0.01, -0.03, 0.0))
    np.testing.assert_allclose(moved.target - still_base.target, np.tile([0.01, -0.03, 0.0], (10, 1)), atol=1e-12)


def _wrist_extent(feats, span):
    wrist = forward_kinematics_np(feats, "rot6d")[span[0]:span[1], UPPER_BODY_10.index("right_wrist")]
    return np.ptp(wrist, axis=0).max()


@pytest.mark.parametrize("seed", range(3))
def test_a_more_reducing_signer_makes_smaller_movements_in_context(seed):
    sign = _sign(size=0.16)
    signs = [draw_sign("a", "A", "noun", np.random.default_rng(seed)), sign,
             draw_sign("b", "B", "noun", np.random.default_rng(seed + 10))]
    extents = {}
    for reduction in (0.0, 1.0):
        style = dataclasses.replace(STEADY, reduction=reduction)
        feats, _, spans = perform(signs, style, np.random.default_rng(seed))
        extents[reduction] = _wrist_extent(feats, spans[1])
    assert extents[1.0] < extents[0.0]


def test_citation_forms_ignore_the_signers_reduction():
    sign = draw_sign("k", "G", "noun", np.random.default_rng(0))
    a = perform([sign], dataclasses.replace(STEADY, reduction=0.0), np.random.default_rng(1), citation=True)
    b = perform([sign], dataclasses.replace(STEADY, reduction=1.0), np.random.default_rng(1), citation=True)
    np.testing.assert_array_equal(a[0], b[0])
    assert a[2] == b[2]
