"""A claim holds only when the better system wins on every metric, and the evidence shows the numbers."""

import math

from signlib.evaluate.claims import Metric, claim_row, claim_row_every_language, compare, pose_metrics

ROWS = {"A": {"body_mean": 0.010, "hand_mean": 0.020, "bleu4": 12.0},
        "B": {"body_mean": 0.015, "hand_mean": 0.018, "bleu4": 10.0}}


def test_claim_fails_when_one_metric_fails_and_says_which():
    holds, evidence = compare(ROWS["A"], ROWS["B"], pose_metrics())
    assert not holds
    assert evidence == "DTW-JPE body 1.00 vs 1.50 cm; DTW-JPE hand 2.00 vs 1.80 cm (fails)"


def test_claim_holds_when_every_metric_wins_including_higher_is_better():
    holds, _ = compare(ROWS["A"], ROWS["B"], [Metric("body", "body_mean"), Metric("BLEU", "bleu4", lower_is_better=False)])
    assert holds
    holds, _ = compare(ROWS["B"], ROWS["A"], [Metric("BLEU", "bleu4", lower_is_better=False)])
    assert not holds


def test_unmeasured_metrics_make_a_claim_fail():
    holds, evidence = compare({"body_mean": math.nan}, {"body_mean": 1.0}, [Metric("body", "body_mean")])
    assert not holds and "not measured" in evidence


def test_claim_row():
    row = claim_row("A beats B", "Table 9", "A", "B", ROWS, [Metric("body", "body_mean", 100, "cm")])
    assert row == {"claim": "A beats B", "table": "Table 9", "holds": "yes", "evidence": "A vs B: body 1.00 vs 1.50 cm"}


def test_pose_metrics_names_the_keys():
    assert [m.key for m in pose_metrics("inner_", procrustes=True)] == [
        "inner_body_mean", "inner_hand_mean", "pa_inner_body_mean", "pa_inner_hand_mean"]


def _lang_rows(lang, a, b):
    return [{"language": lang, "system": "A", "inner_body_mean": a, "inner_hand_mean": a},
            {"language": lang, "system": "B", "inner_body_mean": b, "inner_hand_mean": b}]


def test_every_language_claim_needs_a_win_in_each_language():
    metrics = pose_metrics("inner_")
    summary = _lang_rows("ASL", 0.01, 0.02) + _lang_rows("DGS", 0.01, 0.02) + _lang_rows("all", 0.5, 0.1)
    row = claim_row_every_language("c", "3", "A", "B", summary, metrics)
    assert row["holds"] == "yes" and row["evidence"] == "A vs B: ASL: yes; DGS: yes"   # the pooled row is ignored
    summary = _lang_rows("ASL", 0.01, 0.02) + _lang_rows("DGS", 0.03, 0.02)
    row = claim_row_every_language("c", "3", "A", "B", summary, metrics)
    assert row["holds"] == "no" and "DGS: no (DTW-JPE body 3.00 vs 2.00 cm (fails)" in row["evidence"]
    missing = claim_row_every_language("c", "3", "A", "B", _lang_rows("ASL", 0.01, 0.02)[:1], metrics)
    assert missing["holds"] == "no" and "ASL: not measured" in missing["evidence"]
    assert claim_row_every_language("c", "3", "A", "B", [], metrics)["holds"] == "no"
