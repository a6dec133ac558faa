"""The guidance sweep's table, the paper's ablation findings checked one by one, and the
``metrics.json`` of the ``ablations`` stage. "Holds" always means: beyond the seed spread
(:func:`signlib.evaluate.ablations.compare`)."""

from __future__ import annotations

import numpy as np

from signlib.evaluate import ablations as ab
from signlib.stages.ablations import REFERENCE, combined_spread
from signlib.stages.common import Stage, slug

GRID_KEYS = ("variant", "mode", "key_scale", "text_scale", "temperature")


def _key(r: dict) -> tuple:
    return tuple(r[k] for k in GRID_KEYS)


def guidance_table(stage: Stage, rows: list[dict]) -> tuple[object, dict]:
    """Every grid point on validation (mean ± spread over seeds) and how many seeds picked it
    (lowest validation score of that seed, per variant and mode); on test, each seed's pick and
    plain sampling (scales 1) were scored, and the summary compares the two."""
    val: dict[tuple, list[float]] = {}
    test: dict[tuple, dict[int, float]] = {}
    for r in rows:
        if r["split"] == "val":
            val.setdefault(_key(r), []).append(r["score"])
        else:
            test.setdefault(_key(r), {})[r["seed"]] = r["score"]
    per_seed: dict[tuple, dict[tuple, float]] = {}  # (variant, mode, seed) -> grid key -> validation score
    for r in rows:
        if r["split"] == "val":
            per_seed.setdefault((r["variant"], r["mode"], r["seed"]), {})[_key(r)] = r["score"]
    picks: dict[tuple, dict[int, tuple]] = {}  # (variant, mode) -> seed -> the grid key it picked
    for (variant, mode, seed), scores in per_seed.items():
        picks.setdefault((variant, mode), {})[seed] = min(scores, key=scores.get)
    table = []
    for key, scores in val.items():
        s, t = ab.Spread.of(scores), ab.Spread.of(list(test.get(key, {}).values()))
        table.append({**dict(zip(GRID_KEYS, key)), "validation": f"{s.mean:.2f} ± {s.spread:.2f}",
                      "picked by seeds": sum(p == key for p in picks[key[:2]].values()),
                      "test": f"{t.mean:.2f} ± {t.spread:.2f}" if t.values else ""})
    md = stage.table(table, "guidance", caption="Guidance sweep: score = sum of DTW-JPE means (cm per step; KF2P: body + "
                     "hands, whole clip and keyframed span; T2P: body + hands), mean ± spread over seeds. Each seed "
                     "picks on validation; test is scored at each seed's pick and at plain sampling (scales 1).")
    summary = {}
    for (variant, mode), per_seed in picks.items():
        picked = ab.Spread.of([test[k][seed] for seed, k in per_seed.items()])
        plain = ab.Spread.of([v for k, d in test.items() if k[:2] == (variant, mode) and k[2] == k[3] == 1.0
                              and (mode == "T2P" or k[4] == 1.0) for v in d.values()])
        summary.setdefault(variant, {})[mode] = {
            "picks": [dict(zip(("key_scale", "text_scale", "temperature"), k[2:])) for k in per_seed.values()],
            "test": picked.mean, "test_spread": picked.spread, "test_plain": plain.mean,
            "vs_plain": ab.compare(picked, plain)}
    return md, summary


def _claim(name: str, text: str, holds, evidence: str) -> dict:
    return {"claim": name, "finding": text, "holds": holds, "evidence": evidence}


def claims(stage: Stage, rows: list[dict], sweep: list[dict], rates: dict) -> tuple[object, list[dict]]:
    """The five findings of the issue, each with the numbers it rests on."""
    out = []
    seg = {s: (combined_spread(rows, REFERENCE, s), combined_spread(rows, "random_keyframes", s)) for s in ("", "inner_")}
    verdict = {s: ab.compare(*seg[s]) for s in seg}
    out.append(_claim("segment_keyframes_beat_random", "segment keyframes beat random ones",
                      all(v == "lower" for v in verdict.values()),
                      f"segment vs random, whole {seg[''][0].mean:.2f} vs {seg[''][1].mean:.2f} ({verdict['']}), "
                      f"span {seg['inner_'][0].mean:.2f} vs {seg['inner_'][1].mean:.2f} ({verdict['inner_']})"))
    mask = {s: (combined_spread(rows, "masked_keyframes", s), combined_spread(rows, REFERENCE, s)) for s in ("", "inner_")}
    verdict = {s: ab.compare(*mask[s]) for s in mask}
    out.append(_claim("masking_does_not_help", "random sign masking does not help",
                      all(v != "lower" for v in verdict.values()),
                      f"masked vs segment, whole {mask[''][0].mean:.2f} vs {mask[''][1].mean:.2f} ({verdict['']}), "
                      f"span {mask['inner_'][0].mean:.2f} vs {mask['inner_'][1].mean:.2f} ({verdict['inner_']})"))
    steps = sorted({r["steps"] for r in sweep})
    if {1, 10} <= set(steps):
        r_s, r_c = ab.step_ratio(sweep, "signspark", 1, 10, "test"), ab.step_ratio(sweep, "plain_cfm", 1, 10, "test")
        out.append(_claim("recon_keeps_one_step_close_to_ten", "the reconstruction loss keeps 1-step quality close to "
                          "10 steps while plain CFM degrades more", ab.compare(r_s, r_c) == "lower",
                          f"error(1 step) / error(10 steps): SignSparK {r_s.mean:.2f} ± {r_s.spread:.2f}, plain CFM "
                          f"{r_c.mean:.2f} ± {r_c.spread:.2f}"))
    many = 100 if 100 in steps else max(steps)
    if 1 in steps and many > 1:
        r = {g: ab.step_ratio(sweep, g, 1, many, "test") for g in ("signspark", "plain_cfm", "ddpm")}
        out.append(_claim("diffusion_collapses_at_few_steps", "diffusion collapses at few steps",
                          all(ab.compare(r["ddpm"], r[g]) == "higher" for g in ("signspark", "plain_cfm")),
                          f"error(1 step) / error({many} steps): DDPM {r['ddpm'].mean:.2f} ± {r['ddpm'].spread:.2f}, "
                          f"SignSparK {r['signspark'].mean:.2f}, plain CFM {r['plain_cfm'].mean:.2f}"))
    if rates:
        on, off = rates[True], rates[False]
        out.append(_claim("language_token_removes_asl_bsl_confusion", "the language token removes the ASL/BSL confusion",
                          ab.compare(on, off) == "lower" and on.mean <= 0.1,
                          f"confusion rate with token {on.mean:.2f} ± {on.spread:.2f}, without {off.mean:.2f} ± "
                          f"{off.spread:.2f} (holds: lower beyond the spread and at most 0.10)"))
    md = stage.table(out, "claims", caption="The paper's ablation findings on this corpus at the ablation budget "
                     "(holds = beyond the seed spread).")
    return md, out


def metrics(stage: Stage, refs: dict, rows: list[dict], sweep: list[dict], guidance: dict, rates: dict,
            claim_rows: list[dict]) -> dict:
    """``metrics.json``: per variant the whole-clip and in-span error (mean, spread), Fig 4b per
    generator and step count (test subset, and long subset above 100 steps), the confusion rates,
    the guidance picks and the claims."""
    variants = sorted({r["variant"] for r in rows})
    agg = ab.over_seeds(sweep, ("generator", "subset", "steps"))
    return {
        "budget": {"steps": stage.params.sizes.generator_ablation_steps, "seeds": stage.params.sizes.ablation_seeds,
                   **{slug(k): {"whole": ab.combined(m), "span": ab.combined(m, "inner_")} for k, m in refs.items()
                      if "seed" not in k},
                   "signspark_beats_slerp_span": bool(combined_spread(rows, REFERENCE, "inner_").mean
                                                      < ab.combined(refs["SLERP"], "inner_"))},
        "variants": {v: {"whole": combined_spread(rows, v).mean, "whole_spread": combined_spread(rows, v).spread,
                         "span": combined_spread(rows, v, "inner_").mean,
                         "span_spread": combined_spread(rows, v, "inner_").spread} for v in variants},
        "fig4b": {f"{r['generator']}_{r['subset']}_{r['steps']}": {
            "whole": ab.combined(r), "span": ab.combined(r, "inner_")} for r in agg},
        "fig4b_latency_ms": {f"{r['generator']}_{r['steps']}": 1000 * float(np.mean(
            [x["seconds_per_sequence"] for x in sweep if x["generator"] == r["generator"] and x["steps"] == r["steps"]
             and x["subset"] == r["subset"]])) for r in agg if r["subset"] == "long"},
        "confusion_rate": {("with_token" if k else "no_token"): {"mean": v.mean, "spread": v.spread}
                           for k, v in rates.items()},
        "guidance": guidance,
        "claims": {c["claim"]: c["holds"] for c in claim_rows},
    }
