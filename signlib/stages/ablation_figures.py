"""Tables, figures and claims of the ``ablations`` stage (notebook ``06_ablations``) from the rows
:mod:`signlib.stages.ablations` scores. Every number is a mean over seeds with the seed spread
(max − min); a difference within the larger spread is called "no difference"
(:func:`signlib.evaluate.ablations.compare`). Errors are DTW-JPE per step, body + hands, in cm.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from signlib.evaluate import ablations as ab
from signlib.evaluate.confusion import confusion_matrix, confusion_rate
from signlib.stages.ablations import (CONFUSABLE, GENERATORS, LANGUAGE_SERIES, REFERENCE, combined_spread,
                                      variant_scores)
from signlib.stages.common import Stage

POLICY_ROWS = ("signspark", "random_keyframes", "masked_keyframes")
LOSS_ROWS = ("loss_cfm", "loss_recon", "loss_vel", "loss_cfm_recon", "loss_cfm_vel", "signspark")
LABELS = {"signspark": "SignSparK (segment keyframes, 2:1:1, 4 languages + token)", "plain_cfm": "plain CFM",
          "ddpm": "DDPM (DDIM sampling)", "random_keyframes": "random keyframes",
          "masked_keyframes": "segment keyframes + sign masking", "loss_cfm": "L_CFM", "loss_recon": "L_recon",
          "loss_vel": "L_vel", "loss_cfm_recon": "L_CFM + L_recon", "loss_cfm_vel": "L_CFM + L_vel",
          "languages_1": "ASL, no token", "languages_2": "ASL+BSL, no token", "languages_3": "ASL+BSL+DGS, no token",
          "languages_4_no_token": "4 languages, no token", "standard_prior": "standard N(0, I) prior"}


def _pm(s: ab.Spread, digits: int = 2) -> str:
    return f"{s.mean:.{digits}f} ± {s.spread:.{digits}f}" if np.isfinite(s.mean) else "n/a"


def budget_table(stage: Stage, refs: dict[str, dict], rows: list[dict]):
    """Where the reference variant at the ablation budget stands against SLERP and the track."""
    table = [{"system": name, "whole clip": f"{ab.combined(m):.2f}", "keyframed span": f"{ab.combined(m, 'inner_'):.2f}"}
             for name, m in refs.items() if "seed" not in name]
    steps = stage.params.sizes.generator_ablation_steps
    table.append({"system": f"SignSparK at the ablation budget ({steps} steps), plain sampling",
                  "whole clip": _pm(combined_spread(rows, REFERENCE)),
                  "keyframed span": _pm(combined_spread(rows, REFERENCE, "inner_"))})
    cold = [m for name, m in refs.items() if "seed" in name]
    table.append({"system": f"SignSparK at the ablation budget ({steps} steps), temperature 0",
                  "whole clip": _pm(ab.Spread.of([ab.combined(m) for m in cold])),
                  "keyframed span": _pm(ab.Spread.of([ab.combined(m, "inner_") for m in cold]))})
    return stage.table(table, "budget", caption="The ablation budget: KF2P on the ablation test clips, DTW-JPE per step "
                       "(body + hands, cm; SignSparK: mean ± spread over seeds). Every variant below samples plainly "
                       "(scales 1, temperature 1). The full model is in results/evaluate.")


def fig_4b(stage: Stage, sweep: list[dict]):
    """Error against sampling steps (log axis) per generator, latency on a second axis."""
    agg = ab.over_seeds(sweep, ("generator", "subset", "steps"), ab.SCORE_KEYS + ("seconds_per_sequence",))
    table = [{"generator": LABELS[r["generator"]], "subset": r["subset"], "steps": r["steps"],
              "whole": f"{ab.combined(r):.2f}", "span": f"{ab.combined(r, 'inner_'):.2f}",
              "MPJPE body/hand": f"{100 * r['mpjpe_body']:.2f} / {100 * r['mpjpe_hand']:.2f}",
              "PA-MPJPE body/hand": f"{100 * r['pa_mpjpe_body']:.2f} / {100 * r['pa_mpjpe_hand']:.2f}",
              "ms / sequence": f"{1000 * r['seconds_per_sequence']:.1f}"} for r in agg]
    md = stage.table(table, "fig4b", caption="Fig 4b data: KF2P by generator and sampling steps (means over seeds; cm). "
                     "Subset `test` = the ablation test clips; `long` = the smaller subset also sampled above 100 steps.")
    stage.plot_data("fig4b", agg)
    fig, ax = plt.subplots(figsize=(7, 3.6))
    lat = ax.twinx()
    for k, g in enumerate(GENERATORS):
        for subset, style in (("test", "-"), ("long", "--")):
            sel = [r for r in agg if r["generator"] == g and r["subset"] == subset]
            if not sel:
                continue
            err = [(r["body_mean_spread"] + r["hand_mean_spread"]) * 100 / 2 for r in sel]
            ax.errorbar([r["steps"] for r in sel], [ab.combined(r) for r in sel], yerr=err, fmt=style + "o",
                        color=f"C{k}", ms=3, capsize=2, label=f"{LABELS[g]} ({subset})")
        sel = [r for r in agg if r["generator"] == g and r["subset"] == "long"]
        lat.plot([r["steps"] for r in sel], [1000 * r["seconds_per_sequence"] for r in sel], ":", color=f"C{k}", lw=1)
    ax.set_xscale("log")
    lat.set_yscale("log")
    ax.set_xlabel("sampling steps")
    ax.set_ylabel("DTW-JPE body + hands (cm)")
    lat.set_ylabel("latency, ms / sequence (dotted)")
    ax.legend(fontsize=6)
    ax.set_title("Fig 4b: generator × sampling steps (KF2P, test)", fontsize=9)
    fig.tight_layout()
    return md, stage.figure(fig, "fig4b_steps")


def _variant_row(rows: list[dict], v: str) -> dict:
    whole, span, ref_w, ref_s = (combined_spread(rows, v), combined_spread(rows, v, "inner_"),
                                 combined_spread(rows, REFERENCE), combined_spread(rows, REFERENCE, "inner_"))
    mp = [ab.Spread.of([100 * m[k] for m in variant_scores(rows, v)]) for k in ("mpjpe_body", "mpjpe_hand")]
    return {"variant": LABELS.get(v, v), "whole": _pm(whole), "span": _pm(span),
            "MPJPE body / hand": f"{mp[0].mean:.2f} / {mp[1].mean:.2f}",
            "vs SignSparK (whole / span)": "—" if v == REFERENCE else
            f"{ab.compare(whole, ref_w)} / {ab.compare(span, ref_s)}"}


def fig_4c(stage: Stage, rows: list[dict]):
    """Keyframe policy and loss rows, with the seed spread as error bars."""
    table = [_variant_row(rows, v) for v in POLICY_ROWS + LOSS_ROWS[:-1] + ("standard_prior",)
             if any(r["variant"] == v for r in rows)]
    md = stage.table(table, "fig4c", caption="Fig 4c data: KF2P by training keyframe policy and loss (test clips, same "
                     "test keyframes; DTW-JPE body + hands per step, cm, mean ± spread over seeds). 'lower'/'higher' "
                     "only when the gap exceeds the larger seed spread.")
    groups = [("keyframe policy", POLICY_ROWS), ("loss", LOSS_ROWS)]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    for ax, (title, names) in zip(axes, groups):
        y = np.arange(len(names))
        for k, span in enumerate(("", "inner_")):
            s = [combined_spread(rows, v, span) for v in names]
            ax.barh(y + (k - 0.5) * 0.38, [x.mean for x in s], 0.38, xerr=[x.spread / 2 for x in s], capsize=2,
                    label="keyframed span" if span else "whole clip")
        ax.set_yticks(y, [LABELS[v].split(" (")[0] for v in names], fontsize=7)
        ax.set_xlabel("DTW-JPE body + hands (cm)")
        ax.set_title(f"Fig 4c: {title}", fontsize=9)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    return md, stage.figure(fig, "fig4c_policy_loss")


def fig_5a(stage: Stage, rows: list[dict], confusion_rows: list[dict]):
    """Growing training languages (ASL test clips) and the ASL/BSL confusion with and without the token."""
    table, series = [], [v for v in LANGUAGE_SERIES if v in stage.params.ablations.variants]
    for v in series:
        langs = stage.params.ablations.variants[v].languages or ("ASL", "BSL", "CSL", "DGS")
        table.append({"variant": LABELS.get(v, v), "languages": len(langs), "token": v == REFERENCE,
                      "ASL test": _pm(combined_spread(rows, v, language="ASL")),
                      "ASL test, span": _pm(combined_spread(rows, v, "inner_", language="ASL"))})
    md = stage.table(table, "fig5a", caption="Fig 5a data: KF2P on the ASL test clips by training languages (DTW-JPE body "
                     "+ hands per step, cm, mean ± spread over seeds).")
    conf = []
    for token in (False, True):
        sel = [r for r in confusion_rows if r["token"] == token]
        rates = ab.Spread.of([confusion_rate([r for r in sel if r["seed"] == s]) for s in sorted({r["seed"] for r in sel})])
        margin = ab.Spread.of([np.mean([r["margin"] for r in sel if r["seed"] == s]) for s in sorted({r["seed"] for r in sel})])
        conf.append({"language token": token, "sentences": len(sel), "confusion rate": _pm(rates),
                     "margin (cm)": _pm(margin), "_rate": rates, "_matrix": confusion_matrix(sel, CONFUSABLE)})
    md_conf = stage.table([{k: v for k, v in c.items() if not k.startswith("_")} for c in conf], "fig5a_confusion",
                          caption="ASL/BSL confusion of T2P (text only, true length): share of ASL and BSL test "
                          "sentences nearer the other language's stitched citation forms than their own (mean ± "
                          "spread over seeds; margin = other − own distance, cm, positive = own lexicon nearer).")
    fig, axes = plt.subplots(1, 3, figsize=(10, 3))
    growing = [v for v in series if v != REFERENCE]
    x = [len(stage.params.ablations.variants[v].languages or "ABCD") for v in growing]
    s = [combined_spread(rows, v, language="ASL") for v in growing]
    axes[0].errorbar(x, [a.mean for a in s], yerr=[a.spread / 2 for a in s], fmt="-o", capsize=2, label="no token")
    ref = combined_spread(rows, REFERENCE, language="ASL")
    axes[0].errorbar([4], [ref.mean], yerr=[ref.spread / 2], fmt="*", ms=10, capsize=2, label="4 + token")
    axes[0].set_xlabel("training languages")
    axes[0].set_ylabel("ASL DTW-JPE body + hands (cm)")
    axes[0].legend(fontsize=7)
    for ax, c in zip(axes[1:], conf):
        ax.imshow(c["_matrix"], vmin=0, vmax=1, cmap="Blues")
        for (i, j), val in np.ndenumerate(c["_matrix"]):
            ax.text(j, i, f"{val:.2f}" if np.isfinite(val) else "–", ha="center", va="center", fontsize=9)
        ax.set_xticks(range(2), [f"nearest {lang}" for lang in CONFUSABLE], fontsize=7)
        ax.set_yticks(range(2), [f"{lang} text" for lang in CONFUSABLE], fontsize=7)
        ax.set_title(f"T2P {'with' if c['language token'] else 'without'} token", fontsize=8)
    fig.suptitle("Fig 5a: data and language token", fontsize=9)
    fig.tight_layout()
    return md, md_conf, stage.figure(fig, "fig5a_languages"), {c["language token"]: c["_rate"] for c in conf}
