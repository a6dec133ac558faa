"""Seed statistics of the ablations: spreads, the "no difference" rule, grouping over seeds, step
ratios, and one-pool scoring of several systems."""

import math

import numpy as np
import pytest

from signlib.evaluate import ablations as ab
from signlib.evaluate.systems import slerp_system

from .test_systems import _seq


def test_spread_is_the_range_over_finite_seed_values():
    s = ab.Spread.of([2.0, 3.0, float("nan"), 2.5])
    assert (s.mean, s.spread, s.values) == (2.5, 1.0, (2.0, 3.0, 2.5))
    empty = ab.Spread.of([float("nan")])
    assert math.isnan(empty.mean) and empty.values == ()


@pytest.mark.parametrize("a,b,verdict", [
    ((1.0, 1.2), (1.5, 1.6), "lower"),          # gap 0.45 > the larger spread 0.2
    ((1.0, 1.6), (1.5, 1.6), "no difference"),  # gap 0.25 < spread 0.6
    ((2.0, 2.1), (1.0, 1.1), "higher"),
])
def test_compare_calls_a_gap_within_the_seed_spread_no_difference(a, b, verdict):
    assert ab.compare(ab.Spread.of(a), ab.Spread.of(b)) == verdict
    assert ab.compare(ab.Spread.of([float("nan")]), ab.Spread.of(b)) == "no difference"


def test_over_seeds_groups_rows_and_reports_mean_and_spread():
    rows = [{"variant": "a", "seed": s, "body_mean": v} for s, v in enumerate([1.0, 3.0])] + \
           [{"variant": "b", "seed": 0, "body_mean": 5.0}]
    out = ab.over_seeds(rows, ("variant",), ("body_mean",))
    assert out == [{"variant": "a", "seeds": 2, "body_mean": 2.0, "body_mean_spread": 2.0},
                   {"variant": "b", "seeds": 1, "body_mean": 5.0, "body_mean_spread": 0.0}]


def test_combined_and_clip_means():
    means = ab.clip_means([{"body_mean": 0.01, "hand_mean": 0.02}, {"body_mean": 0.03, "hand_mean": float("nan")}],
                          ("body_mean", "hand_mean", "mpjpe_body"))
    assert means["body_mean"] == pytest.approx(0.02) and means["hand_mean"] == pytest.approx(0.02)
    assert math.isnan(means["mpjpe_body"])
    assert ab.combined({"body_mean": 0.01, "hand_mean": 0.02}) == pytest.approx(3.0)
    assert ab.combined({"inner_body_mean": 0.01, "inner_hand_mean": 0.01}, "inner_") == pytest.approx(2.0)


def test_step_ratio_is_computed_per_seed():
    def row(g, seed, steps, err):
        return {"generator": g, "seed": seed, "steps": steps, "subset": "test", "body_mean": err, "hand_mean": 0.0}
    rows = [row("x", 0, 1, 0.02), row("x", 0, 10, 0.01), row("x", 1, 1, 0.03), row("x", 1, 10, 0.01),
            row("y", 0, 1, 0.05)]
    r = ab.step_ratio(rows, "x", 1, 10, "test")
    assert r.values == (2.0, 3.0) and r.spread == 1.0
    assert ab.step_ratio(rows, "y", 1, 10, "test").values == ()  # no 10-step row for y


def test_run_and_score_scores_every_system_on_every_clip_and_times_them():
    truths = [_seq(30, seed=s) for s in range(3)]
    keys = [np.array([2, 14, 27])] * 3
    rows, seconds = ab.run_and_score({"SLERP": slerp_system, "again": slerp_system}, truths, keys)
    assert len(rows) == 6 and {r["system"] for r in rows} == {"SLERP", "again"}
    assert set(ab.SCORE_KEYS) <= set(rows[0]) and set(seconds) == {"SLERP", "again"}
    assert all(s >= 0 for s in seconds.values())
    first = [r for r in rows if r["system"] == "SLERP"]
    assert first[0]["body_mean"] > 0 and first[0]["inner_body_mean"] >= 0
