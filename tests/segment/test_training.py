"""Segmenter batches: augmentation keeps B exactly at the sign onsets; sampling is deterministic."""

import numpy as np

from signlib.data.bio import bio_to_segments
from signlib.segment.features import HAND_FEATURES
from signlib.segment.training import SegClip, augment_index, class_weights, make_sampler, remap_labels


def test_remap_labels_identity_and_resampled():
    spans = ((2, 5), (5, 8))
    np.testing.assert_array_equal(remap_labels(spans, np.arange(10)), [0, 0, 2, 1, 1, 2, 1, 1, 0, 0])
    # Every other frame: sources 0, 2, 4, 6, 8 -> frame 1 (src 2) starts sign 1, frame 3 (src 6) is in sign 2
    # but its onset (src 5) was dropped, so frame 3 becomes the new onset.
    np.testing.assert_array_equal(remap_labels(spans, np.arange(0, 10, 2)), [0, 2, 1, 2, 0])


def test_augmented_labels_have_one_b_per_surviving_sign():
    rng = np.random.default_rng(0)
    spans = ((3, 10), (10, 18), (25, 30))
    for _ in range(50):
        index = augment_index(40, rng)
        labels = remap_labels(spans, index)
        assert (np.diff(index) >= 0).all()
        assert len(bio_to_segments(labels)) == (labels == 2).sum() <= 3


def test_sampler_is_a_pure_function_of_step_and_rng():
    clips = [SegClip(f"c{k}", np.random.default_rng(k).normal(size=(30 + k, HAND_FEATURES)).astype(np.float32),
                     np.zeros((30 + k, HAND_FEATURES), np.float32), remap_labels(((4, 9),), np.arange(30 + k)), ((4, 9),))
             for k in range(5)]
    sampler = make_sampler(clips, 3, 16)
    a, b = sampler(7, np.random.default_rng([0, 7])), sampler(7, np.random.default_rng([0, 7]))
    for key in a:
        assert (a[key] == b[key]).all()
    assert a["left"].shape[1] <= 16 and a["mask"].any(1).all()


def test_class_weights_upweight_rare_onsets():
    clip = SegClip("c", np.zeros((20, HAND_FEATURES), np.float32), np.zeros((20, HAND_FEATURES), np.float32),
                   remap_labels(((2, 12),), np.arange(20)), ((2, 12),))
    w = class_weights([clip])
    assert w[2] > w[1] > 0 and abs(float(w.mean()) - 1) < 1e-6


def test_a_clip_without_any_observed_hand_gets_no_segments():
    from signlib.segment.decode import decode_segments
    from signlib.segment.fast import FAST, FASTConfig
    from signlib.segment.training import predict_probs

    blind = np.zeros((30, HAND_FEATURES), np.float32)  # flags (last channel) all 0
    probs = predict_probs(FAST(FASTConfig(d_model=16, layers=1, heads=2, ff=32)), blind, blind)
    assert (probs[:, 0] == 1).all() and decode_segments(probs) == []
