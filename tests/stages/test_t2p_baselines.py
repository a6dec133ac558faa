"""The claims about the tokenised and SignLLM baselines are judged per baseline and together."""

from signlib.stages import t2p_baselines as tb


def _row(body, hand):
    return {"body_mean": body, "hand_mean": hand, "pa_body_mean": body, "pa_hand_mean": hand}


def test_sr_t2p_vs_soke_retrieval_and_gloss_free_vs_every_baseline():
    rows = {"T2P": _row(0.02, 0.03), "SR": _row(0.01, 0.02), "Regression": _row(0.03, 0.04),
            tb.SOKE: _row(0.03, 0.05), tb.SOKE_R: _row(0.015, 0.025), tb.MLSF: _row(0.025, 0.02)}
    out = {r["claim"]: r for r in tb.claims(rows, "T2P", "SR", ("Regression",))}
    assert out["SignSparK SR-T2P beats SOKE-style retrieval"]["holds"] == "yes"
    assert out[f"Gloss-free SignSparK T2P beats {tb.SOKE}"]["holds"] == "yes"
    assert out[f"Gloss-free SignSparK T2P beats {tb.SOKE_R}"]["holds"] == "no"
    # MLSF's hands beat T2P's: one lost metric fails the claim, and the summary names who won.
    assert out[f"Gloss-free SignSparK T2P beats {tb.MLSF}"]["holds"] == "no"
    every = out["Gloss-free SignSparK T2P beats every T2P baseline"]
    assert every["holds"] == "no" and tb.SOKE_R in every["evidence"] and tb.MLSF in every["evidence"]
    assert "Regression" not in every["evidence"].split("to ")[-1]
    # A baseline that was not evaluated (P2LG here) gets no row.
    assert not any(tb.P2LG in c for c in out)


def test_every_claim_holds_when_signspark_wins_everywhere():
    rows = {"T2P": _row(0.01, 0.01), "SR": _row(0.005, 0.005), tb.SOKE_R: _row(0.02, 0.02), tb.P2LG: _row(0.02, 0.02)}
    out = tb.claims(rows, "T2P", "SR", ())
    assert [r["holds"] for r in out] == ["yes"] * len(out) and len(out) == 4


def test_no_rows_without_the_systems():
    assert tb.claims({"T2P": _row(0.01, 0.01)}, "T2P", "SR", ()) == []
