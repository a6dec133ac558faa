"""KF2P by training frequency: counts come from the training split only, bins have the stated
edges, and each gold sign is scored inside its own span."""

from types import SimpleNamespace

import numpy as np
import pytest

from signlib.data.sequence import Segment, Sequence
from signlib.errors import SignlibError
from signlib.evaluate.frequency import MIN_FRAMES, bin_summary, frequency_bin, sign_rows, training_counts
from signlib.pose.normalize import orthonormalize_rot6d

from ..generate.conftest import smooth_clip


def _info(split, language, *glosses):
    return SimpleNamespace(split=split, language=language, glosses=glosses)


def test_training_counts_count_only_the_training_split_per_language():
    counts = training_counts([_info("train", "ASL", "A", "B", "A"), _info("train", "DGS", "A"),
                              _info("test", "ASL", "A", "A", "A"), _info("val", "ASL", "B")])
    assert counts[("ASL", "A")] == 2 and counts[("ASL", "B")] == 1 and counts[("DGS", "A")] == 1
    assert counts[("DGS", "B")] == 0


@pytest.mark.parametrize("count, label", [(0, "seen < 3"), (2, "seen < 3"), (3, "seen 3-9"), (9, "seen 3-9"),
                                          (10, "seen >= 10"), (500, "seen >= 10")])
def test_frequency_bins_have_the_stated_edges(count, label):
    assert frequency_bin(count) == label


def test_a_negative_count_is_refused():
    with pytest.raises(SignlibError, match="count must be >= 0"):
        frequency_bin(-1)


def _truth():
    feats = orthonormalize_rot6d(smooth_clip(40, seed=3), "rot6d")
    segs = (Segment(2, 12, "A"), Segment(15, 30, "B"), Segment(33, 34, "C"))  # C is too short to score
    return Sequence(feats, "rot6d", 25.0, segments=segs, text="t", language="ASL", id="c0")


def test_each_sign_is_scored_inside_its_own_span():
    truth = _truth()
    changed = truth.features.copy()
    changed[15:30] = orthonormalize_rot6d(smooth_clip(15, seed=9), "rot6d")        # only inside sign B
    pred = truth.replace(features=changed)
    rows = sign_rows({"GT": [truth], "X": [pred]}, [truth], training_counts([_info("train", "ASL", *"AAA")]))
    by = {(r["system"], r["gloss"]): r for r in rows}
    assert set(by) == {("GT", "A"), ("GT", "B"), ("X", "A"), ("X", "B")}               # C is shorter than MIN_FRAMES
    assert MIN_FRAMES > 1
    assert by[("GT", "A")]["body_mean"] == 0 and by[("GT", "B")]["hand_mean"] == 0
    assert by[("X", "A")]["body_mean"] == 0 and by[("X", "B")]["body_mean"] > 0 and by[("X", "B")]["hand_mean"] > 0
    assert by[("X", "A")]["seen"] == 3 and by[("X", "A")]["bin"] == "seen 3-9"
    assert by[("X", "B")]["seen"] == 0 and by[("X", "B")]["bin"] == "seen < 3"
    summary = bin_summary(rows)
    assert [(r["bin"], r["system"], r["signs"]) for r in summary] == [
        ("seen 3-9", "GT", 1), ("seen 3-9", "X", 1), ("seen < 3", "GT", 1), ("seen < 3", "X", 1)]
    assert summary[3]["key"] == "seen_under_3"
    assert summary[3]["body_mean"] == pytest.approx(by[("X", "B")]["body_mean"])


def test_outputs_that_change_the_length_are_refused():
    truth = _truth()
    short = truth.replace(features=truth.features[:30], valid=None, segments=())
    with pytest.raises(SignlibError, match="c0: system 'X' changed the length"):
        sign_rows({"X": [short]}, [truth], training_counts([]))
    with pytest.raises(SignlibError, match="1 outputs for 2 truths"):
        sign_rows({"X": [truth]}, [truth, truth], training_counts([]))
    assert np.isfinite(sign_rows({"X": [truth]}, [truth], training_counts([]))[0]["body_mean"])
